"""Calling and serving: who is next and why, recall, start, finish, no-show, re-queue, transfer."""

from __future__ import annotations

import datetime as dt
import math

from hallcore import caseoutcome
from hallcore import commands as c
from hallcore.config import ClosedWindowTransfer
from hallcore.engine import lookups, waits
from hallcore.engine.state import (
    APPOINTMENT,
    CALLED,
    CLOSED,
    DONE,
    NO_SHOW,
    PAUSED,
    SERVING,
    WAITING,
    EngineState,
)
from hallcore.engine.views import ticket_event, ticket_view, window_view
from hallcore.events import TicketChanged
from hallcore.model import CallReason, CallReasonKind, Ticket, WindowRuntime
from hallcore.ordering import Choice, Rule, pick_from
from hallcore.outcomes import Accepted, Collector, Outcome, RefusalCode, Refused, refuse
from hallcore.text import Problem


def ready_window(s: EngineState, number: int) -> WindowRuntime | Refused:
    """Window `number`, if it can call: open, not paused, holding no ticket."""
    rt = lookups.window_runtime(s, number)
    if isinstance(rt, Refused):
        return rt
    if rt.state is CLOSED:
        return refuse(
            RefusalCode.WINDOW_CLOSED,
            f"{number} 号窗口未开启",
            f"window {number} is closed",
            window=number,
        )
    if rt.state is PAUSED:
        return refuse(
            RefusalCode.WINDOW_PAUSED,
            f"{number} 号窗口暂停中（{rt.pause_reason}），请先恢复",
            f"window {number} is paused ({rt.pause_reason}); resume it first",
            window=number,
        )
    if rt.current is not None:
        cur = s.tickets[rt.current]
        return refuse(
            RefusalCode.WINDOW_BUSY,
            f"{number} 号窗口还在处理 {cur.label}：请先办结、过号或转办",
            f"window {number} still holds {cur.label}: finish, mark no-show or transfer it first",
            window=number,
            ticket=cur.label,
        )
    return rt


def choice_at(s: EngineState, number: int, now: dt.datetime) -> Choice | None:
    """What `call next` would take at this window now (no change but the lines' bookkeeping)."""
    return pick_from(
        s.lines_for(number),
        s.tickets,
        now.timestamp(),
        s.rules_for(number),
        s.windows[number].priority_streak,
    )


def pick(s: EngineState, number: int, now: dt.datetime) -> tuple[Ticket, CallReason] | None:
    """The ticket `call next` would take at this window now, and why."""
    choice = choice_at(s, number, now)
    if choice is None:
        return None
    t = s.tickets[choice.entry[3]]
    return t, call_reason(s, number, t, choice)


def call_reason(s: EngineState, number: int, t: Ticket, choice: Choice) -> CallReason:
    """Why `choice` goes next, naming the rule (shown to the clerk and kept with the call)."""
    named = len(s.named_lines_of(number))
    if choice.line < named:
        owner = s.named_lines_of(number)[choice.line]
        if owner == number:
            return CallReason(CallReasonKind.TRANSFERRED_HERE, "转入本窗口", "transferred to this window")
        return CallReason(
            CallReasonKind.TRANSFERRED_HERE,
            f"转入 {owner} 号窗口（A/B 岗接管）",
            f"transferred to window {owner} (A/B takeover)",
        )
    pc = s.config.class_by_id.get(t.priority) if t.priority else None
    if choice.rule is Rule.ABSOLUTE and pc is not None:
        return CallReason(
            CallReasonKind.ABSOLUTE,
            f"优先: {pc.name}（优先叫号）",
            f"priority: {pc.name_en or pc.id} (first)",
        )
    head_start_applies = (
        pc is not None and pc.head_start_min > 0 and (t.slot_at is None or choice.entry[5] == 1)
    )
    if pc is not None and head_start_applies:
        if t.booking and t.priority == APPOINTMENT:
            return CallReason(CallReasonKind.BOOKING_DUE, "预约到时", "booking due now")
        return CallReason(
            CallReasonKind.PRIORITY,
            f"优先: {pc.name}（提前 {pc.head_start_min} 分钟）",
            f"priority: {pc.name_en or pc.id} ({pc.head_start_min} min head start)",
        )
    if choice.absolute_held_back:
        n = s.windows[number].priority_streak
        return CallReason(
            CallReasonKind.NORMAL_AFTER_PRIORITY_RUN,
            f"已连续叫 {n} 个优先号，按顺序",
            f"{n} priority calls in a row: back to the order",
        )
    series = s.config.series_by_prefix[t.series]
    return CallReason(
        CallReasonKind.SERIES_ORDER,
        f"按顺序（{series.name}）",
        f"in order ({series.name_en or series.prefix})",
    )


