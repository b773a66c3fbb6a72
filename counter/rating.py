"""The rating (好差评) of the last ticket finished at this window, as data: asked on the pad, sent to the
hall, queued while the hall is unreachable (sent again with the same request id), stored (maybe opening a
差评 case), or not rated (timeout, no pad, pad down). Never a made-up score."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace
from enum import StrEnum

from counter.notices import Notice
from hallclient.types import Rated, TicketInfo


class RatingPhase(StrEnum):
    ASKING = "asking"
    SENDING = "sending"
    QUEUED = "queued"  # score known, server unreachable: sent with the same request id when it is back
    DONE = "done"
    TIMEOUT = "timeout"
    NO_PAD = "no_pad"
    PAD_DOWN = "pad_down"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class Rating:
    ticket: TicketInfo
    phase: RatingPhase
    score: int | None = None
    request_id: str = ""
    case_id: str | None = None
    case_due: dt.date | None = None
    reason: str = ""


class RatingTrack:
    """The window's current rating and the pad request the controller is to make. Pure."""

    def __init__(self, has_pad: bool) -> None:
        self.has_pad = has_pad
        self.current: Rating | None = None
        self.to_ask: TicketInfo | None = None  # the controller asks the pad and clears it
        self.last_finished: TicketInfo | None = None

    def finished_here(self, t: TicketInfo) -> None:
        """This window finished `t`: ask the citizen on the pad (or say there is none)."""
        self.last_finished = t
        if self.has_pad:
            self.current, self.to_ask = Rating(t, RatingPhase.ASKING), t
        else:
            self.current, self.to_ask = Rating(t, RatingPhase.NO_PAD), None

    def finished_elsewhere(self) -> None:
        """Finished by someone else (a manager): this station does not ask for a rating of it."""
        self.current = self.to_ask = None

    def can_ask_again(self) -> bool:
        r = self.current
        return (
            self.has_pad
            and self.last_finished is not None
            and r is not None
            and r.ticket.id == self.last_finished.id
            and r.phase in (RatingPhase.TIMEOUT, RatingPhase.PAD_DOWN)
        )

    def ask_again(self) -> None:
        assert self.last_finished is not None
        self.to_ask = self.last_finished
        self.current = Rating(self.last_finished, RatingPhase.ASKING)

    def take_request(self) -> TicketInfo | None:
        t, self.to_ask = self.to_ask, None
        return t

    def scored(self, ticket: TicketInfo, score: int, request_id: str) -> None:
        self.current = Rating(ticket, RatingPhase.SENDING, score, request_id)

    def timed_out(self, ticket: TicketInfo) -> None:
        self.current = Rating(ticket, RatingPhase.TIMEOUT)

    def pad_down(self, ticket: TicketInfo, reason: str) -> None:
        self.current = Rating(ticket, RatingPhase.PAD_DOWN, reason=reason)

    def stored(self, ticket: TicketInfo, result: Rated) -> None:
        case = result.case
        self.current = Rating(
            ticket,
            RatingPhase.DONE,
            result.rating.score,
            "",
            case.id if case else None,
            case.due if case else None,
        )

    def queued(self, ticket: TicketInfo) -> None:
        if self.current is not None and self.current.ticket.id == ticket.id:
            self.current = replace(self.current, phase=RatingPhase.QUEUED)

    def failed(self, ticket: TicketInfo, reason: str) -> None:
        score = self.current.score if self.current is not None else None
        self.current = Rating(ticket, RatingPhase.FAILED, score, reason=reason)

    def to_resend(self) -> Rating | None:
        r = self.current
        return r if r is not None and r.phase is RatingPhase.QUEUED else None

    def notice(self) -> Notice | None:
        r = self.current
        if r is None:
            return None
        values: dict[str, str | int] = {"label": r.ticket.label}
        refs = {"score": f"score.{r.score}"} if r.score else {}
        match r.phase:
            case RatingPhase.ASKING:
                return Notice("rate.asking", values)
            case RatingPhase.SENDING:
                return Notice("rate.sending", values, refs=refs)
            case RatingPhase.QUEUED:
                return Notice("rate.queued", values, "warning", refs=refs)
            case RatingPhase.DONE:
                if r.case_id:
                    values |= {"case": r.case_id, "due": str(r.case_due or "")}
                    return Notice("rate.case", values, "warning", refs=refs)
                return Notice("rate.done", values, refs=refs)
            case RatingPhase.TIMEOUT:
                return Notice("rate.timeout", values, "warning")
            case RatingPhase.NO_PAD:
                return Notice("rate.no_pad", values, "warning")
            case RatingPhase.PAD_DOWN:
                return Notice("rate.pad_down", values | {"reason": r.reason}, "error")
            case RatingPhase.FAILED:
                return Notice("rate.failed", values | {"reason": r.reason}, "error")
