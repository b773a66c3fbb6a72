"""Hall statistics over the stored rows and events: the statistics page, the CSV/XLSX exports and the
benchmark read `build_report`.

The measures are those of `hallcore.measures` (DOMAIN.md "Measures"; docs/web.md "Definitions"); here they
are computed in SQL over many rows (`stats_live`) or merged from per-day roll-ups (`stats_rolled`), and
tests/server/test_measures_reference.py checks both against hallcore's functions applied to the rows. Two
figures are the page's own: 差评 on-time rate = cases closed on or before their due day ÷ cases closed;
实名差评回访率 = cases with a consented phone number that were called back ÷ those cases.

Tickets are selected by their business `day` (the hall's local date, indexed), so stored times with any UTC
offset are counted in the right day; the hour of day is the hall's local hour. Waits and handle times are
counted in tenths of a minute (the resolution the page shows): rounding is monotone, so the nearest-rank
percentile of the rounded values is the rounded percentile. Independent queries run concurrently on the
read pool (SQLite releases the GIL while it works).
"""

from __future__ import annotations

import bisect
import dataclasses
import datetime as dt
import itertools
from dataclasses import dataclass
from typing import Any
from zoneinfo import ZoneInfo

from hallcore import measures
from hallcore.config import HallConfig
from hallcore.model import SCORE_NAMES
from hallcore.periods import PERIODS, Span, span_for
from hallserver import owed, rollup_compute, rollups, stats_identity, stats_live, stats_rolled
from hallserver.stats_raw import Raw, Reader, Row, max_of, mean_min

__all__ = ["DIMENSIONS", "PERIODS", "Report", "Row", "Span", "Target", "build_report", "span_for"]

#: Group keys of the per-dimension table (page selector and export sheets). A department is its matters'
#: rows folded together (考核 is by department; the matter's department by the hall's config).
DIMENSIONS = ("matter", "series", "window", "clerk", "hour", "department")
#: The dimensions ranked for the 红旗窗口 view, and what they may be ranked by (Row attribute, high is good).
RANKED = ("window", "clerk", "department")
RANK_BY: dict[str, tuple[str, str, bool]] = {
    "served": ("办结数", "served", True),
    "satisfaction": ("满意率", "satisfaction", True),
    "onsite": ("现场办结率", "onsite_rate", True),
    "handle": ("平均办理(分)", "handle_mean", False),
    "bad": ("差评", "bad_ratings", False),
}
#: Upper edges (minutes) of the wait-distribution bars; the last bar is "over the last edge".
WAIT_BINS = (5, 10, 15, 20, 30, 45, 60, 90, 120)


# ---- figures ---------------------------------------------------------------------------------------------


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
class DepartmentTargets:
    """One department against the hall's targets (the seeds' 考核 is by department)."""

    key: str
    name: str
    onsite: Target
    immediate: Target  # of the served cases
    catalogue: float | None  # 即办件占比 of the department's matters
    satisfaction: Target


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
    agent: dict[str, int]  # 代办 pre-checks by outcome (通过 / 容缺 / 不通过)
    missing_top: list[tuple[str, str, int]]  # material id, name, count
    missing_by_matter: list[tuple[str, str, str, int]]  # matter code, matter name, item name, count
    register: dict[str, int]  # 容缺 register (hallcore/owed.py): opened, on_time, late, never, open
    targets: list[Target]
    estimates: dict[str, Any]  # n, mae, coverage
    pauses: list[tuple[int, str, int, float]]  # window, reason, count, minutes
    utilisation: list[tuple[int, float, float, float | None]]  # window, open min, serving min, share
    cases: dict[str, Any]
    departments: list[DepartmentTargets]
    catalogue_immediate: float | None  # 即办件占比 of the hall's matter catalogue
    # 刷身份证取号: carded / agent / anonymous tickets and the holders' decades (hallserver/stats_identity.py)
    identity: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def agent_share(self) -> float | None:
        """代办 share: pre-checks where someone acted for the applicant ÷ all pre-checks."""
        return measures.share(sum(self.agent.values()), sum(self.precheck.values()))


