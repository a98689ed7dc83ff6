"""Shared fixtures. Every test sends its state (index artefacts, trackers) to temp dirs."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from knowledge.api.app import create_app
from knowledge.service import LoadedIndex, rebuild
from knowledge.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
SHARED = ROOT.parent / "shared"

os.environ.setdefault("HF_HUB_OFFLINE", "1")


def shared_or_skip(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} is not present on this machine")
    return path


@pytest.fixture(scope="session")
def settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    state = tmp_path_factory.mktemp("state")
    return Settings(index_dir=state / "index", desk_db=state / "desk.db", demo_onestop_db=state / "onestop.db",
                    admin_token="test-admin-token")


@pytest.fixture(scope="session")
def loaded(settings: Settings) -> LoadedIndex:
    return rebuild(settings)


@pytest.fixture(scope="session")
def app_client(settings: Settings, loaded: LoadedIndex) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as client:
        yield client
