"""The statistics roll-up rows of business days, computed from the tables (migration m004; docs/web.md
"Roll-ups"): per (dimension, key) the counts and sums of the statistics page, 0.1-minute histograms of waits
and handle times, ratings per level, pre-check outcomes and missing materials, estimate errors, pauses and
open time per window, and the 差评 case figures. The SQL pieces are shared with the report's SQL over a
whole range (`stats_live`); `rollups` builds and stores the rows of finished days.

A day's stored rows depend on the config fingerprint too (series targets, 即办件 matters, time zone):
`within target` and the 即办件 share depend on them.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools
import json
import sqlite3
import sys
from array import array
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from hallcore import measures
from hallcore.config import HallConfig, MatterKind

#: Bumped when what is stored changes: every day is rebuilt under the new format. 2: a wait of exactly the
#: target counts as within it (the tolerance of `within_target_sql`). 3: 代办 per outcome ("agent") and the
#: missing items per matter ("missing_matter", key matter SEP item; the hall's top items are their sums, so
#: the old "missing" kind is gone), issue 20. 4: case outcomes per group (kind "outcome_<dim>", key group
#: SEP outcome, n, x = how many of them were 即办件: a report reads its grouping's only), issue 22.
VERSION = 4
#: Group dimensions of the tickets (and the ratings, where `series` is folded from `matter` on reading).
TICKET_DIMS = {
    "matter": "matter",
    "series": "series",
    "window": "window",
    "clerk": "staff",
    "hour": "hour_utc",
}
RATING_DIMS = {"matter": "matter", "window": "window", "clerk": "staff", "hour": "hour_utc"}
HIST_WHAT = {"wait": "wait_min", "handle": "handle_min"}
#: Case outcomes per group of each ticket dimension (a report reads its own grouping's).
OUTCOME_KINDS = {dim: f"outcome_{dim}" for dim in TICKET_DIMS}
#: The day-wide counts every report reads.
BASE_KINDS = (
    "precheck",
    "agent",
    "missing_matter",
    "estimate",
    "pause",
    "open",
    "case",
    "case_open_due",
)
COUNT_KINDS = (*BASE_KINDS, *OUTCOME_KINDS.values())
#: Histogram resolution is 0.1 minute (hallcore.measures.CAP_TENTHS: waits over 24 h share one bucket).
CAP_TENTHS = measures.CAP_TENTHS

_TICKETS = "tickets INDEXED BY tickets_stats"
_DAYS_IN = "day IN (SELECT value FROM json_each(:days))"
SEP = "\x1f"  # between window and reason in a pause key, matter and item in a missing_matter key
US = dt.timedelta(microseconds=1)


def ms(expr: str) -> str:
    """A minutes expression as whole milliseconds: sums of integers merge across days exactly (a float sum
    depends on the order of its terms, and a mean on a 0.05 boundary could round either way)."""
    return f"CAST(ROUND(({expr}) * 60000) AS INTEGER)"


# ---- histograms --------------------------------------------------------------------------------------------


cap = measures.cap_tenths


def encode(hist: dict[int, int]) -> bytes:
    """A histogram as little-endian int32 pairs (tenth, count), tenths ascending."""
    a = array("i", itertools.chain.from_iterable(sorted(cap(dict(hist)).items())))
    if sys.byteorder == "big":
        a.byteswap()
    return a.tobytes()


def merge_blob(into: dict[int, int], blob: bytes) -> None:
    a = array("i")
    a.frombytes(blob)
    if sys.byteorder == "big":
        a.byteswap()
    it = iter(a)
    get = into.get
    for k, n in zip(it, it, strict=True):
        into[k] = get(k, 0) + n


# ---- the rows of some days ------------------------------------------------------------------------------


@dataclass(slots=True)
class Parts:
    """Roll-up rows (stored or computed), every row with its day.

    groups: (dim, day, key, tickets, served, no_shows, transfers, expired, cancelled, called, wait_sum,
             wait_max, within, handle_n, handle_sum, handle_max, done_immediate)
    hists: (dim, what, day, key, blob); ratings: (dim, day, key, score, n); counts: (kind, day, key, n, x)
    """

    groups: list[tuple[Any, ...]] = field(default_factory=list)
    hists: list[tuple[str, str, str, str, bytes]] = field(default_factory=list)
    ratings: list[tuple[str, str, str, int, int]] = field(default_factory=list)
    counts: list[tuple[str, str, str, int, int]] = field(default_factory=list)

    def extend(self, other: Parts) -> None:
        self.groups += other.groups
        self.hists += other.hists
        self.ratings += other.ratings
        self.counts += other.counts


def fingerprint(config: HallConfig) -> str:
    """What stored figures depend on besides the rows: targets, 即办件 matters, time zone, format."""
    parts = {
        "v": VERSION,
        "targets": sorted((s.prefix, int(s.target_wait_min)) for s in config.series),
        "immediate": sorted(m.code for m in config.matters if m.kind is MatterKind.ON_THE_SPOT),
        "tz": config.hall.timezone,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()[:16]


def within_target_sql(config: HallConfig) -> str:
    """`hallcore.measures.within_target` in SQL: the wait is at most its series' target (minutes, config
    ints). julianday() differences are off by up to ~3e-7 min, so a wait of exactly the target (whole-second
    times) would read as over it: the test allows 1e-6 min (60 µs)."""
    whens = " ".join(
        f"WHEN '{s.prefix.replace(chr(39), '')}' THEN {int(s.target_wait_min)}" for s in config.series
    )
    return f"wait_min <= (CASE series {whens} ELSE 30 END) + 1e-6"


def immediate_list(config: HallConfig) -> str:
    codes = ",".join(
        "'" + m.code.replace("'", "''") + "'" for m in config.matters if m.kind is MatterKind.ON_THE_SPOT
    )
    return codes or "''"


#: How the served cases ended (hallcore/caseoutcome.py) per day and group, with how many were 即办件
#: (现场办结率 counts 办结 ÷ (办结 + 受理) over those); tickets finished before outcomes have none.
OUTCOMES = (
    "SELECT day, {col} AS g, outcome, COUNT(*), SUM(matter IN ({imm})) FROM tickets INDEXED BY tickets_stats"
    " WHERE {where} AND state = 'done' AND outcome != '' GROUP BY day, g, outcome"
)


def day_bounds(config: HallConfig, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    tz = ZoneInfo(config.hall.timezone)
    return dt.datetime.combine(day, dt.time(0), tz), dt.datetime.combine(
        day + dt.timedelta(days=1), dt.time(0), tz
    )


def julian(when: dt.datetime) -> float:
    """SQLite's julianday() of an aware time."""
    return when.timestamp() / 86400.0 + 2440587.5


