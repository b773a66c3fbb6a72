"""The statistics page's SQL (`stats_live`) and its roll-ups (`stats_rolled`) against the measures as
hallcore defines them (`hallcore.measures`), applied to the stored rows of random days: the figures of a
finished day, of today and of a range must be hallcore's, to the page's resolution.

Waits and handle times are counted in tenths of a minute by the SQL (percentiles) and summed in whole
milliseconds (means), and the stored times go through SQLite's julianday: percentiles agree to half a tenth,
means and maxima to a millisecond; counts and shares exactly.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import pathlib
import random
import sqlite3
import statistics
from collections import Counter, defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pytest

from hallcore import measures
from hallcore.config import HallConfig, MatterKind
from hallfiles.config import read_config
from hallserver import stats
from tests.fakes.live_server import COUNTY
from tests.server.stats_harness import START, Harness, fill_random

TENTH = 0.05 + 1e-6  # half the page's resolution, and julianday's rounding
MS = 1 / 60000


@dataclass
class Group:
    """A group's rows as hallcore sees them."""

    tickets: int = 0
    served: int = 0
    no_shows: int = 0
    expired: int = 0
    cancelled: int = 0
    transfers: int = 0
    waits: list[tuple[float, float]] = field(default_factory=list)  # (wait, the series' target)
    handles: list[float] = field(default_factory=list)
    scores: Counter[int] = field(default_factory=Counter)


@dataclass
class Reference:
    by_matter: dict[str, Group]
    total: Group
    done_immediate: int
    onsite: tuple[int, int]  # 办结 and 受理 of 即办件 (现场办结率)
    satisfaction_by_day: dict[str, float | None]
    estimates: measures.EstimateErrors
    serving_min: dict[int, float]
    open_min: dict[int, float]


def _t(text: str | None) -> dt.datetime | None:
    return dt.datetime.fromisoformat(text) if text else None


def reference(h: Harness, span: stats.Span) -> Reference:
    """Every figure compared below, from the rows, by hallcore's definitions."""
    cfg = h.config
    target = {s.prefix: float(s.target_wait_min) for s in cfg.series}
    immediate = {m.code for m in cfg.matters if m.kind is MatterKind.ON_THE_SPOT}
    d0, d1 = span.start.isoformat(), span.end.isoformat()
    conn = sqlite3.connect(str(h.path))

    def rows(sql: str) -> list[Any]:
        return conn.execute(sql, {"d0": d0, "d1": d1}).fetchall()

    try:
        tickets = rows(
            "SELECT matter, series, state, transfers, window, issued_at, first_called_at, serving_at,"
            " ended_at, outcome FROM tickets WHERE day BETWEEN :d0 AND :d1 AND state != 'voided'"
        )
        in_span = "substr(ticket, 1, 10) BETWEEN :d0 AND :d1"
        ratings = rows(f"SELECT substr(ticket, 1, 10), matter, score FROM ratings WHERE {in_span}")
        estimates = rows(f"SELECT wait_min, low_min, high_min, point_min FROM estimates WHERE {in_span}")
        events = rows("SELECT at, body FROM events WHERE kind = 'window_changed' ORDER BY seq")
    finally:
        conn.close()
    by_matter: dict[str, Group] = defaultdict(Group)
    total = Group()
    done_immediate = 0
    onsite = Counter[str]()
    serving: dict[int, float] = defaultdict(float)
    for matter, series, state, transfers, window, issued, called, serving_at, ended, outcome in tickets:
        issued_at = _t(issued)
        assert issued_at is not None
        wait = measures.wait_min(issued_at, _t(called))
        handle = measures.handle_min(_t(serving_at), _t(ended)) if state == "done" else None
        for g in (by_matter[matter], total):
            g.tickets += 1
            g.served += state == "done"
            g.no_shows += state == "no_show"
            g.expired += state == "expired"
            g.cancelled += state == "cancelled"
            g.transfers += transfers
            if wait is not None:
                g.waits.append((wait, target[series]))
            if handle is not None:
                g.handles.append(handle)
        done_immediate += state == "done" and matter in immediate
        if state == "done" and matter in immediate:
            onsite[outcome] += 1
        if handle is not None and window is not None:
            serving[window] += handle
    by_day: dict[str, Counter[int]] = defaultdict(Counter)
    for day, matter, score in ratings:
        by_matter[matter].scores[score] += 1
        total.scores[score] += 1
        by_day[day][score] += 1
    return Reference(
        by_matter=dict(by_matter),
        total=total,
        done_immediate=done_immediate,
        onsite=(onsite[measures.ONSITE_DONE], onsite[measures.ONSITE_ACCEPTED]),
        satisfaction_by_day={d: measures.satisfaction(c) for d, c in by_day.items()},
        estimates=measures.estimate_errors(estimates),
        serving_min=dict(serving),
        open_min=open_minutes(cfg, span, events),
    )


