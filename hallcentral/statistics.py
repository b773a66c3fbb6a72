"""Statistics across halls and periods, from the roll-ups (docs/central.md "Statistics and roll-ups").

`table(pool, scope, span, by)` answers one statistics table for the halls in a region subtree: a line per
hall, child region, day, department, matter, series, window, clerk or hour, and the total. One SQL statement
reads the stored roll-ups of the ready (hall, day) pairs and counts the other pairs of the span from the rows
(`rollups.live_ctes`), in one snapshot, so a day is never counted twice or missed while it is being built;
sums and histograms are merged per line in SQL, and the figures are worked out here with the hall's
definitions (hallcore.measures).

Windows and clerks belong to a hall (their key is "hall/number", "hall/code"); matters, series, departments
and hours are keyed by the hall's own codes, so the same department code in two halls is one line.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncConnection

from hallcentral.overview import scope_param
from hallcentral.rollups import COUNTS_SELECT, STAT_COLS, live_ctes
from hallcore import measures
from hallcore.model import BAD_SCORES
from hallcore.periods import Span

#: How a table can be grouped, and the roll-up dimension each reads.
GROUPINGS: dict[str, str] = {
    "hall": "hall",
    "region": "hall",
    "day": "hall",
    "department": "department",
    "matter": "matter",
    "series": "series",
    "window": "window",
    "clerk": "clerk",
    "hour": "hour",
}
GROUPING_NAMES = {
    "hall": "大厅",
    "region": "下级地区",
    "day": "日期",
    "department": "部门",
    "matter": "事项",
    "series": "业务类别",
    "window": "窗口",
    "clerk": "工作人员",
    "hour": "时段",
}
#: Groupings that carry per-hall figures of their own (cases, pre-checks): the others show them in the total.
_HALL_LEVEL = ("hall", "region", "day")

#: The columns of a roll-up row that add up across days and halls (the rest: maxima and histograms).
_SUMS = tuple(c for c in STAT_COLS if not c.endswith(("_max", "_b", "_c")))


@dataclass(slots=True)
class Line:
    """One line of a statistics table: the hall's figures (hallserver/stats.py `Row`) for a group."""

    key: str
    name: str
    hall_id: str = ""  # the hall of a hall, window or clerk line
    sums: dict[str, int] = field(default_factory=dict)
    wait_max: float | None = None
    handle_max: float | None = None
    wait_hist: dict[int, int] = field(default_factory=dict)
    handle_hist: dict[int, int] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)  # case:opened … outcome:办结 … precheck:通过 …
    overdue: int = 0

    def add(self, other: Line) -> None:
        for k, v in other.sums.items():
            self.sums[k] = self.sums.get(k, 0) + v
        self.wait_max = _max(self.wait_max, other.wait_max)
        self.handle_max = _max(self.handle_max, other.handle_max)
        _merge(self.wait_hist, other.wait_hist)
        _merge(self.handle_hist, other.handle_hist)
        _merge(self.counts, other.counts)
        self.overdue += other.overdue

    def n(self, name: str) -> int:
        return self.sums.get(name, 0)

    @property
    def by_score(self) -> dict[int, int]:
        return {s: self.n(f"s{s}") for s in (5, 4, 3, 2, 1)}

    @property
    def rated(self) -> int:
        return sum(self.by_score.values())

    def figures(self) -> dict[str, Any]:
        """Every figure of the line, by the hall's definitions (None: nothing to show)."""
        n = self.n
        by_score = self.by_score
        opened = self.counts.get("case:opened", 0)
        closed = self.counts.get("case:closed", 0)
        return {
            "key": self.key,
            "name": self.name,
            "hall_id": self.hall_id,
            "tickets": n("tickets"),
            "served": n("served"),
            "no_shows": n("no_shows"),
            "transfers": n("transfers"),
            "expired": n("expired"),
            "cancelled": n("cancelled"),
            "called": n("called"),
            "wait_mean": _mean_min(n("wait_sum_ms"), n("called")),
            "wait_p50": measures.percentile_tenths(self.wait_hist, 0.5),
            "wait_p90": measures.percentile_tenths(self.wait_hist, 0.9),
            "wait_max": self.wait_max,
            "within_target": measures.share(n("within"), n("called")),
            "handle_mean": _mean_min(n("handle_sum_ms"), n("handle_n")),
            "handle_p50": measures.percentile_tenths(self.handle_hist, 0.5),
            "handle_p90": measures.percentile_tenths(self.handle_hist, 0.9),
            "handle_max": self.handle_max,
            "rated": self.rated,
            "by_score": by_score,
            "satisfaction": measures.satisfaction(by_score),
            "participation": measures.participation(self.rated, n("served")),
            "bad": sum(by_score[s] for s in BAD_SCORES),
            "onsite_rate": measures.onsite_rate_outcomes(n("onsite_done"), n("onsite_accepted")),
            "immediate_share": measures.share(n("done_immediate"), n("served")),
            "cases_opened": opened,
            "cases_closed": closed,
            "cases_on_time_rate": measures.share(self.counts.get("case:on_time", 0), closed),
            "cases_overdue": self.overdue,
            "outcomes": {k[8:]: v for k, v in sorted(self.counts.items()) if k.startswith("outcome:")},
            "prechecks": {k[9:]: v for k, v in sorted(self.counts.items()) if k.startswith("precheck:")},
        }


