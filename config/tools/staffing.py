"""The example halls' windows and their staffing plan (the roster, the lunch rotation, planned breaks), as the
wait estimate and `hallq sim` read them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from tomlwriter import Toml

#: A window: (number, name, department, series in serving order, A/B partner or None, zone).
WindowRow = tuple[int, str, str, list[str], int | None, str]


#: The staffing plan the example halls are generated with: the share of each group of windows with the same
#: series that is rostered on an open day (at least one; every 综合窗口), the lunch rotation (half of each
#: rostered group closes over LUNCH, the other half keeps the series served), and a planned 15-minute break
#: for three clerks in five, staggered over the morning and afternoon slots of BREAK_STARTS.
ROSTER_SHARE = 0.85
LUNCH = (dt.time(12, 0), dt.time(13, 0))
BREAK_MIN = 15
BREAK_STARTS = (
    dt.time(9, 45),
    dt.time(10, 15),
    dt.time(10, 45),
    dt.time(14, 30),
    dt.time(15, 0),
    dt.time(15, 30),
)


def staffing_plan(
    rows: Sequence[WindowRow], *, lunch: tuple[dt.time, dt.time] | None = LUNCH
) -> dict[int, tuple[bool, list[dict[str, object]]]]:
    """Window number → (rostered, planned closures) for the example halls (`lunch` None: the hall closes
    between sessions, so nobody takes a lunch turn)."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for number, _name, _dept, series, _partner, _zone in rows:
        groups.setdefault(tuple(series), []).append(number)
    plan: dict[int, tuple[bool, list[dict[str, object]]]] = {}
    rostered_seen = 0
    for series, unsorted in groups.items():
        numbers = sorted(unsorted)
        k = len(numbers) if len(series) > 1 else max(1, round(len(numbers) * ROSTER_SHARE))
        rostered = numbers[:k]
        lunching = set(rostered[: len(rostered) // 2]) if lunch is not None and len(rostered) >= 2 else set()
        for number in numbers:
            closures: list[dict[str, object]] = []
            if number in lunching and lunch is not None:
                closures.append({"start": lunch[0], "end": lunch[1], "reason": "午休"})
            if number in rostered:
                if rostered_seen % 5 < 3:
                    start = BREAK_STARTS[rostered_seen % len(BREAK_STARTS)]
                    end = (
                        dt.datetime.combine(dt.date(2000, 1, 1), start) + dt.timedelta(minutes=BREAK_MIN)
                    ).time()
                    closures.append({"start": start, "end": end, "reason": "休息"})
                rostered_seen += 1
            plan[number] = (number in rostered, sorted(closures, key=lambda c: str(c["start"])))
    return plan


def write_windows(
    t: Toml,
    rows: Sequence[WindowRow],
    *,
    strict: Sequence[int] = (),
    lunch: tuple[dt.time, dt.time] | None = LUNCH,
) -> None:
    """The windows with their staffing plan (`staffing_plan`); each one's strip is at the bus address of its
    number. `strict`: windows that take their series in the order listed."""
    plan = staffing_plan(rows, lunch=lunch)
    for number, name, dept, series, partner, zone in rows:
        t.entry("windows", number=number, name=name, department=dept, series=series, led_address=number)
        if partner is not None:
            t.kv("partner", partner, "A/B岗")
        t.kv("zone", zone)
        if number in strict:
            t.kv("strict_series_order", True, "its own series first; the others when it has time")
        rostered, closures = plan[number]
        if not rostered:
            t.kv("staffed", False, "not on the roster: opened when the queue asks for it")
        if closures:
            t.kv("closures", closures, "the lunch rotation and planned breaks")
