"""Waiting in driver tests: on a condition (a hang guard, not a delay) or for what a keypad reports."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable

from drivers.protocols import CallKeypad, KeyEvent


def wait_until(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    """Return as soon as `condition()` holds; fail the test if it does not within `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        time.sleep(0.002)


def heard(keypad: CallKeypad) -> queue.Queue[KeyEvent]:
    """The key events `keypad` reports from now on, in order (`get(timeout=...)` them)."""
    events: queue.Queue[KeyEvent] = queue.Queue()
    keypad.subscribe(events.put)
    return events
