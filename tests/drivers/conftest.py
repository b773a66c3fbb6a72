"""Shared fixtures for driver tests: a raw pty pair, and a guard that fails a test leaving threads behind."""

from __future__ import annotations

import contextlib
import os
import threading
import time
import tty
from collections.abc import Iterator
from dataclasses import dataclass

import pytest


@dataclass(frozen=True, slots=True)
class PtyPair:
    """`device_fd` is the test's end (the device side); the code under test opens `path`."""

    device_fd: int
    path: str


@pytest.fixture
def pty_pair() -> Iterator[PtyPair]:
    """A pty with both ends raw: the line discipline would otherwise eat `0D 11 13` and echo bytes back."""
    device, app = os.openpty()
    tty.setraw(device)
    tty.setraw(app)
    try:
        yield PtyPair(device, os.ttyname(app))
    finally:
        for fd in (device, app):
            with contextlib.suppress(OSError):  # the test closed it already (an unplug)
                os.close(fd)


@pytest.fixture(autouse=True)
def no_leaked_threads() -> Iterator[None]:
    """Fail a test that leaves a thread running (emulators and drivers must stop what they start)."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5
    while True:
        leaked = [t for t in threading.enumerate() if t not in before and t.is_alive()]
        if not leaked or time.monotonic() > deadline:
            break
        time.sleep(0.01)  # a stopping thread may need a moment after its join() timed out elsewhere
    assert not leaked, f"threads left running: {leaked}"