# ---- SQL helpers -------------------------------------------------------------------------------------------


def _offset_hours(config: HallConfig, day: dt.date) -> int:
    """The hall's UTC offset in whole hours, to turn the indexed UTC hour into the local hour.

    Chinese halls have no daylight saving; a hall that has one would see its hours shift by one across the
    change within a range (the day itself is always right: it is stored)."""
    tz = ZoneInfo(config.hall.timezone)
    off = dt.datetime.combine(day, dt.time(12), tz).utcoffset() or dt.timedelta(0)
    return int(off.total_seconds() // 3600)


def percentile(hist: dict[int, int], q: float) -> float | None:
    """The nearest-rank percentile of a tenths-of-a-minute histogram, in minutes (`_finish` capped it)."""
    return measures.percentile_tenths(hist, q)


def _finish(row: Row, hist: dict[int, int], handle_hist: dict[int, int]) -> None:
    wait_ms, within, handle_n, handle_ms = row.sums
    row.wait_mean = mean_min(wait_ms, row.called)
    row.within_target = measures.share(within, row.called)
    row.handle_mean = mean_min(handle_ms, handle_n)
    hist, handle_hist = rollup_compute.cap(hist), rollup_compute.cap(handle_hist)
    row.wait_p50 = percentile(hist, 0.5)
    row.wait_p90 = percentile(hist, 0.9)
    row.handle_p50 = percentile(handle_hist, 0.5)
    row.handle_p90 = percentile(handle_hist, 0.9)


def _attach_ratings(row: Row, counts: dict[int, int]) -> None:
    row.by_score = {s: counts.get(s, 0) for s in SCORE_NAMES}
    row.rated = sum(counts.values())
    row.satisfied = measures.satisfied(counts)


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
    if by == "department":
        d = next((d for d in config.departments if d.id == key), None)
        return d.name if d else key or "（未配置）"
    return key


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

    async def raw_by(dim: str, light: bool = False) -> Raw:
        raw = (
            None
            if live_only
            else await stats_rolled.rolled(
                read, config, span, dim, today, now, submit, sync_days, light=light
            )
        )
        if raw is None:
            raw = await stats_live.live(read, config, span, dim, today, now)
        return raw

    # Departments are their matters folded together; the targets table compares every department, so a
    # report grouped otherwise reads the matters too.
    query_by = "matter" if by == "department" else by
    raw = await raw_by(query_by)
    # (Only the matters' counts, ratings and outcomes: the targets need no histograms.)
    by_matter = raw if query_by == "matter" else await raw_by("matter", light=True)
    # The register is judged on the day the report is drawn (an overdue entry may yet be supplied late), so
    # it is read live, never rolled up; it holds one row per owed item, few beside the tickets.
    on = today or span.end
    register = await read(lambda conn: owed.register_tally(conn, config, span.start, span.end, on))
    depts = _report(config, span, "department", fold_departments(config, by_matter), {})
    if by == "department":
        raw = fold_departments(config, raw)
    rep = _report(config, span, by, raw, register.as_dict())
    rep.departments = [_department_targets(config, r) for r in depts.rows]
    rep.identity = await read(lambda conn: stats_identity.identity_tally(conn, span.start, span.end))
    return rep


def fold_departments(config: HallConfig, raw: Raw) -> Raw:
    """A report's raw figures by matter, folded into the matters' departments (counts and sums add up,
    histograms merge, maxima take the larger: exact, not an average of averages)."""
    dept = {m.code: m.department for m in config.matters}
    rows: dict[str, Row] = {}
    for r in raw.groups:
        key = dept.get(r.key, "")
        into = rows.get(key)
        if into is None:
            rows[key] = Row(key, "", outcomes={})
            into = rows[key]
        into.add(r)

    def merged(hists: dict[str, dict[int, int]]) -> dict[str, dict[int, int]]:
        out: dict[str, dict[int, int]] = {}
        for key, h in hists.items():
            _merge(out.setdefault(dept.get(key, ""), {}), h)
        return out

    return dataclasses.replace(
        raw,
        groups=list(rows.values()),
        hists=merged(raw.hists),
        handle_hists=merged(raw.handle_hists),
        rating_groups=[(dept.get(str(g), ""), s, n) for g, s, n in raw.rating_groups],
        case_outcomes=[(dept.get(g, ""), o, n, imm) for g, o, n, imm in raw.case_outcomes],
    )


def _department_targets(config: HallConfig, r: Row) -> DepartmentTargets:
    t = config.targets
    kinds = [m.kind.value for m in config.matters if m.department == r.key]
    return DepartmentTargets(
        r.key,
        r.name,
        Target("现场办结率", "done on the spot", t.onsite_rate, r.onsite_rate),
        Target("即办件占比", "即办件 share", t.immediate_share, r.immediate_share),
        measures.catalogue_immediate_share(kinds),
        Target("满意率", "satisfaction", t.satisfaction, r.satisfaction),
    )


def _report(config: HallConfig, span: Span, by: str, raw: Raw, register: dict[str, int]) -> Report:
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

    outcome_counts: dict[str, dict[str, tuple[int, int]]] = {}
    for g, outcome, n, imm in raw.case_outcomes:
        key = local(g) if by == "hour" else g
        per = outcome_counts.setdefault(key, {})
        n0, imm0 = per.get(outcome, (0, 0))
        per[outcome] = (n0 + n, imm0 + imm)

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
        r.outcomes = dict(sorted(outcome_counts.get(r.key, {}).items()))
        for outcome, (n, imm) in r.outcomes.items():
            n0, imm0 = total.outcomes.get(outcome, (0, 0))
            total.outcomes[outcome] = (n0 + n, imm0 + imm)
        total.served_immediate += r.served_immediate
        total.tickets += r.tickets
        total.served += r.served
        total.no_shows += r.no_shows
        total.transfers += r.transfers
        total.expired += r.expired
        total.cancelled += r.cancelled
        total.called += r.called
        total.wait_max = max_of(total.wait_max, r.wait_max)
        total.handle_max = max_of(total.handle_max, r.handle_max)
        for i, v in enumerate(r.sums):
            sums[i] += v
    total.sums = (sums[0], sums[1], sums[2], sums[3])
    total.outcomes = dict(sorted(total.outcomes.items()))
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
    opening = [h for d in config.hall.hours.values() for x in d for h in (x.open.hour, x.close.hour)]
    hours = set(hourly_acc) | (set(range(min(opening), max(opening) + 1)) if opening else set())
    hourly = [(h, a[0], mean_min(a[2], a[1])) for h in sorted(hours) for a in [hourly_acc.get(h, [0, 0, 0])]]
    sat_by_day = {d: measures.share(s, n) for d, n, s in raw.rating_daily}
    daily = [(d, a[0], mean_min(a[2], a[1]), sat_by_day.get(d)) for d, a in sorted(daily_acc.items())]
    labels = [f"≤{WAIT_BINS[0]}"] + [f"{a}–{b}" for a, b in itertools.pairwise(WAIT_BINS)]
    labels.append(f">{WAIT_BINS[-1]}")
    bins = [0] * len(labels)
    for w, n in total_hist.items():
        bins[bisect.bisect_left(WAIT_BINS, w / 10)] += n
    wait_bins = list(zip(labels, bins, strict=True))

    outcomes = ("通过", "容缺", "不通过")
    precheck = {k: int(raw.outcomes.get(k, 0)) for k in outcomes}
    agent = {k: int(raw.agent.get(k, 0)) for k in outcomes}
    missing_top, missing_by_matter = _missing(config, raw.missing_by_matter)

    targets = [
        Target("现场办结率", "done on the spot", config.targets.onsite_rate, total.onsite_rate),
        Target(
            "即办件占比",
            "即办件 share",
            config.targets.immediate_share,
            measures.share(done_immediate, done),
        ),
        Target("满意率", "satisfaction", config.targets.satisfaction, total.satisfaction),
    ]
    # A window counts when it was open in the range or served in it.
    windows = sorted({n for n, us in raw.open_us.items() if us > 0} | set(raw.serving_ms))
    utilisation = []
    for n in windows:
        om = raw.open_us.get(n, 0) / 60e6
        sm = raw.serving_ms.get(n, 0) / 60000
        utilisation.append((n, om, sm, measures.utilisation(sm, om)))
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
        agent=agent,
        missing_top=missing_top,
        missing_by_matter=missing_by_matter,
        register=register,
        targets=targets,
        estimates=raw.estimates,
        pauses=pauses,
        utilisation=utilisation,
        cases=raw.cases,
        departments=[],
        catalogue_immediate=measures.catalogue_immediate_share(m.kind.value for m in config.matters),
    )


