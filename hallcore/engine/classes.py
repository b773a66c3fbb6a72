"""Priority classes checked at the window: staff confirm or revoke the class a citizen claimed (DOMAIN.md
"Rules as real halls run them"). Both are events with the staff and the reason, so the event log is the audit
trail; the server also writes an audit row."""

from __future__ import annotations

import datetime as dt

from hallcore import commands as c
from hallcore.engine import lookups
from hallcore.engine.state import CALLED, SERVING, WAITING, EngineState
from hallcore.engine.views import ticket_event
from hallcore.identity import VERIFIED
from hallcore.outcomes import Collector, Outcome, RefusalCode, Refused, refuse, wrong_state

CONFIRMED = "confirmed"
REVOKED = "revoked"


def review_class(s: EngineState, cmd: c.ReviewClass, now: dt.datetime, col: Collector) -> Outcome:
    found = lookups.window(s, cmd.window)
    if isinstance(found, Refused):
        return found
    _w, rt = found
    t = lookups.ticket(s, cmd.ticket, now)
    if isinstance(t, Refused):
        return t
    if t.state not in (WAITING, CALLED, SERVING):
        return wrong_state(t, WAITING, CALLED, SERVING)
    here = rt.current == t.id or (
        t.state is WAITING and any(s.line_of(t) is line for line in s.lines_for(cmd.window))
    )
    if not here:
        return refuse(
            RefusalCode.NOT_AT_WINDOW,
            f"{t.label} 不在 {cmd.window} 号窗口办理，也不在本窗口的等候队列中",
            f"{t.label} is neither at window {cmd.window} nor waiting for it",
            ticket=t.label,
        )
    claimed = t.claimed or t.priority
    if not claimed:
        return refuse(
            RefusalCode.NO_CLASS, f"{t.label} 没有申报优先类别", f"{t.label} claimed no priority class"
        )
    if t.class_check:
        done = {CONFIRMED: "已确认", VERIFIED: "已由身份证核验"}.get(t.class_check, "已撤销")
        return refuse(
            RefusalCode.BAD_TRANSITION,
            f"{t.label} 的优先类别{done}",
            f"{t.label}'s priority class was {t.class_check} already",
            ticket=t.label,
            class_check=t.class_check,
        )
    if not cmd.confirm and not cmd.reason.strip():
        return refuse(
            RefusalCode.REASON_REQUIRED, "撤销优先须填写原因", "revoking a priority class needs a reason"
        )
    pc = s.config.class_by_id.get(claimed)
    name = pc.name if pc else claimed
    staff = cmd.staff or rt.staff
    t.claimed = claimed
    if cmd.confirm:
        t.class_check = CONFIRMED
        ticket_event(s, "class_confirmed", t, now, col, cmd.window, note=f"{name}（{staff}）")
        return col.accept(t)
    waiting = t.state is WAITING
    if waiting:
        s.dequeue(t)
    t.class_check = REVOKED
    t.priority = ""
    if waiting:
        s.enqueue(t)  # its normal key: the effective time with no head start
    ticket_event(s, "class_revoked", t, now, col, cmd.window, note=f"{name}：{cmd.reason.strip()}（{staff}）")
    return col.accept(t)
