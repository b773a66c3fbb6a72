"""What a window's LED strip shows, and which window strips a device agent drives.

One rule for the counter app (its own window's strip) and `hallq devices serve` (the strips of a shared bus):

- a closed window: the hall's `led.closed` ("本窗口暂停服务"), red. Not blank: a dark strip looks broken, and
  citizens queue at a window that looks as if it might open;
- a ticket called: the hall's `led.calling` ("请A012号到5号窗口"), red, the one that must catch the eye;
- a ticket being served: its number and matter ("A012 户口迁移"), green;
- paused: `led.paused` with the reason ("暂停服务 会议"), amber;
- open and free: `led.welcome` ("欢迎光临"), green.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from hallcore.config import HallConfig, Led, Station, StationRole

StripColor = Literal["red", "green", "amber"]


@dataclass(frozen=True, slots=True)
class StripText:
    text: str
    color: StripColor


def call_text(led: Led, label: str, window: int) -> str:
    """ "请A012号到5号窗口" from the hall's `led.calling` template (strips and hall boards alike)."""
    return led.calling.format(number=label, window=window)


def window_strip(
    led: Led,
    window: int,
    state: str,
    *,
    held: str = "",
    held_state: str = "",
    matter: str = "",
    pause_reason: str = "",
) -> StripText:
    """The strip of window `window` in `state` (closed / open / paused), holding ticket `held` (a label, "" if
    none) in `held_state` (called / serving), for `matter` (its name) or paused for `pause_reason`."""
    if state == "closed":
        return StripText(led.closed, "red")
    if held and held_state == "called":
        return StripText(call_text(led, held, window), "red")
    if held and held_state == "serving":
        return StripText(f"{held} {matter}".strip(), "green")
    if state == "paused":
        return StripText(led.paused.format(reason=pause_reason).strip(), "amber")
    return StripText(led.welcome, "green")


def agent_windows(config: HallConfig, agent: Station, *, all_windows: bool = False) -> dict[int, int]:
    """Window number -> LED address of the strips a device agent drives: the windows of its zone (all of them
    when it has none) with a `led_address`, less those whose counter or desk station drives its own strip
    (unless `all_windows`)."""
    own = {
        s.window
        for s in config.stations
        if s.role in (StationRole.COUNTER, StationRole.DESK) and s.led is not None and s.window is not None
    }
    return {
        w.number: w.led_address
        for w in config.windows
        if w.led_address is not None
        and (not agent.zone or w.zone == agent.zone)
        and (all_windows or w.number not in own)
    }
