"""What a clerk can do at a counter, as data: the station's phases, the actions, one command per action sent
(with its request id, reused by every retry) and the hall event each action produces."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum


class Phase(StrEnum):
    ENROLLING = "enrolling"
    LOGIN = "login"
    MAIN = "main"


class Action(StrEnum):
    LOGIN = "login"
    LOGOUT = "logout"
    OPEN = "open"
    CLOSE = "close"
    CALL_NEXT = "call_next"
    RECALL = "recall"
    START = "start"
    FINISH = "finish"
    NO_SHOW = "no_show"
    REQUEUE = "requeue"
    TRANSFER = "transfer"
    CALL_SPECIFIC = "call_specific"
    PAUSE = "pause"
    RESUME = "resume"
    TAKE_OVER = "take_over"
    END_TAKE_OVER = "end_take_over"
    CONFIRM_CLASS = "confirm_class"  # the priority class the held ticket claimed is right
    REVOKE_CLASS = "revoke_class"  # it is not (a reason is required; audited)
    RATE_AGAIN = "rate_again"
    SET_OUTCOME = "set_outcome"  # change the outcome or 办件编号 of the case just finished here


#: The ticket event each window action produces: a reply already applied makes its own event redundant.
TICKET_EVENT: dict[Action, str] = {
    Action.CALL_NEXT: "called",
    Action.CALL_SPECIFIC: "called",
    Action.RECALL: "recalled",
    Action.START: "serving",
    Action.FINISH: "finished",
    Action.NO_SHOW: "no_show",
    Action.TRANSFER: "transferred",
    Action.CONFIRM_CLASS: "class_confirmed",
    Action.REVOKE_CLASS: "class_revoked",
    Action.SET_OUTCOME: "outcome_changed",
}
WINDOW_EVENT: dict[Action, str] = {
    Action.OPEN: "opened",
    Action.CLOSE: "closed",
    Action.PAUSE: "paused",
    Action.RESUME: "resumed",
    Action.TAKE_OVER: "takeover",
    Action.END_TAKE_OVER: "takeover_ended",
}
#: Ticket states in which the window holds the ticket.
HELD = ("called", "serving")


@dataclass(frozen=True, slots=True)
class Command:
    """One action to send: its request id is reused by every retry of it."""

    action: Action
    request_id: str
    args: Mapping[str, str | int] = field(default_factory=dict)
    # Actions to run after this one succeeds (the keypad's "next" while serving: finish, then call next).
    then: tuple[Action, ...] = ()