def _mean_min(total_ms: int, n: int) -> float | None:
    """A mean in minutes from a sum of whole milliseconds (the hall's `mean_min`: sums merge exactly)."""
    return measures.mean(total_ms / 60000, n)


def _max(a: float | None, b: float | None) -> float | None:
    return b if a is None else a if b is None else max(a, b)


def _merge(into: dict[Any, int], more: dict[Any, int]) -> None:
    for k, v in more.items():
        into[k] = into.get(k, 0) + v


@dataclass(frozen=True, slots=True)
class ScopeHall:
    hall_id: str
    name: str
    region_id: str
    region: str
    path: str
    today: dt.date | None


@dataclass(slots=True)
class Table:
    region_id: str
    region: str
    span: Span
    by: str
    lines: list[Line]
    total: Line
    halls: int
    missing_top: list[tuple[str, int]]  # (material id, count) over the scope, most often first
    material_names: dict[str, str]  # material id -> name, from the halls' profiles


async def scope_halls(conn: AsyncConnection[Any], path: str, hall_id: str = "") -> list[ScopeHall]:
    """The approved halls under the region path, or the one hall `hall_id` if it is under it (the caller
    checked the user may see the path)."""
    cur = await conn.execute(
        "SELECT h.hall_id, h.name, r.id, r.name, r.path, h.today FROM halls h JOIN regions r"
        " ON r.id = h.region_id WHERE h.state = 'approved' AND r.path LIKE %s"
        " AND (%s = '' OR h.hall_id = %s) ORDER BY r.path, h.name, h.hall_id",
        (scope_param(path), hall_id, hall_id),
    )
    return [ScopeHall(*row) for row in await cur.fetchall()]


def _group_of(by: str, hall: ScopeHall, path: str, region_id: str) -> str:
    """hall -> its line's key for the groupings read from the hall row (hall, region)."""
    if by == "hall":
        return hall.hall_id
    if by == "region":
        # The child of the chosen region on the hall's path (or the region itself for halls right in it).
        rest = hall.path[len(path) :].strip("/").split("/")
        return rest[0] if rest and rest[0] else region_id
    return ""


_GROUP_EXPR = {
    "hall": "gm.grp",
    "region": "gm.grp",
    "day": "x.day::text",
    "department": "x.key",
    "matter": "x.key",
    "series": "x.key",
    "hour": "x.key",
    "window": "x.hall_id || '/' || x.key",
    "clerk": "x.hall_id || '/' || x.key",
}