def _key(v: Any) -> str:
    return "" if v is None else str(v)


def compute(
    conn: sqlite3.Connection,
    config: HallConfig,
    days: list[dt.date],
    *,
    dims: Iterable[str] | None = None,
    hist_dims: Iterable[str] | None = None,
    now: dt.datetime | None = None,
) -> Parts:
    """The roll-up rows of `days`, computed from the stored rows (one read transaction).

    `dims` limits the ticket and rating dimensions and `hist_dims` the histograms (a report needs a few; a
    stored roll-up has them all);
    `now` is for a day that is not over (open windows count up to now)."""
    out = Parts()
    if not days:
        return out
    want = set(TICKET_DIMS if dims is None else dims)
    want_hist = set(want if hist_dims is None else hist_dims)
    names = [d.isoformat() for d in days]
    p: dict[str, Any] = {"days": json.dumps(names)}
    within = within_target_sql(config)
    imm = immediate_list(config)
    own = not conn.in_transaction
    if own:
        conn.execute("BEGIN")
    try:
        for dim, col in TICKET_DIMS.items():
            if dim not in want:
                continue
            rows = conn.execute(
                f"""SELECT day, {col} AS g, COUNT(*), SUM(state = 'done'), SUM(state = 'no_show'),
                           SUM(transfers), SUM(state = 'expired'), SUM(state = 'cancelled'),
                           COUNT(wait_min), SUM({ms("wait_min")}), MAX(wait_min),
                           SUM({within}),
                           COUNT(handle_min), SUM({ms("handle_min")}), MAX(handle_min),
                           SUM(state = 'done' AND matter IN ({imm}))
                    FROM {_TICKETS} WHERE {_DAYS_IN} AND state != 'voided' GROUP BY day, g""",  # noqa: S608
                p,
            ).fetchall()
            out.groups += [
                (
                    dim,
                    r[0],
                    _key(r[1]),
                    r[2],
                    r[3] or 0,
                    r[4] or 0,
                    r[5] or 0,
                    r[6] or 0,
                    r[7] or 0,
                    r[8],
                    r[9] or 0,
                    r[10],
                    r[11] or 0,
                    r[12],
                    r[13] or 0,
                    r[14],
                    r[15] or 0,
                )
                for r in rows
            ]
            out.counts += [
                (OUTCOME_KINDS[dim], day, f"{_key(g)}{SEP}{outcome}", int(n), int(n_imm or 0))
                for day, g, outcome, n, n_imm in conn.execute(
                    OUTCOMES.format(col=col, imm=imm, where=_DAYS_IN), p
                )
            ]
            for what, vcol in HIST_WHAT.items():
                if dim not in want_hist:
                    break
                hists: dict[tuple[str, str], dict[int, int]] = {}
                for day, g, w, n in conn.execute(
                    f"""SELECT day, {col} AS g, CAST(ROUND({vcol} * 10) AS INTEGER) AS w, COUNT(*)
                        FROM {_TICKETS} WHERE {_DAYS_IN} AND state != 'voided' AND {vcol} IS NOT NULL
                        GROUP BY day, g, w""",  # noqa: S608
                    p,
                ):
                    hists.setdefault((day, _key(g)), {})[int(w)] = int(n)
                out.hists += [(dim, what, day, key, encode(h)) for (day, key), h in hists.items()]
        # Ratings by matter are always there: the series figures and the daily 满意率 come from them.
        for dim, col in RATING_DIMS.items():
            if dim not in want and dim != "matter":
                continue
            out.ratings += [
                (dim, day, _key(g), int(score), int(n))
                for day, g, score, n in conn.execute(
                    f"SELECT day, {col} AS g, score, COUNT(*) FROM ratings INDEXED BY ratings_stats"  # noqa: S608
                    f" WHERE {_DAYS_IN} GROUP BY day, g, score",
                    p,
                )
            ]
        for day, n, err, inside in conn.execute(
            f"""SELECT day, COUNT(*), SUM({ms("ABS(wait_min - point_min)")}),
                       SUM(wait_min >= low_min AND wait_min <= high_min)
                FROM estimates INDEXED BY estimates_stats
                WHERE {_DAYS_IN} AND wait_min IS NOT NULL AND point_min IS NOT NULL
                  AND low_min IS NOT NULL AND high_min IS NOT NULL GROUP BY day""",  # noqa: S608
            p,
        ):
            out.counts.append(("estimate", day, "", int(n), int(err or 0)))
            out.counts.append(("estimate", day, "inside", int(inside or 0), 0))
        _prechecks(conn, config, days, out)
        _windows(conn, config, days, out, now)
        _cases(conn, config, p, out)
    finally:
        if own:
            conn.execute("COMMIT")
    return out


