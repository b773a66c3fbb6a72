"""Ratings (好差评, one per served case) and the 差评 follow-up cases with their working-day deadlines."""

from __future__ import annotations

import datetime as dt

from hallcore import commands as c
from hallcore.engine import lookups
from hallcore.engine.state import DONE, EngineState
from hallcore.engine.views import case_event
from hallcore.events import RatingRecorded
from hallcore.model import BAD_SCORES, SCORE_NAMES, Case, CaseAction, CaseState, CaseStep, Rating
from hallcore.outcomes import Collector, Outcome, RefusalCode, Refused, refuse


def rate(s: EngineState, cmd: c.Rate, now: dt.datetime, col: Collector) -> Outcome:
    t = lookups.ticket(s, cmd.ticket, now)
    if isinstance(t, Refused):
        return t
    if cmd.score not in SCORE_NAMES:
        return refuse(RefusalCode.BAD_SCORE, "评价须为 1–5 级", "a rating is a score from 1 to 5")
    if t.state is not DONE or t.window is None:
        return refuse(
            RefusalCode.NOT_SERVED, f"{t.label} 尚未办结，不能评价", f"{t.label} has not been served yet"
        )
    if t.rated:
        return refuse(
            RefusalCode.ALREADY_RATED,
            f"{t.label} 已评价（一次一评）",
            f"{t.label} is already rated (one rating per case)",
        )
    if cmd.source == "phone":
        # 扫码评价: only for a ticket finished at a window, and only for `phone_window_min` after the finish.
        window_min = s.config.rating.phone_window_min
        if t.ended_at is None or window_min <= 0 or now > t.ended_at + dt.timedelta(minutes=window_min):
            return refuse(
                RefusalCode.RATING_CLOSED,
                f"{t.label} 的扫码评价已过期（办结后 {window_min} 分钟内可评）",
                f"rating {t.label} by phone is closed ({window_min} minutes after the finish)",
            )
    t.rated = True
    r = Rating(
        ticket=t.id,
        score=cmd.score,
        matter=t.matter,
        window=t.window,
        staff=t.staff,
        at=now,
        issued_at=t.issued_at,
        called_at=t.first_called_at,
        serving_at=t.serving_at,
        finished_at=t.ended_at,
        source=cmd.source,
        outcome=t.outcome,
        case_no=t.case_no,
        department=s.config.matter_by_code[t.matter].department,
    )
    s.ratings[t.id] = r
    col.tickets[t.id] = None
    col.ratings[t.id] = None
    m = s.config.matter_by_code[t.matter]
    col.events.append(
        RatingRecorded(
            now,
            t.id,
            t.label,
            r.score,
            SCORE_NAMES[r.score][0],
            t.matter,
            m.name,
            r.window,
            r.staff,
            r.outcome,
            r.case_no,
            r.department,
        )
    )
    if cmd.score in BAD_SCORES:
        due = s.calendar.add_working_days(s.calendar.business_day(now), s.config.rating.case_deadline_days)
        case = Case(
            id=f"C-{t.id}",
            ticket=t.id,
            score=cmd.score,
            window=t.window,
            staff=t.staff,
            matter=t.matter,
            opened_at=now,
            due=due,
        )
        s.cases[case.id] = case
        col.cases[case.id] = None
        col.events.append(case_event(s, "opened", case, now, ""))
    return col.accept(t)


def case_step(s: EngineState, cmd: c.CaseStepCommand, now: dt.datetime, col: Collector) -> Outcome:
    case = s.cases.get(cmd.case)
    if case is None:
        return refuse(RefusalCode.UNKNOWN_CASE, f"没有差评工单 {cmd.case}", f"no case {cmd.case!r}")
    if not cmd.note.strip():
        return refuse(RefusalCode.REASON_REQUIRED, "请填写处理记录", "write down what was done")
    allowed = CASE_MOVES.get((case.state, cmd.action))
    if allowed is None:
        return refuse(
            RefusalCode.BAD_TRANSITION,
            f"工单状态为 {case.state.value}，不能 {cmd.action.value}",
            f"a case that is {case.state.value} cannot take the step {cmd.action.value}",
        )
    case.state = allowed
    case.steps.append(CaseStep(cmd.action, cmd.note, cmd.staff, now))
    case.closed_at = now if allowed is CaseState.CLOSED else None
    col.cases[case.id] = None
    col.events.append(case_event(s, cmd.action.value, case, now, cmd.note))
    return col.accept()


CASE_MOVES: dict[tuple[CaseState, CaseAction], CaseState] = {
    (CaseState.OPEN, CaseAction.CALLBACK): CaseState.CALLED_BACK,
    (CaseState.CALLED_BACK, CaseAction.CALLBACK): CaseState.CALLED_BACK,
    (CaseState.OPEN, CaseAction.RESOLVE): CaseState.RESOLVED,  # anonymous raters cannot be called back
    (CaseState.CALLED_BACK, CaseAction.RESOLVE): CaseState.RESOLVED,
    (CaseState.RESOLVED, CaseAction.CLOSE): CaseState.CLOSED,
    (CaseState.CLOSED, CaseAction.APPEAL): CaseState.APPEALED,
    (CaseState.APPEALED, CaseAction.CALLBACK): CaseState.CALLED_BACK,
    (CaseState.APPEALED, CaseAction.RESOLVE): CaseState.RESOLVED,
}
