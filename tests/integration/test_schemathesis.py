"""The knowledge service fuzzed from its own OpenAPI document (schemathesis, in-process ASGI).

Every operation of ``/openapi.json`` gets generated requests, valid and invalid (wrong types,
missing fields, huge and odd strings, unknown query values, bad headers), and every answer is
checked: never a 5xx, the status code and the body as the document declares them, the declared
content type, valid data accepted and invalid data refused. Bounded for CI: a fixed seed and a
small number of examples per operation, no deadline (two shared cores).

The desk and admin operations are tried twice: with the generated (wrong) tokens, which must get
their 401, and with the right token, so that the body validation behind the token is fuzzed too.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.generation.case import Case

from knowledge.api.app import create_app
from knowledge.api.deps import IndexHolder
from knowledge.service import LoadedIndex
from knowledge.settings import Settings

DESK_TOKEN = "fuzz-desk-token-0123456789abcdef"
ADMIN_TOKEN = "fuzz-admin-token-0123456789abcdef"
DEMO_TOKEN = "fuzz-demo-onestop-token-0123456789"
SEED = 20261202
MAX_EXAMPLES = 50  # per operation and token posture: about a minute in all on this machine


# schemathesis reads the document when this module is imported (its lazy fixture loader does not
# work with this pytest), so the app is made here, in a private temporary folder, and starts
# serving the session's index in the fixture below.
STATE = Path(tempfile.mkdtemp(prefix="dvc-schemathesis-"))
FUZZ_SETTINGS = Settings(index_dir=STATE / "index", desk_db=STATE / "desk.db", demo_onestop_db=STATE / "onestop.db",
                         desk_token=DESK_TOKEN, admin_token=ADMIN_TOKEN, demo_onestop=True,
                         demo_onestop_token=DEMO_TOKEN)
APP = create_app(FUZZ_SETTINGS, holder=IndexHolder(FUZZ_SETTINGS))  # not started: replaced by ``serving``
# Refusing an invalid body because it is too large (413, the body limit is checked first) is a
# refusal too. Two operations accept less than their schema says, by rules a JSON schema of
# theirs does not state, so "schema-valid data accepted" is not asked of them:
# /search refuses a blank query (``SearchRequest``: no minLength or
# pattern), /desk/feedback wants one of value, rating or comment. And two accept more: the desk's
# handover bodies take 0 and 1 for their booleans (pydantic's lax mode; ``StrictBool`` in
# knowledge/api/routers/desk.py would refuse them), so "schema-violating data refused" is not
# asked of /desk/handovers*.
CONFIG = schemathesis.Config.from_str(f"""
seed = {SEED}
[checks.negative_data_rejection]
expected-statuses = [400, 401, 403, 404, 406, 413, 422]

[[operations]]
include-path = "/search"
checks.positive_data_acceptance.enabled = false

[[operations]]
include-path = "/desk/feedback"
checks.positive_data_acceptance.enabled = false

[[operations]]
include-path-regex = "^/desk/handovers"
checks.negative_data_rejection.enabled = false
""")
schema = schemathesis.openapi.from_asgi("/openapi.json", APP, config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def serving(settings: Settings, loaded: LoadedIndex) -> Iterator[None]:
    APP.state.holder = IndexHolder.serving(settings, loaded)
    yield
    shutil.rmtree(STATE, ignore_errors=True)


FUZZ = hypothesis_settings(max_examples=MAX_EXAMPLES, deadline=None, derandomize=True, database=None,
                           suppress_health_check=list(HealthCheck))


def right_tokens(case: Case) -> None:
    """The headers an authorised caller sends, replacing whatever was generated."""
    headers = dict(case.headers or {})
    path = case.operation.path
    if path.startswith("/desk/"):
        headers["X-Desk-Token"] = DESK_TOKEN
    elif path.startswith("/admin/"):
        headers["Authorization"] = f"Bearer {ADMIN_TOKEN}"
    elif path.startswith("/demo/onestop/"):
        headers["Authorization"] = f"Bearer {DEMO_TOKEN}"
    case.headers = headers


@schema.parametrize()
@FUZZ
def test_as_generated(case: Case) -> None:
    case.call_and_validate()


@schema.include(path_regex="^/(desk|admin|demo)/").parametrize()
@FUZZ
def test_behind_the_right_token(case: Case) -> None:
    right_tokens(case)
    case.call_and_validate()