#: Pre-check outcomes with how many were 代办, and the missing items per matter, over [:lo, :hi) in julian
#: days (the roll-ups per day and the live statistics read the same).
PRECHECK_OUTCOMES = (
    "SELECT outcome, COUNT(*), SUM(agent) FROM prechecks INDEXED BY prechecks_stats"
    " WHERE at_jd >= :lo AND at_jd < :hi GROUP BY outcome"
)
# Only 容缺 and 不通过 list missing items: read those rows alone.
PRECHECK_MISSING = """
    SELECT prechecks.matter, j.value, COUNT(*) FROM prechecks INDEXED BY prechecks_stats,
           json_each(prechecks.missing) AS j
    WHERE at_jd >= :lo AND at_jd < :hi AND outcome != '通过' GROUP BY prechecks.matter, j.value"""


def _prechecks(conn: sqlite3.Connection, config: HallConfig, days: list[dt.date], out: Parts) -> None:
    for day in days:
        lo, hi = day_bounds(config, day)
        b = {"lo": julian(lo), "hi": julian(hi)}
        d = day.isoformat()
        for outcome, n, agent in conn.execute(PRECHECK_OUTCOMES, b):
            out.counts.append(("precheck", d, str(outcome), int(n), 0))
            if agent:
                out.counts.append(("agent", d, str(outcome), int(agent), 0))
        for matter, mid, n in conn.execute(PRECHECK_MISSING, b):
            out.counts.append(("missing_matter", d, f"{matter}{SEP}{_key(mid)}", int(n), 0))


def _windows(
    conn: sqlite3.Connection,
    config: HallConfig,
    days: list[dt.date],
    out: Parts,
    now: dt.datetime | None,
) -> None:
    """Pauses and open time per window of each day (the day's own figure, as the day's page shows it)."""
    first, last = min(days), max(days)
    events = conn.execute(
        "SELECT at, body FROM events WHERE kind = 'window_changed' AND at >= ? AND at < ? ORDER BY seq",
        event_range(first, last),
    ).fetchall()
    for day in days:
        a, b = event_range(day, day)
        mine = [e for e in events if a <= e[0] < b]
        pauses, open_us = window_time(config, day, day, mine, now)
        d = day.isoformat()
        out.counts += [("pause", d, f"{w}{SEP}{r}", n, us) for w, r, n, us in pauses]
        out.counts += [("open", d, str(w), 0, us) for w, us in open_us.items()]


