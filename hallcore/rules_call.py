"""Calling and serving: who is next and why, recall, start, finish, no-show, re-queue, transfer."""

from __future__ import annotations

import datetime as dt

from hallcore import commands as c
from hallcore.config import Window
from hallcore.enginestate import (
    _CALLED,
    _CLOSED,
    _DONE,
    _NO_SHOW,
    _PAUSED,
    _SERVING,
    _WAITING,
    APPOINTMENT,
    EngineState,
)
from hallcore.events import TicketChanged
from hallcore.model import CallReason, CallReasonKind, Ticket, WindowRuntime
from hallcore.ordering import NORMAL_RANK, oldest, order_of, top
from hallcore.outcomes import Accepted, Collector, Outcome, RefusalCode, Refused, refuse, wrong_state


class CallRules(EngineState):
    # ---- calling --------------------------------------------------------------------------------------

    def _ready_window(self, number: int) -> tuple[Window, WindowRuntime] | Refused:
        found = self._window(number)
        if isinstance(found, Refused):
            return found
        w, rt = found
        if rt.state is _CLOSED:
            return refuse(
                RefusalCode.WINDOW_CLOSED,
                f"{number} 号窗口未开启",
                f"window {number} is closed",
                window=number,
            )
        if rt.state is _PAUSED:
            return refuse(
                RefusalCode.WINDOW_PAUSED,
                f"{number} 号窗口暂停中（{rt.pause_reason}），请先恢复",
                f"window {number} is paused ({rt.pause_reason}); resume it first",
                window=number,
            )
        if rt.current is not None:
            cur = self.tickets[rt.current]
            return refuse(
                RefusalCode.WINDOW_BUSY,
                f"{number} 号窗口还在处理 {cur.label}：请先办结、过号或转办",
                f"window {number} still holds {cur.label}: finish, mark no-show or transfer it first",
                window=number,
                ticket=cur.label,
            )
        return w, rt

    def pick(self, number: int, now: dt.datetime) -> tuple[Ticket, CallReason] | None:
        """The ticket `call next` would take at this window now, and why (no state change)."""
        rt = self.windows[number]
        lines = self._lines_for(number)
        aging = self._aging_s()
        if aging is not None:
            limit = now.timestamp() - aging
            best: Ticket | None = None
            for line in lines:
                o = oldest(line, self.tickets)
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
                    f"等待超过 {self.config.priority.aging_limit_min} 分钟（已等 {mins} 分钟）",
                    f"waited over {self.config.priority.aging_limit_min} min ({mins} min)",
                )
        max_row = self.config.priority.max_priority_in_row
        if max_row is not None and rt.priority_streak >= max_row:
            for i, line in enumerate(lines):
                found = top(line, self.tickets, normal_only=True)
                if found is not None:
                    if i == 0:
                        return found[0], self._reason(found[0], found[1], i)
                    return found[0], CallReason(
                        CallReasonKind.NORMAL_AFTER_PRIORITY_RUN,
                        f"已连续叫 {rt.priority_streak} 个优先号，轮到普通号",
                        f"{rt.priority_streak} priority calls in a row: a normal ticket's turn",
                    )
        for i, line in enumerate(lines):
            found = top(line, self.tickets)
            if found is not None:
                return found[0], self._reason(found[0], found[1], i)
        return None

    def _reason(self, t: Ticket, rank: int, line_index: int) -> CallReason:
        if line_index == 0:
            return CallReason(CallReasonKind.TRANSFERRED_HERE, "转入本窗口", "transferred to this window")
        if t.priority and rank != NORMAL_RANK:
            pc = self.config.class_by_id[t.priority]
            if t.priority == APPOINTMENT:
                return CallReason(CallReasonKind.BOOKING_DUE, "预约到时", "booking due now")
            return CallReason(CallReasonKind.PRIORITY, f"优先：{pc.name}", f"priority: {pc.name_en or pc.id}")
        s = self.config.series_by_prefix[t.series]
        return CallReason(
            CallReasonKind.SERIES_ORDER, f"按顺序（{s.name}）", f"in order ({s.name_en or s.prefix})"
        )

    def _call_next(self, cmd: c.CallNext, now: dt.datetime, col: Collector) -> Outcome:
        ready = self._ready_window(cmd.window)
        if isinstance(ready, Refused):
            return ready
        picked = self.pick(cmd.window, now)
        if picked is None:
            return refuse(
                RefusalCode.NOTHING_WAITING,
                f"{cmd.window} 号窗口暂无等候的号",
                f"nobody is waiting for window {cmd.window}",
                window=cmd.window,
            )
        t, reason = picked
        return self._call(t, cmd.window, cmd.staff, reason, now, col)

    def _call(
        self, t: Ticket, number: int, staff: str, reason: CallReason, now: dt.datetime, col: Collector
    ) -> Accepted:
        rt = self.windows[number]
        self._dequeue(t)
        t.state = _CALLED
        t.window = number
        t.target_window = None
        t.staff = staff or rt.staff
        t.called_at = now
        if t.first_called_at is None:
            t.first_called_at = now
        t.call_reason = reason
        rt.current = t.id
        self._note_call(number, t)
        if reason.kind in (CallReasonKind.PRIORITY, CallReasonKind.BOOKING_DUE):
            rt.priority_streak += 1
        elif reason.kind is not CallReasonKind.SPECIFIC:
            rt.priority_streak = 0
        self._ticket_event("called", t, now, col, number)
        return self._done(col, t)

    def _call_specific(self, cmd: c.CallSpecific, now: dt.datetime, col: Collector) -> Outcome:
        if not cmd.reason.strip():
            return refuse(
                RefusalCode.REASON_REQUIRED, "指定叫号须填写原因", "calling a specific ticket needs a reason"
            )
        ready = self._ready_window(cmd.window)
        if isinstance(ready, Refused):
            return ready
        t = self._ticket(cmd.ticket, now)
        if isinstance(t, Refused):
            return t
        if t.state is not _WAITING:
            return wrong_state(t, _WAITING)
        reason = CallReason(
            CallReasonKind.SPECIFIC, f"指定叫号：{cmd.reason}", f"called by ticket: {cmd.reason}"
        )
        return self._call(t, cmd.window, cmd.staff, reason, now, col)

    def _recall(self, cmd: c.Recall, now: dt.datetime, col: Collector) -> Outcome:
        held = self._held(cmd.window, _CALLED)
        if isinstance(held, Refused):
            return held
        _rt, t = held
        t.recalls += 1
        t.called_at = now
        self._ticket_event("recalled", t, now, col, cmd.window)
        return self._done(col, t)

    def _start(self, cmd: c.StartServing, now: dt.datetime, col: Collector) -> Outcome:
        held = self._held(cmd.window, _CALLED)
        if isinstance(held, Refused):
            return held
        _rt, t = held
        t.state = _SERVING
        t.serving_at = now
        self._ticket_event("serving", t, now, col, cmd.window)
        return self._done(col, t)

    def _finish(self, cmd: c.Finish, now: dt.datetime, col: Collector) -> Outcome:
        held = self._held(cmd.window, _SERVING)
        if isinstance(held, Refused):
            return held
        rt, t = held
        t.state = _DONE
        t.ended_at = now
        rt.current = None
        self._live.pop(t.id, None)
        if t.serving_at is not None:
            self.handle_times.observe(t.series, (now - t.serving_at).total_seconds() / 60)
            self._handle_time_changed(t.series)
        self._ticket_event("finished", t, now, col, cmd.window)
        return self._done(col, t)

    def _no_show(self, cmd: c.MarkNoShow, now: dt.datetime, col: Collector) -> Outcome:
        held = self._held(cmd.window, _CALLED)
        if isinstance(held, Refused):
            return held
        rt, t = held
        need = self.config.no_show.max_recalls
        if t.recalls < need:
            return refuse(
                RefusalCode.RECALLS_NOT_EXHAUSTED,
                f"请先重呼（已重呼 {t.recalls}/{need} 次）",
                f"recall first ({t.recalls} of {need} recalls done)",
                recalls=t.recalls,
                needed=need,
            )
        t.state = _NO_SHOW
        t.ended_at = now
        rt.current = None
        self._live.pop(t.id, None)
        self._ticket_event("no_show", t, now, col, cmd.window)
        return self._done(col, t)

    def _requeue(self, cmd: c.RequeueNoShow, now: dt.datetime, col: Collector) -> Outcome:
        t = self._ticket(cmd.ticket, now)
        if isinstance(t, Refused):
            return t
        if t.state is not _NO_SHOW:
            return wrong_state(t, _NO_SHOW)
        if t.day != self.calendar.business_day(now):
            return refuse(
                RefusalCode.NOT_SAME_DAY,
                "过号票只能当天重新排队",
                "a no-show can be re-queued the same day only",
            )
        # Behind the next k tickets of its line by the current order; at the end if fewer wait.
        line = self._lines[t.series]
        order = order_of(line, self.tickets, now, self._aging_s())
        k = self.config.no_show.requeue_behind
        self._requeue_seq += 1
        t.state = _WAITING
        t.window = None
        t.ended_at = None
        t.requeues += 1
        t.since = now
        t.priority = ""  # a returning no-show joins as a normal ticket
        if order:
            anchor = order[min(k, len(order)) - 1]
            t.key = (anchor.key[0], anchor.key[1], self._requeue_seq)
        else:
            self._seq += 1
            t.key = (now.timestamp(), self._seq, 0)
        self._live[t.id] = None
        self._enqueue(t)
        self._ticket_event("requeued", t, now, col)
        return self._done(col, t)

    def _transfer(self, cmd: c.Transfer, now: dt.datetime, col: Collector) -> Outcome:
        held = self._held(cmd.window, _CALLED, _SERVING)
        if isinstance(held, Refused):
            return held
        rt, t = held
        if bool(cmd.to_series) == (cmd.to_window is not None):
            return refuse(
                RefusalCode.BAD_TARGET,
                "请选择转办到一个业务类别或一个窗口",
                "transfer to one series or one window",
            )
        if cmd.to_series and cmd.to_series not in self._lines:
            return refuse(
                RefusalCode.UNKNOWN_SERIES,
                f"没有业务类别 {cmd.to_series}",
                f"unknown series {cmd.to_series!r}",
            )
        if cmd.to_window is not None:
            if cmd.to_window not in self.windows:
                return refuse(
                    RefusalCode.UNKNOWN_WINDOW,
                    f"没有 {cmd.to_window} 号窗口",
                    f"there is no window {cmd.to_window}",
                )
            if cmd.to_window == cmd.window:
                return refuse(
                    RefusalCode.BAD_TARGET, "不能转办到本窗口", "cannot transfer to the same window"
                )
        old_series = t.series
        rt.current = None
        t.state = _WAITING
        t.transfers += 1
        t.serving_at = None
        if cmd.to_series:
            t.series = cmd.to_series
            t.target_window = None
        else:
            t.target_window = cmd.to_window
        # Number, issue time and position key are kept: the citizen is not sent to the back (DESIGN.md §4).
        self._enqueue(t)
        target = cmd.to_series or f"{cmd.to_window} 号窗口"
        col.tickets[t.id] = None
        col.windows[cmd.window] = None
        col.events.append(
            TicketChanged(
                now,
                "transferred",
                self._tview(t),
                self._wview(cmd.window),
                self._waiting_of(old_series, t.series),
                f"{target} {cmd.reason}".strip(),
            )
        )
        return self._done(col, t)
