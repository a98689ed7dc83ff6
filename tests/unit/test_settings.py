"""Every process validates its settings at start-up and, in production, refuses to start
with a missing or short secret, the demo one-stop system or the REST channel, naming the
variable to fix."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from actions.settings import ActionSettings
from actions.settings import load_settings as load_action_settings
from bot.serve import rasa_arguments
from knowledge.environment import SettingError
from knowledge.settings import load_settings as load_knowledge_settings
from scripts.settings import load_runner_settings, resolve_secrets

GOOD = "s" * 40
PROD_ENV = {"DVC_ENVIRONMENT": "production"}


@pytest.fixture
def env(monkeypatch: pytest.MonkeyPatch):  # type: ignore[no-untyped-def]
    for var in ("DVC_ENVIRONMENT", "KNOWLEDGE_DESK_TOKEN", "KNOWLEDGE_ADMIN_TOKEN", "KNOWLEDGE_DEMO_ONESTOP",
                "ACTIONS_TOKEN", "ACTIONS_DESK_TOKEN", "ACTIONS_ONESTOP_URL", "ACTIONS_ONESTOP_TOKEN",
                "ACTIONS_OFFICE_PERIODS", "ACTIONS_OFFICE_DAYS", "DVC_REST_CHANNEL", "DVC_PORTAL_ORIGINS",
                "KNOWLEDGE_PORT", "REDIS_URL"):
        monkeypatch.delenv(var, raising=False)

    def set_(**values: str) -> None:
        for k, v in values.items():
            monkeypatch.setenv(k, v)
    return set_


def message(fn) -> str:  # type: ignore[no-untyped-def]
    with pytest.raises(SettingError) as exc:
        fn()
    return str(exc.value)


def test_development_needs_no_secret(env) -> None:  # type: ignore[no-untyped-def]
    knowledge = load_knowledge_settings()
    assert knowledge.environment == "development" and knowledge.demo_onestop is True
    assert load_action_settings().environment == "development"
    assert load_runner_settings().rest_channel == "on"


def test_unknown_environment_is_refused(env) -> None:  # type: ignore[no-untyped-def]
    env(DVC_ENVIRONMENT="prod")
    assert "DVC_ENVIRONMENT" in message(load_knowledge_settings)


def test_knowledge_service_names_each_missing_or_short_secret(env) -> None:  # type: ignore[no-untyped-def]
    env(**PROD_ENV)
    assert message(load_knowledge_settings).startswith("KNOWLEDGE_DESK_TOKEN must be set in production")
    env(KNOWLEDGE_DESK_TOKEN="short")
    assert message(load_knowledge_settings) == ("KNOWLEDGE_DESK_TOKEN is too short for production (5 characters; "
                                                "at least 32)")
    env(KNOWLEDGE_DESK_TOKEN=GOOD, KNOWLEDGE_ADMIN_TOKEN="short")
    assert message(load_knowledge_settings).startswith("KNOWLEDGE_ADMIN_TOKEN is too short")
    env(KNOWLEDGE_ADMIN_TOKEN=GOOD, KNOWLEDGE_DEMO_ONESTOP="true")
    assert message(load_knowledge_settings).startswith("KNOWLEDGE_DEMO_ONESTOP must be off in production")
    env(KNOWLEDGE_DEMO_ONESTOP="false")
    settings = load_knowledge_settings()
    assert settings.environment == "production" and settings.demo_onestop is False


def test_knowledge_service_names_a_bad_value(env) -> None:  # type: ignore[no-untyped-def]
    env(KNOWLEDGE_PORT="eighty")
    assert message(load_knowledge_settings).startswith("KNOWLEDGE_PORT: Input should be a valid integer")


def test_action_server_refuses_the_demo_one_stop_and_missing_tokens(env) -> None:  # type: ignore[no-untyped-def]
    env(**PROD_ENV)
    assert message(load_action_settings).startswith("ACTIONS_TOKEN must be set in production")
    env(ACTIONS_TOKEN=GOOD)
    assert message(load_action_settings).startswith("ACTIONS_DESK_TOKEN must be set in production")
    env(ACTIONS_DESK_TOKEN=GOOD, ACTIONS_ONESTOP_URL="http://127.0.0.1:8000/demo/onestop", ACTIONS_ONESTOP_TOKEN=GOOD)
    assert message(load_action_settings).startswith("ACTIONS_ONESTOP_URL points at the demo one-stop system")
    env(ACTIONS_ONESTOP_URL="http://motcua.example.gov.vn/api")
    assert message(load_action_settings) == "ACTIONS_ONESTOP_URL must be an https:// URL in production"
    env(ACTIONS_ONESTOP_URL="https://motcua.example.gov.vn/api")
    assert load_action_settings().onestop_url == "https://motcua.example.gov.vn/api"


@pytest.mark.parametrize("periods, expected", [
    ("7:30-25:00", "ACTIONS_OFFICE_PERIODS: '7:30-25:00' is not HH:MM-HH:MM (e.g. 07:30-11:30,13:30-17:00)"),
    ("11:30-07:30", "ACTIONS_OFFICE_PERIODS: '11:30-07:30': the period must end after it starts, within the day"),
    ("sáng", "ACTIONS_OFFICE_PERIODS: 'sáng' is not HH:MM-HH:MM (e.g. 07:30-11:30,13:30-17:00)"),
])
def test_office_hours_are_checked_at_start_up(env, periods: str, expected: str) -> None:  # type: ignore[no-untyped-def]
    env(ACTIONS_OFFICE_PERIODS=periods)
    assert message(load_action_settings) == expected


def test_office_days_are_checked_at_start_up(env) -> None:  # type: ignore[no-untyped-def]
    env(ACTIONS_OFFICE_DAYS="1,2,9")
    assert message(load_action_settings) == ("ACTIONS_OFFICE_DAYS: '1,2,9': weekdays 0 (Monday) to 6 (Sunday), "
                                             "comma-separated")
    assert ActionSettings(office_days="0, 2").office_days_set == {0, 2}


def test_runner_refuses_the_rest_channel_and_plain_http_origins(env) -> None:  # type: ignore[no-untyped-def]
    env(**PROD_ENV, DVC_REST_CHANNEL="on", DVC_PORTAL_ORIGINS="https://dvc.example.gov.vn")
    assert message(load_runner_settings).startswith("DVC_REST_CHANNEL must be off in production")
    env(DVC_REST_CHANNEL="off", DVC_PORTAL_ORIGINS="http://dvc.example.gov.vn")
    assert message(load_runner_settings).startswith("DVC_PORTAL_ORIGINS must list the portal's https:// origins")
    env(DVC_PORTAL_ORIGINS="https://dvc.example.gov.vn")
    assert load_runner_settings().rest_channel == "off"
    env(DVC_REST_CHANNEL="maybe")
    assert message(load_runner_settings).startswith("DVC_REST_CHANNEL:")


def test_runner_generates_development_secrets_once_and_privately(tmp_path: Path) -> None:
    store = tmp_path / "dev-secrets.json"
    first = resolve_secrets("development", store, env={})
    assert set(first) == {"RASA_API_TOKEN", "ACTIONS_TOKEN", "KNOWLEDGE_DESK_TOKEN", "PORTAL_SESSION_SECRET",
                          "REDIS_PASSWORD", "KNOWLEDGE_DEMO_ONESTOP_TOKEN"}
    assert all(len(v) >= 32 for v in first.values())
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert resolve_secrets("development", store, env={}) == first
    assert resolve_secrets("development", store, env={"RASA_API_TOKEN": GOOD})["RASA_API_TOKEN"] == GOOD
    assert json.loads(store.read_text())["RASA_API_TOKEN"] == first["RASA_API_TOKEN"]


def test_runner_in_production_takes_secrets_only_from_the_environment(tmp_path: Path) -> None:
    store = tmp_path / "dev-secrets.json"
    with pytest.raises(SettingError, match="^RASA_API_TOKEN must be set in production"):
        resolve_secrets("production", store, env={})
    full = {var: GOOD for var in ("RASA_API_TOKEN", "ACTIONS_TOKEN", "KNOWLEDGE_DESK_TOKEN", "PORTAL_SESSION_SECRET",
                                  "REDIS_PASSWORD")}
    assert resolve_secrets("production", store, env=full) == full
    assert not store.exists()


def test_rasa_always_gets_its_api_token_and_the_portal_origins_only() -> None:
    args = rasa_arguments(["run", "--enable-api"], {"RASA_API_TOKEN": "t", "DVC_PORTAL_ORIGINS": "http://a:1, http://b:2/"})
    assert args == ["run", "--enable-api", "--auth-token=t", "--cors", "http://a:1", "http://b:2"]
    # a generated token may start with "-" (token_urlsafe): it stays the option's value
    assert rasa_arguments(["run"], {"RASA_API_TOKEN": "-abc"}) == ["run", "--auth-token=-abc"]
    with pytest.raises(SettingError, match="^RASA_API_TOKEN must be set"):
        rasa_arguments(["run"], {})
    with pytest.raises(SettingError, match="^RASA_API_TOKEN is too short for production"):
        rasa_arguments(["run"], {"RASA_API_TOKEN": "t", "DVC_ENVIRONMENT": "production"})
    with pytest.raises(SettingError, match="not '\\*'"):
        rasa_arguments(["run"], {"RASA_API_TOKEN": "t", "DVC_PORTAL_ORIGINS": "*"})
    with pytest.raises(SettingError, match="not on the command line"):
        rasa_arguments(["run", "--cors", "*"], {"RASA_API_TOKEN": "t"})
    with pytest.raises(SettingError, match="not on the command line"):
        rasa_arguments(["run", "--auth-token=x"], {"RASA_API_TOKEN": "t"})