def open_minutes(cfg: HallConfig, span: stats.Span, events: list[tuple[str, str]]) -> dict[int, float]:
    """Open time per window clipped to the span (from `opened` to `closed`, pauses included; a window still
    open at the end of the data counts to the span's end): written here again, plainly, as the oracle."""
    tz = dt.timezone(dt.timedelta(hours=8))
    lo = dt.datetime.combine(span.start, dt.time(0), tz)
    hi = dt.datetime.combine(span.end + dt.timedelta(days=1), dt.time(0), tz)
    since: dict[int, dt.datetime] = {}
    out: dict[int, float] = defaultdict(float)

    def add(n: int, a: dt.datetime, b: dt.datetime) -> None:
        a, b = max(a, lo), min(b, hi)
        if b > a:
            out[n] += (b - a).total_seconds() / 60

    for at_text, body in events:
        at = dt.datetime.fromisoformat(at_text)
        if at >= hi:
            continue
        ev = json.loads(body)
        n = int(ev["window"]["number"])
        if ev["action"] == "opened" and n not in since:
            since[n] = at
        elif ev["action"] == "closed" and n in since:
            add(n, since.pop(n), at)
    for n, a in since.items():
        add(n, a, hi)
    assert cfg.hall.timezone == "Asia/Shanghai"
    return {n: m for n, m in out.items() if m > 0}


def check_row(row: stats.Row, g: Group, where: str) -> None:
    """One line of the page against hallcore's measures of the same rows."""
    waits = [w for w, _t in g.waits]
    assert (row.tickets, row.served, row.no_shows, row.expired, row.cancelled, row.transfers) == (
        g.tickets,
        g.served,
        g.no_shows,
        g.expired,
        g.cancelled,
        g.transfers,
    ), where
    assert row.called == len(waits), where
    _spread(row.wait_mean, row.wait_p50, row.wait_p90, row.wait_max, waits, f"{where} wait")
    _spread(row.handle_mean, row.handle_p50, row.handle_p90, row.handle_max, g.handles, f"{where} handle")
    assert row.within_target == measures.within_target(g.waits), where
    assert row.rated == sum(g.scores.values()), where
    assert row.satisfied == measures.satisfied(g.scores), where
    assert row.satisfaction == measures.satisfaction(g.scores), where
    assert row.participation == measures.participation(sum(g.scores.values()), g.served), where


def _spread(
    mean: float | None,
    p50: float | None,
    p90: float | None,
    top: float | None,
    values: list[float],
    where: str,
) -> None:
    if not values:
        assert (mean, p50, p90, top) == (None, None, None, None), where
        return
    assert mean is not None, where
    assert p50 is not None, where
    assert p90 is not None, where
    assert top is not None, where
    assert mean == pytest.approx(statistics.fmean(values), abs=MS), where
    assert abs(p50 - (measures.percentile(values, 0.5) or 0)) <= TENTH, where
    assert abs(p90 - (measures.percentile(values, 0.9) or 0)) <= TENTH, where
    assert top == pytest.approx(max(values), abs=MS), where


