"""Where a stack keeps anything (files under its state folder, its logs, its Redis), searched
for strings that must not be there: personal data typed by a test citizen."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from scripts.stack import Stack


def state_files(stack: Stack) -> list[Path]:
    roots = [stack.config.tracker_db.parent]
    if stack.config.log_dir:
        roots.append(stack.config.log_dir)
    files = {p for root in roots for p in root.rglob("*") if p.is_file() and "index" not in p.relative_to(root).parts}
    return sorted(files)


def redis_values(url: str) -> list[bytes]:
    """Every key and value in the stack's Redis (strings, lists, hashes, sorted sets)."""
    import redis

    parts = urlsplit(url)
    client = redis.Redis(host=parts.hostname or "127.0.0.1", port=parts.port or 6379, password=parts.password,
                         db=int((parts.path or "/0").lstrip("/") or 0))
    out: list[bytes] = []
    for key in client.scan_iter(count=500):
        out.append(key)
        kind = client.type(key)
        if kind == b"string":
            out.append(client.get(key) or b"")
        elif kind == b"list":
            out.extend(client.lrange(key, 0, -1))
        elif kind == b"hash":
            out.extend(v for kv in client.hgetall(key).items() for v in kv)
        elif kind == b"zset":
            out.extend(client.zrange(key, 0, -1))
        elif kind == b"set":
            out.extend(client.smembers(key))
    client.close()
    return out


def found(stack: Stack, needles: list[str]) -> list[str]:
    """'needle in where' for each needle found in a state file, a log or Redis."""
    hits = []
    encoded = [(n, n.encode()) for n in needles]
    for path in state_files(stack):
        data = path.read_bytes()
        hits += [f"{n} in {path.name}" for n, b in encoded if b in data]
    if stack.config.lock_store_url:
        values = redis_values(stack.config.lock_store_url)
        hits += [f"{n} in redis" for n, b in encoded if any(b in v for v in values)]
    return hits


def assert_nowhere(stack: Stack, needles: list[str]) -> None:
    hits = found(stack, needles)
    assert not hits, hits
