"""`HttpHall`: the hall API over HTTP with httpx (docs/api.md), one method an endpoint; the requests
themselves (one request id per command, bounded retries, error replies) are `hallclient.transport`'s."""

from __future__ import annotations

import asyncio
import datetime as dt
import ssl
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote

import httpx

from hallclient.api import EventFeed
from hallclient.errors import ServerUntrusted
from hallclient.transport import Transport
from hallclient.types import (
    BookingMade,
    Candidate,
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
    StationInfo,
    Supplied,
    TicketInfo,
    TicketStatus,
    WindowInfo,
    WindowResult,
)
from hallclient.wire import read
from hallcore.clock import Clock
from hallcore.replies import ManagerSession, NoticeSub, Remaining, TicketReply


def _seg(value: str | int) -> str:
    # Ticket ids contain "/" ("2026-11-23/A012"): encode it so it stays one path segment.
    return quote(str(value), safe="")


class HttpHall:
    """`HallApi` over HTTP. `token` is the station's or manager's bearer token (None before enrollment).

    `transport` replaces the network (tests pass `httpx.MockTransport`); `retries` is how many times a
    failed attempt is repeated, waiting `backoff_s`, doubled each time up to `backoff_max_s`. `verify` is the
    TLS context of an https server: a station passes its pinned hall CA's (`hallclient.trust.Pin.context`);
    a certificate it refuses raises `ServerUntrusted` at once, without retries.
    """

    def __init__(
        self,
        base_url: str,
        token: str | None = None,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        timeout: float = 5.0,
        retries: int = 3,
        backoff_s: float = 0.25,
        backoff_max_s: float = 2.0,
        clock: Clock | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        verify: ssl.SSLContext | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._ssl = verify
        self._clock = clock
        self._http = Transport(
            self.base_url,
            token,
            transport=transport,
            timeout=timeout,
            retries=retries,
            backoff_s=backoff_s,
            backoff_max_s=backoff_max_s,
            sleep=sleep,
            verify=verify,
        )

    @property
    def token(self) -> str | None:
        return self._http.token

    def set_token(self, token: str | None) -> None:
        """Use another token from now on (after enrollment or a manager login)."""
        self._http.token = token

    async def aclose(self) -> None:
        await self._http.aclose()

    async def __aenter__(self) -> HttpHall:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()

    async def _issue(self, path: str, body: Mapping[str, Any], request_id: str | None) -> Issued | NotIssued:
        """201 `Issued`, or 200 `NotIssued` when the pre-check failed (docs/api.md)."""
        status, data = await self._http.command_status(path, body, request_id)
        return read(Issued, data) if status == 201 else read(NotIssued, data)

    async def _ticket(self, path: str, body: Mapping[str, Any], request_id: str | None) -> TicketInfo:
        return read(TicketReply, await self._http.command(path, body, request_id)).ticket

    # ---- tickets --------------------------------------------------------------------------------------

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
        body: dict[str, Any] = {"matter": matter}
        if id_number or principal_id_number:
            self._may_send_numbers(request_id)
            body["id_number"] = id_number
            if principal_id_number:
                body["principal_id_number"] = principal_id_number
        if agent:
            body["agent"] = True
        if source:
            body["source"] = source
        if priority:
            body["priority"] = priority
        if answers is not None:
            body["answers"] = dict(answers)
        if present is not None:
            body["present"] = sorted(present)
        if holder_name:
            body["holder_name"] = holder_name
        return await self._issue("/api/tickets", body, request_id)

    def _may_send_numbers(self, request_id: str | None = None) -> None:
        """An ID number leaves the station only over TLS with the pinned hall CA (DESIGN.md §9), or to this
        machine itself (the demo's plain http on 127.0.0.1 never leaves the box)."""
        url = httpx.URL(self.base_url)
        pinned = url.scheme == "https" and self._ssl is not None
        if not pinned and url.host not in ("127.0.0.1", "localhost", "::1"):
            raise ServerUntrusted(
                f"{self.base_url}: an ID number is sent only over the pinned TLS connection",
                request_id=request_id,
            )

    async def person_today(self, id_number: str) -> PersonToday:
        self._may_send_numbers()
        return read(PersonToday, await self._http.post("/api/identity", {"id_number": id_number}))

    async def confirm_print(self, ticket: str, *, request_id: str | None = None) -> TicketInfo:
        return await self._ticket(f"/api/tickets/{_seg(ticket)}/printed", {}, request_id)

    async def notify_opt_in(self, ticket: str, phone: str, *, lang: str = "zh") -> NoticeSub:
        """Opt a ticket in to "快到您了" notices by SMS: the holder consented on the screen (a kiosk: only its
        own tickets). The reply shows the number masked."""
        body = {"phone": phone, "consent": True, "lang": lang}
        return read(NoticeSub, await self._http.post(f"/api/tickets/{_seg(ticket)}/notify", body))

    async def void_ticket(self, ticket: str, reason: str, *, request_id: str | None = None) -> TicketInfo:
        path = f"/api/tickets/{_seg(ticket)}/void"
        return await self._ticket(path, {"reason": reason}, request_id)

    async def cancel_ticket(
        self, ticket: str, reason: str = "", *, request_id: str | None = None
    ) -> TicketInfo:
        path = f"/api/tickets/{_seg(ticket)}/cancel"
        return await self._ticket(path, {"reason": reason}, request_id)

    async def requeue(self, ticket: str, *, request_id: str | None = None) -> TicketInfo:
        return await self._ticket(f"/api/tickets/{_seg(ticket)}/requeue", {}, request_id)

    async def rate(
        self, ticket: str, score: int, *, source: str = "pad", request_id: str | None = None
    ) -> Rated:
        path = f"/api/tickets/{_seg(ticket)}/rating"
        return read(Rated, await self._http.command(path, {"score": score, "source": source}, request_id))

    async def status(self, token: str) -> TicketStatus:
        return read(TicketStatus, await self._http.get(f"/api/status/{_seg(token)}"))

    async def owed(self, ticket: str | None = None) -> list[OwedView]:
        params = {"ticket": ticket} if ticket is not None else None
        return read(list[OwedView], await self._http.get("/api/owed", params))

    async def supply(
        self, ticket: str, items: Sequence[str] | None = None, *, request_id: str | None = None
    ) -> Supplied:
        path = f"/api/tickets/{_seg(ticket)}/supplied"
        body = {"items": list(items) if items is not None else None}
        return read(Supplied, await self._http.command(path, body, request_id))

    # ---- windows --------------------------------------------------------------------------------------

    async def _window(
        self, window: int, action: str, request_id: str | None, body: Mapping[str, Any] | None = None
    ) -> WindowResult:
        path = f"/api/windows/{int(window)}/{action}"
        return read(WindowResult, await self._http.command(path, body or {}, request_id))

    async def open_window(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return await self._window(window, "open", request_id)

    async def close_window(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return await self._window(window, "close", request_id)

    async def pause_window(self, window: int, reason: str, *, request_id: str | None = None) -> WindowResult:
        return await self._window(window, "pause", request_id, {"reason": reason})

    async def resume_window(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return await self._window(window, "resume", request_id)

    async def call_next(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return await self._window(window, "call-next", request_id)

    async def call_specific(
        self, window: int, ticket: str, reason: str, *, request_id: str | None = None
    ) -> WindowResult:
        return await self._window(window, "call", request_id, {"ticket": ticket, "reason": reason})

    async def recall(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return await self._window(window, "recall", request_id)

    async def start_serving(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return await self._window(window, "start", request_id)

    async def finish(
        self,
        window: int,
        *,
        outcome: str | None = None,
        reason: str = "",
        case_no: str = "",
        request_id: str | None = None,
    ) -> WindowResult:
        body: dict[str, Any] = {}
        if outcome:
            body["outcome"] = outcome
        if reason:
            body["reason"] = reason
        if case_no:
            body["case_no"] = case_no
        return await self._window(window, "finish", request_id, body)

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
        body = {"ticket": ticket, "outcome": outcome, "reason": reason, "case_no": case_no}
        return await self._window(window, "outcome", request_id, body)

    async def no_show(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return await self._window(window, "no-show", request_id)

    async def transfer(
        self,
        window: int,
        *,
        to_series: str | None = None,
        to_window: int | None = None,
        reason: str = "",
        request_id: str | None = None,
    ) -> WindowResult:
        body: dict[str, Any] = {"reason": reason}
        if to_series is not None:
            body["to_series"] = to_series
        if to_window is not None:
            body["to_window"] = to_window
        return await self._window(window, "transfer", request_id, body)

    async def take_over(self, window: int, partner: int, *, request_id: str | None = None) -> WindowResult:
        return await self._window(window, "takeover", request_id, {"partner": partner})

    async def end_take_over(
        self, window: int, partner: int, *, request_id: str | None = None
    ) -> WindowResult:
        return await self._window(window, "end-takeover", request_id, {"partner": partner})

    async def review_class(
        self, window: int, ticket: str, *, confirm: bool, reason: str = "", request_id: str | None = None
    ) -> WindowResult:
        action = "confirm-class" if confirm else "revoke-class"
        body = {"ticket": ticket} | ({} if confirm else {"reason": reason})
        return await self._window(window, action, request_id, body)

    async def candidates(self, window: int) -> list[Candidate]:
        return read(list[Candidate], await self._http.get(f"/api/windows/{int(window)}/candidates"))

    async def windows(self) -> list[WindowInfo]:
        return read(list[WindowInfo], await self._http.get("/api/windows"))

    # ---- bookings -------------------------------------------------------------------------------------

    async def slots(self, matter: str, day: dt.date) -> list[Slot]:
        params = {"matter": matter, "day": day.isoformat()}
        return read(list[Slot], await self._http.get("/api/booking/slots", params))

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
    ) -> BookingMade:
        body: dict[str, Any] = {
            "matter": matter,
            "day": day.isoformat(),
            "slot": slot.isoformat(timespec="minutes"),
            "id_number": id_number,
        }
        if name:
            body["name"] = name
        if phone:
            body["phone"] = phone
        return read(BookingMade, await self._http.command("/api/bookings", body, request_id))

    async def cancel_booking(self, code: str, *, request_id: str | None = None) -> None:
        await self._http.command(f"/api/bookings/{_seg(code)}/cancel", {}, request_id)

    async def check_in(
        self,
        code: str,
        *,
        answers: Mapping[str, bool] | None = None,
        present: frozenset[str] | None = None,
        request_id: str | None = None,
    ) -> Issued | NotIssued:
        body: dict[str, Any] = {}
        if answers is not None:
            body["answers"] = dict(answers)
        if present is not None:
            body["present"] = sorted(present)
        return await self._issue(f"/api/bookings/{_seg(code)}/checkin", body, request_id)

    # ---- devices, hall, health ------------------------------------------------------------------------

    async def report_device_health(
        self, device: str, health: str, reason: str = "", *, request_id: str | None = None
    ) -> None:
        # The API takes 200 characters; a pyserial reason names a by-id path three times (~270).
        body = {"device": device, "health": health, "reason": reason[:200]}
        await self._http.command("/api/devices/health", body, request_id)

    async def hall_info(self) -> HallView:
        return read(HallView, await self._http.get("/api/hall"))

    async def remaining(self) -> dict[str, int]:
        return read(Remaining, await self._http.get("/api/remaining")).remaining

    async def snapshot(self) -> HallSnapshot:
        return read(HallSnapshot, await self._http.get("/api/snapshot"))

    async def health(self) -> Health:
        return read(Health, await self._http.get("/api/health"))

    # ---- stations and people --------------------------------------------------------------------------

    async def enroll(self, name: str, role: str) -> Enrollment:
        # Enrollment, approval, revocation and logout carry no request id (docs/api.md): repeating them is
        # harmless or refused, and the server rejects fields it does not know.
        return read(Enrollment, await self._http.post("/api/enroll", {"name": name, "role": role}))

    async def poll_enrollment(self, station_id: str, poll_secret: str) -> EnrollPoll:
        data = await self._http.get(f"/api/enroll/{_seg(station_id)}", {"poll_secret": poll_secret})
        return read(EnrollPoll, data)

    async def manager_login(self, username: str, password: str) -> str:
        body = {"username": username, "password": password}
        return read(ManagerSession, await self._http.post("/api/manager/login", body)).token

    async def counter_login(
        self, staff: str, pin: str, window: int, *, new_pin: str | None = None
    ) -> CounterSession:
        body: dict[str, Any] = {"staff": staff, "pin": pin, "window": window}
        if new_pin is not None:
            body["new_pin"] = new_pin
        return read(CounterSession, await self._http.post("/api/counter/login", body))

    async def counter_logout(self) -> None:
        await self._http.post("/api/counter/logout", None)

    async def stations(self) -> list[StationInfo]:
        return read(list[StationInfo], await self._http.get("/api/stations"))

    async def approve_station(
        self, station_id: str, *, window: int | None = None, windows: list[int] | None = None
    ) -> StationInfo:
        body: dict[str, Any] = {} if window is None else {"window": window}
        if windows is not None:
            body["windows"] = windows
        return read(StationInfo, await self._http.post(f"/api/stations/{_seg(station_id)}/approve", body))

    async def revoke_station(self, station_id: str) -> StationInfo:
        return read(StationInfo, await self._http.post(f"/api/stations/{_seg(station_id)}/revoke", None))

    # ---- events ---------------------------------------------------------------------------------------

    def events(
        self,
        *,
        since: int = 0,
        window: int | None = None,
        series: str | None = None,
        zone: str | None = None,
    ) -> EventFeed:
        """An `EventStream` on this server with this client's token."""
        from hallclient.stream import EventStream
        from hallcore.clock import SystemClock

        # The app normally injects its clock; the system clock is the only sensible default for a real server.
        clock = self._clock or SystemClock()
        return EventStream(
            self.base_url,
            self._http.token,
            since=since,
            window=window,
            series=series,
            zone=zone,
            clock=clock,
            ssl_context=self._ssl,
        )
