"""Compose Rasa's credentials file for `make run`: the always-on channels of
bot/credentials.yml plus Facebook Messenger and Zalo OA when their secrets are set.

Secrets stay in the environment; the composed file (var/credentials.yml, mode 600) is
written at each start and never committed.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent

# channel class → (credential key → environment variable), required variables first.
CHANNELS: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    "bot.channels.facebook.MessengerInput": (
        {"verify": "FB_VERIFY_TOKEN", "secret": "FB_APP_SECRET", "page-access-token": "FB_PAGE_ACCESS_TOKEN"},
        {"graph_base_url": "FB_GRAPH_BASE_URL", "graph_version": "FB_GRAPH_VERSION"},
    ),
    "bot.channels.zalo.ZaloInput": (
        {"app_id": "ZALO_APP_ID", "oa_secret_key": "ZALO_OA_SECRET_KEY", "app_secret_key": "ZALO_APP_SECRET_KEY",
         "access_token": "ZALO_ACCESS_TOKEN", "refresh_token": "ZALO_REFRESH_TOKEN"},
        {"api_base": "ZALO_API_BASE", "oauth_base": "ZALO_OAUTH_BASE", "token_db": "ZALO_TOKEN_DB"},
    ),
}


def compose(base: Mapping[str, Any], env: Mapping[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The credentials with every channel whose required variables are all set."""
    out: dict[str, Any] = dict(base)
    enabled = []
    for channel, (required, optional) in CHANNELS.items():
        if all(env.get(var) for var in required.values()):
            section = {key: env[var] for key, var in required.items()}
            section.update({key: env[var] for key, var in optional.items() if env.get(var)})
            out[channel] = section
            enabled.append(channel.rsplit(".", 1)[-1])
    return out, enabled


def write(path: Path, env: Mapping[str, str] = os.environ) -> list[str]:
    base = yaml.safe_load((ROOT / "bot" / "credentials.yml").read_text(encoding="utf-8")) or {}
    creds, enabled = compose(base, env)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(creds, allow_unicode=True, sort_keys=False), encoding="utf-8")
    path.chmod(0o600)
    return enabled
