"""The officers' console (issue 13): accounts, sessions and the handover queue, as a FastAPI
application the knowledge service mounts at ``/console``.

    from knowledge.console import create_console
    app.mount("/console", create_console(settings))
"""

from knowledge.console.accounts import Account, Accounts
from knowledge.console.app import create_console
from knowledge.console.db import ConsoleDB

__all__ = ["Account", "Accounts", "ConsoleDB", "create_console"]
