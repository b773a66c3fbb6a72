"""`FakeHall`: the `HallApi` in memory, on the real `hallcore` engine and an injected clock.

It behaves like the server where apps can tell: the same replies and events (with seqs), request-id
idempotency (a repeated id replays the first result or refusal), `Refusal` with the engine's code and
message, status tokens, snapshots, enrollment and logins; roles are checked when the hall is used through a
station view (`as_station`). `go_offline()` makes every call raise `ServerUnavailable` and every feed leave
LIVE, so apps can test their "server unreachable" state.

Not a server: no persistence, no rate limits, and the `Tick` housekeeping runs only when `tick()` is called.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import hashlib
import hmac
import itertools
import secrets
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypeVar

from hallclient.api import EventFeed
from hallclient.errors import AuthError, Refusal, ServerUnavailable
from hallclient.types import (
    BookingMade,
    Candidate,
    ConnectionState,
    CounterSession,
    Enrollment,
    EnrollPoll,
    EnrollState,
    EventItem,
    HallSnapshot,
    HallView,
    Health,
    Heartbeat,
    Issued,
    NotIssued,
    Rated,
    Role,
    Slot,
    Snapshot,
    StateChange,
    StationInfo,
    StreamItem,
    TicketInfo,
    TicketStatus,
    WindowInfo,
    WindowResult,
)
from hallcore import commands as c
from hallcore import replies
from hallcore.clock import Clock
from hallcore.config import HallConfig
from hallcore.engine import Accepted, Engine, Refused
from hallcore.events import DeviceHealth, Event, TicketChanged
from hallcore.model import Source, Ticket

T = TypeVar("T")

# Roles per endpoint group, from docs/api.md.
_ISSUE = frozenset({Role.KIOSK, Role.DESK, Role.COUNTER})
_PRINT = frozenset({Role.KIOSK, Role.DESK})
_CANCEL = frozenset({Role.DESK, Role.COUNTER, Role.MANAGER})
_STAFF = frozenset({Role.DESK, Role.COUNTER})
_WINDOW = frozenset({Role.DESK, Role.COUNTER, Role.MANAGER})
_ANY = frozenset(Role)
_MANAGER = frozenset({Role.MANAGER})

RECENT_CALLS = 10


def to_refusal(refused: Refused) -> Refusal:
    return Refusal(
        refused.code.value,
        refused.message,
        refused.message_en,
        refused.detail,
        replies.refusal_status(refused.code),
    )


@dataclass(slots=True)
class _Station:
    station_id: str
    name: str
    role: str
    code: str
    poll_secret: str
    created_at: dt.datetime
    state: EnrollState = EnrollState.PENDING
    token: str | None = None
    token_collected: bool = False
    window: int | None = None

    def info(self, staff: str = "") -> StationInfo:
        return StationInfo(
            self.station_id,
            self.name,
            self.role,
            self.state.value,
            self.code,
            self.window,
            staff,
            self.created_at,
        )


@dataclass(slots=True)
class _Core:
    """The hall's state shared by every station view of one FakeHall."""

    config: HallConfig
    clock: Clock
    engine: Engine
    staff: dict[str, tuple[str, str]]  # staff code -> (pin, name)
    managers: dict[str, str]  # username -> password
    secret: bytes
    started: float
    seq: int = 0
    log: list[tuple[int, Event]] = field(default_factory=list)
    feeds: set[FakeEventFeed] = field(default_factory=set)
    replies: dict[tuple[str, str], Any] = field(default_factory=dict)  # (station, request id) -> reply
    tokens: dict[str, str] = field(default_factory=dict)  # status token -> ticket id
    calls: deque[TicketChanged] = field(default_factory=lambda: deque(maxlen=RECENT_CALLS))
    devices: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)
    stations: dict[str, _Station] = field(default_factory=dict)
    sessions: dict[str, CounterSession] = field(default_factory=dict)  # station id -> clerk login
    online: bool = True
    ids: itertools.count[int] = field(default_factory=lambda: itertools.count(1))

    def publish(self, events: tuple[Event, ...] | list[Event]) -> None:
        for ev in events:
            self.seq += 1
            self.log.append((self.seq, ev))
            if isinstance(ev, TicketChanged) and ev.action in ("called", "recalled"):
                self.calls.append(ev)  # oldest first, as the server keeps them
            for feed in list(self.feeds):
                feed.offer(EventItem(self.seq, ev))


