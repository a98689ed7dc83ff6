"""`make run`: start the knowledge service, the action server and Rasa in the
foreground, print the portal address, stop all three on Ctrl-C or SIGTERM."""

from __future__ import annotations

import signal
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge.environment import SettingError  # noqa: E402
from scripts import credentials  # noqa: E402
from scripts.stack import ROOT, Stack, StackConfig  # noqa: E402


def main() -> int:
    try:
        config = StackConfig.from_env()
    except SettingError as exc:
        print(f"[run] configuration error: {exc}", file=sys.stderr)
        return 2
    config.credentials = ROOT / "var" / "credentials.yml"
    enabled = credentials.write(config.credentials)
    stack = Stack(config)

    def _stop(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, _stop)
    try:
        print("[run] starting knowledge service, action server and Rasa (first start may take a minute)…")
        stack.start()
        shown = "localhost" if config.host in ("127.0.0.1", "0.0.0.0") else config.host
        print(f"\n  Cổng thông tin (portal):  http://{shown}:{config.knowledge_port}/")
        print(f"  Rasa REST:                http://{shown}:{config.rasa_port}/webhooks/rest/webhook")
        print(f"  Knowledge API docs:       http://{shown}:{config.knowledge_port}/docs")
        rest = "REST (loopback only), " if config.rest_channel else ""
        print(f"  Channels:                 {rest}portal (socket.io){''.join(', ' + c for c in enabled)}")
        print(f"  Posture:                  {config.environment}"
              + (" (secrets generated in var/dev-secrets.json; Rasa API: ?token=<RASA_API_TOKEN there>)"
                 if config.environment == "development" else ""))
        if config.scaled:
            print(f"  Rasa:                     {config.workers} workers (REST/webhooks) + 1 for the portal, "
                  f"sharing Redis at {config.lock_store_url.split('@')[-1]}")
        else:
            print("  Rasa:                     one process, SQLite tracker store (install redis-server for two "
                  "workers)")
        print("  Ctrl-C to stop.\n", flush=True)
        return stack.wait()
    except KeyboardInterrupt:
        print("\n[run] stopping…")
        return 0
    except (RuntimeError, TimeoutError, FileNotFoundError, SettingError) as exc:
        print(f"[run] could not start: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()


if __name__ == "__main__":
    sys.exit(main())
