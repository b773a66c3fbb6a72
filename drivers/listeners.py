"""Callbacks a driver calls on its own thread: added and removed from any thread, called in order, and one
that raises is logged instead of stopping the driver (a screen's bug must not silence a device)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Generic, TypeVar

from drivers.protocols import Unsubscribe

log = logging.getLogger(__name__)

T = TypeVar("T")


class Listeners(Generic[T]):
    """`owner` names the driver in log lines; `describe` says what failed to be delivered (the default repr;
    drivers whose values are personal data pass something that shows none of it)."""

    def __init__(self, owner: str, describe: Callable[[T], str] = repr) -> None:
        self._owner = owner
        self._describe = describe
        self._lock = threading.Lock()
        self._items: list[Callable[[T], None]] = []

    def add(self, listener: Callable[[T], None]) -> Unsubscribe:
        with self._lock:
            self._items.append(listener)

        def remove() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._items.remove(listener)

        return remove

    def emit(self, value: T) -> None:
        with self._lock:
            items = list(self._items)
        for listener in items:
            try:
                listener(value)
            except Exception:
                log.exception("%s: listener failed on %s", self._owner, self._describe(value))
