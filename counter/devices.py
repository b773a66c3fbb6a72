"""The glue between the counter app and its window's devices: LED strip, call keypad, rating pad.

The devices are built from the station's config by `drivers.factory`; each one may be absent. The glue
(`WindowDevices`) keeps every blocking driver call off the event loop: displays are pushed by one worker
thread, latest text wins and an unchanged text is not sent again; the rating pad waits on its own thread;
key presses from the bus thread are handed to the loop with `call_soon_threadsafe`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from drivers.protocols import (
    CallKeypad,
    Color,
    DeviceState,
    DeviceUnavailable,
    DriverError,
    Health,
    KeyEvent,
    LedBoard,
    RatingPad,
)
from hallcore.windowstrip import StripText

log = logging.getLogger(__name__)


class _Latest:
    """Send the newest wanted value on a worker thread; skip a value already shown; never queue a backlog."""

    def __init__(self, name: str, send: Callable[[Any], None], executor: ThreadPoolExecutor) -> None:
        self.name = name
        self._send = send
        self._executor = executor
        self._wanted: Any = None
        self._shown: Any = None
        self._task: asyncio.Task[None] | None = None
        self.failed = ""
        self.sent = 0

    def want(self, value: Any) -> None:
        self._wanted = value
        if value != self._shown and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._run())

    def retry(self) -> None:
        """Send again what is wanted after a failure (called when the device may be back)."""
        if self.failed and self._wanted is not None:
            self._shown = None
            self.want(self._wanted)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        while self._wanted is not None and self._wanted != self._shown:
            value = self._wanted
            try:
                await loop.run_in_executor(self._executor, self._send, value)
            except (DriverError, OSError) as e:
                if not self.failed:
                    log.warning("%s: cannot show %r: %s", self.name, value, e)
                self.failed = str(e)
                return
            if self.failed:
                log.info("%s works again", self.name)
            self.failed = ""
            self._shown = value
            self.sent += 1

    async def drain(self) -> None:
        if self._task is not None:
            with contextlib.suppress(Exception):
                await self._task


class WindowDevices:
    """Glue between the counter and its window devices; any of them may be None (absent)."""

    def __init__(
        self,
        led: LedBoard | None = None,
        keypad: CallKeypad | None = None,
        rating_pad: RatingPad | None = None,
    ) -> None:
        self.led = led
        self.keypad = keypad
        self.rating_pad = rating_pad
        self._display = ThreadPoolExecutor(1, thread_name_prefix="counter-display")
        self._rating = ThreadPoolExecutor(1, thread_name_prefix="counter-rating")
        self._led = _Latest("window LED strip", self._show_led, self._display)
        self._kp = _Latest("call keypad display", self._show_keypad, self._display)
        self._unsubscribe: Callable[[], None] | None = None

    # displays

    def _show_led(self, strip: StripText) -> None:
        assert self.led is not None
        self.led.show(strip.text, color=Color[strip.color.upper()])

    def _show_keypad(self, value: tuple[str, int]) -> None:
        assert self.keypad is not None
        self.keypad.show(*value)

    def show(self, strip: StripText, keypad: tuple[str, int]) -> None:
        """Ask for these to be shown (on the loop; returns at once)."""
        if self.led is not None:
            self._led.want(strip)
        if self.keypad is not None:
            self._kp.want(keypad)

    def retry_failed(self) -> None:
        self._led.retry()
        self._kp.retry()

    async def drain(self) -> None:
        await self._led.drain()
        await self._kp.drain()

    # keys

    def subscribe_keys(self, loop: asyncio.AbstractEventLoop, on_key: Callable[[KeyEvent], None]) -> None:
        """`on_key` runs on `loop` for each key press (the bus calls us on its own thread)."""
        if self.keypad is None:
            return

        def from_bus(event: KeyEvent) -> None:
            with contextlib.suppress(RuntimeError):  # the loop closed while the bus delivered a key
                loop.call_soon_threadsafe(on_key, event)

        self._unsubscribe = self.keypad.subscribe(from_bus)

    # rating

    async def request_rating(self, ticket: str, timeout_s: float) -> int | None:
        """The citizen's score 1..5 or None (nobody pressed in time). Raises `DeviceUnavailable`."""
        pad = self.rating_pad
        if pad is None:
            raise DeviceUnavailable("no rating pad")
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._rating, pad.request, ticket, timeout_s)

    # health

    def states(self) -> dict[str, DeviceState]:
        out: dict[str, DeviceState] = {}
        for name, dev, pusher in (
            ("led", self.led, self._led),
            ("keypad", self.keypad, self._kp),
            ("rating_pad", self.rating_pad, None),
        ):
            if dev is None:
                continue
            try:
                state = dev.state()
            except Exception as e:  # a driver's state() must not take the app down
                state = DeviceState(Health.UNAVAILABLE, str(e))
            if state.ok and pusher is not None and pusher.failed:
                state = DeviceState(Health.UNAVAILABLE, pusher.failed)
            out[name] = state
        return out

    def close(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
        self._display.shutdown(wait=True, cancel_futures=True)
        self._rating.shutdown(wait=True, cancel_futures=True)
