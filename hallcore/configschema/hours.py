"""The hall and its hours: sessions, seasons, dates of their own, the yearly calendars, closing. Part of the
hall configuration schema (`hallcore.config`, where `HallConfig` gathers the tables): one frozen dataclass
per TOML table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class Session:
    """One opening of a day, `open` to `close`: a day has one or more (a lunch break between two, an evening
    booking session after the day). A session takes walk-ins and bookings unless told otherwise; the 5+1
    Saturday takes bookings, and walk-ins for the matters on duty and 咨询 only when the hall says so."""

    open: dt.time
    close: dt.time
    walk_ins: bool = True
    bookings: bool = True
    # No new walk-in tickets this many minutes before `close`; None: the hall's cutoff_min.
    cutoff_min: int | None = None
    # Walk-ins only for these series (the matters on duty, 咨询); () = every series.
    walk_in_series: tuple[str, ...] = ()
    # Walk-ins wait behind everyone booked for the session (always so in a session without walk-ins, where
    # only the desk issues them): their effective time is the session's close.
    booked_first: bool = False


#: A weekday's sessions, in time order; no sessions: closed.
Sessions = tuple[Session, ...]


class AtClose(StrEnum):
    """What becomes of tickets still waiting when the last window of their series closes after hours."""

    EXPIRE = "expire"  # expired, with a message on the phone page
    CARRY = "carry"  # wait for the next session of the same day (expired after the last one)


@dataclass(frozen=True, slots=True)
class Season:
    """Seasonal hours (夏季/冬季作息): each year from `start` to `end` (month-day "05-01", inclusive; may run
    over the new year) the weekdays in `hours` keep these sessions instead of `hall.hours`."""

    name: str
    start: str
    end: str
    hours: dict[str, Sessions] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DateHours:
    """The hall's own hours on some dates — a 5+1 Saturday that takes walk-ins, an evening of 延时服务, a day
    closed for a move: the sessions replace the week's for those dates (no sessions: closed)."""

    dates: tuple[dt.date, ...]
    sessions: Sessions = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class CalendarYear:
    """One year's public holidays and 调休 working days, as the State Council's notice for that year gives
    them (published each autumn for the next year). A year listed here is *known*: a year not listed is not,
    and hallq says so rather than guess (hallcore/calendar.py)."""

    year: int
    holidays: tuple[dt.date, ...] = ()
    # 调休: weekend days that are working days by the notice.
    workdays: tuple[dt.date, ...] = ()
    source: str = ""  # the notice, or the file the year was loaded from


@dataclass(frozen=True, slots=True)
class Calendar:
    """The hall's yearly calendars: years written in the config, plus one CSV file a year in `dir` (beside the
    config file; `hallq admin calendar import`), a file replacing the same year of the config."""

    years: tuple[CalendarYear, ...] = ()
    dir: str = "calendar"
    # check-config and the dashboard warn when the known years do not cover this many days ahead.
    warn_days: int = 60


@dataclass(frozen=True, slots=True)
class Hall:
    id: str
    name: str
    name_en: str = ""
    timezone: str = "Asia/Shanghai"
    # Keys "mon".."sun", each the weekday's sessions; a missing weekday is closed.
    hours: dict[str, Sessions] = field(default_factory=dict)
    seasons: tuple[Season, ...] = ()
    dates: tuple[DateHours, ...] = ()
    # Holidays and 调休 working days, a year at a time (`hall.holidays`/`hall.extra_workdays` of older files
    # load into it, with a warning).
    calendar: Calendar = field(default_factory=Calendar)
    # No new walk-in tickets this many minutes before a session closes.
    cutoff_min: int = 30
    # 延时服务: a ticket waiting at closing is still served while a window of its series is open; when the
    # last one closes, this decides (`expire_at_close` of older files loads into it, with a warning).
    at_close: AtClose = AtClose.EXPIRE
    public_base_url: str = "http://127.0.0.1:8700"
    notice: str = ""  # scrolling notice on hall boards, and at the foot of the kiosk's home screen
    # The kiosk's further languages (`kiosk.languages`): {language: text}, e.g. {bo = "…"}; "en" may give the
    # notice in English. A language without a text reads in Chinese.
    names: dict[str, str] = field(default_factory=dict)
    notices: dict[str, str] = field(default_factory=dict)
