"""One real stack (knowledge service, action server, Rasa) per test session, on free ports."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from scripts.stack import MODELS, Stack, StackConfig, latest_model


def model_or_skip() -> Path:
    try:
        return latest_model(MODELS)
    except FileNotFoundError:
        if os.environ.get("E2E_REQUIRED") == "1":
            raise
        pytest.skip("no trained Rasa model (run `make train`); `make test` trains one and requires this test")


@pytest.fixture(scope="session")
def stack(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Stack]:
    model = model_or_skip()
    tmp = tmp_path_factory.mktemp("stack")
    # Officers on duty all day, every day: the live handover's browser test takes a case "now".
    office = {"ACTIONS_OFFICE_DAYS": "0,1,2,3,4,5,6", "ACTIONS_OFFICE_PERIODS": "00:00-23:59"}
    config = StackConfig.on_free_ports(index_dir=tmp / "index", tracker_db=tmp / "tracker.db", model=model,
                                       log_dir=tmp / "logs", extra_env=office)
    s = Stack(config)
    try:
        s.start(timeout=300)
        yield s
    finally:
        s.stop()
        for log in sorted((tmp / "logs").glob("*.log")):
            tail = log.read_text(errors="replace")[-3000:]
            print(f"---- {log.name} ----\n{tail}")


@pytest.fixture(scope="session")
def portal_stack(stack: Stack) -> Stack:
    return stack
