"""The checks of a hall's days: weekly sessions, seasons, the hall's own dates and the yearly calendar
(hallcore/calendar.py answers from them). Run by hallcore/configcheck.py on what converted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence

from hallcore.calendar import month_day
from hallcore.calendarfile import year_problems
from hallcore.config import Hall, Sessions
from hallcore.configrules import at_least, between, nonempty, once
from hallcore.configwalk import Walker, did_you_mean, one_of

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def check_days(w: Walker, hall: Hall, series: Sequence[str]) -> None:
    """Record an issue for every problem of the hall's hours, seasons, dates and calendar."""
    if not hall.hours:
        w.issue("hall.hours", hall.hours, "opening hours for at least one weekday, e.g. [hall.hours.mon]")
    _check_week(w, "hall.hours", hall.hours, series)
    for i, season in enumerate(hall.seasons):
        key = f"hall.seasons[{i}]"
        nonempty(w, f"{key}.name", season.name, "the season's name, e.g. '夏季作息'")
        for name in ("start", "end"):
            value = getattr(season, name)
            if month_day(value) is None:
                w.issue(f"{key}.{name}", value, 'a month and day like "05-01" (every year)')
        if not season.hours:
            w.issue(f"{key}.hours", season.hours, "the sessions of at least one weekday")
        _check_week(w, f"{key}.hours", season.hours, series)
    seen: dict[dt.date, str] = {}
    for i, entry in enumerate(hall.dates):
        key = f"hall.dates[{i}]"
        if not entry.dates:
            w.issue(f"{key}.dates", entry.dates, "at least one date")
        for j, day in enumerate(entry.dates):
            once(w, f"{key}.dates[{j}]", day, seen, key, "a date given once")
        _check_sessions(w, f"{key}.sessions", entry.sessions, series)
    _check_calendar(w, hall)


def _check_week(w: Walker, key: str, week: Mapping[str, Sessions], series: Sequence[str]) -> None:
    for day, sessions in week.items():
        if day not in WEEKDAYS:
            w.issue(f"{key}.{day}", day, one_of("weekdays", WEEKDAYS), did_you_mean(day, WEEKDAYS))
        _check_sessions(w, f"{key}.{day}", sessions, series)


def _check_sessions(w: Walker, key: str, sessions: Sessions, series: Sequence[str]) -> None:
    for i, x in enumerate(sessions):
        at = f"{key}[{i}]"
        if x.open >= x.close:
            w.issue(f"{at}.close", x.close, f"a time after open ({x.open:%H:%M})")
        elif i and x.open < sessions[i - 1].close:
            w.issue(
                f"{at}.open",
                x.open,
                f"a time at or after the session before closes ({sessions[i - 1].close:%H:%M})",
            )
        if x.cutoff_min is not None:
            at_least(w, f"{at}.cutoff_min", x.cutoff_min, 0, " minutes")
        if not x.walk_ins and not x.bookings:
            w.issue(
                f"{at}.bookings", x.bookings, "walk-ins or bookings in a session (or leave the session out)"
            )
        if x.walk_in_series and not x.walk_ins:
            w.issue(
                f"{at}.walk_in_series",
                list(x.walk_in_series),
                "walk_in_series only in a session with walk_ins",
            )
        for j, prefix in enumerate(x.walk_in_series):
            if prefix not in series:
                w.issue(
                    f"{at}.walk_in_series[{j}]",
                    prefix,
                    one_of("series prefixes", series),
                    did_you_mean(prefix, series),
                )


def _check_calendar(w: Walker, hall: Hall) -> None:
    cal = hall.calendar
    between(w, "hall.calendar.warn_days", cal.warn_days, 1, 366)
    if not cal.dir.strip() or cal.dir.startswith(("/", "..")) or "\\" in cal.dir:
        w.issue("hall.calendar.dir", cal.dir, "a folder beside the config file, e.g. 'calendar'")
    seen: dict[int, str] = {}
    for i, year in enumerate(cal.years):
        key = f"hall.calendar.years[{i}]"
        once(w, f"{key}.year", year.year, seen, f"years[{i}]", "each year once")
        for problem in year_problems(year):
            if problem.day is None:
                w.issue(f"{key}.year", year.year, problem.expected, problem.hint)
                continue
            name, days = (
                ("workdays", year.workdays) if problem.day in year.workdays else ("holidays", year.holidays)
            )
            w.issue(f"{key}.{name}[{days.index(problem.day)}]", problem.day, problem.expected, problem.hint)
