"""Settings of the knowledge service and its CLI, read once from the environment.

Every setting has the prefix ``KNOWLEDGE_`` (e.g. ``KNOWLEDGE_PORT=8001``), except the two
every process shares: ``DVC_ENVIRONMENT`` (knowledge/environment.py) and
``DVC_RETENTION_DAYS``. A bad value stops the service at start-up with a message naming
the variable (``load_settings``).
"""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Optional

from pydantic import AliasChoices, Field, ValidationError, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.environment import ENVIRONMENT_VAR, Environment, SettingError, check_secret

PROJECT_ROOT = Path(__file__).resolve().parent.parent
BUILTIN_MODEL = "builtin:static-vi"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KNOWLEDGE_", extra="ignore")

    environment: Environment = Field("development", validation_alias=AliasChoices(ENVIRONMENT_VAR, "environment"),
                                     description="development (make run) or production")
    retention_days: int = Field(30, ge=1, le=3650, validation_alias=AliasChoices("DVC_RETENTION_DAYS",
                                                                                 "retention_days"),
                                description="days a conversation, handover, feedback or event is kept")
    data_dir: Path = Field(PROJECT_ROOT / "knowledge" / "data", description="knowledge base folder (YAML)")
    index_dir: Path = Field(PROJECT_ROOT / "var" / "index", description="where index artefacts are kept")
    corpus_dirs: str = Field("", description="comma-separated folders of directives / legal texts to index beside "
                             "the knowledge base (chunked by Điều/Khoản), e.g. ../shared/corpus")
    dense_model: str = Field(
        BUILTIN_MODEL,
        description="'builtin:static-vi' (built by the project from the knowledge base, no network) "
        "or a sentence-transformers model name/path for deployments that have it",
    )
    dense_input: str = Field("folded", pattern="^(folded|display)$", description="text form given to the dense model")
    dense_weight: Optional[float] = Field(None, ge=0.0, le=1.0, description="weight of the dense score in the "
                                          "fusion; unset: the weight calibrated for each index build (meta.json)")
    candidates: int = Field(50, ge=5, le=1000, description="candidates taken from each index before fusion")
    host: str = "127.0.0.1"
    port: int = 8000
    workers: int = Field(0, ge=0, le=64, description="worker processes of `python -m knowledge serve`, each on its "
                         "own SO_REUSEPORT socket; 0 = min(2, cores)")
    rasa_url: str = Field("", description="Rasa socket.io URL the portal widget connects to; '' = same host, rasa_port")
    rasa_port: int = Field(5005, description="port of Rasa on the portal's host, used when rasa_url is empty")
    rasa_api_port: int = Field(5005, description="port on 127.0.0.1 of Rasa's HTTP API for the Facebook and Zalo "
                               "conversations (the console pauses the bot and sends the officers' replies); the "
                               "portal's conversations go to rasa_port")
    rasa_api_token: Optional[str] = Field(None, validation_alias=AliasChoices("RASA_API_TOKEN", "rasa_api_token"),
                                          description="Rasa's API token (the console's live handover is off without)")
    max_body_bytes: int = Field(64 * 1024, description="requests above this size get 413")
    max_query_chars: int = Field(1000, description="longer queries get 422")
    portal_title: str = "Trợ lý dịch vụ công trực tuyến"
    desk_db: Path = Field(PROJECT_ROOT / "var" / "desk.db", description="handovers, feedback, events (SQLite)")
    events_db: Optional[Path] = Field(None, description="Rasa's SQL event broker (SQLite, RASA_EVENTS_DB), read by "
                                      "the dashboard and the monthly report; unset: figures from the desk only")
    desk_token: Optional[str] = Field(None, description="the action server sends it as X-Desk-Token to /desk/*; "
                                      "the desk is closed while it is unset")
    admin_token: Optional[str] = Field(None, description="bearer token of /admin/*; admin is off when unset")
    demo_onestop: Optional[bool] = Field(None, description="serve the demo one-stop system at /demo/onestop "
                                         "(default: on in development, refused in production)")
    demo_onestop_db: Path = PROJECT_ROOT / "var" / "demo-onestop.db"
    demo_onestop_token: str = Field("demo-onestop-token", description="token of the demo one-stop API (demo only)")


    @model_validator(mode="after")
    def _posture(self) -> Settings:
        check_secret("KNOWLEDGE_DESK_TOKEN", self.desk_token, self.environment)
        check_secret("KNOWLEDGE_ADMIN_TOKEN", self.admin_token, self.environment, required=False)
        if self.demo_onestop is None:
            self.demo_onestop = self.environment == "development"
        elif self.demo_onestop and self.environment == "production":
            raise SettingError("KNOWLEDGE_DEMO_ONESTOP must be off in production (the demo one-stop system "
                               "answers with made-up dossiers)")
        return self


def readable(exc: ValidationError, prefix: str) -> str:
    """A pydantic error as operators read it: the environment variable and what is wrong."""
    parts = []
    for err in exc.errors():
        field = ".".join(str(p) for p in err.get("loc", ()))
        msg = str(err.get("msg", "")).removeprefix("Value error, ")
        parts.append(f"{prefix}{field.upper()}: {msg}" if field else msg)
    return "; ".join(parts)


def load_settings() -> Settings:
    """The settings, or SettingError with the variable to fix."""
    try:
        return Settings()
    except ValidationError as exc:
        raise SettingError(readable(exc, "KNOWLEDGE_")) from None


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return load_settings()
