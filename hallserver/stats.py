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

from hallcore.config import HallConfig, MatterKind
from hallcore.model import SCORE_NAMES

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
    rated: int = 0
    satisfied: int = 0
    by_score: dict[int, int] = field(default_factory=dict)
    # (wait sum, within-target count, handle count, handle sum): summed across groups for the total.
    sums: tuple[float, int, int, float] = (0.0, 0, 0, 0.0)

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


def _julian(when: dt.datetime) -> float:
    """SQLite's julianday() of an aware time (for range bounds on the indexed `at_jd`)."""
    return when.timestamp() / 86400.0 + 2440587.5


def _target_case(config: HallConfig) -> str:
    """`CASE series WHEN 'A' THEN 20 … END`: each series' target wait in minutes (config values, ints)."""
    whens = " ".join(
        f"WHEN '{s.prefix.replace(chr(39), '')}' THEN {int(s.target_wait_min)}" for s in config.series
    )
    return f"CASE series {whens} ELSE 30 END"


#: Group expressions over the covering index `tickets_stats` (and `ratings_stats`: same column names).
_DIM_SQL = {"matter": "matter", "series": "series", "window": "window", "clerk": "staff", "hour": "hour_utc"}
_TICKETS = "tickets INDEXED BY tickets_stats"
_RANGE = "day BETWEEN :d0 AND :d1"


def _group_rows(conn: sqlite3.Connection, expr: str, target_case: str, params: dict[str, Any]) -> list[Row]:
    """Counts, wait and handle sums per group (the covering index; no time parsing)."""
    sql = f"""
        SELECT {expr} AS g, COUNT(*), SUM(state = 'done'), SUM(state = 'no_show'), SUM(transfers),
               SUM(state = 'expired'), SUM(state = 'cancelled'),
               COUNT(wait_min), SUM(wait_min), MAX(wait_min),
               SUM(wait_min <= {target_case} + 1e-9), COUNT(handle_min), SUM(handle_min)
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
        )
        row.sums = (r[8] or 0.0, r[10] or 0, r[11] or 0, r[12] or 0.0)
        out.append(row)
    return out


def _wait_histogram(conn: sqlite3.Connection, expr: str, params: dict[str, Any]) -> dict[str, dict[int, int]]:
    """Waits per group counted in tenths of a minute: the resolution the page shows.

    Rounding is monotone, so the nearest-rank percentile of the rounded waits is the rounded percentile
    of the real waits: exact as displayed, without sorting every wait."""
    sql = f"""
        SELECT {expr} AS g, CAST(ROUND(wait_min * 10) AS INTEGER) AS w, COUNT(*)
        FROM {_TICKETS} WHERE {_RANGE} AND state != 'voided' AND wait_min IS NOT NULL GROUP BY g, w
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


def _finish(row: Row, hist: dict[int, int]) -> None:
    wait_sum, within, handle_n, handle_sum = row.sums
    row.wait_mean = wait_sum / row.called if row.called else None
    row.within_target = within / row.called if row.called else None
    row.handle_mean = handle_sum / handle_n if handle_n else None
    row.wait_p50 = percentile(hist, 0.5)
    row.wait_p90 = percentile(hist, 0.9)


def _attach_ratings(row: Row, counts: dict[int, int]) -> None:
    row.by_score = {s: counts.get(s, 0) for s in SCORE_NAMES}
    row.rated = sum(counts.values())
    row.satisfied = sum(counts.get(s, 0) for s in SATISFIED)


def _merge(into: dict[int, int], more: dict[int, int]) -> None:
    for k, v in more.items():
        into[k] = into.get(k, 0) + v


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


