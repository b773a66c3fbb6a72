"""The windows and the rules of calling: the staffing plan, priority classes, transfers, no-shows. Part of the
hall configuration schema (`hallcore.config`, where `HallConfig` gathers the tables): one frozen dataclass
per TOML table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Closure:
    """A planned closure of a window (the staffing plan): its lunch turn or a scheduled break, `start` to
    `end` on each open day. The wait estimate counts on it; the day itself may run late or early."""

    start: dt.time
    end: dt.time
    reason: str = "午休"


@dataclass(frozen=True, slots=True)
class Window:
    number: int
    name: str
    department: str
    series: tuple[str, ...]  # served in this order (a 综合窗口 serves several)
    led_address: int | None = None
    partner: int | None = None  # A/B岗: the window that may take over this one's series
    zone: str = ""
    # A 综合窗口 merges its series by the order key; with this set it calls them in the order listed, except
    # that nobody is passed by a ticket that came more than the longest head start after them (DESIGN.md §4).
    strict_series_order: bool = False
    # The staffing plan (roster and break plan): whether a clerk is rostered here on an open day, and the
    # window's planned closures (lunch rotation, scheduled breaks). Read by the wait estimate and `hallq sim`.
    staffed: bool = True
    closures: tuple[Closure, ...] = ()


@dataclass(frozen=True, slots=True)
class PriorityClass:
    """A priority class (绿色通道): its tickets are ordered by effective time − `head_start_min`, so they go
    ahead of the tickets that came up to that many minutes before them, and no further (nobody starves)."""

    id: str  # "appointment", "elderly", "disabled", "military", "key_project"
    name: str
    name_en: str = ""
    head_start_min: int = 20
    # Called next, ahead of every key, at most `priority.absolute_in_row` times in a row at a window while
    # others wait; still never ahead of someone who came more than the longest head start before.
    absolute: bool = False
    kiosk_selectable: bool = True  # shown at the kiosk with "staff will check"


@dataclass(frozen=True, slots=True)
class PriorityPolicy:
    """How absolute classes take turns with everyone else."""

    absolute_in_row: int = 3


class ClosedWindowTransfer(StrEnum):
    """What a 转办 to a window that is closed (and not covered by its A/B partner) does."""

    REFUSE = "refuse"  # refused, with the open windows that serve its series
    SERIES = "series"  # goes to the window's series instead, keeping its time


@dataclass(frozen=True, slots=True)
class TransferPolicy:
    to_closed_window: ClosedWindowTransfer = ClosedWindowTransfer.REFUSE


@dataclass(frozen=True, slots=True)
class NoShowPolicy:
    max_recalls: int = 2  # recalls before the clerk may mark no-show
    min_recall_gap_s: int = 30  # between a call and a recall, two recalls, or the last one and 过号
    max_requeues: int = 2  # a no-show may come back this often; then it takes a new ticket
