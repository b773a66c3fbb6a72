"""Settings a hall's file may still carry from an earlier hallq, turned into today's with a warning.

The first build ordered priority by rank with an anti-starvation limit (`priority.aging_limit_min`, a normal
ticket waiting longer went ahead of every class) and a run limit (`priority.max_priority_in_row`); at the peak
that made priority vanish (DOMAIN.md "Rules as real halls run them"). Head starts replaced both. A file with
the old keys still loads: each class gets the head start nearest to the old order, and the warning says what
to write instead. The per-person booking limits moved from `[booking]` to `[persons]`, the one home of every
per-person limit. `hall.holidays` and `hall.extra_workdays` became yearly calendars
(`[[hall.calendar.years]]`, one per State Council notice), so that a year nobody loaded is known to be
missing. Nothing here refuses a file; `hallcore.configcheck` does that.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

#: The first build's default aging limit, used when a file ranked its classes but left the limit out.
OLD_AGING_DEFAULT_MIN = 30
#: Minutes of head start per rank step, so that classes keep the order their ranks gave them for tickets that
#: come within this many minutes of each other.
RANK_STEP_MIN = 10


def migrate(raw: dict[str, Any], source: str) -> tuple[dict[str, Any], list[str]]:
    """The raw TOML data with old settings rewritten (the tables touched are copies, `raw` is left as it is),
    and one warning per replaced setting."""
    data = dict(raw)
    for name in ("priority", "no_show"):
        if isinstance(data.get(name), dict):
            data[name] = dict(data[name])
    if isinstance(data.get("priority_classes"), list):
        data["priority_classes"] = [dict(c) if isinstance(c, dict) else c for c in data["priority_classes"]]
    warnings: list[str] = []
    policy = data.get("priority")
    policy = policy if isinstance(policy, dict) else {}
    classes = data.get("priority_classes")
    tables = [c for c in classes if isinstance(c, dict)] if isinstance(classes, list) else []
    ranked = [c for c in tables if "rank" in c]
    aging = policy.pop("aging_limit_min", None)
    in_row = policy.pop("max_priority_in_row", None)
    if aging is not None or ranked:
        limit = aging if _is_int(aging) and aging > 0 else OLD_AGING_DEFAULT_MIN
        ranks = [c["rank"] for c in ranked if _is_int(c["rank"])]
        worst = max(ranks, default=0)
        given: list[str] = []
        for c in tables:
            rank = c.pop("rank", None)
            if "head_start_min" in c:
                continue
            step = worst - rank if _is_int(rank) else 0
            c["head_start_min"] = limit + RANK_STEP_MIN * max(0, step)
            given.append(f"{c.get('id', '?')} {c['head_start_min']}")
        what = " and ".join(
            x
            for x in (
                f"priority.aging_limit_min = {aging}" if aging is not None else "",
                "priority_classes[].rank" if ranked else "",
            )
            if x
        )
        suggestion = (
            f"loaded as head_start_min: {', '.join(given)} (the nearest to the old order); "
            "write head_start_min in each [[priority_classes]] (docs/config.md, 'Choosing head starts')"
            if given
            else "every class already has head_start_min; remove the old keys"
        )
        warnings.append(f"{source}: {what}: replaced by head starts: {suggestion}")
    if in_row is not None:
        if "absolute_in_row" not in policy and _is_int(in_row) and in_row > 0:
            policy["absolute_in_row"] = in_row
        warnings.append(
            f"{source}: priority.max_priority_in_row = {in_row}: replaced by head starts: a head start "
            "already bounds how far a class goes ahead; the run limit now applies to classes marked absolute "
            f"only (write priority.absolute_in_row = {in_row})"
        )
    no_show = data.get("no_show")
    if isinstance(no_show, dict) and "requeue_behind" in no_show:
        behind = no_show.pop("requeue_behind")
        warnings.append(
            f"{source}: no_show.requeue_behind = {behind}: replaced: a no-show who comes back joins at the "
            "time they come back, keeping their class; no_show.max_requeues limits how often (remove the key)"
        )
    _persons_from_booking(data, source, warnings)
    _calendar_from_hall(data, source, warnings)
    _sessions_from_hours(data, source, warnings)
    _at_close_from_expire(data, source, warnings)
    return data, warnings


def one_session_tables(data: dict[str, Any]) -> list[str]:
    """Each weekday given as one table (`[hall.hours.mon]`, one session: the usual form) as the list of
    sessions the schema holds; returns the keys it did so for, so issues can be named as the file has them."""
    wrapped: list[str] = []
    hall = data.get("hall")
    if not isinstance(hall, dict):
        return wrapped
    hall = data["hall"] = dict(hall)  # copies of what changes: the caller's tables stay as they are
    tables: list[tuple[str, dict[str, Any]]] = [("hall.hours", hall)]
    if isinstance(hall.get("seasons"), list):
        hall["seasons"] = [dict(x) if isinstance(x, dict) else x for x in hall["seasons"]]
        tables += [
            (f"hall.seasons[{i}].hours", x) for i, x in enumerate(hall["seasons"]) if isinstance(x, dict)
        ]
    for key, owner in tables:
        week = owner.get("hours")
        if not isinstance(week, dict):
            continue
        week = owner["hours"] = dict(week)
        for day, value in list(week.items()):
            if isinstance(value, dict):
                week[day] = [value]
                wrapped.append(f"{key}.{day}")
    return wrapped


def _sessions_from_hours(data: dict[str, Any], source: str, warnings: list[str]) -> None:
    """`booking_only = true` on a weekday (the first build's 5+1 Saturday) as `walk_ins = false`."""
    hall = data.get("hall")
    week = hall.get("hours") if isinstance(hall, dict) else None
    if not isinstance(week, dict):
        return
    hall = data["hall"] = dict(hall)  # type: ignore[arg-type]
    week = hall["hours"] = dict(week)
    old: list[str] = []
    for day, raw in week.items():
        if isinstance(raw, dict) and "booking_only" in raw:
            table = week[day] = dict(raw)
            flag = table.pop("booking_only")
            if isinstance(flag, bool):
                table.setdefault("walk_ins", not flag)
            else:
                table["walk_ins"] = flag  # not a bool: the checks say so, under the new name
            old.append(f"hall.hours.{day}.booking_only = {str(flag).lower()}")
    if old:
        warnings.append(
            f"{source}: {', '.join(old)}: replaced by sessions: loaded as walk_ins = false (bookings only; "
            "the desk still issues, after the booked). Write walk_ins = false, or let the hall choose dates "
            "with walk-ins in [[hall.dates]] (docs/config.md, 'Sessions')"
        )


def _at_close_from_expire(data: dict[str, Any], source: str, warnings: list[str]) -> None:
    hall = data.get("hall")
    if not isinstance(hall, dict) or "expire_at_close" not in hall:
        return
    hall = data["hall"] = dict(hall)
    value = hall.pop("expire_at_close")
    new = "expire" if value is True else "carry" if value is False else value
    hall.setdefault("at_close", new)
    warnings.append(
        f"{source}: hall.expire_at_close = {str(value).lower()}: replaced by 延时服务: a ticket waiting at "
        "closing is served while a window of its series is open, and hall.at_close decides what happens when "
        f"the last one closes; loaded as hall.at_close = {new!r} (write that instead)"
    )


def _calendar_from_hall(data: dict[str, Any], source: str, warnings: list[str]) -> None:
    """`hall.holidays`/`hall.extra_workdays` (one list for every year) as one `[[hall.calendar.years]]` per
    year they name: each such year is taken as loaded, every other year as unknown."""
    hall = data.get("hall")
    if not isinstance(hall, dict) or not {"holidays", "extra_workdays"} & hall.keys():
        return
    hall = data["hall"] = dict(hall)
    calendar = hall.get("calendar")
    calendar = hall["calendar"] = dict(calendar) if isinstance(calendar, dict) else {}
    raw_years = calendar.get("years")
    years: list[Any] = list(raw_years) if isinstance(raw_years, list) else []
    by_year: dict[int, dict[str, Any]] = {}
    for old, new in (("holidays", "holidays"), ("extra_workdays", "workdays")):
        values = hall.pop(old, [])
        for value in values if isinstance(values, list) else [values]:
            table = by_year.setdefault(
                _year_of(value), {"year": _year_of(value), "holidays": [], "workdays": []}
            )
            table[new].append(value)
    given = {y.get("year") for y in years if isinstance(y, dict)}
    added = [t for y, t in sorted(by_year.items()) if y not in given]
    calendar["years"] = years + added
    names = ", ".join(str(t["year"]) for t in added) or "none"
    warnings.append(
        f"{source}: hall.holidays and hall.extra_workdays: replaced by [[hall.calendar.years]] (one per "
        f"State Council notice, 调休 days as workdays): loaded as the years {names}; every other year counts "
        "as not loaded. Write them as [[hall.calendar.years]] or install calendar/<year>.csv files with "
        "hallq admin calendar import (docs/config.md, 'Calendar')"
    )


def _year_of(value: object) -> int:
    """The year a raw date names (0 when it names none: the checks then report the value)."""
    if isinstance(value, dt.date):
        return value.year
    if isinstance(value, str) and value[:4].isdigit():
        return int(value[:4])
    return 0


#: `[booking]` keys of the first build that are per-person limits now (`[persons]`, one home for them).
PERSON_KEYS = {"per_person_per_day": "bookings_per_day", "per_person_per_week": "bookings_per_week"}


def _persons_from_booking(data: dict[str, Any], source: str, warnings: list[str]) -> None:
    booking = data.get("booking")
    if not isinstance(booking, dict) or not PERSON_KEYS.keys() & booking.keys():
        return
    booking = data["booking"] = dict(booking)
    persons = data.get("persons")
    persons = data["persons"] = dict(persons) if isinstance(persons, dict) else {}
    for old, new in PERSON_KEYS.items():
        if old in booking:
            value = booking.pop(old)
            persons.setdefault(new, value)
            warnings.append(
                f"{source}: booking.{old} = {value}: moved: write persons.{new} = {value} instead"
            )


def _is_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)
