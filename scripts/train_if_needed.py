"""Train the Rasa model only when the training inputs changed (stdlib only).

The fingerprint covers config.yml, domain.yml, bot/data/** and bot/components/**; the
model is saved as models/dvc-<fingerprint>.tar.gz, so an existing file means "up to
date". Run with the Rasa environment's Python: .venv-rasa/bin/python scripts/train_if_needed.py
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
INPUTS = [ROOT / "config.yml", ROOT / "domain.yml", ROOT / "bot" / "data", ROOT / "bot" / "components",
          ROOT / "knowledge" / "text"]


def fingerprint() -> str:
    digest = hashlib.sha256()
    for item in INPUTS:
        files = sorted(p for p in item.rglob("*") if p.is_file() and p.suffix in {".yml", ".yaml", ".py"}) \
            if item.is_dir() else [item]
        for f in files:
            digest.update(str(f.relative_to(ROOT)).encode() + b"\0" + f.read_bytes())
    return digest.hexdigest()[:12]


def main() -> int:
    name = f"dvc-{fingerprint()}"
    out = ROOT / "models"
    if (out / f"{name}.tar.gz").is_file() and "--force" not in sys.argv:
        print(f"[train] model {name} is up to date")
        return 0
    print(f"[train] training {name} (training data changed or no model)…", flush=True)
    rasa = Path(sys.executable).parent / "rasa"
    env = {**os.environ, "PYTHONPATH": str(ROOT), "TF_CPP_MIN_LOG_LEVEL": "2", "SQLALCHEMY_SILENCE_UBER_WARNING": "1",
           "RASA_TELEMETRY_ENABLED": "false"}
    cmd = [str(rasa), "train", "--config", "config.yml", "--domain", "domain.yml", "--data", "bot/data",
           "--out", str(out), "--fixed-model-name", name]
    return subprocess.call(cmd, cwd=ROOT, env=env)


if __name__ == "__main__":
    sys.exit(main())