#: Most-missing lists: the hall's top items, and each matter's top items.
MISSING_TOP = 10
MISSING_PER_MATTER = 3


def _missing(
    config: HallConfig, rows: list[tuple[str, str, int]]
) -> tuple[list[tuple[str, str, int]], list[tuple[str, str, str, int]]]:
    """The hall's most-missing items (summed over matters) and each matter's, most often first (matters with
    the most missing first); an item is named as its matter names it (a material's name, a question's
    text)."""
    names: dict[tuple[str, str], str] = {}
    for matter in config.matters:
        names |= {(matter.code, x.id): x.name for x in matter.precheck.materials}
        names |= {(matter.code, q.id): q.text for q in matter.precheck.questions}
    totals: dict[str, int] = {}
    item_name: dict[str, str] = {}
    per_matter: dict[str, list[tuple[int, str]]] = {}
    for code, item, n in rows:
        totals[item] = totals.get(item, 0) + n
        item_name.setdefault(item, names.get((code, item), item))
        per_matter.setdefault(code, []).append((n, item))
    top = sorted(totals.items(), key=lambda kv: (-kv[1], kv[0]))[:MISSING_TOP]
    by_matter = []
    for code in sorted(per_matter, key=lambda c: (-sum(n for n, _ in per_matter[c]), c)):
        m = config.matter_by_code.get(code)
        for n, item in sorted(per_matter[code], key=lambda x: (-x[0], x[1]))[:MISSING_PER_MATTER]:
            by_matter.append((code, m.name if m else code, names.get((code, item), item), n))
    return [(i, item_name[i], n) for i, n in top], by_matter


