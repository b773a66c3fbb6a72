"""Engine state → the replies of `hallcore.replies`: the one place a reply is built, for the server's routes.

Pure functions, run with the engine lock held (on the writer or a reader).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping

from hallcore.config import HallConfig
from hallcore.engine import Engine
from hallcore.estimates import WaitEstimate
from hallcore.events import TicketChanged
from hallcore.model import SCORE_NAMES, Ticket, TicketState
from hallcore.precheck import PrecheckResult
from hallcore.printout import notice_printout, ticket_printout
from hallcore.public import public_call, public_window
from hallcore.replies import (
    Candidate,
    CaseView,
    DeviceInfo,
    HallSnapshot,
    HallView,
    Issued,
    NotIssued,
    Rated,
    RatingView,
    Remaining,
    TicketStatus,
    WindowResult,
)


def status_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/s/{token}"


def issued(
    engine: Engine,
    t: Ticket,
    ahead: int,
    estimate: WaitEstimate,
    precheck: PrecheckResult | None,
    base_url: str,
) -> Issued:
    url = status_url(base_url, t.token)
    return Issued(
        ticket=engine.ticket_view(t),
        token=t.token,
        status_url=url,
        ahead=ahead,
        estimate=estimate,
        precheck=precheck,
        print=ticket_printout(
            engine.config,
            label=t.label,
            matter=t.matter,
            priority=t.priority,
            issued_at=t.issued_at,
            ahead=ahead,
            estimate=estimate,
            precheck=precheck,
            status_url=url,
        ),
    )


def not_issued(config: HallConfig, precheck: PrecheckResult, now: dt.datetime) -> NotIssued:
    return NotIssued(precheck, notice_printout(config, precheck, now))


def window_result(engine: Engine, number: int, ticket: Ticket | None) -> WindowResult:
    return WindowResult(
        engine.window_view(number), engine.ticket_view(ticket) if ticket is not None else None
    )


def candidates(engine: Engine, window: int, now: dt.datetime) -> list[Candidate]:
    """The waiting list in call order, each with the rule that puts it there ("优先: 老年人（提前 20 分钟）"),
    how long it waited and the head start it counts."""
    out = []
    for t, choice in engine.call_order(window, now):
        # A walk-in of a booked-first session counts from its close (hallcore/calendar.py): not negative.
        waited = max(0.0, round((now - t.since) / dt.timedelta(minutes=1), 1))
        reason = engine.reason_for(window, t, choice)
        pc = engine.config.class_by_id.get(t.priority) if t.priority else None
        head_start = (
            pc.head_start_min if pc is not None and (t.slot_at is None or choice.entry[5] == 1) else 0
        )
        out.append(Candidate(engine.ticket_view(t), reason.text, reason.text_en, waited, head_start))
    return out


def rated(engine: Engine, ticket: Ticket) -> Rated:
    r = engine.ratings[ticket.id]
    case = engine.cases.get(f"C-{ticket.id}")
    return Rated(
        RatingView(ticket.id, ticket.label, r.score, SCORE_NAMES[r.score][0], r.window),
        CaseView(case.id, case.due, case.state.value) if case else None,
    )


def ticket_status(
    engine: Engine, t: Ticket, now: dt.datetime, calls: Iterable[TicketChanged], *, live: bool = True
) -> TicketStatus:
    """`live` False for a ticket read back from the database: no queue position."""
    cfg = engine.config
    m = cfg.matter_by_code.get(t.matter)
    ahead = engine.people_ahead(t.id, now) if live else None
    est = (
        engine.estimate_for(t.series, ahead, now)
        if ahead is not None and t.state is TicketState.WAITING
        else None
    )
    w = cfg.window_by_number.get(t.window) if t.window is not None else None
    return TicketStatus(
        label=t.label,
        matter=t.matter,
        matter_name=m.name if m else t.matter,
        matter_name_en=m.name_en if m else "",
        state=t.state.value,
        issued_at=t.issued_at,
        ahead=ahead,
        estimate=est,
        window=t.window,
        window_name=w.name if w else "",
        precheck=t.precheck,
        missing=tuple(t.missing),
        due=t.due,
        calls=tuple(public_call(c) for c in calls),
        requeues=t.requeues,
        requeues_left=(
            max(0, cfg.no_show.max_requeues - t.requeues) if t.state is TicketState.NO_SHOW else None
        ),
        outcome=t.outcome,
        outcome_reason=t.outcome_reason,
        case_no=t.case_no,
    )


def snapshot(
    engine: Engine,
    seq: int,
    now: dt.datetime,
    calls: Iterable[TicketChanged],
    devices: Mapping[tuple[str, str], tuple[str, str]] | None,
) -> HallSnapshot:
    """The hall as a screen needs it; `devices` None for public (status-page) subscribers, who see windows and
    calls as a phone may (hallcore/public.py)."""
    windows = tuple(engine.window_view(w.number) for w in engine.config.windows)
    if devices is None:
        windows = tuple(public_window(w) for w in windows)
        calls = [public_call(c) for c in calls]
    waiting = engine.waiting_counts()
    return HallSnapshot(
        seq=seq,
        at=now,
        windows=windows,
        waiting=waiting,
        recent_calls=tuple(calls),
        devices=tuple(DeviceInfo(s, d, h, r) for (s, d), (h, r) in sorted((devices or {}).items())),
        # The next ticket of each series: everyone waiting in its line ahead of it, over the staffing plan.
        estimates={
            s.prefix: engine.estimate_for(s.prefix, waiting.get(s.prefix, 0), now)
            for s in engine.config.series
        },
    )


def hall_view(config: HallConfig) -> HallView:
    return HallView(
        hall=config.hall,
        departments=config.departments,
        series=config.series,
        matters=config.matters,
        windows=config.windows,
        zones=config.zones,
        priority_classes=config.priority_classes,
        pause_reasons=config.server.pause_reasons,
        led=config.led,
        voice=config.voice,
        kiosk=config.kiosk,
        rating=config.rating,
    )


def remaining(engine: Engine, now: dt.datetime) -> Remaining:
    left = {m.code: engine.remaining_today(m.code, now) for m in engine.config.matters}
    return Remaining({code: n for code, n in left.items() if n is not None})
