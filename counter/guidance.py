"""What a clerk may do now, why not, and what is expected next: the one home of the counter's action rules.

`blocked(flow, action)` is None when the action may be sent, else the reason as a `Notice` (a disabled button
says it in its tooltip); `CounterFlow.allowed` is `blocked(...) is None`, so a button's state and its reason
never disagree. `expected(flow)` is the action the window's state asks for next (the button that stands out).
"""

from __future__ import annotations

from typing import Protocol

from counter.actions import HELD, Action, Phase
from counter.notices import Notice
from counter.rating import RatingTrack
from counter.settings import Settings
from hallclient.types import TicketInfo


class CounterFlow(Protocol):
    """What the rules read of the counter's state (counter/flow.py's `CounterFlow`)."""

    phase: Phase
    current: TicketInfo | None
    settings: Settings
    ratings: RatingTrack

    @property
    def busy(self) -> bool: ...
    @property
    def online(self) -> bool: ...
    @property
    def window_state(self) -> str: ...
    @property
    def held_state(self) -> str: ...
    @property
    def held_label(self) -> str: ...
    @property
    def covering(self) -> tuple[int, ...]: ...
    @property
    def waiting(self) -> int: ...
    def change_left_s(self) -> int: ...


def _why(key: str, **values: str | int) -> Notice:
    return Notice(f"why.{key}", values)


def blocked(flow: CounterFlow, action: Action) -> Notice | None:
    """None if `action` may be sent now, else why not."""
    if flow.busy:
        return _why("busy")
    if not flow.online:
        return _why("offline")
    if action is Action.LOGIN:
        return None if flow.phase is Phase.LOGIN else _why("logged_in")
    if flow.phase is not Phase.MAIN:
        return _why("login_first")
    state = flow.window_state
    cur = flow.held_state
    idle = cur == ""
    match action:
        case Action.LOGOUT:
            return None if idle else _why("finish_first", label=flow.held_label)
        case Action.OPEN:
            return None if state == "closed" else _why("already_open")
        case Action.CLOSE:
            if state not in ("open", "paused"):
                return _why("closed")
            return None if idle else _why("finish_first", label=flow.held_label)
        case Action.CALL_NEXT | Action.CALL_SPECIFIC | Action.PAUSE:
            if state == "paused":
                return _why("resume_first")
            if state != "open":
                return _why("open_first")
            return None if idle else _why("finish_first", label=flow.held_label)
        case Action.RECALL | Action.START:
            return None if cur == "called" else _held_why(flow, cur)
        case Action.NO_SHOW:
            if cur != "called":
                return _held_why(flow, cur)
            recalls = flow.current.recalls if flow.current is not None else 0
            left = flow.settings.max_recalls - recalls
            return None if left <= 0 else _why("recall_first", n=left)
        case Action.FINISH:
            if cur == "serving":
                return None
            return _why("start_first") if cur == "called" else _why("nothing_held")
        case Action.TRANSFER:
            return None if cur in HELD else _why("nothing_held")
        case Action.CONFIRM_CLASS | Action.REVOKE_CLASS:
            # Staff check a claimed class with the citizen in front of them, once (DOMAIN.md).
            t = flow.current
            if cur not in HELD or t is None:
                return _why("nothing_held")
            if not (t.claimed or t.priority):
                return _why("no_class")
            return None if not t.class_check else _why("class_checked")
        case Action.REQUEUE:
            return None
        case Action.RESUME:
            return None if state == "paused" else _why("not_paused")
        case Action.TAKE_OVER:
            if state == "closed":
                return _why("open_first")
            free = any(p not in flow.covering for p in flow.settings.partners)
            return None if free else _why("no_partner")
        case Action.END_TAKE_OVER:
            return None if flow.covering else _why("not_covering")
        case Action.RATE_AGAIN:
            return None if flow.ratings.can_ask_again() else _why("no_rating")
        case Action.SET_OUTCOME:
            return None if flow.change_left_s() > 0 else _why("change_over")


def _held_why(flow: CounterFlow, cur: str) -> Notice:
    return _why("serving_already", label=flow.held_label) if cur == "serving" else _why("call_first")


def expected(flow: CounterFlow) -> Action | None:
    """The next action the window's state asks for: start a called ticket, finish the one being served, open
    a closed window, resume a paused one, call the next when people wait; None when nothing is due."""
    if flow.phase is not Phase.MAIN or flow.busy or not flow.online:
        return None
    cur = flow.held_state
    if cur == "called":
        return Action.START
    if cur == "serving":
        return Action.FINISH
    state = flow.window_state
    if state == "closed":
        return Action.OPEN
    if state == "paused":
        return Action.RESUME
    return Action.CALL_NEXT if flow.waiting > 0 else None
