"""A statistics report's raw figures by SQL over the whole range: the reference the roll-ups are tested
against (`stats.build_report(live_only=True)`), and the path a first report over a long range takes."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sqlite3
from typing import Any
from zoneinfo import ZoneInfo

from hallcore.config import HallConfig
from hallcore.periods import Span
from hallserver import rollup_compute
from hallserver.stats_raw import (
    DIM_SQL,
    RANGE,
    SATISFIED_SQL,
    TICKETS,
    Raw,
    Reader,
    Row,
    case_summary,
    estimate_summary,
    read_staff_names,
)


def _group_rows(
    conn: sqlite3.Connection, expr: str, within: str, immediate: str, params: dict[str, Any]
) -> list[Row]:
    """Counts, wait and handle sums per group (the covering index; no time parsing)."""
    sql = f"""
        SELECT {expr} AS g, COUNT(*), SUM(state = 'done'), SUM(state = 'no_show'), SUM(transfers),
               SUM(state = 'expired'), SUM(state = 'cancelled'),
               COUNT(wait_min), SUM({rollup_compute.ms("wait_min")}), MAX(wait_min),
               SUM({within}), COUNT(handle_min), SUM({rollup_compute.ms("handle_min")}),
               MAX(handle_min), SUM(state = 'done' AND matter IN ({immediate}))
        FROM {TICKETS} WHERE {RANGE} AND state != 'voided' GROUP BY g
    """  # noqa: S608 - expressions are ours, values are bound
    out = []
    for r in conn.execute(sql, params):
        row = Row(
            key="" if r[0] is None else str(r[0]),
            name="",
            tickets=r[1],
            served=r[2] or 0,
            no_shows=r[3] or 0,
            transfers=r[4] or 0,
            expired=r[5] or 0,
            cancelled=r[6] or 0,
            called=r[7],
            wait_max=r[9],
            handle_max=r[13],
            served_immediate=r[14] or 0,
        )
        row.sums = (r[8] or 0, r[10] or 0, r[11] or 0, r[12] or 0)
        out.append(row)
    return out


def _histogram(
    conn: sqlite3.Connection, expr: str, column: str, params: dict[str, Any]
) -> dict[str, dict[int, int]]:
    """Waits (or handle times) per group counted in tenths of a minute: the resolution the page shows.

    Rounding is monotone, so the nearest-rank percentile of the rounded waits is the rounded percentile
    of the real waits: exact as displayed, without sorting every wait."""
    sql = f"""
        SELECT {expr} AS g, CAST(ROUND({column} * 10) AS INTEGER) AS w, COUNT(*)
        FROM {TICKETS} WHERE {RANGE} AND state != 'voided' AND {column} IS NOT NULL GROUP BY g, w
    """  # noqa: S608
    out: dict[str, dict[int, int]] = {}
    for g, w, n in conn.execute(sql, params):
        out.setdefault("" if g is None else str(g), {})[int(w)] = int(n)
    return out


async def live(
    read: Reader[Any], config: HallConfig, span: Span, by: str, today: dt.date | None, now: dt.datetime | None
) -> Raw:
    """Every figure by SQL over the whole range."""
    params: dict[str, Any] = {"d0": span.start.isoformat(), "d1": span.end.isoformat()}
    within = rollup_compute.within_target_sql(config)
    # Ratings have no series column: group them by matter and fold into the matter's series.
    rdim = "matter" if by == "series" else DIM_SQL[by]
    immediate = rollup_compute.immediate_list(config)

    def q_groups(conn: sqlite3.Connection) -> list[Row]:
        return _group_rows(conn, DIM_SQL[by], within, immediate, params)

    def q_outcomes(conn: sqlite3.Connection) -> list[tuple[str, str, int, int]]:
        sql = rollup_compute.OUTCOMES.format(col=DIM_SQL[by], imm=immediate, where=RANGE)
        return [
            ("" if g is None else str(g), str(o), int(n), int(imm or 0))
            for _day, g, o, n, imm in conn.execute(sql, params)
        ]

    def q_hist(conn: sqlite3.Connection) -> dict[str, dict[int, int]]:
        return _histogram(conn, DIM_SQL[by], "wait_min", params)

    def q_handle_hist(conn: sqlite3.Connection) -> dict[str, dict[int, int]]:
        return _histogram(conn, DIM_SQL[by], "handle_min", params)

    def q_ratings(conn: sqlite3.Connection) -> dict[str, Any]:
        groups = conn.execute(
            f"SELECT {rdim} AS g, score, COUNT(*) FROM ratings INDEXED BY ratings_stats"  # noqa: S608
            f" WHERE {RANGE} GROUP BY g, score",
            params,
        ).fetchall()
        daily = conn.execute(
            f"SELECT day, COUNT(*), SUM({SATISFIED_SQL}) FROM ratings INDEXED BY ratings_stats"  # noqa: S608
            f" WHERE {RANGE} GROUP BY day",
            params,
        ).fetchall()
        return {"groups": groups, "daily": daily}

    def q_shape(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
        """Per (day, hour): counts and wait sums for the hourly bars and the daily trend."""
        return conn.execute(
            f"""SELECT day, hour_utc, COUNT(*), COUNT(wait_min), SUM({rollup_compute.ms("wait_min")}),
                       SUM(state = 'done'),
                       SUM(state = 'done' AND matter IN ({immediate}))
                FROM {TICKETS} WHERE {RANGE} AND state != 'voided' GROUP BY day, hour_utc""",  # noqa: S608
            params,
        ).fetchall()

    lo, _ = rollup_compute.day_bounds(config, span.start)
    _, hi = rollup_compute.day_bounds(config, span.end)

    def q_precheck(conn: sqlite3.Connection) -> dict[str, Any]:
        p = {"lo": rollup_compute.julian(lo), "hi": rollup_compute.julian(hi)}
        rows = conn.execute(rollup_compute.PRECHECK_OUTCOMES, p).fetchall()
        by_matter = [(str(m), str(i), int(n)) for m, i, n in conn.execute(rollup_compute.PRECHECK_MISSING, p)]
        return {
            "outcomes": {str(o): int(n) for o, n, _ in rows},
            "agent": {str(o): int(a) for o, _, a in rows if a},
            "missing_by_matter": by_matter,
        }

    def q_estimates(conn: sqlite3.Connection) -> dict[str, Any]:
        row = conn.execute(
            f"""SELECT COUNT(*), SUM({rollup_compute.ms("ABS(wait_min - point_min)")}),
                      SUM(wait_min >= low_min AND wait_min <= high_min)
               FROM estimates INDEXED BY estimates_stats
               WHERE {RANGE} AND wait_min IS NOT NULL AND point_min IS NOT NULL
                 AND low_min IS NOT NULL AND high_min IS NOT NULL""",  # noqa: S608
            params,
        ).fetchone()
        n = int(row[0])
        return estimate_summary(n, int(row[1] or 0), int(row[2] or 0))

    def q_windows(conn: sqlite3.Connection) -> dict[str, Any]:
        # Window events are few; the stored time's offset may differ from the hall's, so take days
        # either side by text and clip exactly in Python.
        events = conn.execute(
            "SELECT at, body FROM events WHERE kind = 'window_changed' AND at >= ? AND at < ? ORDER BY seq",
            rollup_compute.event_range(span.start, span.end),
        ).fetchall()
        serving = conn.execute(
            f"SELECT window, SUM({rollup_compute.ms('handle_min')}) FROM {TICKETS}"  # noqa: S608
            f" WHERE {RANGE} AND state = 'done'"
            " GROUP BY window",
            params,
        ).fetchall()
        return {"events": events, "serving": dict(serving)}

    def q_cases(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
        return conn.execute(
            """SELECT c.state, c.due, c.closed_at, c.steps, k.phone IS NOT NULL AND k.phone != ''
               FROM cases c LEFT JOIN case_contacts k ON k.case_id = c.id
               WHERE substr(c.ticket, 1, 10) BETWEEN :d0 AND :d1""",
            params,
        ).fetchall()

    (
        groups,
        hists,
        handle_hists,
        ratings,
        shape,
        pre,
        est,
        win,
        cases,
        staff_names,
        outs,
    ) = await asyncio.gather(
        read(q_groups),
        read(q_hist),
        read(q_handle_hist),
        read(q_ratings),
        read(q_shape),
        read(q_precheck),
        read(q_estimates),
        read(q_windows),
        read(q_cases),
        read(read_staff_names),
        read(q_outcomes),
    )
    pauses, open_us = rollup_compute.window_time(config, span.start, span.end, win["events"], now)
    return Raw(
        groups=groups,
        hists=hists,
        handle_hists=handle_hists,
        rating_groups=ratings["groups"],
        rating_daily=[(d, int(n), int(s or 0)) for d, n, s in ratings["daily"]],
        shape=shape,
        outcomes=pre["outcomes"],
        agent=pre["agent"],
        missing_by_matter=pre["missing_by_matter"],
        estimates=est,
        pauses=pauses,
        open_us=open_us,
        serving_ms={int(k): int(v or 0) for k, v in win["serving"].items() if k is not None},
        cases=case_figures(config, cases, today),
        staff_names=staff_names,
        case_outcomes=outs,
    )


def case_figures(config: HallConfig, rows: list[tuple[Any, ...]], today: dt.date | None) -> dict[str, Any]:
    tz = ZoneInfo(config.hall.timezone)
    opened = len(rows)
    closed = on_time = overdue = named = named_called = 0
    for state, due_text, closed_at, steps_text, has_phone in rows:
        due = dt.date.fromisoformat(due_text)
        steps = json.loads(steps_text)
        if closed_at:
            closed += 1
            if dt.datetime.fromisoformat(closed_at).astimezone(tz).date() <= due:
                on_time += 1
        elif today is not None and state != "closed" and today > due:
            overdue += 1
        if has_phone:
            named += 1
            named_called += any(s[0] == "callback" for s in steps)
    return case_summary(opened, closed, on_time, overdue, named, named_called)
