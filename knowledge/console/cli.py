"""``python -m knowledge.console create-admin|create-officer --username NAME``.

The password is read from the environment variable CONSOLE_ADMIN_PASSWORD when it is set,
else from standard input (asked twice, hidden, on a terminal; the first line otherwise) —
never from the command line, where other users of the machine would see it. The accounts
go into the desk database (KNOWLEDGE_DESK_DB).
"""

from __future__ import annotations

import argparse
import getpass
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Optional, TextIO

from knowledge.console.accounts import Accounts, Role
from knowledge.console.db import ConsoleDB
from knowledge.console.errors import AccountError
from knowledge.environment import SettingError

PASSWORD_ENV = "CONSOLE_ADMIN_PASSWORD"
COMMANDS: dict[str, Role] = {"create-admin": "admin", "create-officer": "officer"}


def read_password(env: Mapping[str, str], stdin: TextIO) -> str:
    if env.get(PASSWORD_ENV):
        return env[PASSWORD_ENV]
    if stdin.isatty():
        first = getpass.getpass("Mật khẩu: ")
        if first != getpass.getpass("Nhập lại mật khẩu: "):
            raise AccountError("Hai lần nhập mật khẩu không khớp.")
        return first
    return stdin.readline().rstrip("\r\n")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m knowledge.console", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    for name, role in COMMANDS.items():
        p = sub.add_parser(name, help=f"create a console account with the role {role}")
        p.add_argument("--username", required=True)
        p.add_argument("--desk-db", default="", help="the desk database (default KNOWLEDGE_DESK_DB)")
    return parser


def main(argv: Optional[Sequence[str]] = None, env: Optional[Mapping[str, str]] = None,
         stdin: Optional[TextIO] = None) -> int:
    args = build_parser().parse_args(argv)
    env = os.environ if env is None else env
    try:
        path = Path(args.desk_db) if args.desk_db else _desk_db()
        password = read_password(env, stdin or sys.stdin)
        os.umask(0o077)
        account = Accounts(ConsoleDB(path)).create(args.username, password, COMMANDS[args.command])
    except (AccountError, SettingError) as exc:
        print(f"lỗi: {exc}", file=sys.stderr)
        return 1
    role = "quản trị" if account.is_admin else "cán bộ"
    print(f"Đã tạo tài khoản {role} “{account.username}”. Đăng nhập tại /console/login của dịch vụ tri thức.")
    return 0


def _desk_db() -> Path:
    from knowledge.settings import load_settings

    return load_settings().desk_db
