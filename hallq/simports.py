"""Where the simulator's citizens and clerks act: the real engine on a virtual clock, or a running hall server
through its API (`HttpPort`, real time). Both answer in the same small shapes so the simulator and its
statistics do not care which one they drive.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from collections.abc import Callable, Coroutine, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from hallcore import commands as c
from hallcore import idnumber
from hallcore.config import HallConfig
from hallcore.engine import Accepted, Engine, Refused, forecasts
from hallcore.engine.forecastinput import forecast_input
from hallcore.events import Event
from hallcore.forecast import forecast
from hallcore.model import Source, Ticket

if TYPE_CHECKING:
    from hallclient.http import HttpHall

T = TypeVar("T")


@dataclass(slots=True)
class Issue:
    """A ticket issued (`ticket` set) or not (`refused` says why, or the pre-check failed)."""

    ticket: str | None = None
    label: str = ""
    series: str = ""
    precheck: str = ""  # pre-check outcome value, "" when none ran
    ahead: int | None = None
    low: int | None = None
    high: int | None = None
    point: int | None = None
    refused: str = ""


@dataclass(slots=True)
class Called:
    ticket: str
    label: str
    series: str
    matter: str
    reason: str


class HallPort(Protocol):
    """What the simulator needs from a hall. Methods return False/None when the hall refused."""

    def tick(self, now: dt.datetime, /) -> None: ...
    def issue(
        self,
        matter: str,
        priority: str,
        answers: Mapping[str, bool],
        present: frozenset[str],
        now: dt.datetime,
        /,
    ) -> Issue: ...
    def confirm_print(self, ticket: str, now: dt.datetime, /) -> bool: ...
    def slots(self, matter: str, day: dt.date) -> list[tuple[dt.time, dt.time, int]]: ...
    def book(
        self, matter: str, day: dt.date, slot: dt.time, person: str, now: dt.datetime, /
    ) -> str | None: ...
    def check_in(
        self,
        code: str,
        answers: Mapping[str, bool],
        present: frozenset[str],
        now: dt.datetime,
        /,
    ) -> Issue: ...
    def open_window(self, window: int, staff: str, now: dt.datetime, /) -> bool: ...
    def close_window(self, window: int, now: dt.datetime, /) -> bool: ...
    def pause(self, window: int, reason: str, now: dt.datetime, /) -> bool: ...
    def resume(self, window: int, now: dt.datetime, /) -> bool: ...
    def call_next(self, window: int, now: dt.datetime, /) -> Called | None: ...
    def recall(self, window: int, now: dt.datetime, /) -> bool: ...
    def no_show(self, window: int, now: dt.datetime, /) -> bool: ...
    def requeue(self, ticket: str, now: dt.datetime, /) -> bool: ...
    def start(self, window: int, now: dt.datetime, /) -> bool: ...
    def finish(self, window: int, now: dt.datetime, outcome: str = "办结", reason: str = "", /) -> bool: ...
    def transfer(self, window: int, to_series: str, now: dt.datetime, /) -> bool: ...
    def rate(self, ticket: str, score: int, now: dt.datetime, /) -> bool: ...


class EnginePort:
    """The real engine, in process, on the simulator's virtual clock."""

    def __init__(
        self,
        config: HallConfig,
        on_events: Callable[[Sequence[Event]], None] | None = None,
        *,
        forecast: bool = False,
    ) -> None:
        self.engine = Engine(config)
        # The forward model instead of the inline estimate: made directly (the hall server runs it in a worker
        # process), before an issue, at most once a second of sim time per series that changed.
        self.forecast = forecast
        self.forecasts = 0
        self.commands = 0
        self._tokens = 0
        # Told of the events of every accepted command, in order (what a hall's store would number and log).
        self.on_events = on_events

    def _do(self, cmd: c.Command, now: dt.datetime) -> Accepted | Refused:
        self.commands += 1
        out = self.engine.handle(cmd, now)
        if self.on_events is not None and isinstance(out, Accepted) and out.events:
            self.on_events(out.events)
        return out

    def _ok(self, cmd: c.Command, now: dt.datetime) -> bool:
        return isinstance(self._do(cmd, now), Accepted)

    def _issued(self, out: Accepted | Refused) -> Issue:
        if isinstance(out, Refused):
            return Issue(refused=out.code.value)
        pre = out.precheck.outcome.value if out.precheck is not None else ""
        t = out.ticket
        if t is None:
            return Issue(precheck=pre)
        est = out.estimate
        return Issue(
            t.id,
            t.label,
            t.series,
            pre,
            out.ahead,
            est.low_min if est else None,
            est.high_min if est else None,
            est.point_min if est else None,
        )

    def _token(self) -> str:
        self._tokens += 1
        return f"sim{self._tokens}"

    def tick(self, now: dt.datetime) -> None:
        self._do(c.Tick(), now)

    def issue(
        self,
        matter: str,
        priority: str,
        answers: Mapping[str, bool],
        present: frozenset[str],
        now: dt.datetime,
    ) -> Issue:
        if self.forecast:
            self._refresh(matter, now)
        cmd = c.IssueTicket(matter, Source.KIOSK, self._token(), priority, answers, present)
        return self._issued(self._do(cmd, now))

    def _refresh(self, matter: str, now: dt.datetime) -> None:
        m = self.engine.config.matter_by_code.get(matter)
        if m is not None and forecasts.refresh_due(self.engine, m.series, now):
            forecasts.install(self.engine, forecast(forecast_input(self.engine, m.series, now)))
            self.forecasts += 1

    def confirm_print(self, ticket: str, now: dt.datetime) -> bool:
        return self._ok(c.ConfirmPrint(ticket), now)

    def slots(self, matter: str, day: dt.date) -> list[tuple[dt.time, dt.time, int]]:
        return self.engine.slots(matter, day)

    def book(self, matter: str, day: dt.date, slot: dt.time, person: str, now: dt.datetime) -> str | None:
        code = f"B{self._token()}"
        return code if self._ok(c.BookSlot(matter, day, slot, person, code), now) else None

    def check_in(
        self, code: str, answers: Mapping[str, bool], present: frozenset[str], now: dt.datetime
    ) -> Issue:
        booked = self.engine.bookings.get(code)
        if self.forecast and booked is not None:
            self._refresh(booked.matter, now)
        return self._issued(self._do(c.CheckIn(code, self._token(), answers, present), now))

    def open_window(self, window: int, staff: str, now: dt.datetime) -> bool:
        return self._ok(c.OpenWindow(window, staff), now)

    def close_window(self, window: int, now: dt.datetime) -> bool:
        return self._ok(c.CloseWindow(window), now)

    def pause(self, window: int, reason: str, now: dt.datetime) -> bool:
        return self._ok(c.PauseWindow(window, reason), now)

    def resume(self, window: int, now: dt.datetime) -> bool:
        return self._ok(c.ResumeWindow(window), now)

    def call_next(self, window: int, now: dt.datetime) -> Called | None:
        out = self._do(c.CallNext(window), now)
        if isinstance(out, Refused) or out.ticket is None:
            return None
        return _called(out.ticket)

    def recall(self, window: int, now: dt.datetime) -> bool:
        return self._ok(c.Recall(window), now)

    def no_show(self, window: int, now: dt.datetime) -> bool:
        return self._ok(c.MarkNoShow(window), now)

    def requeue(self, ticket: str, now: dt.datetime) -> bool:
        return self._ok(c.RequeueNoShow(ticket), now)

    def start(self, window: int, now: dt.datetime) -> bool:
        return self._ok(c.StartServing(window), now)

    def finish(self, window: int, now: dt.datetime, outcome: str = "办结", reason: str = "") -> bool:
        return self._ok(c.Finish(window, outcome, reason), now)

    def transfer(self, window: int, to_series: str, now: dt.datetime) -> bool:
        return self._ok(c.Transfer(window, to_series=to_series, reason="转办"), now)

    def rate(self, ticket: str, score: int, now: dt.datetime) -> bool:
        return self._ok(c.Rate(ticket, score), now)


