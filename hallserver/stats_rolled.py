"""A statistics report's raw figures from the stored roll-ups of its finished days, merged with the same
rows computed now for the others (today, a day being rebuilt): `rollups` makes and stores the rows."""

from __future__ import annotations

import asyncio
import datetime as dt
import sqlite3
from collections.abc import Callable
from typing import Any

from hallcore import measures
from hallcore.config import HallConfig
from hallcore.periods import Span
from hallserver import rollup_compute, rollups
from hallserver.stats_raw import (
    Raw,
    Reader,
    Row,
    case_summary,
    estimate_summary,
    max_of,
    read_staff_names,
)

#: Live days computed per read call when many days are not rolled up (spread over the read pool).
_LIVE_CHUNK = 31


async def rolled(
    read: Reader[Any],
    config: HallConfig,
    span: Span,
    by: str,
    today: dt.date | None,
    now: dt.datetime | None,
    submit: rollups.Submit | None,
    sync_days: int,
    *,
    light: bool = False,
) -> Raw | None:
    """Stored roll-ups for the finished days, the same rows computed now for the others, merged; None when
    too many are missing (then built in the background). `light`: the groups, ratings and outcomes of `by`
    only (no histograms, no hourly shape): what the department targets of another grouping need."""
    days = [span.start + dt.timedelta(days=i) for i in range(span.days)]
    if submit is not None and today is not None:
        past = [d for d in days if d < today]
        if past:
            have = await read(lambda c: rollups.ready_days(c, config, past[0], past[-1]))
            missing = [d for d in past if d.isoformat() not in have]
            if len(missing) > sync_days:
                rollups.build_in_background(read, submit, config, missing)
                return None
            if missing:
                await rollups.ensure(read, submit, config, missing)
    rdim = "matter" if by == "series" else by
    gdims = [by] if light else list(dict.fromkeys([by, "hour", "window"]))
    rdims = list(dict.fromkeys([rdim, "matter"]))
    hdims = [] if light else [by]
    kinds = (
        [rollup_compute.OUTCOME_KINDS[by]]
        if light
        else [*rollup_compute.BASE_KINDS, rollup_compute.OUTCOME_KINDS[by]]
    )

    def q_stored(conn: sqlite3.Connection) -> tuple[set[str], rollup_compute.Parts]:
        return rollups.read_stored(
            conn,
            config,
            span.start,
            span.end,
            group_dims=gdims,
            hist_dims=hdims,
            rating_dims=rdims,
            count_kinds=kinds,
        )

    (ready, parts), staff_names = await asyncio.gather(read(q_stored), read(read_staff_names))
    live = [d for d in days if d.isoformat() not in ready]
    chunks = [live[i : i + _LIVE_CHUNK] for i in range(0, len(live), _LIVE_CHUNK)]

    def q_live(chunk: list[dt.date]) -> Callable[[sqlite3.Connection], rollup_compute.Parts]:
        return lambda conn: rollup_compute.compute(conn, config, chunk, dims=gdims, hist_dims=hdims, now=now)

    for more in await asyncio.gather(*(read(q_live(c)) for c in chunks)):
        parts.extend(more)
    return from_parts(by, rdim, today, parts, staff_names)


