"""Service desk mode (导办台): staff issue tickets for people who cannot or will not use the kiosk.

`DeskFlow` is pure: matter search, the same pre-check answers the kiosk asks, priority (checked by the staff),
and the issue → print → confirm sequence as states. `DeskController` does the I/O: printer state first (no
ticket is issued on a printer that cannot print), issue with one request id (kept for a retry of the same
ticket), print on the desk's printer, then confirm; a print that fails voids a pending ticket or cancels a
waiting one (desk tickets are `waiting` at once, DESIGN.md §4), so a number is never left with nobody holding
it. A failed pre-check prints the 一次性告知单 instead.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from counter.flow import Notice, new_request_id
from drivers.protocols import DriverError, PrinterNotReady, TicketPrinter
from hallclient.api import HallApi
from hallclient.errors import HallReplyError, ServerUnavailable
from hallclient.types import Issued, NotIssued
from hallcore.config import HallConfig, Matter

log = logging.getLogger(__name__)


class DeskPhase(StrEnum):
    SEARCH = "search"
    PRECHECK = "precheck"
    BUSY = "busy"


@dataclass(frozen=True, slots=True)
class IssueRequest:
    """One ticket to issue; `request_id` is reused when the same request is sent again after no answer."""

    request_id: str
    matter: str = ""
    answers: Mapping[str, bool] = field(default_factory=dict)
    present: frozenset[str] = frozenset()
    priority: str = ""
    holder_name: str = ""
    booking_code: str = ""


def search(matters: tuple[Matter, ...], query: str) -> list[Matter]:
    """Matters whose name, English name, code, pinyin initials or category match `query` (all if empty)."""
    q = query.strip().lower()
    if not q:
        return list(matters)
    out = []
    for m in matters:
        fields = (m.name, m.name_en.lower(), m.code.lower(), m.pinyin.lower(), m.category)
        if any(q in f for f in fields if f):
            out.append(m)
    return out


class DeskFlow:
    """What the desk screen shows and which request to send; pure."""

    def __init__(self, config: HallConfig, make_id: Callable[[], str] = new_request_id) -> None:
        self.config = config
        self._make_id = make_id
        self.phase = DeskPhase.SEARCH
        self.query = ""
        self.matches: list[Matter] = list(config.matters)
        self.matter: Matter | None = None
        self.answers: dict[str, bool] = {}
        self.present: set[str] = set()
        self.priority = ""
        self.holder_name = ""
        self.notice: Notice | None = None
        self.unsent: IssueRequest | None = None
        self.last_label = ""
        self.issued_notice: Notice | None = None  # the last ticket issued, shown under a 容缺 notice

    def search(self, query: str) -> None:
        self.query = query
        self.matches = search(self.config.matters, query)

    def choose(self, code: str) -> None:
        m = self.config.matter_by_code.get(code)
        if m is None:
            return
        self.matter = m
        # Answers start at the expected value and materials unticked: the staff ask and tick each one.
        self.answers = {q.id: q.expected for q in m.precheck.questions}
        self.present = set()
        self.priority = ""
        self.holder_name = ""
        self.phase = DeskPhase.PRECHECK
        self.notice = None

    def back(self) -> None:
        if self.phase is not DeskPhase.BUSY:
            self.phase = DeskPhase.SEARCH
            self.matter = None

    def set_answer(self, question: str, value: bool) -> None:
        self.answers[question] = value

    def set_present(self, material: str, value: bool) -> None:
        (self.present.add if value else self.present.discard)(material)

    def begin_issue(self) -> IssueRequest | None:
        if self.phase is not DeskPhase.PRECHECK or self.matter is None:
            return None
        req = IssueRequest(
            "",
            self.matter.code,
            dict(self.answers),
            frozenset(self.present),
            self.priority,
            self.holder_name.strip(),
        )
        return self._begin(req)

    def begin_check_in(self, code: str) -> IssueRequest | None:
        if self.phase is DeskPhase.BUSY or not code.strip():
            return None
        return self._begin(IssueRequest("", booking_code=code.strip().upper()))

    def _begin(self, req: IssueRequest) -> IssueRequest:
        # The same request after no answer reuses its id: the server then replays instead of issuing twice.
        same = self.unsent is not None and _same(self.unsent, req)
        req = IssueRequest(
            self.unsent.request_id if same and self.unsent is not None else self._make_id(),
            req.matter,
            req.answers,
            req.present,
            req.priority,
            req.holder_name,
            req.booking_code,
        )
        self.unsent = None
        self.phase = DeskPhase.BUSY
        self.notice = Notice("desk.issuing")
        return req

    def finished(self, notice: Notice, *, keep_matter: bool = False) -> None:
        self.notice = notice
        self.phase = DeskPhase.PRECHECK if keep_matter and self.matter is not None else DeskPhase.SEARCH

    def unreachable(self, req: IssueRequest) -> None:
        self.unsent = req
        self.finished(Notice("desk.offline", level="error"), keep_matter=True)


def _same(a: IssueRequest, b: IssueRequest) -> bool:
    return (a.matter, dict(a.answers), a.present, a.priority, a.holder_name, a.booking_code) == (
        b.matter,
        dict(b.answers),
        b.present,
        b.priority,
        b.holder_name,
        b.booking_code,
    )


class DeskController:
    """Issues and prints at the desk. `printer` may be None (the desk then says so and issues nothing)."""

    def __init__(
        self,
        api: HallApi,
        flow: DeskFlow,
        printer: TicketPrinter | None,
        *,
        on_change: Callable[[], None] = lambda: None,
    ) -> None:
        self.api = api
        self.flow = flow
        self.printer = printer
        self.on_change = on_change
        self._executor = ThreadPoolExecutor(1, thread_name_prefix="desk-printer")
        self._tasks: set[asyncio.Task[None]] = set()

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
        elif action in ("issue", "check_in"):
            req = f.begin_issue() if action == "issue" else f.begin_check_in(str(args.get("code", "")))
            if req is not None:
                task = asyncio.get_running_loop().create_task(self._issue(req))
                self._tasks.add(task)
                task.add_done_callback(self._tasks.discard)
        self.on_change()

    async def _in_thread(self, fn: Callable[..., Any], *args: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(self._executor, fn, *args)

    async def _issue(self, req: IssueRequest) -> None:
        try:
            await self._issue_steps(req)
        finally:
            if self.flow.phase is DeskPhase.BUSY:
                self.flow.phase = DeskPhase.PRECHECK if self.flow.matter is not None else DeskPhase.SEARCH
            self.on_change()

    async def _issue_steps(self, req: IssueRequest) -> None:
        f = self.flow
        printer = self.printer
        if printer is None:
            f.finished(Notice("desk.no_printer", level="error"), keep_matter=True)
            return
        state = await self._in_thread(printer.state)
        if not state.ok and state.health.value == "unavailable":
            f.finished(Notice("desk.printer_down", {"reason": state.reason}, "error"), keep_matter=True)
            return
        try:
            if req.booking_code:
                result = await self.api.check_in(req.booking_code, request_id=req.request_id)
            else:
                result = await self.api.issue_ticket(
                    req.matter,
                    priority=req.priority,
                    answers=req.answers,
                    present=req.present,
                    holder_name=req.holder_name,
                    request_id=req.request_id,
                )
        except ServerUnavailable:
            f.unreachable(req)
            return
        except HallReplyError as e:
            raw = (f"未能取号：{e.message}", f"Not issued: {e.message_en}")
            f.finished(Notice("desk.refused", level="error", raw=raw), keep_matter=True)
            return
        if isinstance(result, NotIssued):
            notice = result.printout("zh")  # the hall's own 一次性告知单
            n = len(notice.items)
            try:
                await self._in_thread(printer.print_notice, notice)
            except DriverError as e:
                f.finished(
                    Notice("desk.notice_failed", {"n": n, "reason": str(e)}, "error"), keep_matter=True
                )
                return
            f.finished(Notice("desk.notice", {"n": n}, "warning"), keep_matter=True)
            return
        await self._print_issued(result)

    async def _print_issued(self, issued: Issued) -> None:
        f = self.flow
        t = issued.ticket
        assert self.printer is not None
        f.notice = Notice("desk.printing", {"label": t.label})
        self.on_change()
        try:
            await self._in_thread(self.printer.print_ticket, issued.printout("zh"))
        except DriverError as e:
            # Not ready: nothing was printed. Unavailable mid-job: it may be on paper, but nobody can be sure
            # of it; either way the number must not stay in the queue with nobody holding it.
            key = "desk.print_failed" if isinstance(e, PrinterNotReady) else "desk.print_unknown"
            await self._withdraw(issued, str(e))
            f.finished(Notice(key, {"label": t.label, "reason": str(e)}, "error"), keep_matter=True)
            return
        if t.state == "pending_print":
            try:
                await self.api.confirm_print(t.id, request_id=f"{issued.token}-printed")
            except (ServerUnavailable, HallReplyError) as e:
                log.warning("confirm_print %s: %s", t.label, e)
        f.last_label = t.label
        pre = issued.precheck
        if pre is not None and pre.outcome == "容缺":
            items = "、".join(i.text for i in pre.missing)
            notice = Notice("desk.tolerated", {"items": items, "due": str(pre.due or "")}, "warning")
        else:
            notice = Notice("desk.issued", {"label": t.label, "matter": t.matter_name, "ahead": issued.ahead})
        f.finished(notice, keep_matter=False)
        f.issued_notice = Notice(
            "desk.issued", {"label": t.label, "matter": t.matter_name, "ahead": issued.ahead}
        )
        f.matter = None

    async def _withdraw(self, issued: Issued, reason: str) -> None:
        t = issued.ticket
        try:
            if t.state == "pending_print":
                await self.api.void_ticket(t.id, f"print failed: {reason}", request_id=f"{issued.token}-void")
            else:
                await self.api.cancel_ticket(
                    t.id, f"desk print failed: {reason}", request_id=f"{issued.token}-cancel"
                )
        except (ServerUnavailable, HallReplyError) as e:
            log.error("could not withdraw unprinted ticket %s: %s", t.label, e)

    async def aclose(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        for task in list(self._tasks):
            with contextlib.suppress(asyncio.CancelledError, Exception):
                await task
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, lambda: self._executor.shutdown(wait=True, cancel_futures=True))
