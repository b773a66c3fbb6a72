"""The replies about the hall as a whole: its configuration for screens, the live snapshot, devices, health
(public, no personal data)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hallcore.config import (
    Department,
    Hall,
    Kiosk,
    Led,
    Matter,
    PriorityClass,
    RatingPolicy,
    Series,
    Voice,
    Window,
    Zone,
)
from hallcore.estimates import WaitEstimate
from hallcore.events import TicketChanged, WindowView


@dataclass(frozen=True, slots=True)
class HallView:
    """The hall configuration screens need (`GET /api/hall`)."""

    hall: Hall
    departments: tuple[Department, ...]
    series: tuple[Series, ...]
    matters: tuple[Matter, ...]
    windows: tuple[Window, ...]
    zones: tuple[Zone, ...]
    priority_classes: tuple[PriorityClass, ...]
    pause_reasons: tuple[str, ...]
    led: Led
    voice: Voice
    kiosk: Kiosk
    rating: RatingPolicy


@dataclass(frozen=True, slots=True)
class Remaining:
    """Numbers left today per matter, for the matters whose own or series' daily cap applies."""

    remaining: dict[str, int]


@dataclass(frozen=True, slots=True)
class DeviceInfo:
    station: str
    device: str
    health: str  # ok | degraded | unavailable
    reason: str = ""


@dataclass(frozen=True, slots=True)
class HallSnapshot:
    """The whole live picture after event `seq`: what a screen shows after a (re)start or when far behind.
    `recent_calls` are call events, oldest first; `devices` is empty for public (status-page) subscribers."""

    seq: int
    at: dt.datetime
    windows: tuple[WindowView, ...]
    waiting: dict[str, int]
    recent_calls: tuple[TicketChanged, ...]
    devices: tuple[DeviceInfo, ...] = ()
    #: Per series, the wait the next ticket would be told if taken at `at` (the engine's estimate for the
    #: people waiting now): the kiosk's home tiles show it. Empty from a server before issue 29's step 5.
    estimates: dict[str, WaitEstimate] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DeviceHealthReply:
    changed: bool  # only a change is stored and becomes a `device_health` event


@dataclass(frozen=True, slots=True)
class Health:
    """Liveness (public, no personal data); 503 with `ok` false when the database cannot be read."""

    ok: bool
    hall: str
    seq: int
    db: str
    durability: str
    uptime_s: float
    subscribers: int
    loop_lag_max_ms: float  # the event loop's worst lag in the last 10 s
    loop_busy_max_ms: float | None = None  # its longest loop turn in CPU time (None: not measured)


@dataclass(frozen=True, slots=True)
class Reloaded:
    reloaded: bool
    hall: str
    windows: int
    matters: int
