"""Windows: open, close, pause with a reason, resume, and the A/B岗 takeover."""

from __future__ import annotations

import datetime as dt

from hallcore import commands as c
from hallcore.enginestate import _CLOSED, _OPEN, _PAUSED, EngineState
from hallcore.outcomes import Collector, Outcome, RefusalCode, Refused, idle_first, refuse


class WindowRules(EngineState):
    # ---- windows --------------------------------------------------------------------------------------

    def _open(self, cmd: c.OpenWindow, now: dt.datetime, col: Collector) -> Outcome:
        found = self._window(cmd.window)
        if isinstance(found, Refused):
            return found
        _w, rt = found
        if rt.state is not _CLOSED:
            return refuse(
                RefusalCode.BAD_TRANSITION,
                f"{cmd.window} 号窗口已开启",
                f"window {cmd.window} is already open",
            )
        rt.state = _OPEN
        rt.staff = cmd.staff
        rt.opened_at = now
        rt.priority_streak = 0
        return self._window_event("opened", cmd.window, now, col)

    def _close(self, cmd: c.CloseWindow, now: dt.datetime, col: Collector) -> Outcome:
        found = self._window(cmd.window)
        if isinstance(found, Refused):
            return found
        _w, rt = found
        if rt.state is _CLOSED:
            return refuse(
                RefusalCode.BAD_TRANSITION,
                f"{cmd.window} 号窗口已关闭",
                f"window {cmd.window} is already closed",
            )
        if rt.current is not None:
            return idle_first(cmd.window, self.tickets[rt.current])
        rt.state = _CLOSED
        rt.staff = ""
        rt.pause_reason = ""
        rt.paused_at = None
        rt.taken_over = ()
        return self._window_event("closed", cmd.window, now, col)

    def _pause(self, cmd: c.PauseWindow, now: dt.datetime, col: Collector) -> Outcome:
        found = self._window(cmd.window)
        if isinstance(found, Refused):
            return found
        _w, rt = found
        reasons = self.config.server.pause_reasons
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
        if rt.state is not _OPEN:
            return refuse(
                RefusalCode.BAD_TRANSITION,
                f"{cmd.window} 号窗口不在服务中，无法暂停",
                f"window {cmd.window} is not open, so it cannot pause",
            )
        if rt.current is not None:
            return idle_first(cmd.window, self.tickets[rt.current])
        rt.state = _PAUSED
        rt.pause_reason = cmd.reason
        rt.paused_at = now
        return self._window_event("paused", cmd.window, now, col)

    def _resume(self, cmd: c.ResumeWindow, now: dt.datetime, col: Collector) -> Outcome:
        found = self._window(cmd.window)
        if isinstance(found, Refused):
            return found
        _w, rt = found
        if rt.state is not _PAUSED:
            return refuse(
                RefusalCode.BAD_TRANSITION, f"{cmd.window} 号窗口未暂停", f"window {cmd.window} is not paused"
            )
        rt.state = _OPEN
        rt.pause_reason = ""
        rt.paused_at = None
        return self._window_event("resumed", cmd.window, now, col)

    def _take_over(self, cmd: c.TakeOver, now: dt.datetime, col: Collector) -> Outcome:
        found = self._window(cmd.window)
        if isinstance(found, Refused):
            return found
        w, rt = found
        partner = self.config.window_by_number.get(cmd.partner)
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
        if rt.state is _CLOSED:
            return refuse(
                RefusalCode.WINDOW_CLOSED, f"{cmd.window} 号窗口未开启", f"window {cmd.window} is closed"
            )
        if cmd.partner in rt.taken_over:
            return refuse(
                RefusalCode.BAD_TRANSITION,
                f"{cmd.window} 号窗口已接管 {cmd.partner} 号窗口",
                f"window {cmd.window} already covers window {cmd.partner}",
            )
        rt.taken_over = (*rt.taken_over, cmd.partner)
        return self._window_event("takeover", cmd.window, now, col)

    def _end_take_over(self, cmd: c.EndTakeOver, now: dt.datetime, col: Collector) -> Outcome:
        found = self._window(cmd.window)
        if isinstance(found, Refused):
            return found
        _w, rt = found
        if cmd.partner not in rt.taken_over:
            return refuse(
                RefusalCode.BAD_TRANSITION,
                f"{cmd.window} 号窗口没有接管 {cmd.partner} 号窗口",
                f"window {cmd.window} does not cover window {cmd.partner}",
            )
        rt.taken_over = tuple(p for p in rt.taken_over if p != cmd.partner)
        return self._window_event("takeover_ended", cmd.window, now, col)
