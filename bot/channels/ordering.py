"""Shared by the platform channels (standard library only).

``SenderLocks``: one asyncio.Lock per sender, so a user's messages are handled one at a
time and in order (tasks take the lock in creation order; asyncio.Lock wakes waiters
first-in first-out), while different users run concurrently. A lock is dropped when
nobody holds or waits for it.

``RecentIds``: a bounded memory of message ids, because platforms redeliver webhooks.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from contextlib import asynccontextmanager
from typing import AsyncIterator, Dict, List


class SenderLocks:
    def __init__(self) -> None:
        self._locks: Dict[str, List[object]] = {}  # sender -> [lock, holders and waiters]

    @asynccontextmanager
    async def hold(self, sender: str) -> AsyncIterator[None]:
        entry = self._locks.setdefault(sender, [asyncio.Lock(), 0])
        entry[1] = int(entry[1]) + 1  # type: ignore[call-overload]
        try:
            async with entry[0]:  # type: ignore[attr-defined]
                yield
        finally:
            entry[1] = int(entry[1]) - 1  # type: ignore[call-overload]
            if entry[1] == 0:
                self._locks.pop(sender, None)

    def __len__(self) -> int:
        return len(self._locks)


class RecentIds:
    def __init__(self, size: int) -> None:
        self._size = size
        self._seen: OrderedDict[str, None] = OrderedDict()

    def first_time(self, key: str) -> bool:
        """True the first time a key is seen (and remembers it), False for a repeat."""
        if key in self._seen:
            self._seen.move_to_end(key)
            return False
        self._seen[key] = None
        while len(self._seen) > self._size:
            self._seen.popitem(last=False)
        return True
