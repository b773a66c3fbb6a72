"""LED boards kept in sync with what they should show: the hall board's rows and the texts of window strips.

`LedSync` owns one `LedBoard` (an HQP/1 strip or hall board, or a fake) and makes it show a wanted set of
areas. Writes run on an executor (a bus driver blocks until the device answered), coalesced: while one write
is on the wire, newer wishes replace older ones, so a burst of calls costs one frame per area, not one per
call. A board that fails is retried with backoff until it answers again; the failure is logged once and the
recovery once (the bus driver itself also re-sends what a strip showed when its port comes back).

Hall board layout (`hall_board_areas`): areas 1..`led.hall_rows` hold the last calls, newest first, each as
`led.calling` ("请A012号到5号窗口"); area `hall_rows + 1` holds the welcome line. Area 0 is "the whole board"
in HQP/1, so it is never used for a row.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass

from drivers.protocols import OK, Color, DeviceState, DriverError, Effect, Health, LedBoard
from hallcore.config import BrightnessStep, Led
from hallcore.windowstrip import StripText, call_text

log = logging.getLogger(__name__)

#: What the hall board says instead of rows when the display has lost the server (never stale rows as live).
STALE_LINE = "叫号信息暂停更新 请听从工作人员指引"


@dataclass(frozen=True, slots=True)
class Area:
    """What one area of a board shows; "" clears it."""

    text: str
    color: int = Color.RED
    effect: int = Effect.STATIC

    @classmethod
    def of(cls, strip: StripText) -> Area:
        """A window strip's text (`hallcore.windowstrip`) in its colour."""
        return cls(strip.text, Color[strip.color.upper()])


def hall_board_areas(led: Led, calls: Sequence[tuple[str, int]], *, stale: bool = False) -> dict[int, Area]:
    """The hall board's areas for the calls (label, window), newest first."""
    rows = max(0, led.hall_rows)
    areas: dict[int, Area] = {}
    for i in range(rows):
        if stale or i >= len(calls):
            areas[i + 1] = Area("")
        else:
            label, window = calls[i]
            # The newest call stands out, like the big number on the screen.
            areas[i + 1] = Area(call_text(led, label, window), Color.RED if i == 0 else Color.GREEN)
    welcome = STALE_LINE if stale else led.welcome
    areas[rows + 1] = Area(welcome, Color.AMBER, Effect.SCROLL_LEFT if stale else Effect.STATIC)
    return areas


def brightness_at(steps: Sequence[BrightnessStep], when: dt.time) -> int | None:
    """The level of the last step at or before `when`; before the first step of the day, the day's last step
    still holds (the evening level lasts through the night). None when the hall sets no steps."""
    if not steps:
        return None
    ordered = sorted(steps, key=lambda s: s.at)
    level = ordered[-1].level
    for step in ordered:
        if step.at <= when:
            level = step.level
    return level


Sleep = Callable[[float], Awaitable[None]]


class LedSync:
    """Keep `board` showing the wanted areas (and brightness). Call `want` from the event loop's thread."""

    def __init__(
        self,
        board: LedBoard,
        *,
        executor: Executor,
        name: str,
        retry_s: float = 1.0,
        retry_max_s: float = 15.0,
        sleep: Sleep = asyncio.sleep,
        on_written: Callable[[Mapping[int, Area]], None] | None = None,
        on_state: Callable[[DeviceState], None] | None = None,
    ) -> None:
        self.board = board
        self.name = name
        self._executor = executor
        self._retry_s = retry_s
        self._retry_max_s = retry_max_s
        self._sleep = sleep
        self._on_written = on_written
        self._on_state = on_state
        self._wanted: dict[int, Area] = {}
        self._shown: dict[int, Area] = {}
        self._wanted_level: int | None = None
        self._shown_level: int | None = None
        self._task: asyncio.Task[None] | None = None
        self.state: DeviceState = OK
        self.frames = 0

    @property
    def shown(self) -> dict[int, Area]:
        """What the board was last told and acknowledged, per area."""
        return dict(self._shown)

    @property
    def in_sync(self) -> bool:
        return not self._diff() and self._wanted_level == self._shown_level

    def want(self, areas: Mapping[int, Area], *, brightness: int | None = None) -> None:
        self._wanted.update(areas)
        if brightness is not None:
            self._wanted_level = brightness
        if not self.in_sync and (self._task is None or self._task.done()):
            self._task = asyncio.get_running_loop().create_task(self._flush(), name=f"led {self.name}")

    async def idle(self) -> None:
        """Wait until nothing is being written (tests and benchmarks)."""
        while self._task is not None and not self._task.done():
            await asyncio.shield(self._task)

    async def aclose(self) -> None:
        task, self._task = self._task, None
        if task is not None and not task.done():
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def _diff(self) -> list[tuple[int, Area]]:
        return [(a, w) for a, w in sorted(self._wanted.items()) if self._shown.get(a) != w]

    async def _flush(self) -> None:
        loop = asyncio.get_running_loop()
        delay = self._retry_s
        while not self.in_sync:
            try:
                if self._wanted_level is not None and self._wanted_level != self._shown_level:
                    level = self._wanted_level
                    await loop.run_in_executor(self._executor, self.board.brightness, level)
                    self._shown_level = level
                for area, wanted in self._diff():
                    await loop.run_in_executor(self._executor, self._write, area, wanted)
                    self._shown[area] = wanted
                    self.frames += 1
            except DriverError as e:
                self._set_state(DeviceState(Health.UNAVAILABLE, str(e)))
                await self._sleep(delay)
                delay = min(delay * 2, self._retry_max_s)
                continue
            delay = self._retry_s
            self._set_state(OK)
            if self._on_written is not None:
                self._on_written(self.shown)

    def _write(self, area: int, wanted: Area) -> None:
        if wanted.text:
            self.board.show(wanted.text, area=area, color=wanted.color, effect=wanted.effect)
        else:
            self.board.clear(area)

    def _set_state(self, state: DeviceState) -> None:
        if state == self.state:
            return
        if state.ok:
            log.info("%s answers again", self.name)
        elif self.state.ok:
            log.warning("%s unavailable (%s); retrying", self.name, state.reason)
        self.state = state
        if self._on_state is not None:
            self._on_state(state)
