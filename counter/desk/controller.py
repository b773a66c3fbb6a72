"""The desk's I/O around `DeskFlow`: Qt-free asyncio, the shared issuing service on the desk's printer.

Every change ends in `on_change()` (the counter's bridge turns it into a Qt signal). The printer is watched
like the kiosk's and its state reported to the hall, so the dashboard sees a desk out of paper.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, Protocol, TypeVar

from counter.desk.flow import DeskFlow, DeskPhase
from drivers.protocols import CardEvent, CardRead, DeviceState, IdCardReader
from hallclient.errors import HallClientError, HallReplyError, ServerUnavailable
from hallcore.calendar import HallCalendar
from hallcore.clock import Clock, SystemClock
from hallui.cardread import visit_of
from hallui.issuing import Issuer, PrinterWatch, Request
from hallui.tasks import Tasks

log = logging.getLogger(__name__)

T = TypeVar("T")


class _DeskPart(Protocol):
    """A part of the desk that asks the hall one thing at a time (`OwedLookup`, `DeskNotify`)."""

    busy: bool

    def failed(self, message: str, message_en: str) -> None: ...


class DeskController:
    """Issues and prints at the desk; `issuer.printer` may be None (the desk then says so, issues nothing)."""

    def __init__(
        self,
        issuer: Issuer,
        flow: DeskFlow,
        *,
        on_change: Callable[[], None] = lambda: None,
        printer_poll_s: float = 2.0,
        reader: IdCardReader | None = None,
        clock: Clock | None = None,
    ) -> None:
        self.issuer = issuer
        self.flow = flow
        self.reader = reader
        self._calendar = HallCalendar(flow.config.hall)
        self._clock = clock or SystemClock()
        self._unsubscribe: Callable[[], None] | None = None
        self.on_change = on_change
        self.watch = PrinterWatch(
            issuer.api, issuer.printer, self._printer_changed, interval_s=printer_poll_s
        )
        self._tasks = Tasks("desk")

    def start(self) -> None:
        if self.issuer.printer is not None:
            self._tasks.spawn(self.watch.run(), "printer watch")
        if self.reader is not None and self._unsubscribe is None:
            loop = asyncio.get_running_loop()

            def from_driver(event: CardEvent) -> None:  # on the reader's thread
                if not loop.is_closed():
                    loop.call_soon_threadsafe(self.card_event, event)

            self._unsubscribe = self.reader.subscribe(from_driver)

    def card_event(self, event: CardEvent) -> None:
        """A card read at the desk (the staff decide on an expired one: they look at it)."""
        if isinstance(event, CardRead):
            today = self._calendar.business_day(self._clock.now())
            self.flow.card_read(visit_of(event.card, self.flow.config, today))
            self.on_change()

    def _printer_changed(self, state: DeviceState) -> None:
        log.info("desk printer: %s %s", state.health.value, state.reason)

    def request(self, action: str, args: Mapping[str, Any]) -> None:
        f = self.flow
        if action == "search":
            f.search(str(args.get("query", "")))
        elif action == "choose":
            f.choose(str(args["matter"]))
        elif action == "back":
            f.back()
        elif action == "answer":
            f.set_answer(str(args["question"]), bool(args["value"]))
        elif action == "present":
            f.set_present(str(args["material"]), bool(args["value"]))
        elif action == "priority":
            f.priority = str(args.get("priority", ""))
        elif action == "holder":
            f.holder_name = str(args.get("name", ""))
        elif action == "clear_card":
            f.clear_card()
        elif action in ("issue", "check_in"):
            req = f.begin_issue() if action == "issue" else f.begin_check_in(str(args.get("code", "")))
            if req is not None:
                self._tasks.spawn(self._issue(req), "issue")
        elif action == "owed_find":
            if f.owed.find(str(args.get("label", ""))) is not None:
                self._tasks.spawn(self._find_owed(), "owed lookup")
        elif action == "notify" and f.last_issued is not None:
            ticket = f.last_issued.ticket.id
            if f.notify.begin(ticket, bool(args.get("consent"))):
                self._tasks.spawn(self._opt_in(ticket, str(args.get("phone", ""))), "notify opt-in")
        elif action == "supply" and f.owed.begin_supply():
            raw = args.get("items")
            items = [str(i) for i in raw] if raw is not None else None  # None: everything still owed
            self._tasks.spawn(self._supply(str(args["ticket"]), items), "supply")
        self.on_change()

    async def _find_owed(self) -> None:
        owed = self.flow.owed
        await self._ask(
            owed,
            self.issuer.api.owed,
            owed.found,
            ("服务器不可用，请稍后再查", "Server unreachable; try again"),
        )

    async def _opt_in(self, ticket: str, phone: str) -> None:
        notify = self.flow.notify
        await self._ask(
            notify,
            lambda: self.issuer.api.notify_opt_in(ticket, phone),
            lambda sub: notify.done(sub.masked),
            ("服务器不可用，未登记，请再点一次", "Server unreachable; not set, tap again"),
        )

    async def _supply(self, ticket: str, items: list[str] | None) -> None:
        owed = self.flow.owed
        await self._ask(
            owed,
            lambda: self.issuer.api.supply(ticket, items),
            owed.supplied,
            ("服务器不可用，未登记，请再点一次", "Server unreachable; not recorded, tap again"),
        )

    async def _ask(
        self,
        part: _DeskPart,
        call: Callable[[], Awaitable[T]],
        done: Callable[[T], None],
        unreachable: tuple[str, str],
    ) -> None:
        """One question to the hall for a part of the desk (the 容缺 lookup, the notice opt-in): its answer to
        `done`, a refusal or an unreachable hall to the part's error line, and the part never left busy.
        `call` makes the request only here, so a task cancelled before it starts leaves nothing un-awaited."""
        try:
            done(await call())
        except ServerUnavailable:
            part.failed(*unreachable)
        except HallReplyError as e:
            part.failed(e.message, e.message_en)
        except HallClientError as e:
            part.failed(str(e), str(e))
        finally:
            part.busy = False
            self.on_change()

    async def _issue(self, req: Request) -> None:
        f = self.flow
        try:
            out = await self.issuer.run(req)
        except ServerUnavailable:
            f.unreachable(req)
        except HallReplyError as e:
            f.refused(e.message, e.message_en)
        except HallClientError as e:  # a reply this client cannot read: nothing known to be issued
            f.refused(str(e), str(e))
        else:
            if self.issuer.last_state is not None:
                self.watch.seen(self.issuer.last_state)
            f.done(out)
        finally:
            if f.phase is DeskPhase.BUSY:  # cancelled mid-way (closing): never stuck busy
                f.phase = DeskPhase.PRECHECK if f.matter is not None else DeskPhase.SEARCH
            self.on_change()

    async def aclose(self) -> None:
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        await self._tasks.aclose()