def check_report(rep: stats.Report, ref: Reference, where: str) -> None:
    assert {r.key for r in rep.rows} == set(ref.by_matter), where
    for r in rep.rows:
        check_row(r, ref.by_matter[r.key], f"{where} {r.key}")
    check_row(rep.total, ref.total, f"{where} total")
    t = ref.total
    actual = {x.name: x.actual for x in rep.targets}
    assert actual["现场办结率"] == measures.onsite_rate_outcomes(*ref.onsite), where
    assert actual["即办件占比"] == measures.share(ref.done_immediate, t.served), where
    assert actual["满意率"] == measures.satisfaction(t.scores), where
    assert {d: sat for d, _n, _w, sat in rep.daily if d in ref.satisfaction_by_day} == ref.satisfaction_by_day
    est = rep.estimates
    assert est["n"] == ref.estimates.n, where
    assert est["coverage"] == ref.estimates.coverage, where
    if ref.estimates.mae is None:
        assert est["mae"] is None, where
    else:
        assert est["mae"] == pytest.approx(ref.estimates.mae, abs=MS), where
    util = {n: (om, sm, share) for n, om, sm, share in rep.utilisation}
    assert set(util) == set(ref.open_min) | set(ref.serving_min), where
    for n, (om, sm, share) in util.items():
        assert om == pytest.approx(ref.open_min.get(n, 0.0), abs=1e-6), f"{where} window {n} open"
        assert sm == pytest.approx(ref.serving_min.get(n, 0.0), abs=MS * 100), f"{where} window {n} serving"
        want = measures.utilisation(ref.serving_min.get(n, 0.0), ref.open_min.get(n, 0.0))
        if want is None:
            assert share is None, where
        else:
            assert share is not None, where
            assert math.isclose(share, want, rel_tol=1e-6, abs_tol=1e-6), where


@pytest.fixture
def harness(tmp_path: pathlib.Path) -> Iterator[Harness]:
    h = Harness(tmp_path / "hall.db", read_config(COUNTY))
    yield h
    h.close()


@pytest.mark.parametrize("seed", [11, 12])
def test_sql_and_rollups_give_hallcores_measures(harness: Harness, seed: int) -> None:
    rnd = random.Random(seed)
    days = sorted(rnd.sample([START + dt.timedelta(days=i) for i in range(10)], 4))
    fill_random(harness, days, seed)
    today = days[-1]
    for span in (stats.Span(days[0], days[0]), stats.Span(today, today), stats.Span(days[0], today)):
        ref = reference(harness, span)
        # Enough of everything that a wrong definition shows.
        assert len(ref.total.waits) > 20
        assert len(ref.total.handles) > 10
        assert sum(ref.total.scores.values()) > 5
        assert ref.estimates.n > 5
        assert ref.open_min
        for live in (True, False):
            rep = harness.report(span, "matter", today, live=live)
            check_report(rep, ref, f"{span.label} {'SQL' if live else 'roll-ups'}")


def test_a_wait_of_exactly_the_target_is_within_it(harness: Harness) -> None:
    """Whole-second times put a wait exactly on its target; julianday() is off by ~1e-7 min either way, and
    the SQL must still count it within (hallcore: wait ≤ target)."""
    day = START
    fill_random(harness, [day], 5)
    targets = {s.prefix: s.target_wait_min for s in harness.config.series}
    conn = sqlite3.connect(str(harness.path), isolation_level=None)
    try:
        called = conn.execute(
            "SELECT id, series, issued_at FROM tickets WHERE day = ? AND first_called_at IS NOT NULL",
            (day.isoformat(),),
        ).fetchall()
        for tid, series, issued in called:
            at = (dt.datetime.fromisoformat(issued) + dt.timedelta(minutes=targets[series])).isoformat()
            conn.execute("UPDATE tickets SET first_called_at = ?, called_at = ? WHERE id = ?", (at, at, tid))
    finally:
        conn.close()
    assert len(called) > 10
    span = stats.Span(day, day)
    ref = reference(harness, span)
    assert measures.within_target(ref.total.waits) == 1.0
    for live in (True, False):
        rep = harness.report(span, "series", day + dt.timedelta(days=1), live=live)
        assert rep.total.within_target == 1.0
        assert all(r.within_target == 1.0 for r in rep.rows if r.called)
