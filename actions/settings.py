"""Settings of the action server (environment variables prefixed ``ACTIONS_``)."""

from __future__ import annotations

from functools import lru_cache

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ActionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACTIONS_", extra="ignore")

    knowledge_url: str = Field("http://127.0.0.1:8000", description="base URL of the knowledge service")
    knowledge_timeout: float = Field(5.0, gt=0, description="seconds per request to the knowledge service")
    # A search hit below this score is not taken as the procedure the citizen named.
    mention_threshold: float = Field(0.35, ge=0, le=1)
    # Fallback suggestions below this score are not offered.
    suggest_threshold: float = Field(0.2, ge=0, le=1)


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    return ActionSettings()