def call_next(s: EngineState, cmd: c.CallNext, now: dt.datetime, col: Collector) -> Outcome:
    ready = ready_window(s, cmd.window)
    if isinstance(ready, Refused):
        return ready
    choice = choice_at(s, cmd.window, now)
    if choice is None:
        return refuse(
            RefusalCode.NOTHING_WAITING,
            f"{cmd.window} 号窗口暂无等候的号",
            f"nobody is waiting for window {cmd.window}",
            window=cmd.window,
        )
    t = s.tickets[choice.entry[3]]
    reason = call_reason(s, cmd.window, t, choice)
    return call(s, t, cmd.window, cmd.staff, reason, now, col, absolute=choice.rule is Rule.ABSOLUTE)


def call(
    s: EngineState,
    t: Ticket,
    number: int,
    staff: str,
    reason: CallReason,
    now: dt.datetime,
    col: Collector,
    *,
    absolute: bool = False,
) -> Accepted:
    rt = s.windows[number]
    s.dequeue(t)
    t.state = CALLED
    t.window = number
    t.target_window = None
    t.staff = staff or rt.staff
    t.called_at = now
    if t.first_called_at is None:
        t.first_called_at = now
    t.call_reason = reason
    rt.current = t.id
    waits.note_call(s, number, t)
    if absolute:
        rt.priority_streak += 1
    elif reason.kind is not CallReasonKind.SPECIFIC:
        rt.priority_streak = 0
    ticket_event(s, "called", t, now, col, number)
    return col.accept(t)


def call_specific(s: EngineState, cmd: c.CallSpecific, now: dt.datetime, col: Collector) -> Outcome:
    if not cmd.reason.strip():
        return refuse(
            RefusalCode.REASON_REQUIRED, "指定叫号须填写原因", "calling a specific ticket needs a reason"
        )
    ready = ready_window(s, cmd.window)
    if isinstance(ready, Refused):
        return ready
    t = lookups.ticket_in(s, cmd.ticket, now, WAITING)
    if isinstance(t, Refused):
        return t
    reason = CallReason(CallReasonKind.SPECIFIC, f"指定叫号：{cmd.reason}", f"called by ticket: {cmd.reason}")
    return call(s, t, cmd.window, cmd.staff, reason, now, col)


def recall(s: EngineState, cmd: c.Recall, now: dt.datetime, col: Collector) -> Outcome:
    held = lookups.held(s, cmd.window, CALLED)
    if isinstance(held, Refused):
        return held
    _rt, t = held
    too_soon = recall_gap(s, t, now, "重呼", "recall")
    if too_soon is not None:
        return too_soon
    t.recalls += 1
    t.called_at = now
    ticket_event(s, "recalled", t, now, col, cmd.window)
    return col.accept(t)


def recall_gap(s: EngineState, t: Ticket, now: dt.datetime, zh: str, en: str) -> Refused | None:
    """People walk slowly: a recall or a 过号 needs `no_show.min_recall_gap_s` since the last (re)call."""
    gap = s.config.no_show.min_recall_gap_s
    assert t.called_at is not None
    waited = (now - t.called_at).total_seconds()
    if waited >= gap:
        return None
    left = math.ceil(gap - waited)
    return refuse(
        RefusalCode.RECALL_TOO_SOON,
        f"刚叫过 {t.label}，请等 {left} 秒再{zh}（群众走到窗口需要时间）",
        f"{t.label} was just called: wait {left} s before you {en} (people need time to walk here)",
        ticket=t.label,
        wait_s=left,
        gap_s=gap,
    )


def start_serving(s: EngineState, cmd: c.StartServing, now: dt.datetime, col: Collector) -> Outcome:
    held = lookups.held(s, cmd.window, CALLED)
    if isinstance(held, Refused):
        return held
    _rt, t = held
    t.state = SERVING
    t.serving_at = now
    ticket_event(s, "serving", t, now, col, cmd.window)
    return col.accept(t)


def checked_outcome(
    s: EngineState, outcome: str, reason: str, case_no: str
) -> caseoutcome.Recorded | Refused:
    """The outcome as it is stored, or the refusal saying why it is not valid."""
    o = caseoutcome.parse(outcome)
    if o is None:
        names = "、".join(caseoutcome.CaseOutcome)
        return refuse(
            RefusalCode.BAD_OUTCOME,
            f"办结结果应为 {names} 之一",
            f"an outcome is one of {', '.join(caseoutcome.OUTCOME_EN.values())}",
            outcome=outcome,
        )
    rec = caseoutcome.check(s.config.outcomes, o, reason, case_no)
    if isinstance(rec, Problem):
        return refuse(RefusalCode.BAD_OUTCOME, rec.zh, rec.en, outcome=o.value)
    return rec


