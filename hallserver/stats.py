"""Hall statistics by SQL over the stored rows and events (DOMAIN.md "Measures"; definitions in docs/web.md).

Every figure is defined once here and used by the statistics page, the CSV/XLSX exports and the benchmark:

- wait = first call − issue; handle = finish − serving start (DOMAIN.md); in minutes.
- P50/P90 are nearest-rank percentiles: the value at rank ⌈p·n⌉ of the n waits sorted ascending.
- within target = share of called tickets whose wait ≤ their series' `target_wait_min`.
- 参评率 = rated ÷ served (done); 满意率 = (非常满意 + 满意 + 基本满意) ÷ rated.
- 现场办结率 = done ÷ (done + expired + cancelled): of the people who stayed (no-shows left on their own),
  the share served the same day; 即办件 share = done tickets of 即办件 matters ÷ done tickets.
- utilisation = serving time ÷ open time per window (open = from `opened` to `closed`, pauses included).
- estimate MAE = mean |real wait − point estimate|; coverage = share of real waits inside the shown range.
- 差评 on-time rate = cases closed on or before their due day ÷ cases closed; 实名差评回访率 = cases with a
  consented phone number that were called back ÷ cases with a consented phone number.

Tickets are selected by their business `day` (the hall's local date, indexed), so stored times with any UTC
offset are counted in the right day; the hour of day is the hall's local hour. Independent queries run
concurrently on the read pool (SQLite releases the GIL while it works).
"""

from __future__ import annotations

import asyncio
import bisect
import datetime as dt
import itertools
import json
import math
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from hallcore.config import HallConfig
from hallcore.model import SCORE_NAMES
from hallserver import rollups

T = TypeVar("T")
Reader = Callable[[Callable[[sqlite3.Connection], T]], Awaitable[T]]

#: Group keys of the per-dimension table (page selector and export sheets).
DIMENSIONS = ("matter", "series", "window", "clerk", "hour")
PERIODS = ("day", "week", "month", "year", "custom")
#: Upper edges (minutes) of the wait-distribution bars; the last bar is "over the last edge".
WAIT_BINS = (5, 10, 15, 20, 30, 45, 60, 90, 120)
SATISFIED = (5, 4, 3)


# ---- ranges ------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Span:
    """Business days `start`..`end`, both included."""

    start: dt.date
    end: dt.date
    period: str = "custom"

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    @property
    def label(self) -> str:
        if self.start == self.end:
            return self.start.isoformat()
        return f"{self.start.isoformat()} – {self.end.isoformat()}"


def span_for(period: str, anchor: dt.date, end: dt.date | None = None) -> Span:
    """The day, ISO week (Mon–Sun), calendar month or year around `anchor`; custom: anchor..end."""
    if period == "day":
        return Span(anchor, anchor, period)
    if period == "week":
        start = anchor - dt.timedelta(days=anchor.weekday())
        return Span(start, start + dt.timedelta(days=6), period)
    if period == "month":
        start = anchor.replace(day=1)
        nxt = (start + dt.timedelta(days=32)).replace(day=1)
        return Span(start, nxt - dt.timedelta(days=1), period)
    if period == "year":
        return Span(anchor.replace(month=1, day=1), anchor.replace(month=12, day=31), period)
    if period == "custom":
        last = end or anchor
        if last < anchor:
            raise ValueError("the range ends before it starts")
        if (last - anchor).days > 3660:
            raise ValueError("a range is at most ten years")
        return Span(anchor, last, period)
    raise ValueError(f"unknown period {period!r}: one of {', '.join(PERIODS)}")


# ---- figures ---------------------------------------------------------------------------------------------


