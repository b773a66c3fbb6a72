"""What the desk screen shows and which request to send: pure, no Qt, no I/O.

Matter search is the kiosk's (`hallui.matters`); the pre-check answers start at the expected value and the
materials unticked (the staff ask and tick each one); a question that depends on an earlier answer is shown
and sent only when that answer leads to it (the 代办 branch: "not in person" opens the agent's papers
question); priority is chosen by the staff after checking papers.
A request that got no answer is kept and sent again with its request id, so the hall replays instead of
issuing twice; any change to it makes a new request. Outcomes (`hallui.issuing`) become one notice for the
staff, worded from the printed ticket, so the screen says what the paper says.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from enum import StrEnum

from counter.desk.notify import DeskNotify
from counter.desk.owed import OwedLookup
from counter.notices import Notice
from hallclient.api import new_request_id
from hallclient.types import Issued
from hallcore.config import HallConfig, Material, Matter, Question
from hallcore.precheck import asked, screen_materials
from hallui.cardread import CardVisit
from hallui.issuing import NO_PRINTER, IssuedOutcome, NoticeOutcome, Outcome, PrinterDown, Request
from hallui.matters import search


class DeskPhase(StrEnum):
    SEARCH = "search"
    PRECHECK = "precheck"
    BUSY = "busy"


class DeskFlow:
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
        self.unsent: Request | None = None
        self.last_issued: Issued | None = None  # the last ticket issued and printed here
        self.owed = OwedLookup()  # 容缺 items brought in (counter/desk/owed.py)
        self.notify = DeskNotify()  # "快到您了" for the last ticket issued here (counter/desk/notify.py)
        # 刷身份证 at the desk: the card read for the citizen being helped (the agent's in 代办), kept until
        # their ticket is issued or the staff clear it.
        self.card: CardVisit | None = None

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

    @property
    def questions(self) -> tuple[Question, ...]:
        """The questions the answers so far lead to (the form shows these, the request sends these)."""
        return asked(self.matter, self.answers) if self.matter is not None else ()

    @property
    def materials(self) -> tuple[Material, ...]:
        """The materials the staff tick: those no question asks for."""
        return screen_materials(self.matter) if self.matter is not None else ()

    def set_present(self, material: str, value: bool) -> None:
        (self.present.add if value else self.present.discard)(material)

    # ---- issuing ------------------------------------------------------------------------------------------

    def card_read(self, visit: CardVisit) -> None:
        """A card was read at the desk: the ticket issued next is its holder's (not while one is issuing)."""
        if self.phase is not DeskPhase.BUSY:
            self.card = visit

    def clear_card(self) -> None:
        if self.phase is not DeskPhase.BUSY:
            self.card = None

    def begin_issue(self) -> Request | None:
        if self.phase is not DeskPhase.PRECHECK or self.matter is None:
            return None
        answers = {q.id: self.answers.get(q.id, q.expected) for q in self.questions}
        card, priority = self.card, self.priority
        agent = any(q.agent for q in self.questions)  # 代办 (the server reads it from the answers too)
        if card is not None and not priority and not agent:
            priority = card.age_class  # verified by the card
        return self._begin(
            Request(
                matter=self.matter.code,
                answers=answers,
                present=frozenset(self.present),
                priority=priority,
                holder_name=card.masked if card is not None else self.holder_name.strip(),
                id_number=card.id_number if card is not None else "",
            )
        )

    def begin_check_in(self, code: str) -> Request | None:
        if self.phase is DeskPhase.BUSY or not code.strip():
            return None
        return self._begin(Request(booking_code=code.strip().upper()))

    def _begin(self, req: Request) -> Request:
        # The same request after no answer reuses its id: the server then replays instead of issuing twice.
        same = self.unsent is not None and self.unsent.same_ticket(req)
        req = replace(req, request_id=self.unsent.request_id if same and self.unsent else self._make_id())
        self.unsent = None
        self.phase = DeskPhase.BUSY
        self.notice = Notice("desk.issuing")
        return req

    def _finished(self, notice: Notice, *, keep_matter: bool) -> None:
        self.notice = notice
        if not keep_matter:
            self.matter = None
        self.phase = DeskPhase.PRECHECK if self.matter is not None else DeskPhase.SEARCH

    def unreachable(self, req: Request) -> None:
        """No answer: nothing was issued that the hall will not replay; the next tap sends it again."""
        self.unsent = req
        self._finished(Notice("desk.offline", level="error"), keep_matter=True)

    def refused(self, message: str, message_en: str) -> None:
        raw = (f"未能取号：{message}", f"Not issued: {message_en}")
        self._finished(Notice("desk.refused", level="error", raw=raw), keep_matter=True)

    def done(self, out: Outcome) -> None:
        """The issuing sequence ended: tell the staff what happened, from what was printed."""
        if isinstance(out, PrinterDown):
            if out.state == NO_PRINTER:
                self._finished(Notice("desk.no_printer", level="error"), keep_matter=True)
            else:
                notice = Notice("desk.printer_down", {"reason": out.state.reason}, "error")
                self._finished(notice, keep_matter=True)
        elif isinstance(out, NoticeOutcome):
            n = len(out.not_issued.printout("zh").items)
            if out.printed:
                self._finished(Notice("desk.notice", {"n": n}, "warning"), keep_matter=True)
            else:
                failed = Notice("desk.notice_failed", {"n": n, "reason": out.reason}, "error")
                self._finished(failed, keep_matter=True)
        else:
            self._issued(out)

    def _issued(self, out: IssuedOutcome) -> None:
        t, result = out.issued.ticket, out.result
        if not result.printed:
            failed = {"label": t.label, "reason": result.reason}
            if not result.withdrawn:  # a checked-in booking: the number stays valid
                self._finished(Notice("desk.print_kept", failed, "error"), keep_matter=False)
                return
            # Not ready: nothing was printed. Mid-job: it may be on paper, but nobody can be sure of it;
            # either way the number was withdrawn and must be issued again.
            key = "desk.print_unknown" if result.maybe_on_paper else "desk.print_failed"
            self._finished(Notice(key, failed, "error"), keep_matter=True)
            return
        self.last_issued = out.issued
        self.notify = DeskNotify()  # a new citizen: no number yet
        self.card = None  # this citizen is served: the next one reads their own card
        printed = out.issued.printout("zh")
        values: dict[str, str | int] = {
            "label": t.label,
            "matter": printed.matter,
            "ahead": printed.people_ahead,
        }
        agent = "_agent" if printed.agent_items else ""
        if printed.agent_items:
            values["papers"] = "、".join(printed.agent_items)
        if printed.tolerance_items:
            items = "、".join(printed.tolerance_items)
            notice = Notice(
                f"desk.tolerated{agent}", values | {"items": items, "due": printed.tolerance_due}, "warning"
            )
        else:
            notice = Notice(f"desk.issued{agent}", values)
        self._finished(notice, keep_matter=False)
