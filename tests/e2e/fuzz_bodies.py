"""Fuzzed webhook bodies (standard library only), the same for every run: ``bodies(seed, n, template)``.

Each body is the raw bytes to POST. Starting from a well-formed body of the channel (``template``)
it is, in turn: broken JSON (truncated, invalid UTF-8, a byte order mark, NaN, numbers of
thousands of digits, nesting thousands deep), the template with one value somewhere replaced by
a value of the wrong type (null, a number, a bool, an array where an object is expected, an object
where a string is), by an odd string (huge, NFD-decomposed Vietnamese, combining marks alone,
NUL, a lone surrogate, bidi overrides, intent injection ``/restart``, markup), with a key
removed, with unknown keys added, or the whole body wrapped in an array.
"""

from __future__ import annotations

import copy
import json
import random
import unicodedata
from collections.abc import Callable, Iterator
from typing import Any

NFD_TEXT = unicodedata.normalize("NFD", "Làm giấy khai sinh online thế nào? Đổi bằng lái xe ở đâu?")
ODD_STRINGS: list[str] = [
    "", " ", "\t\n\r", "\u0000", "a\u0000b", "\ud800", "\udfff\ud800", NFD_TEXT, "\u0301" * 200,
    "\u202ecba\u202c", "\ufeffxin chào", "😀" * 300, "ـ" * 50, "a" * 5_000, "ạ" * 20_000, "x" * 300_000,
    "/restart", "/session_start", "/greet{\"a\": [1, 2]}", "/inform{\"procedure\":", "/nlu_fallback",
    "<script>alert(1)</script>", "[x](javascript:alert(1))", "{{7*7}}", "%s%s%n", "../../../etc/passwd",
    "None", "null", "0", "-1", "1e309", "true", "Xin chào\n" * 100, "\\u0000", "'; DROP TABLE events; --",
]
ODD_VALUES: list[Any] = [
    None, True, False, 0, -1, 2 ** 63, 10 ** 40, 1.5, 1e308, -0.0, [], {}, [None], [1, "a", None],
    {"id": None}, {"": ""}, {"text": ["x"]}, [{"id": "1"}], "str", ["xin chào"], {"nested": {"deep": [[]]}},
]


def _paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every path (keys and indexes) inside ``value``, the value's own path () first."""
    yield prefix
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, prefix + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, prefix + (i,))


def _replace(body: Any, path: tuple[Any, ...], new: Any) -> Any:
    if not path:
        return new
    body = copy.deepcopy(body)
    target = body
    for step in path[:-1]:
        target = target[step]
    target[path[-1]] = new
    return body


def _delete(body: Any, path: tuple[Any, ...]) -> Any:
    if not path:
        return {}
    body = copy.deepcopy(body)
    target = body
    for step in path[:-1]:
        target = target[step]
    del target[path[-1]]
    return body


def _dump(value: Any, rng: random.Random) -> bytes:
    # ensure_ascii both ways: escaped ("\ud800" survives as an escape) and raw UTF-8 (surrogatepass).
    if rng.random() < 0.5:
        return json.dumps(value, ensure_ascii=True).encode("ascii")
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def _broken(template: Any, rng: random.Random) -> bytes:
    good = json.dumps(template, ensure_ascii=False).encode("utf-8")
    depth = rng.choice([1_000, 20_000, 100_000])
    choices: list[Callable[[], bytes]] = [
        lambda: b"",
        lambda: good[: rng.randrange(1, max(2, len(good)))],
        lambda: good + b"}" * rng.randint(1, 3),
        lambda: b"\xef\xbb\xbf" + good,
        lambda: b"\xff\xfe" + good,
        lambda: good.replace(b'"', b"'", 2),
        lambda: good[:-1] + b',}',
        lambda: bytes(rng.randrange(256) for _ in range(rng.randint(1, 200))),
        lambda: b"[" * depth + b"]" * depth,
        lambda: b'{"a":' * depth + b"1" + b"}" * depth,
        lambda: b"[" * depth,
        lambda: b"NaN", lambda: b"Infinity", lambda: b'{"x": NaN, "y": -Infinity}',
        lambda: b'{"sender": 1' + b"1" * 5_000 + b"}",
        lambda: b"null", lambda: b"true", lambda: b"0", lambda: b'"just a string"', lambda: b"[]", lambda: b"{}",
        lambda: good.replace(b":", b": \xc3\x28", 1),  # invalid UTF-8 inside
        lambda: good + b"\x00",
        lambda: b'{"a": "\\ud800"}',
        lambda: b'{"a": "\\x00"}',
    ]
    return rng.choice(choices)()


def mutate(template: Any, rng: random.Random) -> bytes:
    """One fuzzed body derived from ``template``."""
    roll = rng.random()
    if roll < 0.25:
        return _broken(template, rng)
    paths = list(_paths(template))
    path = rng.choice(paths[1:] or paths)
    if roll < 0.50:
        return _dump(_replace(template, path, copy.deepcopy(rng.choice(ODD_VALUES))), rng)
    if roll < 0.80:
        return _dump(_replace(template, path, rng.choice(ODD_STRINGS)), rng)
    if roll < 0.87:
        return _dump(_delete(template, path), rng)
    if roll < 0.94:
        extra = copy.deepcopy(template) if isinstance(template, dict) else {"body": template}
        extra[rng.choice(["__proto__", "constructor", "input_channel", "x" * 200, "", "metadata"])] = \
            copy.deepcopy(rng.choice(ODD_VALUES + ODD_STRINGS[:8]))
        return _dump(extra, rng)
    return _dump([template, template] if rng.random() < 0.5 else [template], rng)


def at_every_string(template: Callable[[int], Any], first: int, values: list[str]) -> list[bytes]:
    """The template with each of its strings replaced, in turn, by each of ``values`` (the inputs
    that once stopped a process are always tried, whatever the seed draws); each body is made
    from its own ``template(first + j)`` (fresh message ids: none is taken for a redelivery)."""
    shape = template(first)
    out = []
    for path in _paths(shape):
        target = shape
        for step in path:
            target = target[step]
        if path and isinstance(target, str):
            for value in values:
                out.append(json.dumps(_replace(template(first + len(out)), path, value)).encode("ascii"))
    return out


MUST_TRY = ["\ud800", "/\udfff\ud800", "a\u0000b", NFD_TEXT]


def bodies(seed: int, n: int, template: Callable[[int], Any]) -> list[bytes]:
    """``n`` fuzzed bodies; ``template(i)`` is a well-formed body (fresh ids for each ``i``). The
    first ones are deterministic: every string of the template replaced by each of ``MUST_TRY``
    and the template nested inside 1,000 arrays."""
    rng = random.Random(seed)
    fixed = [b"[" * 1000 + json.dumps(template(n)).encode() + b"]" * 1000] + at_every_string(template, n + 1, MUST_TRY)
    return fixed[:n] + [mutate(template(i), rng) for i in range(n - len(fixed[:n]))]