#: The (hall, day) pairs of the span: `ready` (rolled up), split into `mready` (hall months inside the span
#: whose month rows merged exactly the month's ready days: read from month_stats) and `dready` (the other
#: ready days: read from day_stats), and `want` (not rolled up: counted live). With %(months)s false (a table
#: by day) every ready day is read from its day rows. MATERIALIZED: the few pairs drive the joins into the
#: roll-up tables (inlined, the planner scanned a month of day rows to find none were needed).
_SPAN_CTES = """
    span AS (SELECT h AS hall_id, d::date AS day FROM unnest(%(halls)s::text[]) AS h,
             generate_series(%(d0)s::date, %(d1)s::date, interval '1 day') AS d),
    ready AS MATERIALIZED (SELECT hall_id, day FROM rollup_days
              WHERE hall_id = ANY(%(halls)s) AND day BETWEEN %(d0)s AND %(d1)s),
    want AS MATERIALIZED (SELECT hall_id, day FROM span EXCEPT SELECT hall_id, day FROM ready),
    full_months AS (SELECT m::date AS month FROM generate_series(date_trunc('month', %(d0)s::date),
                    %(d1)s::date, interval '1 month') AS m
                    WHERE %(months)s AND m::date >= %(d0)s AND (m + interval '1 month')::date - 1 <= %(d1)s),
    ready_months AS (SELECT hall_id, date_trunc('month', day)::date AS month,
                     array_agg(day ORDER BY day) AS days FROM ready GROUP BY 1, 2),
    mready AS MATERIALIZED (SELECT m.hall_id, m.month FROM rollup_months m JOIN full_months USING (month)
               JOIN ready_months r USING (hall_id, month)
               WHERE m.hall_id = ANY(%(halls)s) AND m.days = r.days),
    dready AS MATERIALIZED (SELECT r.hall_id, r.day FROM ready r WHERE NOT EXISTS (SELECT 1 FROM mready m
               WHERE m.hall_id = r.hall_id AND m.month = date_trunc('month', r.day)::date)),
    gm AS (SELECT * FROM unnest(%(halls)s::text[], %(groups)s::text[]) AS m(hall_id, grp))
"""


def stats_sql(by: str, hists: bool = True) -> str:
    """The lines' sums and maxima, and with `hists` their merged wait and handle histograms (the percentiles:
    a ranking does without them, and they are most of a wide query's work)."""
    dim = GROUPINGS[by]
    cols = ", ".join(STAT_COLS)
    sums = ", ".join(f"sum({c})::bigint" for c in _SUMS)
    merged = """,
    w_bins AS (SELECT g, b, sum(c)::bigint AS c FROM rows, unnest(wait_b, wait_c) AS u(b, c) GROUP BY g, b),
    w_hist AS (SELECT g, array_agg(b ORDER BY b) AS wb, array_agg(c ORDER BY b) AS wc FROM w_bins GROUP BY g),
    h_bins AS (SELECT g, b, sum(c)::bigint AS c FROM rows, unnest(handle_b, handle_c) AS u(b, c)
               GROUP BY g, b),
    h_hist AS (SELECT g, array_agg(b ORDER BY b) AS hb, array_agg(c ORDER BY b) AS hc FROM h_bins GROUP BY g)
    SELECT sums.*, w_hist.wb, w_hist.wc, h_hist.hb, h_hist.hc
    FROM sums LEFT JOIN w_hist USING (g) LEFT JOIN h_hist USING (g)"""
    plain = """
    SELECT sums.*, NULL::int[], NULL::bigint[], NULL::int[], NULL::bigint[] FROM sums"""
    return f"""
    WITH {_SPAN_CTES}, {live_ctes([dim])},
    rows AS (
        SELECT {_GROUP_EXPR[by]} AS g, x.* FROM (
            SELECT s.hall_id, s.dim, s.month AS day, s.key, {", ".join("s." + c for c in STAT_COLS)}
            FROM month_stats s JOIN mready USING (hall_id, month) WHERE s.dim = %(dim)s
            UNION ALL
            SELECT s.hall_id, s.dim, s.day, s.key, {", ".join("s." + c for c in STAT_COLS)}
            FROM day_stats s JOIN dready USING (hall_id, day)
            WHERE s.hall_id = ANY(%(halls)s) AND s.dim = %(dim)s AND s.day BETWEEN %(d0)s AND %(d1)s
            UNION ALL SELECT hall_id, dim, day, key, {cols} FROM live
        ) x JOIN gm USING (hall_id)
    ),
    sums AS (SELECT g, {sums}, max(wait_max) AS wait_max, max(handle_max) AS handle_max
             FROM rows GROUP BY g){merged if hists else plain}
    """  # noqa: S608 - our own fragments; values are bound


