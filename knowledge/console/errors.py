"""Errors of the console; the message is Vietnamese and safe to show to an administrator.

    AccountError
    ├── BadUsername     the name is not 3–64 of a–z, 0–9, ``.``, ``_``, ``-``
    ├── WeakPassword    shorter than MIN_PASSWORD_CHARS (or absurdly long)
    └── UsernameTaken   an account with this name exists
"""


class AccountError(ValueError):
    pass


class BadUsername(AccountError):
    pass


class WeakPassword(AccountError):
    pass


class UsernameTaken(AccountError):
    pass
