"""Per hall / day roll-ups at the centre: the hall's figures for a day, by the hall's definitions, counted
from the derived rows once the day is over (docs/central.md "Statistics and roll-ups").

One SQL (`compute`) counts a set of (hall, day) from `tickets`, `ratings`, `cases` and the hall's profile,
per dimension: the hall itself, matter, series, department, window, clerk and hour of issue. It is used
twice: the builder stores its rows for finished days (`day_stats`, `day_counts`, marked ready in
`rollup_days`), and a statistics query runs it for the days that are not rolled up (today, a day changed
since). So a figure is the same whether it came from a roll-up or from the rows.

The figures are the hall's own (hallserver/stats.py), to the bit: wait = first call − issue and handle =
finish − serving start in minutes computed as SQLite's julianday() arithmetic computes them (whole
milliseconds, doubles), sums in whole milliseconds, waits and handle times counted in tenths of a minute
rounded as SQLite's ROUND() does (the resolution the hall's percentiles have), within target = wait ≤ the
series' target + 1e-6 (the hall's `within_target_sql`: julianday() arithmetic is off by up to ~3e-7 min),
ratings grouped by the rating's own matter (its series and department through the
profile), window and clerk. `tests/central/test_rollups.py` checks every figure against the hall's.

Building them is hallcentral/rollup_build.py.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection

from hallcore.measures import ONSITE_ACCEPTED, ONSITE_DONE

#: Dimensions of a day's rows ("hall": one row, key "").
DIMS = ("hall", "matter", "series", "department", "window", "clerk", "hour")

#: SQLite's julianday() of a timestamptz: whole milliseconds since the julian epoch (SQLite rounds the
#: seconds' fraction to the millisecond), divided in double precision.
_JD = "((floor(extract(epoch FROM {c}) * 1000 + 0.5) + 210866760000000)::float8 / 86400000::float8)"
_MIN = f"(({_JD.format(c='{b}')} - {_JD.format(c='{a}')}) * 1440::float8)"


def _round(expr: str) -> str:
    """SQLite's ROUND(x): (int)(x ± 0.5), half away from zero."""
    return f"(CASE WHEN ({expr}) >= 0 THEN floor(({expr}) + 0.5) ELSE -floor(0.5 - ({expr})) END)::bigint"


_WAIT = _MIN.format(a="t.issued_at", b="t.first_called_at")
_HANDLE = _MIN.format(a="t.serving_at", b="t.ended_at")

#: Column order of a `day_stats` row after (hall_id, dim, day, key).
STAT_COLS = (
    "tickets",
    "served",
    "no_shows",
    "transfers",
    "expired",
    "cancelled",
    "called",
    "wait_sum_ms",
    "wait_max",
    "within",
    "handle_n",
    "handle_sum_ms",
    "handle_max",
    "done_immediate",
    "onsite_done",
    "onsite_accepted",
    "s1",
    "s2",
    "s3",
    "s4",
    "s5",
    "wait_b",
    "wait_c",
    "handle_b",
    "handle_c",
)

_TICKET_KEYS = {
    "hall": "''",
    "matter": "t.matter",
    "series": "t.series",
    "department": "t.department",
    "window": "coalesce(t.\"window\"::text, '')",
    "clerk": "t.staff",
    "hour": "t.hour::text",
}
_RATING_KEYS = {
    "hall": "''",
    "matter": "r.matter",
    "series": "r.series",
    "department": "r.department",
    "window": 'r."window"::text',
    "clerk": "r.staff",
    "hour": "r.hour::text",
}


def _lateral(keys: dict[str, str], dims: Sequence[str]) -> str:
    return ", ".join(f"('{d}', {keys[d]})" for d in dims)


#: The (hall, day) pairs to count, from two arrays %(halls)s, %(days)s matched by position.
WANT_PAIRS = "want AS (SELECT * FROM unnest(%(halls)s::text[], %(days)s::date[]) AS w(hall_id, day))"


def compute_sql(dims: Sequence[str]) -> str:
    """The SELECT of day_stats rows for the (hall, day) pairs of WANT_PAIRS, for `dims`; columns: hall_id,
    dim, day, key, *STAT_COLS."""
    return f"WITH {WANT_PAIRS}, {live_ctes(dims)} SELECT * FROM live"  # noqa: S608 - our fragments


