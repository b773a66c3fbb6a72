"""Live pushes: ingest says "hall X changed", every open overview or hall view wakes, re-reads its own
scoped rows and sends them. A burst of batches costs one read per viewer per coalescing interval."""

from __future__ import annotations

import asyncio
import contextlib


class Hub:
    def __init__(self) -> None:
        self.version = 0
        self.hall_versions: dict[str, int] = {}
        self._event = asyncio.Event()

    def changed(self, hall_id: str) -> None:
        self.version += 1
        self.hall_versions[hall_id] = self.version
        event, self._event = self._event, asyncio.Event()
        event.set()

    async def wait(self, timeout: float) -> None:
        """Until the next change or `timeout` seconds (ages and offline marks move without changes)."""
        event = self._event
        with contextlib.suppress(asyncio.TimeoutError):
            await asyncio.wait_for(event.wait(), timeout)
