"""`HallApi`: what a station can ask of the hall server, one typed async method per endpoint of docs/api.md.

Implemented by `hallclient.http.HttpHall`; app tests run it against the real server on 127.0.0.1
(`tests/fakes/live_server.py`). Replies are `hallcore.replies` types. Every state-changing method takes an
optional `request_id`: pass the same one again to retry a command safely (the server replays the first
result); without one, a fresh id is made per call and reused for that call's own retries. Ticket arguments
are ticket ids ("2026-11-23/A012") or today's labels ("A012").

Errors (see `hallclient.errors`): `Refusal`, `AuthError`, `DiskFull`, `ServerUnavailable`, `BadReply`.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from typing import Protocol

from hallclient.errors import (
    AuthError,
    BadReply,
    DiskFull,
    EnrollmentError,
    HallClientError,
    HallReplyError,
    Refusal,
    ServerUnavailable,
)
from hallclient.types import (
    BookingMade,
    Candidate,
    ConnectionState,
    CounterSession,
    Enrollment,
    EnrollPoll,
    HallSnapshot,
    HallView,
    Health,
    Issued,
    NotIssued,
    OwedView,
    PersonToday,
    Rated,
    Slot,
    StateChange,
    StationInfo,
    StreamItem,
    Supplied,
    TicketInfo,
    TicketStatus,
    WindowInfo,
    WindowResult,
)
from hallcore.replies import NoticeSub

__all__ = [
    "AuthError",
    "BadReply",
    "DiskFull",
    "EnrollmentError",
    "EventFeed",
    "HallApi",
    "HallClientError",
    "HallReplyError",
    "Refusal",
    "ServerUnavailable",
    "new_request_id",
]


def new_request_id() -> str:
    """A fresh id for one command; its retries send the same id again."""
    return str(uuid.uuid4())


class EventFeed(Protocol):
    """A live feed of hall events: `async for item in feed` yields `EventItem`, `Snapshot` and `Heartbeat`.

    It reconnects by itself and resumes after the last seq; it ends only after `aclose()`.
    """

    @property
    def state(self) -> ConnectionState: ...

    @property
    def last_seq(self) -> int: ...

    def data_age_s(self) -> float | None:
        """Seconds since the last message (heartbeats included); None before the first one."""
        ...

    def add_state_listener(self, listener: Callable[[StateChange], None]) -> Callable[[], None]:
        """Call `listener` on every state change; returns a function that removes it."""
        ...

    def states(self) -> AsyncIterator[StateChange]:
        """The current state, then every change, until the feed is closed."""
        ...

    def __aiter__(self) -> AsyncIterator[StreamItem]: ...

    async def aclose(self) -> None: ...


class HallApi(Protocol):
    """The hall API as seen by a station (kiosk, counter, desk, display, agent) or a manager session."""

    # ---- tickets ----

    async def issue_ticket(
        self,
        matter: str,
        *,
        source: str | None = None,
        priority: str = "",
        answers: Mapping[str, bool] | None = None,
        present: frozenset[str] | None = None,
        holder_name: str = "",
        id_number: str = "",
        agent: bool = False,
        principal_id_number: str = "",
        request_id: str | None = None,
    ) -> Issued | NotIssued:
        """Take a number; `NotIssued` when the pre-check fails (print the 一次性告知单). `id_number`: the
        card read (刷身份证取号; only over the pinned TLS connection); `agent` and `principal_id_number`:
        代办."""
        ...

    async def person_today(self, id_number: str) -> PersonToday:
        """A card read: the holder's bookings today and the carded numbers left (`POST /api/identity`)."""
        ...

    async def confirm_print(self, ticket: str, *, request_id: str | None = None) -> TicketInfo:
        """The kiosk printed the ticket: pending_print → waiting."""
        ...

    async def notify_opt_in(self, ticket: str, phone: str, *, lang: str = "zh") -> NoticeSub:
        """Opt a ticket in to "快到您了" notices (the holder consented on the screen)."""
        ...

    async def void_ticket(self, ticket: str, reason: str, *, request_id: str | None = None) -> TicketInfo:
        """The print failed: the number is used up, nobody holds it."""
        ...

    async def cancel_ticket(
        self, ticket: str, reason: str = "", *, request_id: str | None = None
    ) -> TicketInfo: ...

    async def requeue(self, ticket: str, *, request_id: str | None = None) -> TicketInfo:
        """A no-show came back: re-queue it behind the next few tickets."""
        ...

    async def rate(
        self, ticket: str, score: int, *, source: str = "pad", request_id: str | None = None
    ) -> Rated:
        """One rating per served ticket (一次一评), score 1–5."""
        ...

    async def status(self, token: str) -> TicketStatus:
        """The phone page's view of a ticket, by its public status token."""
        ...

    async def owed(self, ticket: str | None = None) -> list[OwedView]:
        """The 容缺 register: the entries still owing something, or one ticket's entry (desk, counter)."""
        ...

    async def supply(
        self, ticket: str, items: Sequence[str] | None = None, *, request_id: str | None = None
    ) -> Supplied:
        """Mark owed 容缺 items supplied (None: every item still owed)."""
        ...

    # ---- windows ----

    async def open_window(self, window: int, *, request_id: str | None = None) -> WindowResult: ...

    async def close_window(self, window: int, *, request_id: str | None = None) -> WindowResult: ...

    async def pause_window(
        self, window: int, reason: str, *, request_id: str | None = None
    ) -> WindowResult: ...

    async def resume_window(self, window: int, *, request_id: str | None = None) -> WindowResult: ...

    async def call_next(self, window: int, *, request_id: str | None = None) -> WindowResult: ...

    async def call_specific(
        self, window: int, ticket: str, reason: str, *, request_id: str | None = None
    ) -> WindowResult:
        """Call one ticket out of order; the reason is audited."""
        ...

    async def recall(self, window: int, *, request_id: str | None = None) -> WindowResult: ...

    async def start_serving(self, window: int, *, request_id: str | None = None) -> WindowResult: ...

    async def finish(
        self,
        window: int,
        *,
        outcome: str | None = None,
        reason: str = "",
        case_no: str = "",
        request_id: str | None = None,
    ) -> WindowResult:
        """Finish the case being served with its outcome (办结 when None), reason and 办件编号."""
        ...

    async def set_outcome(
        self,
        window: int,
        ticket: str,
        outcome: str,
        *,
        reason: str = "",
        case_no: str = "",
        request_id: str | None = None,
    ) -> WindowResult:
        """Change the outcome or 办件编号 of the case this window just finished (within the hall's limit)."""
        ...

    async def no_show(self, window: int, *, request_id: str | None = None) -> WindowResult: ...

    async def transfer(
        self,
        window: int,
        *,
        to_series: str | None = None,
        to_window: int | None = None,
        reason: str = "",
        request_id: str | None = None,
    ) -> WindowResult:
        """转办 to one series or one window, keeping number and issue time."""
        ...

    async def take_over(
        self, window: int, partner: int, *, request_id: str | None = None
    ) -> WindowResult: ...

    async def end_take_over(
        self, window: int, partner: int, *, request_id: str | None = None
    ) -> WindowResult: ...

    async def review_class(
        self, window: int, ticket: str, *, confirm: bool, reason: str = "", request_id: str | None = None
    ) -> WindowResult:
        """Confirm or revoke (with a reason) the priority class a ticket at or waiting for this window
        claimed; audited."""
        ...

    async def candidates(self, window: int) -> list[Candidate]:
        """Who waits for this window, in call order, with reasons."""
        ...

    async def windows(self) -> list[WindowInfo]: ...

    # ---- bookings ----

    async def slots(self, matter: str, day: dt.date) -> list[Slot]: ...

    async def book(
        self,
        matter: str,
        day: dt.date,
        slot: dt.time,
        id_number: str,
        *,
        name: str = "",
        phone: str = "",
        request_id: str | None = None,
    ) -> BookingMade: ...

    async def cancel_booking(self, code: str, *, request_id: str | None = None) -> None: ...

    async def check_in(
        self,
        code: str,
        *,
        answers: Mapping[str, bool] | None = None,
        present: frozenset[str] | None = None,
        request_id: str | None = None,
    ) -> Issued | NotIssued: ...

    # ---- devices, hall, health ----

    async def report_device_health(
        self, device: str, health: str, reason: str = "", *, request_id: str | None = None
    ) -> None: ...

    async def hall_info(self) -> HallView: ...

    async def remaining(self) -> dict[str, int]:
        """Numbers left today per matter, for the matters (or their series) with a daily cap."""
        ...

    async def snapshot(self) -> HallSnapshot: ...

    async def health(self) -> Health: ...

    # ---- stations and people ----

    async def enroll(self, name: str, role: str) -> Enrollment: ...

    async def poll_enrollment(self, station_id: str, poll_secret: str) -> EnrollPoll: ...

    async def manager_login(self, username: str, password: str) -> str:
        """Returns a manager session token."""
        ...

    async def counter_login(
        self, staff: str, pin: str, window: int, *, new_pin: str | None = None
    ) -> CounterSession:
        """`new_pin` replaces the PIN in the same call (needed after 403 `pin_change_required`)."""
        ...

    async def counter_logout(self) -> None: ...

    async def stations(self) -> list[StationInfo]: ...

    async def approve_station(
        self, station_id: str, *, window: int | None = None, windows: list[int] | None = None
    ) -> StationInfo:
        """Approve (or, for an approved station, change) the window(s) a counter or desk serves."""
        ...

    async def revoke_station(self, station_id: str) -> StationInfo: ...

    # ---- events ----

    def events(
        self,
        *,
        since: int = 0,
        window: int | None = None,
        series: str | None = None,
        zone: str | None = None,
    ) -> EventFeed:
        """A feed of events after `since` (0: from the start of the kept backlog, or a snapshot)."""
        ...

    async def aclose(self) -> None: ...
