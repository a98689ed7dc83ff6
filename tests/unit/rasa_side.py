"""Runs one of the tests/rasa_side/check_*.py scripts with the Rasa environment's Python and
returns the JSON it prints (the Rasa-side code cannot be imported from this environment)."""

from __future__ import annotations

import json
import os
import subprocess
from functools import cache
from typing import Any

import pytest

from scripts.stack import ROOT, VENV_RASA


@cache
def rasa_side_report(script: str) -> dict[str, Any]:
    python = VENV_RASA / "bin" / "python"
    if not python.exists():
        pytest.skip("the Rasa environment (.venv-rasa) is not installed")
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "3", "RASA_TELEMETRY_ENABLED": "false",
           "SQLALCHEMY_SILENCE_UBER_WARNING": "1"}
    env.pop("DVC_MAX_MESSAGE_CHARS", None)  # the checks assert the default limit
    out = subprocess.run([str(python), str(ROOT / "tests" / "rasa_side" / script)], capture_output=True, text=True,
                         env=env, timeout=300, check=True)
    data: dict[str, Any] = json.loads(out.stdout)
    return data