@dataclass(slots=True)
class Row:
    """One line of the per-dimension table (or the total)."""

    key: str
    name: str
    tickets: int = 0  # issued and not voided
    served: int = 0  # done
    no_shows: int = 0
    transfers: int = 0
    expired: int = 0
    cancelled: int = 0
    called: int = 0  # tickets with a first call (the waits below are theirs)
    wait_mean: float | None = None
    wait_p50: float | None = None
    wait_p90: float | None = None
    wait_max: float | None = None
    within_target: float | None = None
    handle_mean: float | None = None
    handle_p50: float | None = None
    handle_p90: float | None = None
    handle_max: float | None = None
    rated: int = 0
    satisfied: int = 0
    by_score: dict[int, int] = field(default_factory=dict)
    # (wait sum ms, within-target count, handle count, handle sum ms): summed across groups for the total.
    sums: tuple[int, int, int, int] = (0, 0, 0, 0)

    @property
    def participation(self) -> float | None:
        """参评率 = rated ÷ served."""
        return self.rated / self.served if self.served else None

    @property
    def satisfaction(self) -> float | None:
        """满意率 = (非常满意 + 满意 + 基本满意) ÷ rated."""
        return self.satisfied / self.rated if self.rated else None


@dataclass(slots=True)
class Target:
    name: str
    name_en: str
    target: float
    actual: float | None

    @property
    def met(self) -> bool | None:
        return None if self.actual is None else self.actual >= self.target


@dataclass(slots=True)
class Report:
    span: Span
    by: str
    total: Row
    rows: list[Row]
    hourly: list[tuple[int, int, float | None]]  # local hour, tickets, mean wait
    daily: list[tuple[str, int, float | None, float | None]]  # day, tickets, mean wait, 满意率
    wait_bins: list[tuple[str, int]]
    precheck: dict[str, int]  # 通过 / 容缺 / 不通过
    missing_top: list[tuple[str, str, int]]  # material id, name, count
    targets: list[Target]
    estimates: dict[str, Any]  # n, mae, coverage
    pauses: list[tuple[int, str, int, float]]  # window, reason, count, minutes
    utilisation: list[tuple[int, float, float, float | None]]  # window, open min, serving min, share
    cases: dict[str, Any]


# ---- SQL helpers -------------------------------------------------------------------------------------------


