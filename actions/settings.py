"""Settings of the action server (environment variables prefixed ``ACTIONS_``, plus the
shared ``DVC_ENVIRONMENT``), validated once at start-up: a bad value, office hours
included, stops the server with a message naming the variable (``load_settings``)."""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache
from typing import Optional

from pydantic import AliasChoices, Field, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from knowledge.environment import ENVIRONMENT_VAR, Environment, SettingError, check_secret
from knowledge.settings import readable

PERIOD = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)-([01]?\d|2[0-4]):([0-5]\d)$")
DEMO_ONESTOP_PATH = "/demo/onestop"


def parse_periods(value: str) -> tuple[tuple[int, int], ...]:
    """``07:30-11:30,13:30-17:00`` → ((450, 690), (810, 1020)) minutes since midnight."""
    periods = []
    for part in value.split(","):
        match = PERIOD.match(part.strip())
        if not match:
            raise ValueError(f"{part.strip()!r} is not HH:MM-HH:MM (e.g. 07:30-11:30,13:30-17:00)")
        sh, sm, eh, em = (int(g) for g in match.groups())
        start, end = sh * 60 + sm, eh * 60 + em
        if not start < end <= 24 * 60:
            raise ValueError(f"{part.strip()!r}: the period must end after it starts, within the day")
        periods.append((start, end))
    return tuple(periods)


class ActionSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACTIONS_", extra="ignore")

    environment: Environment = Field("development", validation_alias=AliasChoices(ENVIRONMENT_VAR, "environment"))
    host: str = Field("127.0.0.1", description="interface of the action server (only Rasa calls it)")
    port: int = Field(5055, ge=1, le=65535)
    token: Optional[str] = Field(None, description="bearer token Rasa sends to the action server "
                                 "(bot/endpoints.yml); required in production")
    max_body_bytes: int = Field(1024 * 1024, ge=1024, description="larger action calls get 413")
    knowledge_url: str = Field("http://127.0.0.1:8000", description="base URL of the knowledge service")
    knowledge_timeout: float = Field(5.0, gt=0, description="seconds per request to the knowledge service")
    # In a follow-up ("lệ phí bao nhiêu?"), a search hit below this score does not change the procedure in
    # context (dev set: real mentions score ≥ 0.51 at the 1st percentile, vague ones ≤ 0.37). Otherwise the
    # knowledge service's match decision (thresholds calibrated per index build) decides.
    mention_threshold: float = Field(0.45, ge=0, le=1)
    # Fallback suggestions below this score are not offered.
    suggest_threshold: float = Field(0.25, ge=0, le=1)
    desk_token: Optional[str] = Field(None, description="sent as X-Desk-Token to the knowledge service's /desk")
    public_url: Optional[str] = Field(None, description="the knowledge service's address as citizens reach it; set: "
                                      "online-service links go through its counting redirect /r/<id>")
    # The province's one-stop system (Hệ thống thông tin giải quyết TTHC); `make run` points it at the demo
    # in development only. Unset: the bot says dossier lookup is unavailable (never made-up statuses).
    onestop_url: Optional[str] = Field(None, description="base URL of the one-stop system's dossier API")
    onestop_token: Optional[str] = Field(None, description="bearer token for the one-stop system")
    onestop_timeout: float = Field(5.0, gt=0)
    # Office hours of the officers who take handovers (local time, UTC+7).
    office_days: str = Field("0,1,2,3,4", description="weekdays, 0 = Monday")
    office_periods: str = Field("07:30-11:30,13:30-17:00")
    office_hours_text: str = "thứ Hai đến thứ Sáu, 7 giờ 30 – 11 giờ 30 và 13 giờ 30 – 17 giờ"
    utc_offset_hours: int = Field(7, ge=-12, le=14)

    @field_validator("office_days")
    @classmethod
    def _days(cls, value: str) -> str:
        days = [d.strip() for d in value.split(",") if d.strip()]
        if not days or any(d not in "0123456" or len(d) != 1 for d in days):
            raise ValueError(f"{value!r}: weekdays 0 (Monday) to 6 (Sunday), comma-separated")
        return ",".join(days)

    @field_validator("office_periods")
    @classmethod
    def _periods(cls, value: str) -> str:
        parse_periods(value)
        return value

    @model_validator(mode="after")
    def _posture(self) -> ActionSettings:
        check_secret("ACTIONS_TOKEN", self.token, self.environment)
        check_secret("ACTIONS_DESK_TOKEN", self.desk_token, self.environment)
        if self.environment == "production":
            if self.onestop_url and DEMO_ONESTOP_PATH in self.onestop_url:
                raise SettingError("ACTIONS_ONESTOP_URL points at the demo one-stop system; in production set the "
                                   "province's own system, or leave it unset (dossier lookup off)")
            if self.onestop_url and not self.onestop_url.startswith("https://"):
                raise SettingError("ACTIONS_ONESTOP_URL must be an https:// URL in production")
            if self.onestop_url:
                check_secret("ACTIONS_ONESTOP_TOKEN", self.onestop_token, self.environment)
        return self

    @property
    def office_days_set(self) -> frozenset[int]:
        return frozenset(int(d) for d in self.office_days.split(","))

    @property
    def office_minutes(self) -> tuple[tuple[int, int], ...]:
        return parse_periods(self.office_periods)

    @property
    def local_zone(self) -> dt.timezone:
        return dt.timezone(dt.timedelta(hours=self.utc_offset_hours))


def load_settings() -> ActionSettings:
    """The settings, or SettingError with the variable to fix."""
    try:
        return ActionSettings()
    except ValidationError as exc:
        raise SettingError(readable(exc, "ACTIONS_")) from None


@lru_cache(maxsize=1)
def get_settings() -> ActionSettings:
    return load_settings()
