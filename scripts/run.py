"""`make run`: start the knowledge service, the action server and Rasa in the foreground,
print the portal address, keep them running, stop them all on Ctrl-C, SIGTERM or SIGHUP.

While it runs, a child that dies or stops answering its health check is restarted (with
a backoff and one line saying which and why; scripts/stack.py, Stack.wait). Stopping is
safe to repeat: a second signal only makes it kill what is still running instead of
waiting; either way every child and what it started ends (each runs in its own process
group), and on Linux the children also stop when this runner is killed (SIGKILL).
``DVC_RUN_CHILDREN=knowledge,actions`` starts only some of them.
"""

from __future__ import annotations

import os
import signal
import sys
from pathlib import Path
from types import FrameType
from typing import Optional

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from knowledge.environment import SettingError  # noqa: E402
from scripts import credentials  # noqa: E402
from scripts.stack import Stack, StackConfig, Stopped  # noqa: E402


def main() -> int:
    try:
        config = StackConfig.from_env()
    except SettingError as exc:
        print(f"[run] configuration error: {exc}", file=sys.stderr)
        return 2
    config.credentials = config.tracker_db.parent / "credentials.yml"  # var/credentials.yml by default
    enabled = credentials.write(config.credentials)
    stack = Stack(config)

    def _stop(signum: int, frame: Optional[FrameType]) -> None:
        # Only flags and a raw write here: an exception or a print from a handler could break
        # the shutdown it interrupts.
        again = stack.stopping
        stack.request_stop()
        word = signal.Signals(signum).name
        os.write(2, f"[run] {word}{' again: killing what is left' if again else ': stopping'}\n".encode())

    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(sig, _stop)
    try:
        print("[run] starting knowledge service, action server and Rasa (first start may take a minute)…",
              flush=True)
        stack.start(timeout=config.start_timeout)
        _banner(stack, enabled)
        return stack.wait()
    except Stopped:
        return 0
    except (RuntimeError, TimeoutError, FileNotFoundError, SettingError, ValueError) as exc:
        print(f"[run] could not start: {exc}", file=sys.stderr)
        return 1
    finally:
        stack.stop()
        print("[run] stopped", file=sys.stderr, flush=True)


def _banner(stack: Stack, enabled: list[str]) -> None:
    config = stack.config
    names = {c.name for c in stack.children}
    shown = "localhost" if config.host in ("127.0.0.1", "0.0.0.0") else config.host
    if "knowledge" in names:
        print(f"\n  Cổng thông tin (portal):  http://{shown}:{config.knowledge_port}/")
        print(f"  Knowledge API docs:       http://{shown}:{config.knowledge_port}/docs")
        print(f"  Officers' console:        http://{shown}:{config.knowledge_port}/console/  (first account: "
              "CONSOLE_ADMIN_PASSWORD=… .venv/bin/python -m knowledge.console create-admin --username admin)")
    if "rasa" in names:
        print(f"  Rasa REST:                http://{shown}:{config.rasa_port}/webhooks/rest/webhook")
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
    print(f"  Running:                  {', '.join(c.name for c in stack.children)} (restarted if they fail)")
    print("  Ctrl-C to stop.\n", flush=True)


if __name__ == "__main__":
    sys.exit(main())
