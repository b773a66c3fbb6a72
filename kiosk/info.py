"""What the kiosk's screens need besides the flow (`kiosk.flow`): the hall's names and notice from the config,
and live figures the controller keeps current (numbers left, people waiting and the wait per series, the
hall's local time for the header)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from hallcore.config import Department, HallConfig, Matter

#: No timed choice shorter than this in elder mode (适老化 rules, DOMAIN.md).
ELDER_MIN_CHOICE_S = 30.0


@dataclass(frozen=True, slots=True)
class FlowSettings:
    idle_reset_s: float = 60.0
    elder_idle_reset_s: float = 180.0
    offline_delay_s: float = 5.0  # the server must be gone this long before the kiosk says so


@dataclass(slots=True)
class ViewInfo:
    """What the screens need besides the flow: names from the config and live figures (the controller
    keeps them current)."""

    hall_name: str = ""
    hall_name_en: str = ""
    hall_names: dict[str, str] = field(default_factory=dict)  # further languages
    notice: str = ""  # at the foot of the home screen
    notices: dict[str, str] = field(default_factory=dict)  # "en" and further languages
    departments: tuple[Department, ...] = ()
    home_matters: tuple[Matter, ...] = ()  # the home screen's tiles, most used first
    series_names: dict[str, tuple[str, str]] = field(default_factory=dict)  # prefix → (zh, en)
    waiting: dict[str, int] = field(default_factory=dict)  # series prefix → people waiting (live)
    # series prefix → (low, high) minutes a ticket taken now would wait; absent: no estimate yet.
    estimates: dict[str, tuple[int, int]] = field(default_factory=dict)
    local_now: dt.datetime | None = None  # the hall's local time, for the header
    remaining: dict[str, int | None] = field(default_factory=dict)  # matter code → numbers left today
    closed: dict[str, str] = field(default_factory=dict)  # matter code → next opening ("" if unknown)
    enroll_code: str = ""
    enroll_fingerprint: str = ""  # the pinned hall CA's short fingerprint, shown beside the code
    station_name: str = ""
    printer_reason: str = ""  # as the driver says it: "缺纸 paper out"
    sends_notices: bool = False  # the hall sends "快到您了" notices: the ticket screen offers them


@dataclass(frozen=True, slots=True)
class Message:
    """A refusal to show: a catalogue key for the headline, the hall's own words, and the next opening."""

    key: str
    text: str = ""
    next_opening: str = ""  # "2026-11-24 08:30", already in the hall's time zone
    offer_walk_in: bool = False  # booking fallbacks: a normal number is still possible


def view_info(config: HallConfig) -> ViewInfo:
    """The names the screens show, from the config; the live figures start empty."""
    by_code = config.matter_by_code
    tiles = [by_code[c] for c in config.kiosk.home_matters if c in by_code] or list(config.matters[:6])
    return ViewInfo(
        hall_name=config.hall.name,
        hall_name_en=config.hall.name_en,
        hall_names=dict(config.hall.names),
        notice=config.hall.notice,
        notices=dict(config.hall.notices),
        departments=config.departments,
        home_matters=tuple(tiles),
        series_names={s.prefix: (s.name, s.name_en) for s in config.series},
        sends_notices=config.notify.enabled,
    )
