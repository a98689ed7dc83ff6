"""Logging in: throttle, verify, open a session — one typed outcome for the page to word."""

from __future__ import annotations

import datetime as dt
import logging
import math
from dataclasses import dataclass
from typing import Optional, Union

from knowledge.console.accounts import Account, Accounts, normalise_username
from knowledge.console.sessions import NewSession, Sessions
from knowledge.console.throttle import Throttle

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class LoggedIn:
    account: Account
    session: NewSession


@dataclass(frozen=True)
class Refused:
    """Too many failures for this name or from this address: not even checked."""

    until: dt.datetime
    minutes: int


@dataclass(frozen=True)
class Failed:
    """Unknown name, wrong password or disabled account: deliberately the same answer."""


LoginOutcome = Union[LoggedIn, Refused, Failed]


class ConsoleAuth:
    def __init__(self, accounts: Accounts, sessions: Sessions, throttle: Throttle) -> None:
        self.accounts = accounts
        self.sessions = sessions
        self.throttle = throttle

    def login(self, username: str, password: str, address: str) -> LoginOutcome:
        name = normalise_username(username)[:64]
        until = self.throttle.locked_until(name, address)
        if until is not None:
            log.warning("console login refused: too many failures")
            left = (until - self.throttle.clock()).total_seconds()
            return Refused(until, max(1, math.ceil(left / 60)))
        account = self.accounts.verify(name, password) if name else None
        if account is None:
            self.throttle.record_failure(name, address)
            log.info("console login failed")
            return Failed()
        self.throttle.clear(name)
        log.info("console login: account %d (%s)", account.id, account.role)
        return LoggedIn(account, self.sessions.create(account))

    def logout(self, token: Optional[str]) -> None:
        self.sessions.delete(token)