class FakeHall:
    """An in-memory hall. `role=None` (the default) skips role checks; `as_station` gives a checked view.

    `staff` maps staff codes to (PIN, name) for `counter_login`; `managers` maps usernames to passwords.
    """

    def __init__(
        self,
        config: HallConfig,
        clock: Clock,
        *,
        role: Role | str | None = None,
        window: int | None = None,
        station_id: str = "fake",
        staff: Mapping[str, tuple[str, str]] | None = None,
        managers: Mapping[str, str] | None = None,
        _core: _Core | None = None,
    ) -> None:
        self._core = _core or _Core(
            config=config,
            clock=clock,
            engine=Engine(config),
            staff=dict(staff or {}),
            managers=dict(managers or {}),
            secret=secrets.token_bytes(16),
            started=clock.monotonic(),
        )
        self.role = Role(role) if role is not None else None
        self.window = window
        self.station_id = station_id

    def as_station(self, role: Role | str, *, window: int | None = None, station_id: str = "") -> FakeHall:
        """A view of the same hall as one station with `role` (and its window for counters)."""
        sid = station_id or f"{Role(role).value}-{window if window is not None else next(self._core.ids)}"
        core = self._core
        return FakeHall(core.config, core.clock, role=role, window=window, station_id=sid, _core=core)

    # ---- test controls --------------------------------------------------------------------------------

    @property
    def engine(self) -> Engine:
        """The engine itself, for assertions (do not change it behind the fake's back)."""
        return self._core.engine

    @property
    def seq(self) -> int:
        return self._core.seq

    def event_log(self) -> list[tuple[int, Event]]:
        return list(self._core.log)

    def tick(self) -> list[Event]:
        """Run the server's housekeeping now (void unconfirmed prints, expire after closing)."""
        out = self._core.engine.handle(c.Tick(), self._core.clock.now())
        assert isinstance(out, Accepted)
        self._core.publish(out.events)
        return list(out.events)

    def heartbeat(self) -> None:
        """Send every feed a heartbeat with the current seq, as the server does every few seconds."""
        for feed in list(self._core.feeds):
            feed.offer(Heartbeat(self._core.seq, self._core.clock.now()))

    def go_offline(self) -> None:
        self._core.online = False
        for feed in list(self._core.feeds):
            feed.lost()

    def go_online(self) -> None:
        self._core.online = True
        for feed in list(self._core.feeds):
            feed.back()

    async def aclose(self) -> None:
        for feed in list(self._core.feeds):
            await feed.aclose()

    # ---- plumbing -------------------------------------------------------------------------------------

    def _gate(self, roles: frozenset[Role] | None, window: int | None = None) -> None:
        if not self._core.online:
            raise ServerUnavailable("the fake hall is offline")
        if roles is None or self.role is None:
            return
        if self.role not in roles:
            raise AuthError(
                "forbidden", "本站无权执行此操作", f"a {self.role.value} station may not do this", status=403
            )
        if (
            window is not None
            and self.role in (Role.COUNTER, Role.DESK)
            and self.window is not None
            and self.window != window
        ):
            raise AuthError(
                "forbidden",
                f"本站绑定 {self.window} 号窗口",
                f"this station is bound to window {self.window}",
                {"window": self.window},
                403,
            )

    def _once(self, request_id: str | None, run: Callable[[], T]) -> T:
        """Run a command once per (station, request id); a repeat replays the reply or the refusal."""
        if request_id is None:
            return run()
        key = (self.station_id, request_id)
        if key in self._core.replies:
            stored = self._core.replies[key]
            if isinstance(stored, Refusal):
                raise stored
            return stored  # type: ignore[no-any-return]
        try:
            reply = run()
        except Refusal as exc:
            self._core.replies[key] = exc
            raise
        self._core.replies[key] = reply
        return reply

    def _apply(self, cmd: c.Command) -> Accepted:
        out = self._core.engine.handle(cmd, self._core.clock.now())
        if isinstance(out, Refused):
            raise to_refusal(out)
        self._core.publish(out.events)
        return out

    def _tview(self, t: Ticket) -> TicketInfo:
        return self._core.engine.ticket_view(t)

    def _ticket_cmd(self, cmd: c.Command, request_id: str | None) -> TicketInfo:
        def run() -> TicketInfo:
            out = self._apply(cmd)
            assert out.ticket is not None
            return self._tview(out.ticket)

        return self._once(request_id, run)

    def _issued(self, out: Accepted) -> Issued | NotIssued:
        core = self._core
        if out.ticket is None:
            assert out.precheck is not None
            return replies.not_issued(core.config, out.precheck, core.clock.now())
        assert out.estimate is not None
        assert out.ahead is not None
        core.tokens[out.ticket.token] = out.ticket.id
        base = core.config.hall.public_base_url
        return replies.issued(core.engine, out.ticket, out.ahead, out.estimate, out.precheck, base)

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
        request_id: str | None = None,
    ) -> Issued | NotIssued:
        self._gate(_ISSUE)
        if source is not None:
            src = Source(source)
        elif self.role in (Role.DESK, Role.COUNTER):
            src = Source.DESK
        else:
            src = Source.KIOSK

        def run() -> Issued | NotIssued:
            token = secrets.token_urlsafe(12)
            cmd = c.IssueTicket(matter, src, token, priority, answers, present, holder_name)
            return self._issued(self._apply(cmd))

        return self._once(request_id, run)

    async def confirm_print(self, ticket: str, *, request_id: str | None = None) -> TicketInfo:
        self._gate(_PRINT)
        return self._ticket_cmd(c.ConfirmPrint(ticket), request_id)

    async def void_ticket(self, ticket: str, reason: str, *, request_id: str | None = None) -> TicketInfo:
        self._gate(_PRINT)
        return self._ticket_cmd(c.VoidTicket(ticket, reason), request_id)

    async def cancel_ticket(
        self, ticket: str, reason: str = "", *, request_id: str | None = None
    ) -> TicketInfo:
        self._gate(_CANCEL)
        return self._ticket_cmd(c.CancelTicket(ticket, reason), request_id)

    async def requeue(self, ticket: str, *, request_id: str | None = None) -> TicketInfo:
        self._gate(_STAFF)
        return self._ticket_cmd(c.RequeueNoShow(ticket), request_id)

    async def rate(
        self, ticket: str, score: int, *, source: str = "pad", request_id: str | None = None
    ) -> Rated:
        self._gate(_STAFF)

        def run() -> Rated:
            out = self._apply(c.Rate(ticket, score, source))
            assert out.ticket is not None
            return replies.rated(self._core.engine, out.ticket)

        return self._once(request_id, run)

    async def status(self, token: str) -> TicketStatus:
        self._gate(None)
        core = self._core
        tid = core.tokens.get(token)
        t = core.engine.tickets.get(tid) if tid else None
        if t is None:
            raise Refusal("not_found", "没有这张票", "no such ticket for this token", status=404)
        return replies.ticket_status(core.engine, t, core.clock.now(), core.calls)

    # ---- windows --------------------------------------------------------------------------------------

    def _window_cmd(self, window: int, cmd: c.Command, request_id: str | None) -> WindowResult:
        self._gate(_WINDOW, window)

        def run() -> WindowResult:
            return replies.window_result(self._core.engine, window, self._apply(cmd).ticket)

        return self._once(request_id, run)

    def _clerk(self) -> str:
        session = self._core.sessions.get(self.station_id)
        return session.staff if session else ""

    async def open_window(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return self._window_cmd(window, c.OpenWindow(window, self._clerk()), request_id)

    async def close_window(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return self._window_cmd(window, c.CloseWindow(window), request_id)

    async def pause_window(self, window: int, reason: str, *, request_id: str | None = None) -> WindowResult:
        return self._window_cmd(window, c.PauseWindow(window, reason), request_id)

    async def resume_window(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return self._window_cmd(window, c.ResumeWindow(window), request_id)

    async def call_next(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return self._window_cmd(window, c.CallNext(window, self._clerk()), request_id)

    async def call_specific(
        self, window: int, ticket: str, reason: str, *, request_id: str | None = None
    ) -> WindowResult:
        return self._window_cmd(window, c.CallSpecific(window, ticket, reason, self._clerk()), request_id)

    async def recall(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return self._window_cmd(window, c.Recall(window), request_id)

    async def start_serving(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return self._window_cmd(window, c.StartServing(window), request_id)

    async def finish(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return self._window_cmd(window, c.Finish(window), request_id)

    async def no_show(self, window: int, *, request_id: str | None = None) -> WindowResult:
        return self._window_cmd(window, c.MarkNoShow(window), request_id)

    async def transfer(
        self,
        window: int,
        *,
        to_series: str | None = None,
        to_window: int | None = None,
        reason: str = "",
        request_id: str | None = None,
    ) -> WindowResult:
        cmd = c.Transfer(window, to_series or "", to_window, reason)
        return self._window_cmd(window, cmd, request_id)

    async def take_over(self, window: int, partner: int, *, request_id: str | None = None) -> WindowResult:
        return self._window_cmd(window, c.TakeOver(window, partner), request_id)

    async def end_take_over(
        self, window: int, partner: int, *, request_id: str | None = None
    ) -> WindowResult:
        return self._window_cmd(window, c.EndTakeOver(window, partner), request_id)

    async def candidates(self, window: int) -> list[Candidate]:
        self._gate(_WINDOW, window)
        engine, now = self._core.engine, self._core.clock.now()
        if window not in engine.windows:
            raise Refusal(
                "unknown_window", f"没有 {window} 号窗口", f"there is no window {window}", status=404
            )
        return replies.candidates(engine, window, now)

    async def windows(self) -> list[WindowInfo]:
        self._gate(_ANY)
        return [self._core.engine.window_view(w.number) for w in self._core.config.windows]

    # ---- bookings -------------------------------------------------------------------------------------

    async def slots(self, matter: str, day: dt.date) -> list[Slot]:
        self._gate(None)
        return [Slot(a, b, left) for a, b, left in self._core.engine.slots(matter, day)]

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
        self._gate(None)
        del phone  # the fake keeps no call-back numbers

        def run() -> BookingMade:
            # Like the server: only a keyed hash of the ID number is kept (DESIGN.md §6, PIPL).
            person = hmac.new(self._core.secret, id_number.encode(), hashlib.sha256).hexdigest()
            code = secrets.token_hex(4).upper()
            self._apply(c.BookSlot(matter, day, slot, person, code, name))
            b = self._core.engine.bookings[code]
            m = self._core.config.matter_by_code[matter]
            return BookingMade(code, b.day, b.slot_start, b.slot_end, matter, m.name, b.holder_masked)

        return self._once(request_id, run)

    async def cancel_booking(self, code: str, *, request_id: str | None = None) -> None:
        self._gate(None)

        def run() -> None:
            self._apply(c.CancelBooking(code))

        self._once(request_id, run)

    async def check_in(
        self,
        code: str,
        *,
        answers: Mapping[str, bool] | None = None,
        present: frozenset[str] | None = None,
        request_id: str | None = None,
    ) -> Issued | NotIssued:
        self._gate(_PRINT)

        def run() -> Issued | NotIssued:
            token = secrets.token_urlsafe(12)
            return self._issued(self._apply(c.CheckIn(code, token, answers, present)))

        return self._once(request_id, run)

    # ---- devices, hall, health ------------------------------------------------------------------------

    async def report_device_health(
        self, device: str, health: str, reason: str = "", *, request_id: str | None = None
    ) -> None:
        self._gate(_ANY - _MANAGER)
        if health not in ("ok", "degraded", "unavailable"):
            raise Refusal("bad_health", "设备状态无效", f"unknown health {health!r}", status=422)
        core = self._core

        def run() -> None:
            key = (self.station_id, device)
            if core.devices.get(key) != (health, reason):  # only a change is an event
                core.devices[key] = (health, reason)
                core.publish([DeviceHealth(core.clock.now(), self.station_id, device, health, reason)])

        self._once(request_id, run)

    async def hall_info(self) -> HallView:
        self._gate(_ANY)
        return replies.hall_view(self._core.config)

    async def remaining(self) -> dict[str, int]:
        self._gate(_ANY)
        return replies.remaining(self._core.engine, self._core.clock.now()).remaining

    def _snapshot(self) -> HallSnapshot:
        core = self._core
        return replies.snapshot(core.engine, core.seq, core.clock.now(), core.calls, core.devices)

    async def snapshot(self) -> HallSnapshot:
        self._gate(_ANY)
        return self._snapshot()

    async def health(self) -> Health:
        self._gate(None)
        core = self._core
        uptime = round(core.clock.monotonic() - core.started, 1)
        return Health(True, core.config.hall.id, core.seq, "ok", "memory", uptime, len(core.feeds), 0.0)

    # ---- stations and people --------------------------------------------------------------------------

    async def enroll(self, name: str, role: str) -> Enrollment:
        self._gate(None)
        if role not in {r.value for r in Role} - {Role.MANAGER.value}:
            raise Refusal("bad_role", "站点角色无效", f"unknown station role {role!r}", status=422)
        st = _Station(
            station_id=f"st-{next(self._core.ids)}",
            name=name,
            role=role,
            code=f"{secrets.randbelow(10**6):06d}",
            poll_secret=secrets.token_urlsafe(16),
            created_at=self._core.clock.now(),
        )
        self._core.stations[st.station_id] = st
        return Enrollment(st.station_id, st.code, st.poll_secret)

    async def poll_enrollment(self, station_id: str, poll_secret: str) -> EnrollPoll:
        self._gate(None)
        st = self._core.stations.get(station_id)
        if st is None or not hmac.compare_digest(st.poll_secret, poll_secret):
            raise Refusal("unknown_station", "没有该站点", f"no station {station_id!r}", status=404)
        if st.state is EnrollState.APPROVED and not st.token_collected:
            st.token_collected = True  # the token is handed out once
            return EnrollPoll(st.state, st.token)
        return EnrollPoll(st.state)

    async def manager_login(self, username: str, password: str) -> str:
        self._gate(None)
        want = self._core.managers.get(username)
        if want is None or not hmac.compare_digest(want, password):
            raise AuthError("bad_credentials", "用户名或密码错误", "wrong user name or password", status=401)
        return secrets.token_urlsafe(24)

    async def counter_login(self, staff: str, pin: str, window: int) -> CounterSession:
        self._gate(_STAFF, window)
        entry = self._core.staff.get(staff)
        if entry is None or not hmac.compare_digest(entry[0], pin):
            raise AuthError("bad_credentials", "工号或密码错误", "wrong staff code or PIN", status=401)
        session = CounterSession(staff, entry[1], window)
        self._core.sessions[self.station_id] = session
        return session

    async def counter_logout(self) -> None:
        self._gate(_STAFF)
        self._core.sessions.pop(self.station_id, None)

    async def stations(self) -> list[StationInfo]:
        self._gate(_MANAGER)
        sessions = self._core.sessions
        return [
            st.info(sessions[st.station_id].staff if st.station_id in sessions else "")
            for st in self._core.stations.values()
        ]

    def _station(self, station_id: str) -> _Station:
        st = self._core.stations.get(station_id)
        if st is None:
            raise Refusal("unknown_station", "没有该站点", f"no station {station_id!r}", status=404)
        return st

    async def approve_station(self, station_id: str, *, window: int | None = None) -> StationInfo:
        self._gate(_MANAGER)
        st = self._station(station_id)
        if st.state is not EnrollState.PENDING:
            raise Refusal(
                "bad_transition", "该站点不在待审批状态", f"station is {st.state.value}", status=409
            )
        st.state = EnrollState.APPROVED
        st.window = window
        st.token = secrets.token_urlsafe(24)
        return st.info()

    async def revoke_station(self, station_id: str) -> StationInfo:
        self._gate(_MANAGER)
        st = self._station(station_id)
        st.state = EnrollState.REVOKED
        st.token = None
        return st.info()

    # ---- events ---------------------------------------------------------------------------------------

    def events(
        self,
        *,
        since: int = 0,
        window: int | None = None,
        series: str | None = None,
        zone: str | None = None,
    ) -> EventFeed:
        """An in-process feed: the events after `since` from the log, then live ones as commands commit."""
        return FakeEventFeed(self._core, since=since, window=window, series=series, zone=zone)


def _concerns(
    ev: Event, config: HallConfig, window: int | None, series: str | None, zone: str | None
) -> bool:
    """Whether a filtered feed gets `ev`: events of that window / series / zone, and every call."""
    wins: set[int] = set()
    sers: set[str] = set()
    if isinstance(ev, TicketChanged):
        sers.add(ev.ticket.series)
        if ev.window is not None:
            wins.add(ev.window.number)
        if ev.action in ("called", "recalled"):
            return True  # boards and phone pages show every call
    ticket = getattr(ev, "ticket", None)
    if isinstance(ticket, TicketInfo):
        sers.add(ticket.series)
    wv = getattr(ev, "window", None)
    if isinstance(wv, WindowInfo):
        wins.add(wv.number)
        sers.update(wv.series)
    if window is not None:
        w = config.window_by_number.get(window)
        if window not in wins and not (w is not None and sers & set(w.series)):
            return False
    if series is not None and series not in sers:
        return False
    if zone is not None:
        zones = {config.window_by_number[n].zone for n in wins if n in config.window_by_number}
        if zone not in zones:
            return False
    return True


class FakeEventFeed:
    """`EventFeed` over a FakeHall: same items, same states, no network."""

    def __init__(
        self,
        core: _Core,
        *,
        since: int,
        window: int | None,
        series: str | None,
        zone: str | None,
    ) -> None:
        self._core = core
        self._filters = (window, series, zone)
        self._filtered = any(f is not None for f in self._filters)
        self._queue: asyncio.Queue[StreamItem | None] = asyncio.Queue()
        self._last_seq = since
        self._last_message_at: float | None = None
        self._state = StateChange(ConnectionState.LIVE, core.clock.monotonic())
        self._listeners: list[Callable[[StateChange], None]] = []
        self._state_queues: list[asyncio.Queue[StateChange]] = []
        for seq, ev in core.log:
            if seq > since:
                self.offer(EventItem(seq, ev))
        core.feeds.add(self)

    @property
    def state(self) -> ConnectionState:
        return self._state.state

    @property
    def last_seq(self) -> int:
        return self._last_seq

    def data_age_s(self) -> float | None:
        if self._last_message_at is None:
            return None
        return self._core.clock.monotonic() - self._last_message_at

    def offer(self, item: StreamItem) -> None:
        if self._state.state is ConnectionState.CLOSED:
            return
        if (
            isinstance(item, EventItem)
            and self._filtered
            and not _concerns(item.event, self._core.config, *self._filters)
        ):
            return
        self._queue.put_nowait(item)

    def add_state_listener(self, listener: Callable[[StateChange], None]) -> Callable[[], None]:
        self._listeners.append(listener)

        def remove() -> None:
            with contextlib.suppress(ValueError):
                self._listeners.remove(listener)

        return remove

    async def states(self) -> AsyncIterator[StateChange]:
        queue: asyncio.Queue[StateChange] = asyncio.Queue()
        self._state_queues.append(queue)
        try:
            current = self._state
            yield current
            while current.state is not ConnectionState.CLOSED:
                current = await queue.get()
                yield current
        finally:
            self._state_queues.remove(queue)

    def _set_state(self, state: ConnectionState, reason: str = "") -> None:
        if state is self._state.state:
            return
        self._state = StateChange(state, self._core.clock.monotonic(), reason)
        for listener in list(self._listeners):
            listener(self._state)
        for queue in self._state_queues:
            queue.put_nowait(self._state)

    def lost(self) -> None:
        self._set_state(ConnectionState.RECONNECTING, "fake hall offline")

    def back(self) -> None:
        self._set_state(ConnectionState.LIVE)

    def __aiter__(self) -> AsyncIterator[StreamItem]:
        return self._iterate()

    async def _iterate(self) -> AsyncIterator[StreamItem]:
        while True:
            item = await self._queue.get()
            if item is None:
                return
            self._last_message_at = self._core.clock.monotonic()
            if isinstance(item, EventItem) and item.seq <= self._last_seq:
                continue
            if isinstance(item, Snapshot | Heartbeat | EventItem):
                self._last_seq = max(self._last_seq, item.seq)
            yield item

    async def aclose(self) -> None:
        self._core.feeds.discard(self)
        self._set_state(ConnectionState.CLOSED, "closed")
        self._queue.put_nowait(None)