def finish(s: EngineState, cmd: c.Finish, now: dt.datetime, col: Collector) -> Outcome:
    held = lookups.held(s, cmd.window, SERVING)
    if isinstance(held, Refused):
        return held
    rec = checked_outcome(s, cmd.outcome, cmd.reason, cmd.case_no)
    if isinstance(rec, Refused):
        return rec
    rt, t = held
    t.outcome, t.outcome_reason, t.case_no = rec.outcome.value, rec.reason, rec.case_no
    t.state = DONE
    t.ended_at = now
    rt.current = None
    s.live.pop(t.id, None)
    waits.observe_case(s, t, now)
    ticket_event(s, "finished", t, now, col, cmd.window)
    return col.accept(t)


def set_outcome(s: EngineState, cmd: c.SetOutcome, now: dt.datetime, col: Collector) -> Outcome:
    """A keypad finished it as 办结, or the clerk pressed the wrong key: the window that finished the case
    may change its outcome and 办件编号 for `outcomes.change_window_s`; a rating already given follows."""
    t = lookups.ticket(s, cmd.ticket, now)
    if isinstance(t, Refused):
        return t
    if t.state is not DONE or t.ended_at is None:
        return refuse(
            RefusalCode.NOT_SERVED, f"{t.label} 尚未办结", f"{t.label} has not been finished", ticket=t.label
        )
    if t.window != cmd.window:
        return refuse(
            RefusalCode.NOT_AT_WINDOW,
            f"{t.label} 不是 {cmd.window} 号窗口办结的",
            f"{t.label} was not finished at window {cmd.window}",
            ticket=t.label,
        )
    limit = s.config.outcomes.change_window_s
    if (now - t.ended_at).total_seconds() > limit:
        return refuse(
            RefusalCode.OUTCOME_CLOSED,
            f"{t.label} 办结已超过 {limit} 秒，办结结果不能再改",
            f"{t.label} was finished more than {limit} s ago: its outcome can no longer be changed",
            ticket=t.label,
            limit_s=limit,
        )
    rec = checked_outcome(s, cmd.outcome, cmd.reason, cmd.case_no)
    if isinstance(rec, Refused):
        return rec
    t.outcome, t.outcome_reason, t.case_no = rec.outcome.value, rec.reason, rec.case_no
    r = s.ratings.get(t.id)
    if r is not None:
        r.outcome, r.case_no = t.outcome, t.case_no
        col.ratings[t.id] = None
    ticket_event(s, "outcome_changed", t, now, col)
    return col.accept(t)


def mark_no_show(s: EngineState, cmd: c.MarkNoShow, now: dt.datetime, col: Collector) -> Outcome:
    held = lookups.held(s, cmd.window, CALLED)
    if isinstance(held, Refused):
        return held
    rt, t = held
    need = s.config.no_show.max_recalls
    if t.recalls < need:
        return refuse(
            RefusalCode.RECALLS_NOT_EXHAUSTED,
            f"请先重呼（已重呼 {t.recalls}/{need} 次）",
            f"recall first ({t.recalls} of {need} recalls done)",
            recalls=t.recalls,
            needed=need,
        )
    too_soon = recall_gap(s, t, now, "过号", "mark a no-show")
    if too_soon is not None:
        return too_soon
    t.state = NO_SHOW
    t.ended_at = now
    rt.current = None
    s.live.pop(t.id, None)
    ticket_event(s, "no_show", t, now, col, cmd.window)
    return col.accept(t)


def requeue_no_show(s: EngineState, cmd: c.RequeueNoShow, now: dt.datetime, col: Collector) -> Outcome:
    t = lookups.ticket_in(s, cmd.ticket, now, NO_SHOW)
    if isinstance(t, Refused):
        return t
    if t.day != s.calendar.business_day(now):
        return refuse(
            RefusalCode.NOT_SAME_DAY,
            "过号票只能当天重新排队",
            "a no-show can be re-queued the same day only",
        )
    limit = s.config.no_show.max_requeues
    if t.requeues >= limit:
        return refuse(
            RefusalCode.REQUEUE_LIMIT,
            f"{t.label} 已过号重排 {t.requeues} 次，不能再排，请重新取号",
            f"{t.label} was re-queued {t.requeues} times already (the limit): please take a new ticket",
            ticket=t.label,
            requeues=t.requeues,
            limit=limit,
        )
    # The re-queue time is the effective time from now on, and the class is kept (DESIGN.md §4).
    s.requeue_seq += 1
    t.state = WAITING
    t.window = None
    t.ended_at = None
    t.requeues += 1
    t.since = now
    t.slot_at = None
    t.target_window = None
    t.key = (t.key[0], t.key[1], s.requeue_seq)
    s.live[t.id] = None
    s.enqueue(t)
    ticket_event(s, "requeued", t, now, col)
    return col.accept(t)