def counts_sql(by: str) -> str:
    g = {"hall": "gm.grp", "region": "gm.grp", "day": "x.day::text"}.get(by, "''")
    return f"""
    WITH {_SPAN_CTES},
    rows AS (
        SELECT c.hall_id, c.month AS day, c.kind, c.key, c.n
        FROM month_counts c JOIN mready USING (hall_id, month)
        UNION ALL
        SELECT c.hall_id, c.day, c.kind, c.key, c.n FROM day_counts c JOIN dready USING (hall_id, day)
        WHERE c.hall_id = ANY(%(halls)s) AND c.day BETWEEN %(d0)s AND %(d1)s
        UNION ALL SELECT * FROM ({COUNTS_SELECT}) AS lc
        UNION ALL SELECT hall_id, day, 'precheck', outcome, n FROM precheck_days
        WHERE hall_id = ANY(%(halls)s) AND day BETWEEN %(d0)s AND %(d1)s
    )
    SELECT {g} AS g, x.kind, x.key, sum(x.n)::bigint FROM rows x JOIN gm USING (hall_id) GROUP BY 1, 2, 3
    """  # noqa: S608


def overdue_sql(by: str) -> str:
    g = {"hall": "gm.grp", "region": "gm.grp", "day": "c.day::text"}.get(by, "''")
    return f"""
    WITH gm AS (SELECT * FROM unnest(%(halls)s::text[], %(groups)s::text[]) AS m(hall_id, grp))
    SELECT {g}, count(*) FROM cases c JOIN gm USING (hall_id) JOIN halls h USING (hall_id)
    WHERE c.day BETWEEN %(d0)s AND %(d1)s AND c.closed_at IS NULL AND c.state <> 'closed'
      AND h.today IS NOT NULL AND c.due < h.today
    GROUP BY 1
    """  # noqa: S608


async def table(
    conn: AsyncConnection[Any],
    region_id: str,
    region_name: str,
    path: str,
    span: Span,
    by: str,
    hall_id: str = "",
    hists: bool = True,
) -> Table:
    """The statistics table of the halls under `path` (or of the one hall `hall_id` under it) for `span`,
    one line per `by` group and the total; without `hists`, no percentiles (None)."""
    if by not in GROUPINGS:
        raise ValueError(f"unknown grouping {by!r}: one of {', '.join(GROUPINGS)}")
    # The histograms of a wide table are merged in memory, not spilled to disk (this transaction only).
    await conn.execute("SET LOCAL work_mem = '64MB'")
    halls = await scope_halls(conn, path, hall_id)
    p: dict[str, Any] = {
        "halls": [h.hall_id for h in halls],
        "groups": [_group_of(by, h, path, region_id) for h in halls],
        "d0": span.start,
        "d1": span.end,
        "dim": GROUPINGS[by],
        "onsite_done": measures.ONSITE_DONE,
        "onsite_accepted": measures.ONSITE_ACCEPTED,
        "months": by != "day",  # a table by day reads day rows only
    }
    lines: dict[str, Line] = {}
    if halls:
        cur = await conn.execute(stats_sql(by, hists).encode(), p)
        for row in await cur.fetchall():
            g = str(row[0])
            line = lines.setdefault(g, Line(g, ""))
            line.sums = {c: int(v or 0) for c, v in zip(_SUMS, row[1 : 1 + len(_SUMS)], strict=True)}
            i = 1 + len(_SUMS)
            line.wait_max, line.handle_max = row[i], row[i + 1]
            wb, wc, hb, hc = row[i + 2 : i + 6]
            line.wait_hist = dict(zip(wb or [], (int(c) for c in wc or []), strict=True))
            line.handle_hist = dict(zip(hb or [], (int(c) for c in hc or []), strict=True))
        cur = await conn.execute(counts_sql(by).encode(), p)
        extra: dict[str, dict[str, int]] = {}
        for g, kind, key, n in await cur.fetchall():
            _merge(extra.setdefault(str(g), {}), {f"{kind}:{key}": int(n)})
        cur = await conn.execute(overdue_sql(by).encode(), p)
        overdue = {str(g): int(n) for g, n in await cur.fetchall()}
        cur = await conn.execute(
            "SELECT material, sum(n)::bigint AS n FROM precheck_missing WHERE hall_id = ANY(%(halls)s)"
            " AND day BETWEEN %(d0)s AND %(d1)s GROUP BY material ORDER BY n DESC, material LIMIT 10",
            p,
        )
        missing = [(str(m), int(n)) for m, n in await cur.fetchall()]
        cur = await conn.execute(
            "SELECT DISTINCT ON (m->>'id') m->>'id', m->>'name' FROM hall_profiles,"
            " jsonb_array_elements(profile->'materials') AS m WHERE hall_id = ANY(%s)"
            " ORDER BY m->>'id', hall_id",
            (p["halls"],),
        )
        material_names = {str(i): str(n) for i, n in await cur.fetchall()}
    else:
        extra, overdue, missing, material_names = {}, {}, [], {}
    total = Line("", "合计")
    if by in _HALL_LEVEL:
        for g in set(extra) | set(overdue):
            line = lines.setdefault(g, Line(g, ""))
            line.counts = extra.get(g, {})
            line.overdue = overdue.get(g, 0)
    for line in lines.values():
        total.add(line)
    if by not in _HALL_LEVEL:
        total.counts = extra.get("", {})
        total.overdue = overdue.get("", 0)
    await _name(conn, by, lines, halls, region_id, region_name)
    ordered = sorted(lines.values(), key=lambda ln: _order(by, ln))
    return Table(region_id, region_name, span, by, ordered, total, len(halls), missing, material_names)


