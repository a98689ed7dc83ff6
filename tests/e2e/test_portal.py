"""The portal page in a real browser: Debian's Chromium driven by playwright-core."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from scripts.stack import ROOT, Stack

pytestmark = pytest.mark.e2e
DRIVER = Path(__file__).resolve().parent / "portal.js"
OUTPUT = ROOT / "test-output" / "portal"


def _browser_or_skip() -> None:
    missing = [what for what, ok in [
        ("chromium", Path(os.environ.get("CHROMIUM", "/usr/bin/chromium")).exists()),
        ("node", shutil.which("node") is not None),
        ("playwright-core", (ROOT / "web" / "node_modules" / "playwright-core").is_dir()),
    ] if not ok]
    if missing:
        if os.environ.get("E2E_REQUIRED") == "1":
            pytest.fail(f"browser test needs {', '.join(missing)} (make setup / .ci/run installs them)")
        pytest.skip(f"browser test needs {', '.join(missing)}")


def test_portal_widget_answers_and_buttons_work(portal_stack: Stack) -> None:
    _browser_or_skip()
    OUTPUT.mkdir(parents=True, exist_ok=True)
    url = f"{portal_stack.config.knowledge_url}/"
    result = subprocess.run(
        ["node", str(DRIVER), url, str(OUTPUT), "lam giay khai sinh online the nao", "Các bước làm trực tuyến",
         "Lệ phí", "Lệ phí «Thủ tục đăng ký khai sinh»"],
        capture_output=True, text=True, timeout=180,
    )
    assert result.returncode == 0, result.stderr + result.stdout
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["ok"] and report["links"] >= 1 and report["unsafeLinks"] == 0
    assert report["violations"] == 0
    csp = report["csp"]
    assert "script-src 'self';" in csp and "'unsafe-inline'" not in csp.split("script-src")[1].split(";")[0]
    assert f"ws://127.0.0.1:{portal_stack.config.portal_rasa_port}" in csp
    assert (OUTPUT / "portal-button.png").stat().st_size > 10_000
