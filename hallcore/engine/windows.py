"""Windows: open, close, pause with a reason, resume, and the A/B岗 takeover."""

from __future__ import annotations

import datetime as dt

from hallcore import commands as c
from hallcore.engine import lookups
from hallcore.engine.state import CLOSED, OPEN, PAUSED, EngineState
from hallcore.engine.views import window_event
from hallcore.outcomes import Collector, Outcome, RefusalCode, Refused, idle_first, refuse


def open_window(s: EngineState, cmd: c.OpenWindow, now: dt.datetime, col: Collector) -> Outcome:
    rt = lookups.window_runtime(s, cmd.window)
    if isinstance(rt, Refused):
        return rt
    if rt.state is not CLOSED:
        return lookups.bad_transition(cmd.window, "已开启", "is already open")
    rt.state = OPEN
    rt.staff = cmd.staff
    rt.opened_at = now
    rt.priority_streak = 0
    return window_event(s, "opened", cmd.window, now, col)


def close_window(s: EngineState, cmd: c.CloseWindow, now: dt.datetime, col: Collector) -> Outcome:
    rt = lookups.window_runtime(s, cmd.window)
    if isinstance(rt, Refused):
        return rt
    if rt.state is CLOSED:
        return lookups.bad_transition(cmd.window, "已关闭", "is already closed")
    if rt.current is not None:
        return idle_first(cmd.window, s.tickets[rt.current])
    rt.state = CLOSED
    rt.staff = ""
    rt.pause_reason = ""
    rt.paused_at = None
    rt.taken_over = ()
    return window_event(s, "closed", cmd.window, now, col)


def pause_window(s: EngineState, cmd: c.PauseWindow, now: dt.datetime, col: Collector) -> Outcome:
    rt = lookups.window_runtime(s, cmd.window)
    if isinstance(rt, Refused):
        return rt
    reasons = s.config.server.pause_reasons
    if not cmd.reason.strip():
        return refuse(
            RefusalCode.REASON_REQUIRED, "暂停须选择原因", "pausing needs a reason", reasons=list(reasons)
        )
    if reasons and cmd.reason not in reasons:
        return refuse(
            RefusalCode.UNKNOWN_PAUSE_REASON,
            f"暂停原因须为：{'、'.join(reasons)}",
            f"the pause reason must be one of: {', '.join(reasons)}",
            reasons=list(reasons),
        )
    if rt.state is not OPEN:
        return lookups.bad_transition(cmd.window, "不在服务中，无法暂停", "is not open, so it cannot pause")
    if rt.current is not None:
        return idle_first(cmd.window, s.tickets[rt.current])
    rt.state = PAUSED
    rt.pause_reason = cmd.reason
    rt.paused_at = now
    return window_event(s, "paused", cmd.window, now, col)


def resume_window(s: EngineState, cmd: c.ResumeWindow, now: dt.datetime, col: Collector) -> Outcome:
    rt = lookups.window_runtime(s, cmd.window)
    if isinstance(rt, Refused):
        return rt
    if rt.state is not PAUSED:
        return lookups.bad_transition(cmd.window, "未暂停", "is not paused")
    rt.state = OPEN
    rt.pause_reason = ""
    rt.paused_at = None
    return window_event(s, "resumed", cmd.window, now, col)


def take_over(s: EngineState, cmd: c.TakeOver, now: dt.datetime, col: Collector) -> Outcome:
    found = lookups.window(s, cmd.window)
    if isinstance(found, Refused):
        return found
    w, rt = found
    partner = s.config.window_by_number.get(cmd.partner)
    if (
        partner is None
        or cmd.partner == cmd.window
        or (w.partner != cmd.partner and partner.partner != w.number)
    ):
        return refuse(
            RefusalCode.NOT_PARTNER,
            f"{cmd.partner} 号窗口不是 {cmd.window} 号窗口的 A/B 岗搭档",
            f"window {cmd.partner} is not the A/B partner of window {cmd.window}",
        )
    if rt.state is CLOSED:
        return refuse(
            RefusalCode.WINDOW_CLOSED, f"{cmd.window} 号窗口未开启", f"window {cmd.window} is closed"
        )
    if cmd.partner in rt.taken_over:
        return lookups.bad_transition(
            cmd.window, f"已接管 {cmd.partner} 号窗口", f"already covers window {cmd.partner}"
        )
    rt.taken_over = (*rt.taken_over, cmd.partner)
    return window_event(s, "takeover", cmd.window, now, col)


def end_take_over(s: EngineState, cmd: c.EndTakeOver, now: dt.datetime, col: Collector) -> Outcome:
    rt = lookups.window_runtime(s, cmd.window)
    if isinstance(rt, Refused):
        return rt
    if cmd.partner not in rt.taken_over:
        return lookups.bad_transition(
            cmd.window, f"没有接管 {cmd.partner} 号窗口", f"does not cover window {cmd.partner}"
        )
    rt.taken_over = tuple(p for p in rt.taken_over if p != cmd.partner)
    return window_event(s, "takeover_ended", cmd.window, now, col)
