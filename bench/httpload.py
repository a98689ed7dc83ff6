"""A lean HTTP/1.1 load generator (asyncio streams, keep-alive) for the benchmarks.

The machines have two cores, and the load generator shares them with the server it
measures. A general-purpose client (httpx) spends about as much CPU per request as the
search itself, so its own work would be counted as server latency. This client writes a
prepared request and reads the response by its Content-Length: a few microseconds each.
It only speaks what the benchmarks need: POST with a JSON body to one host, answers with
Content-Length (uvicorn and Sanic send it for JSON).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any


@dataclass
class LoadResult:
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0


class Connection:
    """One keep-alive connection; requests on it are sequential."""

    def __init__(self, host: str, port: int, keep_alive: bool = True) -> None:
        self.host, self.port = host, port
        self.keep_alive = keep_alive
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def _open(self) -> None:
        self._reader, self._writer = await asyncio.open_connection(self.host, self.port)

    async def post_json(self, path: str, payload: Any) -> tuple[int, bytes]:
        if self._writer is None:
            await self._open()
        assert self._reader is not None and self._writer is not None
        body = json.dumps(payload, ensure_ascii=False).encode()
        connection = "" if self.keep_alive else "Connection: close\r\n"
        head = (f"POST {path} HTTP/1.1\r\nHost: {self.host}:{self.port}\r\nContent-Type: application/json\r\n"
                f"{connection}Content-Length: {len(body)}\r\n\r\n").encode()
        self._writer.write(head + body)
        status_line = await self._reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split(b" ", 2)[1])
        length = 0
        close = False
        while True:
            line = await self._reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value.strip())
            elif name == b"connection" and value.strip().lower() == b"close":
                close = True
        data = await self._reader.readexactly(length) if length else b""
        if close or not self.keep_alive:
            await self.close()
        return status, data

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            try:
                await self._writer.wait_closed()
            except OSError:
                pass
        self._reader = self._writer = None


async def run_clients(
    host: str, port: int, sessions: Sequence[Sequence[tuple[str, Any]]],
    check: Callable[[int, bytes], bool] = lambda status, _: status == 200, keep_alive: bool = True,
) -> LoadResult:
    """Run each session (a list of (path, JSON payload)) on its own connection, all at once
    (or, with ``keep_alive=False``, on a new connection for every request)."""
    result = LoadResult()

    async def session(steps: Sequence[tuple[str, Any]]) -> None:
        conn = Connection(host, port, keep_alive)
        try:
            for path, payload in steps:
                t0 = time.perf_counter()
                try:
                    status, data = await conn.post_json(path, payload)
                    ok = check(status, data)
                    if not ok:
                        result.errors.append(f"HTTP {status}: {data[:200]!r}")
                except (OSError, ConnectionError, asyncio.IncompleteReadError, ValueError) as exc:
                    result.errors.append(repr(exc))
                    await conn.close()
                result.latencies_ms.append((time.perf_counter() - t0) * 1000)
        finally:
            await conn.close()

    t0 = time.perf_counter()
    await asyncio.gather(*[session(s) for s in sessions])
    result.elapsed_s = time.perf_counter() - t0
    return result