def live_ctes(dims: Sequence[str]) -> str:
    """CTEs ending in `live` (the day_stats rows of the pairs in a CTE `want (hall_id, day)` defined before
    them): a statistics query puts them after its own `want`, the days it has no roll-up for."""
    for d in dims:
        if d not in DIMS:
            raise ValueError(f"unknown dimension {d!r}")
    ticket_keys = _lateral(_TICKET_KEYS, dims)
    rating_keys = _lateral(_RATING_KEYS, dims)
    cnt = "count(*) FILTER (WHERE {})"
    return f"""
    t AS (
        SELECT t.hall_id, t.day, t.state, t.transfers, t.matter, t.series, t."window", t.staff, t.outcome,
               coalesce(t.department, m.department, '') AS department,
               coalesce(m.immediate, false) AS immediate,
               coalesce(s.target_wait_min, 30) AS target,
               extract(hour FROM t.issued_at AT TIME ZONE coalesce(p.timezone, 'Asia/Shanghai'))::int AS hour,
               CASE WHEN t.first_called_at IS NOT NULL THEN {_WAIT} END AS wait_min,
               CASE WHEN t.state = 'done' AND t.serving_at IS NOT NULL AND t.ended_at IS NOT NULL
                    THEN {_HANDLE} END AS handle_min
        FROM want w JOIN tickets t ON t.hall_id = w.hall_id AND t.day = w.day
        LEFT JOIN hall_matters m ON m.hall_id = t.hall_id AND m.code = t.matter
        LEFT JOIN hall_series s ON s.hall_id = t.hall_id AND s.prefix = t.series
        LEFT JOIN hall_profiles p ON p.hall_id = t.hall_id
        WHERE t.state <> 'voided'
    ),
    g AS (
        SELECT t.*, d.dim, d.key FROM t CROSS JOIN LATERAL (VALUES {ticket_keys}) AS d(dim, key)
    ),
    agg AS (
        SELECT hall_id, dim, day, key,
               count(*) AS tickets, {cnt.format("state = 'done'")} AS served,
               {cnt.format("state = 'no_show'")} AS no_shows, coalesce(sum(transfers), 0) AS transfers,
               {cnt.format("state = 'expired'")} AS expired, {cnt.format("state = 'cancelled'")} AS cancelled,
               count(wait_min) AS called,
               coalesce(sum({_round("wait_min * 60000::float8")}), 0) AS wait_sum_ms,
               max(wait_min) AS wait_max,
               {cnt.format("wait_min <= target::float8 + 1e-6::float8")} AS within,
               count(handle_min) AS handle_n,
               coalesce(sum({_round("handle_min * 60000::float8")}), 0) AS handle_sum_ms,
               max(handle_min) AS handle_max,
               {cnt.format("state = 'done' AND immediate")} AS done_immediate,
               {cnt.format("state = 'done' AND immediate AND outcome = %(onsite_done)s")} AS onsite_done,
               {cnt.format("immediate AND outcome = %(onsite_accepted)s")} AS onsite_accepted
        FROM g GROUP BY hall_id, dim, day, key
    ),
    wh AS (
        SELECT hall_id, dim, day, key, array_agg(b ORDER BY b) AS wait_b, array_agg(c ORDER BY b) AS wait_c
        FROM (SELECT hall_id, dim, day, key, {_round("wait_min * 10::float8")}::int AS b, count(*)::int AS c
              FROM g WHERE wait_min IS NOT NULL GROUP BY 1, 2, 3, 4, 5) x
        GROUP BY 1, 2, 3, 4
    ),
    hh AS (
        SELECT hall_id, dim, day, key,
               array_agg(b ORDER BY b) AS handle_b, array_agg(c ORDER BY b) AS handle_c
        FROM (SELECT hall_id, dim, day, key, {_round("handle_min * 10::float8")}::int AS b, count(*)::int AS c
              FROM g WHERE handle_min IS NOT NULL GROUP BY 1, 2, 3, 4, 5) x
        GROUP BY 1, 2, 3, 4
    ),
    r AS (
        SELECT r.hall_id, r.day, r.score, r.matter, r."window", r.staff,
               coalesce(m.series, r.matter) AS series,
               coalesce(t.department, m.department, '') AS department,
               extract(hour FROM coalesce(t.issued_at, r.at)
                       AT TIME ZONE coalesce(p.timezone, 'Asia/Shanghai'))::int AS hour
        FROM want w JOIN ratings r ON r.hall_id = w.hall_id AND r.day = w.day
        LEFT JOIN tickets t ON t.hall_id = r.hall_id AND t.id = r.ticket
        LEFT JOIN hall_matters m ON m.hall_id = r.hall_id AND m.code = r.matter
        LEFT JOIN hall_profiles p ON p.hall_id = r.hall_id
    ),
    ra AS (
        SELECT r.hall_id, d.dim, r.day, d.key,
               {cnt.format("score = 1")} AS s1, {cnt.format("score = 2")} AS s2,
               {cnt.format("score = 3")} AS s3, {cnt.format("score = 4")} AS s4,
               {cnt.format("score = 5")} AS s5
        FROM r CROSS JOIN LATERAL (VALUES {rating_keys}) AS d(dim, key)
        GROUP BY 1, 2, 3, 4
    ),
    live AS (
    SELECT hall_id, dim, day, key,
           coalesce(tickets, 0) AS tickets, coalesce(served, 0) AS served,
           coalesce(no_shows, 0) AS no_shows, coalesce(transfers, 0) AS transfers,
           coalesce(expired, 0) AS expired, coalesce(cancelled, 0) AS cancelled,
           coalesce(called, 0) AS called, coalesce(wait_sum_ms, 0) AS wait_sum_ms, wait_max,
           coalesce(within, 0) AS within, coalesce(handle_n, 0) AS handle_n,
           coalesce(handle_sum_ms, 0) AS handle_sum_ms, handle_max,
           coalesce(done_immediate, 0) AS done_immediate, coalesce(onsite_done, 0) AS onsite_done,
           coalesce(onsite_accepted, 0) AS onsite_accepted,
           coalesce(s1, 0) AS s1, coalesce(s2, 0) AS s2, coalesce(s3, 0) AS s3, coalesce(s4, 0) AS s4,
           coalesce(s5, 0) AS s5, coalesce(wait_b, '{{}}') AS wait_b, coalesce(wait_c, '{{}}') AS wait_c,
           coalesce(handle_b, '{{}}') AS handle_b, coalesce(handle_c, '{{}}') AS handle_c
    FROM agg FULL JOIN ra USING (hall_id, dim, day, key)
    LEFT JOIN wh USING (hall_id, dim, day, key) LEFT JOIN hh USING (hall_id, dim, day, key)
    )
    """  # noqa: S608 - only our own fragments; values are bound


