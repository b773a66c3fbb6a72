"""Calling and serving: who is next and why, recall, start, finish, no-show, re-queue, transfer."""

from __future__ import annotations

import datetime as dt

from hallcore import commands as c
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
from hallcore.ordering import NORMAL_RANK, oldest, order_of, top
from hallcore.outcomes import Accepted, Collector, Outcome, RefusalCode, Refused, refuse


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


def pick(s: EngineState, number: int, now: dt.datetime) -> tuple[Ticket, CallReason] | None:
    """The ticket `call next` would take at this window now, and why (no state change)."""
    rt = s.windows[number]
    lines = s.lines_for(number)
    aging = s.aging_s()
    if aging is not None:
        limit = now.timestamp() - aging
        best: Ticket | None = None
        for line in lines:
            o = oldest(line, s.tickets)
            if (
                o is not None
                and o.since.timestamp() <= limit
                and (best is None or (o.since, o.key) < (best.since, best.key))
            ):
                best = o
        if best is not None:
            mins = int((now - best.since).total_seconds() // 60)
            return best, CallReason(
                CallReasonKind.WAITED_OVER_LIMIT,
                f"等待超过 {s.config.priority.aging_limit_min} 分钟（已等 {mins} 分钟）",
                f"waited over {s.config.priority.aging_limit_min} min ({mins} min)",
            )
    max_row = s.config.priority.max_priority_in_row
    if max_row is not None and rt.priority_streak >= max_row:
        for i, line in enumerate(lines):
            found = top(line, s.tickets, normal_only=True)
            if found is not None:
                if i == 0:
                    return found[0], call_reason(s, found[0], found[1], i)
                return found[0], CallReason(
                    CallReasonKind.NORMAL_AFTER_PRIORITY_RUN,
                    f"已连续叫 {rt.priority_streak} 个优先号，轮到普通号",
                    f"{rt.priority_streak} priority calls in a row: a normal ticket's turn",
                )
    for i, line in enumerate(lines):
        found = top(line, s.tickets)
        if found is not None:
            return found[0], call_reason(s, found[0], found[1], i)
    return None


def call_reason(s: EngineState, t: Ticket, rank: int, line_index: int) -> CallReason:
    if line_index == 0:
        return CallReason(CallReasonKind.TRANSFERRED_HERE, "转入本窗口", "transferred to this window")
    if t.priority and rank != NORMAL_RANK:
        pc = s.config.class_by_id[t.priority]
        if t.priority == APPOINTMENT:
            return CallReason(CallReasonKind.BOOKING_DUE, "预约到时", "booking due now")
        return CallReason(CallReasonKind.PRIORITY, f"优先：{pc.name}", f"priority: {pc.name_en or pc.id}")
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
    picked = pick(s, cmd.window, now)
    if picked is None:
        return refuse(
            RefusalCode.NOTHING_WAITING,
            f"{cmd.window} 号窗口暂无等候的号",
            f"nobody is waiting for window {cmd.window}",
            window=cmd.window,
        )
    t, reason = picked
    return call(s, t, cmd.window, cmd.staff, reason, now, col)


def call(
    s: EngineState, t: Ticket, number: int, staff: str, reason: CallReason, now: dt.datetime, col: Collector
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
    if reason.kind in (CallReasonKind.PRIORITY, CallReasonKind.BOOKING_DUE):
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
    t.recalls += 1
    t.called_at = now
    ticket_event(s, "recalled", t, now, col, cmd.window)
    return col.accept(t)


def start_serving(s: EngineState, cmd: c.StartServing, now: dt.datetime, col: Collector) -> Outcome:
    held = lookups.held(s, cmd.window, CALLED)
    if isinstance(held, Refused):
        return held
    _rt, t = held
    t.state = SERVING
    t.serving_at = now
    ticket_event(s, "serving", t, now, col, cmd.window)
    return col.accept(t)


def finish(s: EngineState, cmd: c.Finish, now: dt.datetime, col: Collector) -> Outcome:
    held = lookups.held(s, cmd.window, SERVING)
    if isinstance(held, Refused):
        return held
    rt, t = held
    t.state = DONE
    t.ended_at = now
    rt.current = None
    s.live.pop(t.id, None)
    if t.serving_at is not None:
        waits.observe_handle_time(s, t.series, (now - t.serving_at).total_seconds() / 60)
    ticket_event(s, "finished", t, now, col, cmd.window)
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
    # Behind the next k tickets of its line by the current order; at the end if fewer wait.
    line = s.lines[t.series]
    order = order_of(line, s.tickets, now, s.aging_s())
    k = s.config.no_show.requeue_behind
    s.requeue_seq += 1
    t.state = WAITING
    t.window = None
    t.ended_at = None
    t.requeues += 1
    t.since = now
    t.priority = ""  # a returning no-show joins as a normal ticket
    if order:
        anchor = order[min(k, len(order)) - 1]
        t.key = (anchor.key[0], anchor.key[1], s.requeue_seq)
    else:
        s.seq += 1
        t.key = (now.timestamp(), s.seq, 0)
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
    old_series = t.series
    rt.current = None
    t.state = WAITING
    t.transfers += 1
    t.serving_at = None
    if cmd.to_series:
        t.series = cmd.to_series
        t.target_window = None
    else:
        t.target_window = cmd.to_window
    # Number, issue time and position key are kept: the citizen is not sent to the back (DESIGN.md §4).
    s.enqueue(t)
    target = cmd.to_series or f"{cmd.to_window} 号窗口"
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
