"""Snapshots cached per seq and audience: `GET /api/snapshot` and the stream's catch-up share them.

A snapshot is built on the writer, between commands, so it is consistent with its seq. Nothing in it changes
until the next event (or a config reload, which bumps `generation`), so one built at seq S answers every
request made while the published seq is still at most S. Its `at` says when it was taken: an entry is used
for at most `max_age_s`, so `at` is never older than that. Staff and public (status-page) subscribers get
different bodies (the public one has no device health), so each audience has its own entry. Requests that
miss while a build for the same published seq is running wait for that build instead of queueing another.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

from hallcore.clock import Clock
from hallserver.stream.hub import Hub
from hallserver.stream.wire import text_frame
from hallserver.writectx import Reply


@dataclass(slots=True)
class Snapshot:
    seq: int
    text: str  # the `GET /api/snapshot` body
    generation: int
    built: float  # clock.monotonic() when built
    _frame: bytes = field(default=b"", repr=False)
    _body: bytes = field(default=b"", repr=False)

    @property
    def body(self) -> bytes:
        """`text` as the HTTP body, encoded once."""
        if not self._body:
            self._body = self.text.encode()
        return self._body

    @property
    def frame(self) -> bytes:
        """The stream message `{"kind":"snapshot","seq":S,"snapshot":{...}}`, framed once for everyone."""
        if not self._frame:
            self._frame = text_frame(f'{{"kind":"snapshot","seq":{self.seq},"snapshot":{self.text}}}')
        return self._frame


Build = Callable[[bool], Awaitable[Reply]]


class SnapshotCache:
    def __init__(self, hub: Hub, clock: Clock, build: Build, max_age_s: float = 1.0) -> None:
        self.hub = hub
        self.clock = clock
        self.build = build  # public -> the writer's reply (status 200, body with "seq")
        self.max_age_s = max_age_s
        self.generation = 0  # bumped when the config is reloaded (the seq does not move then)
        self.builds = 0
        self._latest: dict[bool, Snapshot] = {}
        self._running: dict[tuple[bool, int, int], asyncio.Future[Snapshot]] = {}

    def invalidate(self) -> None:
        self.generation += 1
        self._latest.clear()

    def cached(self, public: bool) -> Snapshot | None:
        """A snapshot at or after the published seq, if one is at hand (no waiting)."""
        snap = self._latest.get(public)
        if (
            snap is not None
            and snap.seq >= self.hub.last_seq
            and snap.generation == self.generation
            and self.clock.monotonic() - snap.built <= self.max_age_s
        ):
            return snap
        return None

    async def get(self, public: bool) -> Snapshot:
        """A snapshot with seq at or after the seq published when called."""
        snap = self.cached(public)
        if snap is not None:
            return snap
        key = (public, self.hub.last_seq, self.generation)
        running = self._running.get(key)
        if running is None:
            running = asyncio.ensure_future(self._build(public, self.generation))
            self._running[key] = running
            running.add_done_callback(lambda _f: self._running.pop(key, None))
        # Shielded: one caller going away must not cancel the build the others wait for.
        return await asyncio.shield(running)

    async def _build(self, public: bool, generation: int) -> Snapshot:
        reply = await self.build(public)
        if reply.status != 200:
            raise RuntimeError(f"snapshot failed with {reply.status}: {reply.text[:200]}")
        self.builds += 1
        snap = Snapshot(int(json.loads(reply.text)["seq"]), reply.text, generation, self.clock.monotonic())
        have = self._latest.get(public)
        if generation == self.generation and (have is None or have.seq <= snap.seq):
            self._latest[public] = snap
        return snap
