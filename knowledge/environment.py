"""The one ``DVC_ENVIRONMENT`` setting, read by every process, and the checks on secrets.

    development (default; ``make run``): works with no secrets set, loopback only. The stack
        runner generates the secrets the processes share (var/dev-secrets.json, mode 600).
    production: every process refuses to start with a missing or short secret, the demo
        one-stop system, or the REST channel, and names the variable to fix.

Standard library only (the stack runner and the Rasa side read it too).
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import os
from collections.abc import Mapping
from typing import Literal, Optional

Environment = Literal["development", "production"]
ENVIRONMENT_VAR = "DVC_ENVIRONMENT"
ENVIRONMENTS = ("development", "production")
MIN_SECRET_CHARS = 32


class SettingError(ValueError):
    """A setting is missing or wrong; the message names the environment variable (shown to operators)."""


def environment(env: Mapping[str, str] = os.environ) -> Environment:
    value = (env.get(ENVIRONMENT_VAR) or "development").strip().lower()
    if value not in ENVIRONMENTS:
        raise SettingError(f"{ENVIRONMENT_VAR}={value!r}: use 'development' or 'production'")
    return "production" if value == "production" else "development"


def check_secret(var: str, value: Optional[str], env: Environment, required: bool = True) -> None:
    """In production a required secret must be set and at least MIN_SECRET_CHARS long; an
    optional one, when set, too."""
    if env != "production":
        return
    if not value:
        if required:
            raise SettingError(f"{var} must be set in production (a random secret of at least {MIN_SECRET_CHARS} "
                               "characters, e.g. `python -c 'import secrets; print(secrets.token_urlsafe(32))'`)")
        return
    if len(value) < MIN_SECRET_CHARS:
        raise SettingError(f"{var} is too short for production ({len(value)} characters; at least "
                           f"{MIN_SECRET_CHARS})")


def is_loopback(address: Optional[str]) -> bool:
    """A peer address on this machine (127.0.0.0/8, ::1, an IPv4-mapped loopback): the development
    posture's rule for operator endpoints (Rasa's REST channel, ``/metrics``)."""
    try:
        ip = ipaddress.ip_address((address or "").strip("[]").split("%")[0])
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped.is_loopback
    return ip.is_loopback


def same_secret(given: Optional[str], expected: Optional[str]) -> bool:
    """``given`` equals a configured ``expected`` secret, compared in constant time over digests
    (neither the content nor the length shows); an unset or empty secret never matches."""
    if not given or not expected:
        return False
    return hmac.compare_digest(hashlib.sha256(given.encode()).digest(), hashlib.sha256(expected.encode()).digest())
