"""Call keypad keys (HQP/1 `KeyCode`s; vendor 485 keys arrive already mapped onto them) to counter actions."""

from __future__ import annotations

from dataclasses import dataclass, field

from counter.actions import Action
from counter.notices import Notice
from counter.settings import Settings
from drivers.protocols import KeyCode, KeyEvent
from hallcore import caseoutcome
from hallcore.text import Problem

_SIMPLE: dict[int, Action] = {
    KeyCode.RECALL: Action.RECALL,
    KeyCode.CALL_BACK: Action.RECALL,  # vendor 回呼: call the held ticket again
    KeyCode.RESUME: Action.RESUME,
    KeyCode.NO_SHOW: Action.NO_SHOW,
    KeyCode.RATE: Action.RATE_AGAIN,
    KeyCode.LOGOUT: Action.LOGOUT,
    KeyCode.START: Action.START,
}


@dataclass(frozen=True, slots=True)
class KeyIntent:
    """What a key asks for: an action with its arguments, the "next" key's advance, or a problem to show."""

    action: Action | None = None
    args: dict[str, str | int] = field(default_factory=dict)
    advance: bool = False
    problem: Notice | None = None


def intent_for(event: KeyEvent, settings: Settings) -> KeyIntent:
    code, digits = event.code, event.digits
    if code == KeyCode.NEXT:
        return KeyIntent(advance=True)
    if code in _SIMPLE:
        return KeyIntent(_SIMPLE[code])
    if code == KeyCode.FINISH:
        # The finish key's digits carry the outcome (hallcore/caseoutcome.py, docs/devices.md); none: 办结.
        if not digits:
            return KeyIntent(Action.FINISH)
        got = caseoutcome.from_keypad(digits, settings.refusal_reasons)
        if isinstance(got, Problem):
            return KeyIntent(problem=Notice("msg.refused", raw=(got.zh, got.en), level="warning"))
        args: dict[str, str | int] = {"outcome": got.outcome.value, "reason": got.reason}
        if got.case_no:
            args["case_no"] = got.case_no
        return KeyIntent(Action.FINISH, args)
    if code == KeyCode.PAUSE:
        reasons = settings.pause_reasons
        reason = reasons[0] if reasons else ""
        # Digits before the pause key choose the reason by its place in the hall's list (1 = first).
        if digits.isdigit() and 1 <= int(digits) <= len(reasons):
            reason = reasons[int(digits) - 1]
        return KeyIntent(Action.PAUSE, {"reason": reason})
    if code == KeyCode.TRANSFER:
        if not digits.isdigit() or int(digits) == 0:
            return KeyIntent(problem=Notice("msg.target_required", level="warning"))
        return KeyIntent(Action.TRANSFER, {"to_window": int(digits)})
    if code == KeyCode.LOGIN:
        # staff*PIN, or staff*PIN*new PIN to replace a PIN (the hall asks for it when a PIN is too short).
        staff, sep, rest = digits.partition("*")
        pin, sep2, new_pin = rest.partition("*")
        if not sep or not staff or not pin or (sep2 and not new_pin):
            return KeyIntent(problem=Notice("msg.bad_login_digits", level="warning"))
        login: dict[str, str | int] = {"staff": staff, "pin": pin}
        if new_pin:
            login["new_pin"] = new_pin
        return KeyIntent(Action.LOGIN, login)
    return KeyIntent(problem=Notice("msg.key_unknown", {"code": f"{code:02X}"}, "warning"))
