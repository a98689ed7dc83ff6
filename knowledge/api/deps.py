"""Shared state of the running service: the index currently served.

A rebuild (``python -m knowledge index`` in another process, or a replica's own
start-up) writes a new artefact and swaps the ``current`` pointer; this holder notices
the new pointer (checked at most every ``RELOAD_CHECK_SECONDS``) and loads it beside the
old one, so requests are served throughout.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import Annotated, Optional

from fastapi import Depends, Request

from knowledge.index import IndexStore
from knowledge.service import LoadedIndex, ensure_index
from knowledge.settings import Settings

log = logging.getLogger(__name__)
RELOAD_CHECK_SECONDS = 2.0


class IndexHolder:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._store = IndexStore(settings.index_dir)
        self._loaded: Optional[LoadedIndex] = None
        self._checked = 0.0
        self._lock = threading.Lock()

    def start(self) -> None:
        self._loaded = ensure_index(self.settings)

    @classmethod
    def serving(cls, settings: Settings, loaded: LoadedIndex) -> IndexHolder:
        """A holder already serving ``loaded`` (tests, embedding the app in-process)."""
        holder = cls(settings)
        holder._loaded = loaded
        holder._checked = time.monotonic()
        return holder

    @property
    def loaded(self) -> LoadedIndex:
        now = time.monotonic()
        if now - self._checked > RELOAD_CHECK_SECONDS:
            self._checked = now
            self._maybe_reload()
        assert self._loaded is not None, "IndexHolder.start() not called"
        return self._loaded

    def _maybe_reload(self) -> None:
        current = self._store.current_version()
        if current is None or self._loaded is None or current.name == self._loaded.meta.get("version"):
            return
        if not self._lock.acquire(blocking=False):
            return  # another request is already loading it
        try:
            from knowledge.catalogue.loader import load_knowledge_base

            index, meta = self._store.load(self.settings, current)
            self._loaded = LoadedIndex(load_knowledge_base(self.settings.data_dir), index, meta)
            log.info("now serving index %s", current.name)
        except Exception:  # keep serving the old index; the cause goes to the log
            log.exception("could not load index %s", current.name)
        finally:
            self._lock.release()


def get_holder(request: Request) -> IndexHolder:
    holder: IndexHolder = request.app.state.holder
    return holder


def get_loaded(holder: Annotated[IndexHolder, Depends(get_holder)]) -> LoadedIndex:
    return holder.loaded


def get_app_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


LoadedDep = Annotated[LoadedIndex, Depends(get_loaded)]
SettingsDep = Annotated[Settings, Depends(get_app_settings)]