def fmt_min(value: float | None) -> str:
    """Minutes with one decimal ("12.5"), "–" when there is nothing to show."""
    return "–" if value is None else f"{value:.1f}"


def fmt_pct(value: float | None) -> str:
    return "–" if value is None else f"{value * 100:.1f}%"


#: A share with no denominator in the range: days before outcomes were recorded show this, never 0 %.
NO_DATA = "无数据"


def fmt_share(value: float | None) -> str:
    """A target's share ("91.2%"), "无数据" when there is nothing to count."""
    return NO_DATA if value is None else fmt_pct(value)


def ranking(rows: list[Row], key: str) -> list[tuple[int, Row]]:
    """The 红旗窗口 order: rows ranked by `key` of RANK_BY (best first; ties share a rank and keep their
    order); rows with no figure (无数据) come last, unranked (rank 0)."""
    _label, attr, high = RANK_BY[key]
    have = [r for r in rows if getattr(r, attr) is not None]
    have.sort(key=lambda r: -getattr(r, attr) if high else getattr(r, attr))
    out: list[tuple[int, Row]] = []
    for i, r in enumerate(have):
        same = out and getattr(out[-1][1], attr) == getattr(r, attr)
        out.append((out[-1][0] if same else i + 1, r))
    return out + [(0, r) for r in rows if getattr(r, attr) is None]
