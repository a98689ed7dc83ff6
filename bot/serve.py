"""Rasa's ``rasa run`` as the project starts it: ``python -m bot.serve run [rasa run options]``.

What is added before Rasa starts (standard library, Rasa and prometheus-client only):

* Rasa's HTTP API (trackers, event injection, ``/model``) always needs a token: the one in
  ``RASA_API_TOKEN`` is passed to Rasa as ``--auth-token`` inside this process, so it never
  shows in the process list. Clients send it as ``?token=…`` (tests, tools); the public
  paths (webhooks, socket.io, ``/``) need none. In production the token must be at least
  32 characters (knowledge/environment.py).
* CORS is limited to the portal's origins (``DVC_PORTAL_ORIGINS``), never ``*``.
* ``bot.rasa_patches`` (masking of personal data in messages, stores and logs, bounded
  messages, measured performance fixes) are applied here, before Rasa logs anything, and
  again when Rasa loads the model (``bot.components``); the Sanic patch waits for Sanic's
  own start-up rewrite (see its docstring).
* Metrics (bot/metrics.py): ``DVC_METRICS_TOKEN`` and ``DVC_LOG_FORMAT`` are checked with the
  other settings, and the multiprocess folder of the metrics (``PROMETHEUS_MULTIPROC_DIR``, one
  per Rasa child, given by the runner) is emptied here, before Rasa starts its Sanic workers.
"""

from __future__ import annotations

import os
import sys
from typing import List, Mapping

from knowledge.environment import SettingError, check_secret, environment
from knowledge.observability.logs import log_format
from knowledge.observability.prometheus import metrics_token, prepare_multiprocess_dir


def rasa_arguments(argv: List[str], env: Mapping[str, str]) -> List[str]:
    """``argv`` with the token and the CORS origins added; SettingError names what is missing."""
    if any(a.split("=", 1)[0] in ("--auth-token", "-t", "--cors") for a in argv):
        raise SettingError("pass the API token as RASA_API_TOKEN and the origins as DVC_PORTAL_ORIGINS, "
                           "not on the command line")
    posture = environment(env)
    token = env.get("RASA_API_TOKEN", "")
    if not token:
        raise SettingError("RASA_API_TOKEN must be set: Rasa's HTTP API is never open without a token "
                           "(`make run` generates one in development)")
    check_secret("RASA_API_TOKEN", token, posture)
    metrics_token(env)
    log_format(env)
    origins = [o.strip().rstrip("/") for o in env.get("DVC_PORTAL_ORIGINS", "").split(",") if o.strip()]
    if any(o == "*" for o in origins):
        raise SettingError("DVC_PORTAL_ORIGINS: list the portal's origins (https://…), not '*'")
    # "=": a generated token may start with "-", which argparse would take for an option
    args = [*argv, f"--auth-token={token}"]
    if origins:
        args += ["--cors", *origins]
    return args


def main() -> int:
    try:
        args = rasa_arguments(sys.argv[1:], os.environ)
    except SettingError as exc:
        print(f"[rasa] configuration error: {exc}", file=sys.stderr)
        return 2
    prepare_multiprocess_dir()
    from bot import rasa_patches

    rasa_patches.apply()
    from rasa.__main__ import main as rasa_main

    sys.argv = ["rasa", *args]
    rasa_main()
    return 0


if __name__ == "__main__":
    sys.exit(main())