def from_parts(
    by: str,
    rdim: str,
    today: dt.date | None,
    parts: rollup_compute.Parts,
    staff_names: dict[str, str],
) -> Raw:
    acc: dict[str, list[Any]] = {}
    shape: dict[tuple[str, str], list[Any]] = {}
    serving: dict[int, int] = {}
    for g in parts.groups:
        dim, day, key = g[0], g[1], g[2]
        if dim == by:
            a = acc.get(key)
            if a is None:
                acc[key] = list(g[3:])
            else:
                for i in (0, 1, 2, 3, 4, 5, 6, 7, 9, 10, 11, 13):
                    a[i] += g[3 + i]
                a[8] = max_of(a[8], g[11])
                a[12] = max_of(a[12], g[15])
        if dim == "hour":
            s = shape.setdefault((day, key), [0, 0, 0, 0, 0])
            s[0] += g[3]
            s[1] += g[9]
            s[2] += g[10]
            s[3] += g[4]
            s[4] += g[16]
        if dim == "window" and g[4] and key.isdigit():
            serving[int(key)] = serving.get(int(key), 0) + g[14]
    groups = []
    for key, a in acc.items():
        row = Row(
            key=key,
            name="",
            tickets=a[0],
            served=a[1],
            no_shows=a[2],
            transfers=a[3],
            expired=a[4],
            cancelled=a[5],
            called=a[6],
            wait_max=a[8],
            handle_max=a[12],
            served_immediate=a[13],
        )
        row.sums = (a[7], a[9], a[10], a[11])
        groups.append(row)
    hists: dict[str, dict[str, dict[int, int]]] = {"wait": {}, "handle": {}}
    for dim, what, _day, key, blob in parts.hists:
        if dim == by:
            rollup_compute.merge_blob(hists[what].setdefault(key, {}), blob)
    rating_acc: dict[tuple[str, int], int] = {}
    daily_acc: dict[str, list[int]] = {}
    for dim, day, key, score, n in parts.ratings:
        if dim == rdim:
            rating_acc[key, score] = rating_acc.get((key, score), 0) + n
        if dim == "matter":
            d = daily_acc.setdefault(day, [0, 0])
            d[0] += n
            d[1] += n if measures.is_satisfied(score) else 0
    counts: dict[tuple[str, str], list[int]] = {}
    due_open: dict[str, int] = {}
    case_outcomes: dict[tuple[str, str], list[int]] = {}
    for kind, _day, key, n, x in parts.counts:
        if kind.startswith("outcome_"):
            if kind == rollup_compute.OUTCOME_KINDS[by]:
                gkey, outcome = key.split(rollup_compute.SEP)
                c = case_outcomes.setdefault((gkey, outcome), [0, 0])
                c[0] += n
                c[1] += x
            continue
        if kind == "case_open_due":
            due_open[key] = due_open.get(key, 0) + n
            continue
        c = counts.setdefault((kind, key), [0, 0])
        c[0] += n
        c[1] += x

    def count(kind: str, key: str) -> int:
        return counts.get((kind, key), [0, 0])[0]

    outcomes = {k: int(v[0]) for (kind, k), v in counts.items() if kind == "precheck"}
    agent = {k: int(v[0]) for (kind, k), v in counts.items() if kind == "agent"}
    by_matter = []
    for (kind, key), v in counts.items():
        if kind == "missing_matter":
            matter, _, item = key.partition(rollup_compute.SEP)
            by_matter.append((matter, item, int(v[0])))
    est = estimate_summary(
        count("estimate", ""), counts.get(("estimate", ""), [0, 0])[1], count("estimate", "inside")
    )
    pause_list = []
    for (kind, key), v in sorted(counts.items()):
        if kind == "pause":
            w, _, reason = key.partition(rollup_compute.SEP)
            pause_list.append((int(w), reason, v[0], v[1]))
    pause_list.sort(key=lambda p: (p[0], p[1]))
    open_us = {int(k): v[1] for (kind, k), v in counts.items() if kind == "open"}
    closed, on_time = count("case", "closed"), count("case", "on_time")
    named, named_called = count("case", "named"), count("case", "named_called")
    overdue = sum(n for due, n in due_open.items() if today is not None and today.isoformat() > due)
    cases = case_summary(count("case", "opened"), closed, on_time, overdue, named, named_called)
    return Raw(
        groups=groups,
        hists=hists["wait"],
        handle_hists=hists["handle"],
        rating_groups=[(k, s, n) for (k, s), n in rating_acc.items()],
        rating_daily=[(d, a[0], a[1]) for d, a in daily_acc.items()],
        shape=[(d, int(h) if h.isdigit() else None, *v) for (d, h), v in shape.items()],
        outcomes=outcomes,
        agent=agent,
        missing_by_matter=by_matter,
        estimates=est,
        pauses=pause_list,
        open_us=open_us,
        serving_ms=serving,
        cases=cases,
        staff_names=staff_names,
        case_outcomes=[(g, o, v[0], v[1]) for (g, o), v in case_outcomes.items()],
    )