def _offset_hours(config: HallConfig, day: dt.date) -> int:
    """The hall's UTC offset in whole hours, to turn the indexed UTC hour into the local hour.

    Chinese halls have no daylight saving; a hall that has one would see its hours shift by one across the
    change within a range (the day itself is always right: it is stored)."""
    tz = ZoneInfo(config.hall.timezone)
    off = dt.datetime.combine(day, dt.time(12), tz).utcoffset() or dt.timedelta(0)
    return int(off.total_seconds() // 3600)


#: Group expressions over the covering index `tickets_stats` (and `ratings_stats`: same column names).
_DIM_SQL = rollups.TICKET_DIMS
_TICKETS = "tickets INDEXED BY tickets_stats"
_RANGE = "day BETWEEN :d0 AND :d1"


def _group_rows(conn: sqlite3.Connection, expr: str, target_case: str, params: dict[str, Any]) -> list[Row]:
    """Counts, wait and handle sums per group (the covering index; no time parsing)."""
    sql = f"""
        SELECT {expr} AS g, COUNT(*), SUM(state = 'done'), SUM(state = 'no_show'), SUM(transfers),
               SUM(state = 'expired'), SUM(state = 'cancelled'),
               COUNT(wait_min), SUM({rollups.ms("wait_min")}), MAX(wait_min),
               SUM(wait_min <= {target_case} + 1e-9), COUNT(handle_min), SUM({rollups.ms("handle_min")}),
               MAX(handle_min)
        FROM {_TICKETS} WHERE {_RANGE} AND state != 'voided' GROUP BY g
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
        FROM {_TICKETS} WHERE {_RANGE} AND state != 'voided' AND {column} IS NOT NULL GROUP BY g, w
    """  # noqa: S608
    out: dict[str, dict[int, int]] = {}
    for g, w, n in conn.execute(sql, params):
        out.setdefault("" if g is None else str(g), {})[int(w)] = int(n)
    return out


def percentile(hist: dict[int, int], q: float) -> float | None:
    """Nearest-rank percentile (the value at rank ⌈q·n⌉) of a tenths-of-a-minute histogram, in minutes."""
    n = sum(hist.values())
    if n == 0:
        return None
    rank = max(1, math.ceil(q * n - 1e-9))
    seen = 0
    for w in sorted(hist):
        seen += hist[w]
        if seen >= rank:
            return w / 10
    return max(hist) / 10


def _finish(row: Row, hist: dict[int, int], handle_hist: dict[int, int]) -> None:
    wait_ms, within, handle_n, handle_ms = row.sums
    row.wait_mean = _mean_min(wait_ms, row.called)
    row.within_target = within / row.called if row.called else None
    row.handle_mean = _mean_min(handle_ms, handle_n)
    hist, handle_hist = rollups.cap(hist), rollups.cap(handle_hist)
    row.wait_p50 = percentile(hist, 0.5)
    row.wait_p90 = percentile(hist, 0.9)
    row.handle_p50 = percentile(handle_hist, 0.5)
    row.handle_p90 = percentile(handle_hist, 0.9)


def _mean_min(total_ms: int, n: int) -> float | None:
    return total_ms / 60000 / n if n else None


def _attach_ratings(row: Row, counts: dict[int, int]) -> None:
    row.by_score = {s: counts.get(s, 0) for s in SCORE_NAMES}
    row.rated = sum(counts.values())
    row.satisfied = sum(counts.get(s, 0) for s in SATISFIED)


def _merge(into: dict[int, int], more: dict[int, int]) -> None:
    for k, v in more.items():
        into[k] = into.get(k, 0) + v


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


# ---- the report ------------------------------------------------------------------------------------------


def _names(config: HallConfig, by: str, key: str, staff_names: dict[str, str]) -> str:
    if by == "matter":
        m = config.matter_by_code.get(key)
        return m.name if m else key
    if by == "series":
        s = config.series_by_prefix.get(key)
        return s.name if s else key
    if by == "window":
        w = config.window_by_number.get(int(key)) if key.isdigit() else None
        return w.name if w else key
    if by == "clerk":
        return staff_names.get(key, key)
    if by == "hour":
        return f"{int(key):02d}:00" if key.isdigit() else key
    return key


@dataclass(slots=True)
class _Raw:
    """What the queries give, before the figures are worked out (the same from both paths)."""

    groups: list[Row]  # per group key (UTC hour for "hour"), sums not yet finished
    hists: dict[str, dict[int, int]]  # waits per group key, tenths of a minute
    handle_hists: dict[str, dict[int, int]]
    rating_groups: list[tuple[Any, int, int]]  # (group key in the rating dimension, score, count)
    rating_daily: list[tuple[str, int, int]]  # (day, rated, 满意)
    shape: list[tuple[Any, ...]]  # (day, UTC hour, tickets, called, wait sum ms, done, done 即办件)
    outcomes: dict[str, int]
    missing: list[tuple[str, int]]  # top ten, most often first
    estimates: dict[str, Any]
    pauses: list[tuple[int, str, int, int]]  # window, reason, count, µs
    open_us: dict[int, int]
    serving_ms: dict[int, int]
    cases: dict[str, Any]
    staff_names: dict[str, str]


async def build_report(
    read: Reader[Any],
    config: HallConfig,
    span: Span,
    by: str = "matter",
    today: dt.date | None = None,
    now: dt.datetime | None = None,
    *,
    submit: rollups.Submit | None = None,
    live_only: bool = False,
    sync_days: int = rollups.SYNC_BUILD_DAYS,
) -> Report:
    """Every figure of the statistics page for `span`, grouped `by` one of DIMENSIONS.

    Finished days (before `today`) come from their roll-ups, built first when `submit` (the store's writer)
    is given and some are missing; the other days are computed from the rows as the page is drawn.
    When more than `sync_days` finished days are missing (a first report over a long range), this report
    is computed by SQL over the whole range and the roll-ups are built in the background (one chunk at a
    time, leaving a core to the hall), so a first report takes no longer than before roll-ups.
    `live_only` computes everything by SQL over the whole range (the reference the roll-ups are tested
    against)."""
    if by not in DIMENSIONS:
        raise ValueError(f"unknown grouping {by!r}: one of {', '.join(DIMENSIONS)}")
    raw = None if live_only else await _rolled(read, config, span, by, today, now, submit, sync_days)
    if raw is None:
        raw = await _live(read, config, span, by, today, now)
    return _report(config, span, by, raw)


async def _live(
    read: Reader[Any], config: HallConfig, span: Span, by: str, today: dt.date | None, now: dt.datetime | None
) -> _Raw:
    """Every figure by SQL over the whole range."""
    params: dict[str, Any] = {"d0": span.start.isoformat(), "d1": span.end.isoformat()}
    tcase = rollups.target_case(config)
    # Ratings have no series column: group them by matter and fold into the matter's series.
    rdim = "matter" if by == "series" else _DIM_SQL[by]
    immediate = rollups.immediate_list(config)

    def q_groups(conn: sqlite3.Connection) -> list[Row]:
        return _group_rows(conn, _DIM_SQL[by], tcase, params)

    def q_hist(conn: sqlite3.Connection) -> dict[str, dict[int, int]]:
        return _histogram(conn, _DIM_SQL[by], "wait_min", params)

    def q_handle_hist(conn: sqlite3.Connection) -> dict[str, dict[int, int]]:
        return _histogram(conn, _DIM_SQL[by], "handle_min", params)

    def q_ratings(conn: sqlite3.Connection) -> dict[str, Any]:
        groups = conn.execute(
            f"SELECT {rdim} AS g, score, COUNT(*) FROM ratings INDEXED BY ratings_stats"  # noqa: S608
            f" WHERE {_RANGE} GROUP BY g, score",
            params,
        ).fetchall()
        daily = conn.execute(
            "SELECT day, COUNT(*), SUM(score >= 3) FROM ratings INDEXED BY ratings_stats"  # noqa: S608
            f" WHERE {_RANGE} GROUP BY day",
            params,
        ).fetchall()
        return {"groups": groups, "daily": daily}

    def q_shape(conn: sqlite3.Connection) -> list[tuple[Any, ...]]:
        """Per (day, hour): counts and wait sums for the hourly bars and the daily trend."""
        return conn.execute(
            f"""SELECT day, hour_utc, COUNT(*), COUNT(wait_min), SUM({rollups.ms("wait_min")}),
                       SUM(state = 'done'),
                       SUM(state = 'done' AND matter IN ({immediate}))
                FROM {_TICKETS} WHERE {_RANGE} AND state != 'voided' GROUP BY day, hour_utc""",  # noqa: S608
            params,
        ).fetchall()

    lo, _ = rollups.day_bounds(config, span.start)
    _, hi = rollups.day_bounds(config, span.end)

    def q_precheck(conn: sqlite3.Connection) -> dict[str, Any]:
        p = {"lo": rollups.julian(lo), "hi": rollups.julian(hi)}
        outcomes = dict(
            conn.execute(
                "SELECT outcome, COUNT(*) FROM prechecks INDEXED BY prechecks_stats"
                " WHERE at_jd >= :lo AND at_jd < :hi GROUP BY outcome",
                p,
            ).fetchall()
        )
        # Only 容缺 and 不通过 list missing items: read those rows alone.
        missing = conn.execute(
            """SELECT j.value, COUNT(*) AS n FROM prechecks INDEXED BY prechecks_stats,
                      json_each(prechecks.missing) AS j
               WHERE at_jd >= :lo AND at_jd < :hi AND outcome != '通过'
               GROUP BY j.value ORDER BY n DESC, j.value LIMIT 10""",
            p,
        ).fetchall()
        return {"outcomes": outcomes, "missing": missing}

    def q_estimates(conn: sqlite3.Connection) -> dict[str, Any]:
        row = conn.execute(
            f"""SELECT COUNT(*), SUM({rollups.ms("ABS(wait_min - point_min)")}),
                      SUM(wait_min >= low_min AND wait_min <= high_min)
               FROM estimates INDEXED BY estimates_stats
               WHERE {_RANGE} AND wait_min IS NOT NULL AND point_min IS NOT NULL
                 AND low_min IS NOT NULL AND high_min IS NOT NULL""",  # noqa: S608
            params,
        ).fetchone()
        n = int(row[0])
        return {"n": n, "mae": _mean_min(int(row[1] or 0), n), "coverage": (row[2] or 0) / n if n else None}

    def q_windows(conn: sqlite3.Connection) -> dict[str, Any]:
        # Window events are few; the stored time's offset may differ from the hall's, so take days
        # either side by text and clip exactly in Python.
        events = conn.execute(
            "SELECT at, body FROM events WHERE kind = 'window_changed' AND at >= ? AND at < ? ORDER BY seq",
            rollups.event_range(span.start, span.end),
        ).fetchall()
        serving = conn.execute(
            f"SELECT window, SUM({rollups.ms('handle_min')}) FROM {_TICKETS}"  # noqa: S608
            f" WHERE {_RANGE} AND state = 'done'"
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

    (groups, hists, handle_hists, ratings, shape, pre, est, win, cases, staff_names) = await asyncio.gather(
        read(q_groups),
        read(q_hist),
        read(q_handle_hist),
        read(q_ratings),
        read(q_shape),
        read(q_precheck),
        read(q_estimates),
        read(q_windows),
        read(q_cases),
        read(_staff_names),
    )
    pauses, open_us = rollups.window_time(config, span.start, span.end, win["events"], now)
    return _Raw(
        groups=groups,
        hists=hists,
        handle_hists=handle_hists,
        rating_groups=ratings["groups"],
        rating_daily=[(d, int(n), int(s or 0)) for d, n, s in ratings["daily"]],
        shape=shape,
        outcomes=pre["outcomes"],
        missing=pre["missing"],
        estimates=est,
        pauses=pauses,
        open_us=open_us,
        serving_ms={int(k): int(v or 0) for k, v in win["serving"].items() if k is not None},
        cases=_case_figures(config, cases, today),
        staff_names=staff_names,
    )


def _staff_names(conn: sqlite3.Connection) -> dict[str, str]:
    return dict(conn.execute("SELECT code, name FROM staff").fetchall())


#: Live days computed per read call when many days are not rolled up (spread over the read pool).
_LIVE_CHUNK = 31


async def _rolled(
    read: Reader[Any],
    config: HallConfig,
    span: Span,
    by: str,
    today: dt.date | None,
    now: dt.datetime | None,
    submit: rollups.Submit | None,
    sync_days: int,
) -> _Raw | None:
    """Stored roll-ups for the finished days, the same rows computed now for the others, merged; None when
    too many are missing (then built in the background)."""
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
    gdims = list(dict.fromkeys([by, "hour", "window"]))
    rdims = list(dict.fromkeys([rdim, "matter"]))

    def q_stored(conn: sqlite3.Connection) -> tuple[set[str], rollups.Parts]:
        return rollups.read_stored(
            conn, config, span.start, span.end, group_dims=gdims, hist_dims=[by], rating_dims=rdims
        )

    (ready, parts), staff_names = await asyncio.gather(read(q_stored), read(_staff_names))
    live = [d for d in days if d.isoformat() not in ready]
    chunks = [live[i : i + _LIVE_CHUNK] for i in range(0, len(live), _LIVE_CHUNK)]

    def q_live(chunk: list[dt.date]) -> Callable[[sqlite3.Connection], rollups.Parts]:
        return lambda conn: rollups.compute(conn, config, chunk, dims=gdims, hist_dims=[by], now=now)

    for more in await asyncio.gather(*(read(q_live(c)) for c in chunks)):
        parts.extend(more)
    return _from_parts(by, rdim, today, parts, staff_names)


def _from_parts(
    by: str,
    rdim: str,
    today: dt.date | None,
    parts: rollups.Parts,
    staff_names: dict[str, str],
) -> _Raw:
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
                a[8] = _max(a[8], g[11])
                a[12] = _max(a[12], g[15])
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
        )
        row.sums = (a[7], a[9], a[10], a[11])
        groups.append(row)
    hists: dict[str, dict[str, dict[int, int]]] = {"wait": {}, "handle": {}}
    for dim, what, _day, key, blob in parts.hists:
        if dim == by:
            rollups.merge_blob(hists[what].setdefault(key, {}), blob)
    rating_acc: dict[tuple[str, int], int] = {}
    daily_acc: dict[str, list[int]] = {}
    for dim, day, key, score, n in parts.ratings:
        if dim == rdim:
            rating_acc[key, score] = rating_acc.get((key, score), 0) + n
        if dim == "matter":
            d = daily_acc.setdefault(day, [0, 0])
            d[0] += n
            d[1] += n if score >= 3 else 0
    counts: dict[tuple[str, str], list[int]] = {}
    due_open: dict[str, int] = {}
    for kind, _day, key, n, x in parts.counts:
        if kind == "case_open_due":
            due_open[key] = due_open.get(key, 0) + n
            continue
        c = counts.setdefault((kind, key), [0, 0])
        c[0] += n
        c[1] += x

    def count(kind: str, key: str) -> int:
        return counts.get((kind, key), [0, 0])[0]

    outcomes = {k: int(v[0]) for (kind, k), v in counts.items() if kind == "precheck"}
    missing = sorted(
        ((k, int(v[0])) for (kind, k), v in counts.items() if kind == "missing"), key=lambda m: (-m[1], m[0])
    )
    est_n = count("estimate", "")
    est = {
        "n": est_n,
        "mae": _mean_min(counts[("estimate", "")][1], est_n) if est_n else None,
        "coverage": count("estimate", "inside") / est_n if est_n else None,
    }
    pause_list = []
    for (kind, key), v in sorted(counts.items()):
        if kind == "pause":
            w, _, reason = key.partition(rollups.SEP)
            pause_list.append((int(w), reason, v[0], v[1]))
    pause_list.sort(key=lambda p: (p[0], p[1]))
    open_us = {int(k): v[1] for (kind, k), v in counts.items() if kind == "open"}
    closed, on_time = count("case", "closed"), count("case", "on_time")
    named, named_called = count("case", "named"), count("case", "named_called")
    cases = {
        "opened": count("case", "opened"),
        "closed": closed,
        "closed_on_time": on_time,
        "overdue": sum(n for due, n in due_open.items() if today is not None and today.isoformat() > due),
        "on_time_rate": on_time / closed if closed else None,
        "named": named,
        "named_called_back": named_called,
        "callback_rate": named_called / named if named else None,
    }
    return _Raw(
        groups=groups,
        hists=hists["wait"],
        handle_hists=hists["handle"],
        rating_groups=[(k, s, n) for (k, s), n in rating_acc.items()],
        rating_daily=[(d, a[0], a[1]) for d, a in daily_acc.items()],
        shape=[(d, int(h) if h.isdigit() else None, *v) for (d, h), v in shape.items()],
        outcomes=outcomes,
        missing=missing[:10],
        estimates=est,
        pauses=pause_list,
        open_us=open_us,
        serving_ms=serving,
        cases=cases,
        staff_names=staff_names,
    )


def _report(config: HallConfig, span: Span, by: str, raw: _Raw) -> Report:
    """The figures from the raw sums, counts and histograms (either path)."""
    off = _offset_hours(config, span.start)
    groups, hists, handle_hists = raw.groups, raw.hists, raw.handle_hists

    def local(key: str) -> str:
        return str((int(key) + off) % 24) if key.isdigit() else key

    if by == "hour":
        # The index holds the UTC hour; the page shows the hall's.
        for r in groups:
            r.key = local(r.key)
        hists = {local(k): v for k, v in hists.items()}
        handle_hists = {local(k): v for k, v in handle_hists.items()}
    rating_counts: dict[str, dict[int, int]] = {}
    total_counts: dict[int, int] = {}
    for g, score, n in raw.rating_groups:
        key = "" if g is None else str(g)
        if by == "series":
            m = config.matter_by_code.get(key)
            key = m.series if m else key
        elif by == "hour" and key.isdigit():
            key = local(key)
        _merge(rating_counts.setdefault(key, {}), {int(score): int(n)})
        _merge(total_counts, {int(score): int(n)})

    total = Row("", "合计")
    total_hist: dict[int, int] = {}
    total_handle: dict[int, int] = {}
    sums = [0, 0, 0, 0]
    for r in groups:
        r.name = _names(config, by, r.key, raw.staff_names)
        hist = hists.get(r.key, {})
        handle = handle_hists.get(r.key, {})
        _merge(total_hist, hist)
        _merge(total_handle, handle)
        _finish(r, dict(hist), dict(handle))
        _attach_ratings(r, rating_counts.get(r.key, {}))
        total.tickets += r.tickets
        total.served += r.served
        total.no_shows += r.no_shows
        total.transfers += r.transfers
        total.expired += r.expired
        total.cancelled += r.cancelled
        total.called += r.called
        total.wait_max = _max(total.wait_max, r.wait_max)
        total.handle_max = _max(total.handle_max, r.handle_max)
        for i, v in enumerate(r.sums):
            sums[i] += v
    total.sums = (sums[0], sums[1], sums[2], sums[3])
    _finish(total, total_hist, total_handle)
    _attach_ratings(total, total_counts)
    groups.sort(key=lambda r: (int(r.key) if r.key.isdigit() else 10**9, r.key))

    hourly_acc: dict[int, list[int]] = {}
    daily_acc: dict[str, list[int]] = {}
    done = done_immediate = 0
    for day, h, n, nw, wsum, n_done, n_imm in sorted(
        raw.shape, key=lambda s: (s[0], -1 if s[1] is None else s[1])
    ):
        hour = (int(h) + off) % 24 if h is not None else 0
        for acc in (hourly_acc.setdefault(hour, [0, 0, 0]), daily_acc.setdefault(day, [0, 0, 0])):
            acc[0] += n
            acc[1] += nw or 0
            acc[2] += wsum or 0
        done += n_done or 0
        done_immediate += n_imm or 0
    # Every opening hour gets a bar, empty ones too, so days and halls compare at a glance.
    opening = [h for d in config.hall.hours.values() for h in (d.open.hour, d.close.hour)]
    hours = set(hourly_acc) | (set(range(min(opening), max(opening) + 1)) if opening else set())
    hourly = [(h, a[0], _mean_min(a[2], a[1])) for h in sorted(hours) for a in [hourly_acc.get(h, [0, 0, 0])]]
    sat_by_day = {d: (s / n if n else None) for d, n, s in raw.rating_daily}
    daily = [(d, a[0], _mean_min(a[2], a[1]), sat_by_day.get(d)) for d, a in sorted(daily_acc.items())]
    labels = [f"≤{WAIT_BINS[0]}"] + [f"{a}–{b}" for a, b in itertools.pairwise(WAIT_BINS)]
    labels.append(f">{WAIT_BINS[-1]}")
    bins = [0] * len(labels)
    for w, n in total_hist.items():
        bins[bisect.bisect_left(WAIT_BINS, w / 10)] += n
    wait_bins = list(zip(labels, bins, strict=True))

    precheck = {k: int(raw.outcomes.get(k, 0)) for k in ("通过", "容缺", "不通过")}
    material_names = {mat.id: mat.name for m in config.matters for mat in m.precheck.materials} | {
        q.id: q.text for m in config.matters for q in m.precheck.questions
    }
    missing_top = [(mid, material_names.get(mid, mid), int(n)) for mid, n in raw.missing]

    stayed = total.served + total.expired + total.cancelled
    targets = [
        Target(
            "现场办结率",
            "done on the spot",
            config.targets.onsite_rate,
            total.served / stayed if stayed else None,
        ),
        Target(
            "即办件占比",
            "即办件 share",
            config.targets.immediate_share,
            done_immediate / done if done else None,
        ),
        Target("满意率", "satisfaction", config.targets.satisfaction, total.satisfaction),
    ]
    # A window counts when it was open in the range or served in it.
    windows = sorted({n for n, us in raw.open_us.items() if us > 0} | set(raw.serving_ms))
    utilisation = []
    for n in windows:
        om = raw.open_us.get(n, 0) / 60e6
        sm = raw.serving_ms.get(n, 0) / 60000
        utilisation.append((n, om, sm, sm / om if om > 0 else None))
    pauses = [(w, r, n, us / 60e6) for w, r, n, us in raw.pauses]
    return Report(
        span=span,
        by=by,
        total=total,
        rows=groups,
        hourly=hourly,
        daily=daily,
        wait_bins=wait_bins,
        precheck=precheck,
        missing_top=missing_top,
        targets=targets,
        estimates=raw.estimates,
        pauses=pauses,
        utilisation=utilisation,
        cases=raw.cases,
    )


def _case_figures(config: HallConfig, rows: list[tuple[Any, ...]], today: dt.date | None) -> dict[str, Any]:
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
    return {
        "opened": opened,
        "closed": closed,
        "closed_on_time": on_time,
        "overdue": overdue,
        "on_time_rate": on_time / closed if closed else None,
        "named": named,
        "named_called_back": named_called,
        "callback_rate": named_called / named if named else None,
    }


def fmt_min(value: float | None) -> str:
    """Minutes with one decimal ("12.5"), "–" when there is nothing to show."""
    return "–" if value is None else f"{value:.1f}"


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"
