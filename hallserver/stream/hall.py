"""What the stream path needs of the running hall (hallserver/service.py `HallServer`, which owns the hub and
the snapshot cache): a protocol, so that the stream path sits below the service that uses it."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable
from typing import Protocol, TypeVar

from hallcore.config import HallConfig
from hallserver.stream.hub import Hub
from hallserver.stream.snapshots import SnapshotCache

T = TypeVar("T")


class _Settings(Protocol):
    @property
    def queue_limit(self) -> int: ...


class _Reader(Protocol):
    async def read(self, fn: Callable[[sqlite3.Connection], T]) -> T: ...


class Hall(Protocol):
    @property
    def hub(self) -> Hub: ...

    @property
    def snapshots(self) -> SnapshotCache: ...

    @property
    def config(self) -> HallConfig: ...

    @property
    def settings(self) -> _Settings: ...

    @property
    def store(self) -> _Reader: ...