async def build_report(
    read: Reader[Any],
    config: HallConfig,
    span: Span,
    by: str = "matter",
    today: dt.date | None = None,
    now: dt.datetime | None = None,
) -> Report:
    """Every figure of the statistics page for `span`, grouped `by` one of DIMENSIONS."""
    if by not in DIMENSIONS:
        raise ValueError(f"unknown grouping {by!r}: one of {', '.join(DIMENSIONS)}")
    params: dict[str, Any] = {"d0": span.start.isoformat(), "d1": span.end.isoformat()}
    off = _offset_hours(config, span.start)
    tz = ZoneInfo(config.hall.timezone)
    tcase = _target_case(config)
    # Ratings have no series column: group them by matter and fold into the matter's series.
    rdim = "matter" if by == "series" else _DIM_SQL[by]
    immediate = ",".join(
        "'" + m.code.replace("'", "''") + "'" for m in config.matters if m.kind is MatterKind.ON_THE_SPOT
    )

    def q_groups(conn: sqlite3.Connection) -> list[Row]:
        return _group_rows(conn, _DIM_SQL[by], tcase, params)

    def q_hist(conn: sqlite3.Connection) -> dict[str, dict[int, int]]:
        return _wait_histogram(conn, _DIM_SQL[by], params)

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
            f"""SELECT day, hour_utc, COUNT(*), COUNT(wait_min), SUM(wait_min), SUM(state = 'done'),
                       SUM(state = 'done' AND matter IN ({immediate or "''"}))
                FROM {_TICKETS} WHERE {_RANGE} AND state != 'voided' GROUP BY day, hour_utc""",  # noqa: S608
            params,
        ).fetchall()

    lo = _julian(dt.datetime.combine(span.start, dt.time(0), tz))
    hi = _julian(dt.datetime.combine(span.end + dt.timedelta(days=1), dt.time(0), tz))

    def q_precheck(conn: sqlite3.Connection) -> dict[str, Any]:
        p = {"lo": lo, "hi": hi}
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
            f"""SELECT COUNT(*), AVG(ABS(wait_min - point_min)),
                      AVG(wait_min >= low_min AND wait_min <= high_min)
               FROM estimates INDEXED BY estimates_stats
               WHERE {_RANGE} AND wait_min IS NOT NULL AND point_min IS NOT NULL
                 AND low_min IS NOT NULL AND high_min IS NOT NULL""",  # noqa: S608
            params,
        ).fetchone()
        return {"n": row[0], "mae": row[1], "coverage": row[2]}

    def q_windows(conn: sqlite3.Connection) -> dict[str, Any]:
        # Window events are few; the stored time's offset may differ from the hall's, so take a day
        # either side by text and clip exactly in Python.
        events = conn.execute(
            "SELECT at, body FROM events WHERE kind = 'window_changed' AND at >= ? AND at < ? ORDER BY seq",
            ((span.start - dt.timedelta(days=1)).isoformat(), (span.end + dt.timedelta(days=2)).isoformat()),
        ).fetchall()
        serving = conn.execute(
            f"SELECT window, SUM(handle_min) FROM {_TICKETS} WHERE {_RANGE} AND state = 'done'"  # noqa: S608
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

    def q_staff(conn: sqlite3.Connection) -> dict[str, str]:
        return dict(conn.execute("SELECT code, name FROM staff").fetchall())

    (groups, hists, ratings, shape, pre, est, win, cases, staff_names) = await asyncio.gather(
        read(q_groups),
        read(q_hist),
        read(q_ratings),
        read(q_shape),
        read(q_precheck),
        read(q_estimates),
        read(q_windows),
        read(q_cases),
        read(q_staff),
    )
    if by == "hour":
        # The index holds the UTC hour; the page shows the hall's.
        for r in groups:
            r.key = str((int(r.key) + off) % 24) if r.key.isdigit() else r.key
        hists = {str((int(k) + off) % 24) if k.isdigit() else k: v for k, v in hists.items()}
    rating_counts: dict[str, dict[int, int]] = {}
    total_counts: dict[int, int] = {}
    for g, score, n in ratings["groups"]:
        key = "" if g is None else str(g)
        if by == "series":
            m = config.matter_by_code.get(key)
            key = m.series if m else key
        elif by == "hour" and key.isdigit():
            key = str((int(key) + off) % 24)
        _merge(rating_counts.setdefault(key, {}), {int(score): int(n)})
        _merge(total_counts, {int(score): int(n)})

    total = Row("", "合计")
    total_hist: dict[int, int] = {}
    sums = [0.0, 0, 0, 0.0]
    for r in groups:
        r.name = _names(config, by, r.key, staff_names)
        hist = hists.get(r.key, {})
        _merge(total_hist, hist)
        _finish(r, hist)
        _attach_ratings(r, rating_counts.get(r.key, {}))
        total.tickets += r.tickets
        total.served += r.served
        total.no_shows += r.no_shows
        total.transfers += r.transfers
        total.expired += r.expired
        total.cancelled += r.cancelled
        total.called += r.called
        if r.wait_max is not None:
            total.wait_max = max(total.wait_max or 0.0, r.wait_max)
        for i, v in enumerate(r.sums):
            sums[i] += v
    total.sums = (float(sums[0]), int(sums[1]), int(sums[2]), float(sums[3]))
    _finish(total, total_hist)
    _attach_ratings(total, total_counts)
    groups.sort(key=lambda r: (int(r.key) if r.key.isdigit() else 10**9, r.key))

    hourly_acc: dict[int, list[float]] = {}
    daily_acc: dict[str, list[float]] = {}
    done = done_immediate = 0
    for day, h, n, nw, wsum, n_done, n_imm in shape:
        hour = (int(h) + off) % 24 if h is not None else 0
        for acc in (hourly_acc.setdefault(hour, [0, 0, 0.0]), daily_acc.setdefault(day, [0, 0, 0.0])):
            acc[0] += n
            acc[1] += nw or 0
            acc[2] += wsum or 0.0
        done += n_done or 0
        done_immediate += n_imm or 0
    # Every opening hour gets a bar, empty ones too, so days and halls compare at a glance.
    opening = [h for d in config.hall.hours.values() for h in (d.open.hour, d.close.hour)]
    hours = set(hourly_acc) | (set(range(min(opening), max(opening) + 1)) if opening else set())
    hourly = [
        (h, int(a[0]), a[2] / a[1] if a[1] else None)
        for h in sorted(hours)
        for a in [hourly_acc.get(h, [0, 0, 0.0])]
    ]
    sat_by_day = {d: (s / n if n else None) for d, n, s in ratings["daily"]}
    daily = [
        (d, int(a[0]), a[2] / a[1] if a[1] else None, sat_by_day.get(d)) for d, a in sorted(daily_acc.items())
    ]
    labels = [f"≤{WAIT_BINS[0]}"] + [f"{a}–{b}" for a, b in itertools.pairwise(WAIT_BINS)]
    labels.append(f">{WAIT_BINS[-1]}")
    bins = [0] * len(labels)
    for w, n in total_hist.items():
        bins[bisect.bisect_left(WAIT_BINS, w / 10)] += n
    wait_bins = list(zip(labels, bins, strict=True))

    outcomes = pre["outcomes"]
    precheck = {k: int(outcomes.get(k, 0)) for k in ("通过", "容缺", "不通过")}
    material_names = {mat.id: mat.name for m in config.matters for mat in m.precheck.materials} | {
        q.id: q.text for m in config.matters for q in m.precheck.questions
    }
    missing_top = [(mid, material_names.get(mid, mid), int(n)) for mid, n in pre["missing"]]

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
    pauses, utilisation = _window_time(config, span, win["events"], win["serving"], now)
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
        estimates=est,
        pauses=pauses,
        utilisation=utilisation,
        cases=_case_figures(config, cases, today),
    )