def transfer(s: EngineState, cmd: c.Transfer, now: dt.datetime, col: Collector) -> Outcome:
    held = lookups.held(s, cmd.window, CALLED, SERVING)
    if isinstance(held, Refused):
        return held
    rt, t = held
    if bool(cmd.to_series) == (cmd.to_window is not None):
        return refuse(
            RefusalCode.BAD_TARGET,
            "请选择转办到一个业务类别或一个窗口",
            "transfer to one series or one window",
        )
    if cmd.to_series and cmd.to_series not in s.lines:
        return refuse(
            RefusalCode.UNKNOWN_SERIES,
            f"没有业务类别 {cmd.to_series}",
            f"unknown series {cmd.to_series!r}",
        )
    if cmd.to_window is not None:
        if cmd.to_window not in s.windows:
            return refuse(
                RefusalCode.UNKNOWN_WINDOW,
                f"没有 {cmd.to_window} 号窗口",
                f"there is no window {cmd.to_window}",
            )
        if cmd.to_window == cmd.window:
            return refuse(RefusalCode.BAD_TARGET, "不能转办到本窗口", "cannot transfer to the same window")
    to_series, to_window = cmd.to_series, cmd.to_window
    note = ""
    if to_window is not None and not staffed(s, to_window):
        # Transfers never strand anyone: nobody would call a ticket waiting for a closed window.
        w = s.config.window_by_number[to_window]
        if s.config.transfer.to_closed_window is ClosedWindowTransfer.REFUSE:
            return closed_target(s, cmd.window, to_window)
        to_series = t.series if t.series in w.series else w.series[0]
        to_window = None
        note = f"{w.number} 号窗口未开启，转入{s.config.series_by_prefix[to_series].name}"
    old_series = t.series
    rt.current = None
    t.state = WAITING
    t.transfers += 1
    t.serving_at = None
    if to_series:
        t.series = to_series
        t.target_window = None
    else:
        t.target_window = to_window
    # Number, effective time and class are kept: the citizen is not sent to the back (DESIGN.md §4).
    s.enqueue(t)
    target = note or cmd.to_series or f"{cmd.to_window} 号窗口"
    col.tickets[t.id] = None
    col.windows[cmd.window] = None
    col.events.append(
        TicketChanged(
            now,
            "transferred",
            ticket_view(s, t),
            window_view(s, cmd.window),
            s.waiting_of(old_series, t.series),
            f"{target} {cmd.reason}".strip(),
        )
    )
    return col.accept(t)


def staffed(s: EngineState, number: int) -> bool:
    """Someone will call this window's named transfers: it is open or paused, or an open partner covers it."""
    if s.windows[number].state is not CLOSED:
        return True
    return any(rt.state is not CLOSED and number in rt.taken_over for rt in s.windows.values())


def closed_target(s: EngineState, here: int, number: int) -> Refused:
    """A transfer to a closed window, refused with the windows that could take it instead."""
    w = s.config.window_by_number[number]
    open_windows = sorted(
        n
        for n, rt in s.windows.items()
        if n not in (here, number) and rt.state is not CLOSED and set(w.series) & set(s.series_of_window(n))
    )
    names = "、".join(w.series)
    if open_windows:
        listed, listed_en = "、".join(map(str, open_windows)), ", ".join(map(str, open_windows))
        zh = f"{number} 号窗口未开启；可转办到 {listed} 号窗口，或转办到业务 {names}"
        en = f"window {number} is closed; transfer to window {listed_en} or to series {names}"
    else:
        zh = f"{number} 号窗口未开启，也没有开启的窗口办理 {names}；请转办到业务类别或稍后再转"
        en = f"window {number} is closed and no open window serves {names}; transfer to a series or later"
    return refuse(
        RefusalCode.WINDOW_CLOSED,
        zh,
        en,
        window=number,
        open_windows=open_windows,
        series=list(w.series),
    )