def _order(by: str, line: Line) -> tuple[Any, ...]:
    if by == "hour":
        return (int(line.key) if line.key.isdigit() else 99, line.key)
    if by == "window":
        hall, _, number = line.key.partition("/")
        return (hall, int(number) if number.isdigit() else 10**9, number)
    if by in ("hall", "region"):
        return (line.name, line.key)
    return (line.key,)


async def _name(
    conn: AsyncConnection[Any],
    by: str,
    lines: dict[str, Line],
    halls: Sequence[ScopeHall],
    region_id: str,
    region_name: str,
) -> None:
    """Names for the lines' keys (a hall's own name for its codes; the first hall's where several share
    one)."""
    hall_names = {h.hall_id: h.name for h in halls}
    ids = list(hall_names)
    names: dict[str, str] = {}
    if by == "hall":
        names = hall_names
    elif by == "region":
        cur = await conn.execute("SELECT id, name FROM regions WHERE id = ANY(%s)", (list(lines),))
        names = {str(i): str(n) for i, n in await cur.fetchall()}
        names.setdefault(region_id, region_name)
    elif by in ("matter", "series", "department"):
        table, code = {
            "matter": ("hall_matters", "code"),
            "series": ("hall_series", "prefix"),
            "department": ("hall_departments", "id"),
        }[by]
        cur = await conn.execute(
            f"SELECT DISTINCT ON ({code}) {code}, name FROM {table}"  # noqa: S608 - our names
            f" WHERE hall_id = ANY(%s) ORDER BY {code}, hall_id",
            (ids,),
        )
        names = {str(k): str(n) for k, n in await cur.fetchall()}
    elif by == "window":
        cur = await conn.execute(
            "SELECT hall_id || '/' || number, name FROM hall_windows WHERE hall_id = ANY(%s)", (ids,)
        )
        names = {str(k): str(n) for k, n in await cur.fetchall()}
    for key, line in lines.items():
        if by in ("window", "clerk"):
            hall, _, own = key.partition("/")
            line.hall_id = hall
            own_name = names.get(key) or (f"{own} 号窗口" if by == "window" else own or "（未叫号）")
            line.name = f"{hall_names.get(hall, hall)} · {own_name}"
        elif by == "hall":
            line.hall_id = key
            line.name = names.get(key, key)
        elif by == "hour":
            line.name = f"{int(key):02d}:00" if key.isdigit() else key
        elif by == "day":
            line.name = key
        else:
            line.name = names.get(key, key or "（无）")