def _window_time(
    config: HallConfig,
    span: Span,
    events: list[tuple[str, str]],
    serving: dict[int, float],
    now: dt.datetime | None,
) -> tuple[list[tuple[int, str, int, float]], list[tuple[int, float, float, float | None]]]:
    """Pauses by reason and open time per window, from the window events of the range (clipped to it)."""
    tz = ZoneInfo(config.hall.timezone)
    lo = dt.datetime.combine(span.start, dt.time(0), tz)
    hi = dt.datetime.combine(span.end + dt.timedelta(days=1), dt.time(0), tz)
    opened: dict[int, dt.datetime] = {}
    paused: dict[int, tuple[dt.datetime, str]] = {}
    open_min: dict[int, float] = {}
    pause_acc: dict[tuple[int, str], list[float]] = {}

    def clip(a: dt.datetime, b: dt.datetime) -> float:
        a, b = max(a, lo), min(b, hi)
        return max(0.0, (b - a).total_seconds() / 60)

    last = lo
    for at_text, body in events:
        at = dt.datetime.fromisoformat(at_text)
        last = max(last, at)
        ev = json.loads(body)
        w = ev["window"]
        n = int(w["number"])
        action = ev.get("action", "")
        if action in ("opened",) and n not in opened:
            opened[n] = at
        elif action == "closed" and n in opened:
            open_min[n] = open_min.get(n, 0.0) + clip(opened.pop(n), at)
        if action == "paused":
            paused[n] = (at, w.get("pause_reason", "") or "")
        elif action in ("resumed", "closed") and n in paused:
            start, reason = paused.pop(n)
            a = pause_acc.setdefault((n, reason), [0, 0.0])
            if start >= lo and start < hi:
                a[0] += 1
            a[1] += clip(start, at)
    # Still open or paused at the end of the data: count up to now (a range that includes today) or to
    # the range's end (a window left open overnight in the data).
    end = min(hi, max(last, now)) if now is not None else hi
    for n, since in opened.items():
        open_min[n] = open_min.get(n, 0.0) + clip(since, end)
    for n, (since, reason) in paused.items():
        a = pause_acc.setdefault((n, reason), [0, 0.0])
        a[0] += 1 if lo <= since < hi else 0
        a[1] += clip(since, end)
    pauses = [(n, r, int(a[0]), a[1]) for (n, r), a in sorted(pause_acc.items()) if a[0] or a[1]]
    windows = sorted(set(open_min) | {int(k) for k in serving if k is not None})
    util = []
    for n in windows:
        om = open_min.get(n, 0.0)
        sm = float(serving.get(n) or 0.0)
        util.append((n, om, sm, sm / om if om > 0 else None))
    return pauses, util


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