#: day_counts rows (hall_id, day, kind, key, n) of the pairs in `want`: 差评 cases by their ticket's day
#: (opened, closed, closed on time by the hall's clock) and the outcomes of served tickets.
COUNTS_SELECT = """
    SELECT c.hall_id, c.day, 'case', v.k, count(*)
    FROM want w JOIN cases c ON c.hall_id = w.hall_id AND c.day = w.day
    LEFT JOIN hall_profiles p ON p.hall_id = c.hall_id
    CROSS JOIN LATERAL (VALUES ('opened', true), ('closed', c.closed_at IS NOT NULL),
        ('on_time', c.closed_at IS NOT NULL
                    AND (c.closed_at AT TIME ZONE coalesce(p.timezone, 'Asia/Shanghai'))::date <= c.due))
        AS v(k, yes)
    WHERE v.yes GROUP BY 1, 2, 3, 4
    UNION ALL
    SELECT t.hall_id, t.day, 'outcome', t.outcome, count(*)
    FROM want w JOIN tickets t ON t.hall_id = w.hall_id AND t.day = w.day
    WHERE t.state = 'done' AND t.outcome IS NOT NULL GROUP BY 1, 2, 3, 4
"""
COUNTS_SQL = f"WITH {WANT_PAIRS} {COUNTS_SELECT}"


def params(pairs: Sequence[tuple[str, dt.date]]) -> dict[str, Any]:
    return {
        "halls": [h for h, _ in pairs],
        "days": [d for _, d in pairs],
        "onsite_done": ONSITE_DONE,
        "onsite_accepted": ONSITE_ACCEPTED,
    }


async def compute(
    conn: AsyncConnection[Any], pairs: Sequence[tuple[str, dt.date]], dims: Sequence[str] = DIMS
) -> tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """(day_stats rows, day_counts rows) of the (hall, day) pairs, counted now from the derived rows."""
    if not pairs:
        return [], []
    p = params(pairs)
    cur = await conn.execute(compute_sql(dims).encode(), p)
    stats = [tuple(r) for r in await cur.fetchall()]
    cur = await conn.execute(COUNTS_SQL.encode(), p)
    counts = [tuple(r) for r in await cur.fetchall()]
    return stats, counts