def _cases(conn: sqlite3.Connection, config: HallConfig, p: dict[str, Any], out: Parts) -> None:
    tz = ZoneInfo(config.hall.timezone)
    acc: dict[tuple[str, str, str], int] = {}
    for day, state, due_text, closed_at, steps_text, has_phone in conn.execute(
        """SELECT substr(c.ticket, 1, 10) AS d, c.state, c.due, c.closed_at, c.steps,
                  k.phone IS NOT NULL AND k.phone != ''
           FROM cases c LEFT JOIN case_contacts k ON k.case_id = c.id
           WHERE d IN (SELECT value FROM json_each(:days))""",
        p,
    ):
        due = dt.date.fromisoformat(due_text)
        keys = ["opened"]
        if closed_at:
            keys.append("closed")
            if dt.datetime.fromisoformat(closed_at).astimezone(tz).date() <= due:
                keys.append("on_time")
        elif state != "closed":
            acc["case_open_due", day, due.isoformat()] = (
                acc.get(("case_open_due", day, due.isoformat()), 0) + 1
            )
        if has_phone:
            keys.append("named")
            if any(s[0] == "callback" for s in json.loads(steps_text)):
                keys.append("named_called")
        for k in keys:
            acc["case", day, k] = acc.get(("case", day, k), 0) + 1
    out.counts += [(kind, day, key, n, 0) for (kind, day, key), n in acc.items()]


# ---- pauses and open time --------------------------------------------------------------------------------


def event_range(start: dt.date, end: dt.date) -> tuple[str, str]:
    """Text bounds of the window events that can count in start..end, whatever UTC offset they were stored
    with: from two days before (a window opened the evening before, stored in UTC) to two days after."""
    return (start - dt.timedelta(days=2)).isoformat(), (end + dt.timedelta(days=2)).isoformat()


def window_time(
    config: HallConfig,
    start: dt.date,
    end: dt.date,
    events: list[tuple[str, str]],
    now: dt.datetime | None,
) -> tuple[list[tuple[int, str, int, int]], dict[int, int]]:
    """Pauses by reason and open time per window over start..end, from window events (clipped to it).

    `events` are those of `event_range` (any after the range's end are ignored). A pause counts
    in the range it starts in; its time, and open time, are clipped to the range, in whole microseconds
    (integers: the days of a range add up exactly). A window still open
    or paused at the end of the data counts up to `now` (a range that includes today) or the range's end."""
    lo, _ = day_bounds(config, start)
    _, hi = day_bounds(config, end)
    opened: dict[int, dt.datetime] = {}
    paused: dict[int, tuple[dt.datetime, str]] = {}
    open_us: dict[int, int] = {}
    pause_acc: dict[tuple[int, str], list[int]] = {}

    def clip(a: dt.datetime, b: dt.datetime) -> int:
        a, b = max(a, lo), min(b, hi)
        return max(0, (b - a) // US)

    last = lo
    for at_text, body in events:
        at = dt.datetime.fromisoformat(at_text)
        if at >= hi:
            continue  # after the range: it cannot add minutes to it
        last = max(last, at)
        ev = json.loads(body)
        w = ev["window"]
        n = int(w["number"])
        action = ev.get("action", "")
        if action == "opened" and n not in opened:
            opened[n] = at
        elif action == "closed" and n in opened:
            open_us[n] = open_us.get(n, 0) + clip(opened.pop(n), at)
        if action == "paused":
            paused[n] = (at, w.get("pause_reason", "") or "")
        elif action in ("resumed", "closed") and n in paused:
            since, reason = paused.pop(n)
            a = pause_acc.setdefault((n, reason), [0, 0])
            if lo <= since < hi:
                a[0] += 1
            a[1] += clip(since, at)
    until = min(hi, max(last, now)) if now is not None else hi
    for n, since in opened.items():
        open_us[n] = open_us.get(n, 0) + clip(since, until)
    for n, (since, reason) in paused.items():
        a = pause_acc.setdefault((n, reason), [0, 0])
        a[0] += 1 if lo <= since < hi else 0
        a[1] += clip(since, until)
    pauses = [(n, r, a[0], a[1]) for (n, r), a in sorted(pause_acc.items()) if a[0] or a[1]]
    return pauses, open_us
