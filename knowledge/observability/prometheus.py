"""``/metrics`` for every process: what it answers, who may read it, and label values kept bounded.

Several worker processes (the knowledge service's uvicorn workers, Rasa's Sanic workers) share one
port, and a scrape reaches one of them at random: each process then writes its values to files in
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode; the runner gives each child its
own folder under the state folder, ``var/metrics/<child>``) and any worker answers with the sum.
The folder is emptied by the process that starts the workers, before it starts them
(``prepare_multiprocess_dir``), so a restart never adds a dead run's values.

Who may read it (``metrics_refusal``): with ``DVC_METRICS_TOKEN`` set, whoever sends
``Authorization: Bearer <token>`` (Prometheus' ``authorization`` setting); without it, in
development, clients on this machine only; in production nobody (metrics are off until the
token is set, as the admin API is without its token). The token is checked at start-up like the
other secrets (``metrics_token``).

Label values never come from a citizen: ``bounded`` maps anything outside a fixed set to "other".
"""

from __future__ import annotations

import os
from collections.abc import Collection, Mapping
from pathlib import Path
from typing import Optional

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client import multiprocess as _multiprocess

from knowledge.environment import check_secret, environment, is_loopback, same_secret

MULTIPROC_VAR = "PROMETHEUS_MULTIPROC_DIR"
TOKEN_VAR = "DVC_METRICS_TOKEN"
OTHER = "other"
METRICS_PATH = "/metrics"


def bounded(value: object, allowed: Collection[str]) -> str:
    """``value`` if it is one of ``allowed``, else "other": a label never holds free text."""
    return value if isinstance(value, str) and value in allowed else OTHER


def metrics_token(env: Mapping[str, str] = os.environ) -> str:
    """``DVC_METRICS_TOKEN`` (may be empty); SettingError if it is too short for production."""
    token = env.get(TOKEN_VAR, "")
    check_secret(TOKEN_VAR, token, environment(env), required=False)
    return token


def metrics_refusal(peer: Optional[str], authorization: Optional[str],
                    env: Mapping[str, str] = os.environ) -> Optional[tuple[int, str]]:
    """(status, reason) when this request may not read the metrics, else None."""
    token = env.get(TOKEN_VAR, "")
    if token:
        return None if same_secret(authorization, f"Bearer {token}") else (401, "metrics need the bearer token")
    if environment(env) == "production":
        return 403, f"metrics are off until {TOKEN_VAR} is set"
    if not is_loopback(peer):
        return 403, "metrics are only served to this machine"
    return None


def multiprocess_dir(env: Mapping[str, str] = os.environ) -> Optional[Path]:
    value = env.get(MULTIPROC_VAR, "")
    return Path(value) if value else None


def prepare_multiprocess_dir(env: Mapping[str, str] = os.environ) -> Optional[Path]:
    """Create the multiprocess folder (mode 700) and remove the values of an earlier run."""
    folder = multiprocess_dir(env)
    if folder is None:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    folder.chmod(0o700)
    for stale in folder.glob("*.db"):
        stale.unlink(missing_ok=True)
    return folder


def exposition() -> tuple[bytes, str]:
    """The text Prometheus scrapes and its content type: this process's values, or with several
    workers, every worker's (summed, or per worker where the metric says so)."""
    folder = multiprocess_dir()
    if folder is None:
        return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
    registry = CollectorRegistry()
    _multiprocess.MultiProcessCollector(registry, path=str(folder))  # type: ignore[no-untyped-call]
    return generate_latest(registry), CONTENT_TYPE_LATEST