def _called(t: Ticket) -> Called:
    return Called(t.id, t.label, t.series, t.matter, t.call_reason.text if t.call_reason else "")


class HttpPortError(Exception):
    """The server could not be set up for the simulation (login, enrollment, clerk accounts)."""


class HttpPort:
    """A running hall server through its API: `kiosks` kiosk stations (issues go round them, as citizens
    spread over the machines) and one counter station per window, enrolled and approved with the manager's
    login, each clerk logged in with staff code `clerk_prefix + window`.

    The calls are async (`hallclient.http.HttpHall`); they run on a private event loop in a thread so the
    simulator's event loop stays the same synchronous one that drives the engine. `now` is ignored: the
    server keeps its own clock.
    """

    def __init__(
        self,
        url: str,
        config: HallConfig,
        *,
        manager: str,
        password: str,
        clerk_prefix: str = "c",
        clerk_pin: str = "",
        windows: list[int] | None = None,
        kiosks: int = 1,
        ca_pem: str = "",
    ) -> None:
        from hallclient.trust import Pin

        self.url = url
        # An https server is verified with the hall CA given (`hallq sim --ca`), as a pinned station does.
        self._tls = Pin.of(ca_pem).context() if ca_pem else None
        self.config = config
        self.commands = 0
        self.failures: dict[str, int] = {}
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="sim-http", daemon=True)
        self._thread.start()
        self._manager = self._hall()
        self._kiosk = self._hall()
        self._kiosk_count = kiosks
        self.kiosks = [self._kiosk]
        self._turn = 0
        self._by_ticket: dict[str, HttpHall] = {}  # ticket -> the kiosk that issued it (and prints it)
        self._counters: dict[int, HttpHall] = {}
        self._prefix = clerk_prefix
        self._pin = clerk_pin
        self._numbers = windows if windows is not None else [w.number for w in config.windows]
        try:
            self._run(self._setup(manager, password))
        except Exception:
            self.close()
            raise

    def _run(self, coro: Coroutine[Any, Any, T]) -> T:
        return asyncio.run_coroutine_threadsafe(coro, self._loop).result()

    def _hall(self, token: str | None = None) -> HttpHall:
        from hallclient.http import HttpHall

        return HttpHall(self.url, token, verify=self._tls)

    def _enrolling(self) -> HttpHall:
        """The client a new station enrolls with (before it has a token)."""
        return self._hall()

    async def _station(self, role: str, name: str, window: int | None) -> str:
        station = self._enrolling()
        try:
            enrolled = await station.enroll(name, role)
            await self._manager.approve_station(enrolled.station_id, window=window)
            polled = await station.poll_enrollment(enrolled.station_id, enrolled.poll_secret)
        finally:
            await station.aclose()
        if polled.token is None:
            raise HttpPortError(f"station {name}: approved but no token came back ({polled.state})")
        return polled.token

    async def _setup(self, manager: str, password: str) -> None:
        from hallclient.errors import HallClientError

        try:
            self._manager.set_token(await self._manager.manager_login(manager, password))
        except HallClientError as exc:
            raise HttpPortError(f"manager login as {manager!r} failed: {exc}") from exc
        self._kiosk.set_token(await self._station("kiosk", "sim-kiosk", None))
        for k in range(2, self._kiosk_count + 1):
            self.kiosks.append(self._hall(await self._station("kiosk", f"sim-kiosk-{k}", None)))
        for n in self._numbers:
            counter = self._hall(await self._station("counter", f"sim-counter-{n}", n))
            self._counters[n] = counter
            try:
                await counter.counter_login(f"{self._prefix}{n}", self._pin, n)
            except HallClientError as exc:
                raise HttpPortError(
                    f"clerk {self._prefix}{n} cannot log in at window {n}: {exc} "
                    f"(create clerks with `hallq admin add-clerk {self._prefix}{n} NAME`, the PIN asked for)"
                ) from exc

    def server_now(self) -> dt.datetime:
        """The server's clock (it may run on a fake start for demos and tests)."""
        snap = self._run(self._kiosk.snapshot())
        return snap.at

    def close(self) -> None:
        async def shut() -> None:
            for h in (self._manager, *self.kiosks, *self._counters.values()):
                await h.aclose()

        if self._loop.is_running():
            self._run(shut())
            self._loop.call_soon_threadsafe(self._loop.stop)
            self._thread.join(timeout=10)
        self._loop.close()

    def _try(self, what: str, coro: Coroutine[Any, Any, T]) -> T | None:
        from hallclient.errors import HallClientError

        self.commands += 1
        try:
            return self._run(coro)
        except HallClientError as exc:
            key = f"{what}: {getattr(exc, 'code', type(exc).__name__)}"
            self.failures[key] = self.failures.get(key, 0) + 1
            return None

    def _issued(self, out: Any) -> Issue:
        from hallclient.types import Issued

        if out is None:
            return Issue(refused="refused")
        pre = out.precheck.outcome if out.precheck is not None else ""
        if not isinstance(out, Issued):
            return Issue(precheck=pre)
        e = out.estimate
        return Issue(
            out.ticket.id,
            out.ticket.label,
            out.ticket.series,
            pre,
            out.ahead,
            e.low_min,
            e.high_min,
            e.point_min,
        )

    def tick(self, _now: dt.datetime) -> None:
        """The server runs its own housekeeping."""

    def issue(
        self,
        matter: str,
        priority: str,
        answers: Mapping[str, bool],
        present: frozenset[str],
        _now: dt.datetime,
    ) -> Issue:
        kiosk = self.kiosks[self._turn % len(self.kiosks)]
        self._turn += 1
        coro = kiosk.issue_ticket(matter, priority=priority, answers=answers, present=present)
        out = self._issued(self._try("issue", coro))
        if out.ticket is not None:
            self._by_ticket[out.ticket] = kiosk
        return out

    def confirm_print(self, ticket: str, _now: dt.datetime) -> bool:
        kiosk = self._by_ticket.pop(ticket, self._kiosk)
        return self._try("printed", kiosk.confirm_print(ticket)) is not None

    def slots(self, matter: str, day: dt.date) -> list[tuple[dt.time, dt.time, int]]:
        got = self._try("slots", self._kiosk.slots(matter, day))
        return [(s.start, s.end, s.remaining) for s in got or []]

    def book(self, matter: str, day: dt.date, slot: dt.time, person: str, _now: dt.datetime) -> str | None:
        got = self._try("book", self._kiosk.book(matter, day, slot, person))
        return got.code if got is not None else None

    def check_in(
        self, code: str, answers: Mapping[str, bool], present: frozenset[str], _now: dt.datetime
    ) -> Issue:
        return self._issued(
            self._try("checkin", self._kiosk.check_in(code, answers=answers, present=present))
        )

    def open_window(self, window: int, _staff: str, _now: dt.datetime) -> bool:
        return self._try("open", self._counters[window].open_window(window)) is not None

    def close_window(self, window: int, _now: dt.datetime) -> bool:
        return self._try("close", self._counters[window].close_window(window)) is not None

    def pause(self, window: int, reason: str, _now: dt.datetime) -> bool:
        return self._try("pause", self._counters[window].pause_window(window, reason)) is not None

    def resume(self, window: int, _now: dt.datetime) -> bool:
        return self._try("resume", self._counters[window].resume_window(window)) is not None

    def call_next(self, window: int, _now: dt.datetime) -> Called | None:
        out = self._try("call-next", self._counters[window].call_next(window))
        if out is None or out.ticket is None:
            return None
        t = out.ticket
        return Called(t.id, t.label, t.series, t.matter, t.call_reason)

    def recall(self, window: int, _now: dt.datetime) -> bool:
        return self._try("recall", self._counters[window].recall(window)) is not None

    def no_show(self, window: int, _now: dt.datetime) -> bool:
        return self._try("no-show", self._counters[window].no_show(window)) is not None

    def requeue(self, ticket: str, _now: dt.datetime) -> bool:
        # Any counter may requeue a returning citizen; the first one will do.
        counter = next(iter(self._counters.values()))
        return self._try("requeue", counter.requeue(ticket)) is not None

    def start(self, window: int, _now: dt.datetime) -> bool:
        return self._try("start", self._counters[window].start_serving(window)) is not None

    def finish(self, window: int, _now: dt.datetime, outcome: str = "办结", reason: str = "") -> bool:
        coro = self._counters[window].finish(window, outcome=outcome, reason=reason)
        return self._try("finish", coro) is not None

    def transfer(self, window: int, to_series: str, _now: dt.datetime) -> bool:
        coro = self._counters[window].transfer(window, to_series=to_series, reason="转办")
        return self._try("transfer", coro) is not None

    def rate(self, ticket: str, score: int, _now: dt.datetime) -> bool:
        counter = next(iter(self._counters.values()))
        return self._try("rate", counter.rate(ticket, score)) is not None


def new_person(serial: int) -> str:
    """A made-up 18-digit ID number for a simulated booking (valid shape, checksum included)."""
    return idnumber.complete(f"110101199{serial % 10**8:08d}")
