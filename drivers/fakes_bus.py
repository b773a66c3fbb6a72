"""Fakes of the bus, scanner, voice and ID card roles with the real Protocols, for app tests and the demo.

They record what an app asked for and let a test play the citizen or the clerk (press a key, rate, scan).
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Generic, TypeVar

from drivers.base import OK, DeviceState, DeviceUnavailable, Health
from drivers.codecs.hqp import Color, Effect
from drivers.codecs.idcard import IdCard, SamResult, UnsupportedCard, reply
from drivers.idcard_events import CardEvent, CardFailed, CardRead, CardUnsupported
from drivers.keys import KeyCode, KeyEvent
from drivers.protocols import Unsubscribe
from drivers.voice import wav_duration
from hallcore.clock import FakeClock

T = TypeVar("T")

_UNPLUGGED = DeviceState(Health.UNAVAILABLE, "fake device unplugged")


class _Unpluggable:
    def __init__(self) -> None:
        self.available = True

    def unplug(self) -> None:
        self.available = False

    def plug(self) -> None:
        self.available = True

    def state(self) -> DeviceState:
        return OK if self.available else _UNPLUGGED

    def _check(self) -> None:
        if not self.available:
            raise DeviceUnavailable("fake device unplugged")


class _Subscribable(_Unpluggable, Generic[T]):
    """A fake that reports to listeners (keys, scans, cards), on the thread of the test that plays the person.
    Unlike the real drivers' `drivers.listeners.Listeners`, a listener that raises fails the test at once."""

    def __init__(self) -> None:
        super().__init__()
        self._listeners: list[Callable[[T], None]] = []

    def subscribe(self, listener: Callable[[T], None]) -> Unsubscribe:
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    def _emit(self, value: T) -> None:
        for listener in list(self._listeners):
            listener(value)


class FakeLedBoard(_Unpluggable):
    def __init__(self) -> None:
        super().__init__()
        self.areas: dict[int, str] = {}
        self.level = 15
        self.history: list[tuple[int, str]] = []
        self.styles: dict[int, tuple[int, int, int, int]] = {}  # area -> (color, effect, speed, hold_s)

    def show(
        self,
        text: str,
        *,
        area: int = 0,
        color: int = Color.RED,
        effect: int = Effect.STATIC,
        speed: int = 5,
        hold_s: int = 0,
    ) -> None:
        self._check()
        self.areas[area] = text
        self.styles[area] = (color, effect, speed, hold_s)
        self.history.append((area, text))

    def clear(self, area: int = 0) -> None:
        self._check()
        self.areas.pop(area, None)

    def brightness(self, level: int) -> None:
        self._check()
        if not 0 <= level <= 15:
            raise ValueError(f"brightness must be 0..15, got {level}")
        self.level = level

    def ping(self) -> bool:
        return self.available

    def text(self, area: int = 0) -> str:
        return self.areas.get(area, "")


class FakeCallKeypad(_Subscribable[KeyEvent]):
    def __init__(self) -> None:
        super().__init__()
        self.ticket = ""
        self.waiting = 0
        self.beeps = 0

    def press(self, code: int = KeyCode.NEXT, digits: str = "") -> None:
        """The clerk presses a key; listeners are called on the caller's thread."""
        self._emit(KeyEvent(code, digits))

    def show(self, ticket: str, waiting: int) -> None:
        self._check()
        self.ticket, self.waiting = ticket, waiting

    def beep(self) -> None:
        self._check()
        self.beeps += 1


class FakeRatingPad(_Unpluggable):
    """`request` answers from `answers`, else waits until a test calls `rate`/`time_out` on another thread."""

    def __init__(self, answers: list[int | None] | None = None) -> None:
        super().__init__()
        self.answers = list(answers or [])
        self.requests: list[tuple[str, float]] = []
        self._cond = threading.Condition()
        self._result: tuple[str, int | None] | None = None
        self.pending: str | None = None

    def request(self, ticket: str, timeout_s: float) -> int | None:
        self._check()
        self.requests.append((ticket, timeout_s))
        if self.answers:
            return self.answers.pop(0)
        with self._cond:
            self.pending, self._result = ticket, None
            self._cond.notify_all()
            self._cond.wait_for(lambda: self._result is not None, timeout=timeout_s)
            result, self._result, self.pending = self._result, None, None
        return result[1] if result is not None else None

    def wait_pending(self, timeout: float = 10.0) -> str | None:
        with self._cond:
            self._cond.wait_for(lambda: self.pending is not None, timeout=timeout)
            return self.pending

    def rate(self, score: int | None) -> None:
        with self._cond:
            if self.pending is None:
                raise RuntimeError("no rating request is pending")
            self._result = (self.pending, score)
            self._cond.notify_all()

    def time_out(self) -> None:
        self.rate(None)


class FakeScanner(_Subscribable[str]):
    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    def scan(self, code: str) -> None:
        if self.available:
            self._emit(code)

    def close(self) -> None:
        self.closed = True


class FakeIdCardReader(_Subscribable[CardEvent]):
    """An `IdCardReader` a test plays the citizen on: `place` a card (a record, or another card kind), or a
    card that cannot be read (`place_unreadable`). Like the real reader it reports nothing while unplugged."""

    def __init__(self) -> None:
        super().__init__()
        self.closed = False

    def place(self, card: IdCard | UnsupportedCard) -> None:
        self._place(CardRead(card) if isinstance(card, IdCard) else CardUnsupported(card))

    def place_unreadable(self, result: SamResult = SamResult.READ_FAILED) -> None:
        self._place(CardFailed(reply(result).describe(), result))

    def close(self) -> None:
        self.closed = True

    def _place(self, event: CardEvent) -> None:
        if self.available and not self.closed:
            self._emit(event)


class FakeScheduler:
    """`call_later` on a `FakeClock`: nothing runs until `advance` moves the clock past a callback's time."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self._heap: list[tuple[float, int, Callable[[], None]]] = []
        self._order = itertools.count()

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> None:
        heapq.heappush(self._heap, (self.clock.monotonic() + max(0.0, delay_s), next(self._order), callback))

    def advance(self, seconds: float) -> None:
        """Move time forward, running each callback at its own time (callbacks may schedule more)."""
        end = self.clock.monotonic() + seconds
        while self._heap and self._heap[0][0] <= end:
            due, _, callback = heapq.heappop(self._heap)
            self.clock.advance(max(0.0, due - self.clock.monotonic()))
            callback()
        self.clock.advance(max(0.0, end - self.clock.monotonic()))

    def run_all(self, limit_s: float = 3600.0) -> None:
        while self._heap:
            step = self._heap[0][0] - self.clock.monotonic()
            if step > limit_s:
                raise RuntimeError("FakeScheduler.run_all: next callback is too far ahead; a runaway timer?")
            self.advance(max(0.0, step))


class FakeVoicePlayer:
    """Finishes each WAV after its real duration on the scheduler's clock; records start and end times."""

    def __init__(self, scheduler: FakeScheduler) -> None:
        self._scheduler = scheduler
        self.played: list[tuple[Path, float, float]] = []  # (wav, start, end)
        self.playing: Path | None = None

    def play(self, wav: Path, on_done: Callable[[], None]) -> None:
        if self.playing is not None:
            raise AssertionError(f"{wav} started while {self.playing} was still playing: a call was cut off")
        start = self._scheduler.clock.monotonic()
        duration = wav_duration(wav)
        self.playing = wav

        def finish() -> None:
            self.playing = None
            self.played.append((wav, start, self._scheduler.clock.monotonic()))
            on_done()

        self._scheduler.call_later(duration, finish)
