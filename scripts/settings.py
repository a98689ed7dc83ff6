"""Settings of the stack runner (``make run``, the end-to-end tests), validated at start-up.

The runner reads the ports and stores, the one ``DVC_ENVIRONMENT``, and the secrets the
processes share. In development a missing secret is generated once and kept in
``var/dev-secrets.json`` (mode 600), so ``make run`` needs none and conversations survive
a restart. In production every secret must come from the environment (at least 32
characters), the REST channel must be off, the portal's origins must be https, and the
demo one-stop system is refused; the error names the variable to fix.
"""

from __future__ import annotations

import json
import os
import secrets
from pathlib import Path
from typing import Literal, Optional

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.environment import ENVIRONMENT_VAR, Environment, SettingError, check_secret
from knowledge.settings import readable

# secret name → the environment variable that carries it to the processes
SECRETS = {
    "rasa_api_token": "RASA_API_TOKEN",  # Rasa's HTTP API (trackers, events, /model): ?token=…
    "actions_token": "ACTIONS_TOKEN",  # Rasa → action server
    "desk_token": "KNOWLEDGE_DESK_TOKEN",  # action server → knowledge service /desk
    "portal_session_secret": "PORTAL_SESSION_SECRET",  # signs the portal widget's session ids
    "redis_password": "REDIS_PASSWORD",  # the Redis the runner starts itself
}
DEV_ONLY_SECRETS = {"demo_onestop_token": "KNOWLEDGE_DEMO_ONESTOP_TOKEN"}


class RunnerSettings(BaseSettings):
    model_config = SettingsConfigDict(extra="ignore")

    environment: Environment = Field("development", validation_alias=AliasChoices(ENVIRONMENT_VAR, "environment"))
    host: str = Field("127.0.0.1", validation_alias=AliasChoices("HOST", "host"))
    knowledge_port: int = Field(8000, ge=1, le=65535)
    actions_port: int = Field(5055, ge=1, le=65535)
    rasa_port: int = Field(5005, ge=1, le=65535)
    rasa_portal_port: int = Field(5006, ge=1, le=65535)
    redis_port: int = Field(6390, ge=1, le=65535)
    rasa_workers: int = Field(0, ge=0, le=32)
    redis_url: str = ""
    knowledge_index_dir: Optional[Path] = None
    rasa_tracker_db: Optional[Path] = None
    rest_channel: Optional[Literal["on", "off"]] = Field(None, validation_alias=AliasChoices("DVC_REST_CHANNEL",
                                                                                             "rest_channel"))
    portal_origins: str = Field("", validation_alias=AliasChoices("DVC_PORTAL_ORIGINS", "portal_origins"))
    retention_days: int = Field(30, ge=1, le=3650, validation_alias=AliasChoices("DVC_RETENTION_DAYS",
                                                                                 "retention_days"))
    knowledge_demo_onestop: Optional[bool] = None
    # The runner's supervision (scripts/stack.py, Stack.wait) and which children it starts.
    run_children: str = Field("", validation_alias=AliasChoices("DVC_RUN_CHILDREN", "run_children"))
    health_interval: float = Field(5.0, gt=0, le=300, validation_alias=AliasChoices("DVC_HEALTH_INTERVAL",
                                                                                    "health_interval"))
    health_timeout: float = Field(5.0, gt=0, le=60, validation_alias=AliasChoices("DVC_HEALTH_TIMEOUT",
                                                                                  "health_timeout"))
    health_failures: int = Field(3, ge=1, le=100, validation_alias=AliasChoices("DVC_HEALTH_FAILURES",
                                                                                "health_failures"))
    restart_backoff_max: float = Field(60.0, ge=1, le=3600, validation_alias=AliasChoices(
        "DVC_RESTART_BACKOFF_MAX", "restart_backoff_max"))
    start_timeout: float = Field(300.0, ge=1, le=3600, validation_alias=AliasChoices("DVC_START_TIMEOUT",
                                                                                     "start_timeout"))

    @model_validator(mode="after")
    def _posture(self) -> RunnerSettings:
        from scripts.stack import CHILD_NAMES

        unknown = sorted({n.strip() for n in self.run_children.split(",") if n.strip()} - set(CHILD_NAMES))
        if unknown:
            raise SettingError(f"DVC_RUN_CHILDREN: unknown {', '.join(unknown)} (known: {', '.join(CHILD_NAMES)})")
        if self.rest_channel is None:
            self.rest_channel = "on" if self.environment == "development" else "off"
        if self.environment != "production":
            return self
        if self.rest_channel == "on":
            raise SettingError("DVC_REST_CHANNEL must be off in production: anyone could write into any "
                               "conversation through it")
        if self.knowledge_demo_onestop:
            raise SettingError("KNOWLEDGE_DEMO_ONESTOP must be off in production")
        origins = [o.strip() for o in self.portal_origins.split(",") if o.strip()]
        if not origins or any(not o.startswith("https://") for o in origins):
            raise SettingError("DVC_PORTAL_ORIGINS must list the portal's https:// origins in production "
                               "(e.g. https://dichvucong.example.gov.vn)")
        return self


def load_runner_settings() -> RunnerSettings:
    try:
        return RunnerSettings()
    except ValidationError as exc:
        raise SettingError(readable(exc, "")) from None


def resolve_secrets(environment: Environment, store: Path, env: Optional[dict[str, str]] = None) -> dict[str, str]:
    """Environment variable → value of every shared secret. Development: a missing one is
    generated and kept in ``store`` (mode 600). Production: all must be set (SettingError)."""
    env = dict(os.environ) if env is None else env
    wanted = {**SECRETS, **(DEV_ONLY_SECRETS if environment == "development" else {})}
    if environment == "production":
        for var in SECRETS.values():
            if var == "REDIS_PASSWORD" and env.get("REDIS_URL"):
                continue  # an external Redis: its password is in REDIS_URL
            check_secret(var, env.get(var), environment)
        return {var: env[var] for var in SECRETS.values() if env.get(var)}
    kept: dict[str, str] = {}
    if store.is_file():
        try:
            kept = {k: str(v) for k, v in json.loads(store.read_text(encoding="utf-8")).items()}
        except ValueError:
            kept = {}
    changed = False
    for var in wanted.values():
        if var not in kept:
            kept[var] = secrets.token_urlsafe(32)
            changed = True
    if changed:
        store.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(store, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(kept, f, indent=1)
    store.chmod(0o600)
    return {var: env.get(var) or kept[var] for var in wanted.values()}
