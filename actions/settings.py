"""Settings of the action server (environment variables prefixed ``ACTIONS_``)."""

from __future__ import annotations

from functools import lru_cache
from typing import Optional

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class ActionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACTIONS_", extra="ignore")

    knowledge_url: str = Field("http://127.0.0.1:8000", description="base URL of the knowledge service")
    knowledge_timeout: float = Field(5.0, gt=0, description="seconds per request to the knowledge service")
    # A search hit below this score is not taken as the procedure the citizen named
    # (dev set: real mentions score ≥ 0.51 at the 1st percentile, vague ones ≤ 0.37).
    mention_threshold: float = Field(0.45, ge=0, le=1)
    # Fallback suggestions below this score are not offered.
    suggest_threshold: float = Field(0.25, ge=0, le=1)
    # Two candidates this close (second/first score) make a mention ambiguous.
    ambiguity_ratio: float = Field(0.97, ge=0, le=1)
    desk_token: Optional[str] = Field(None, description="sent as X-Desk-Token to the knowledge service's /desk")
    # The province's one-stop system (Hệ thống thông tin giải quyết TTHC); `make run` points it at the demo.
    onestop_url: Optional[str] = Field(None, description="base URL of the one-stop system's dossier API")
    onestop_token: Optional[str] = Field(None, description="bearer token for the one-stop system")
    onestop_timeout: float = Field(5.0, gt=0)
    # Office hours of the officers who take handovers (local time, UTC+7).
    office_days: str = Field("0,1,2,3,4", description="weekdays, 0 = Monday")
    office_periods: str = Field("07:30-11:30,13:30-17:00")
    office_hours_text: str = "thứ Hai đến thứ Sáu, 7 giờ 30 – 11 giờ 30 và 13 giờ 30 – 17 giờ"
    utc_offset_hours: int = 7


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    return ActionSettings()
