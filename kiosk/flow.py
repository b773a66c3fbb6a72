"""The kiosk's screens as a pure state machine: no widgets, no I/O, time passed in (monotonic seconds).

The views render `KioskFlow` after every change; the app feeds it taps, results from the hall and device
states. Screens: welcome → matters → one question per screen → materials → confirm (priority) → issuing →
ticket / notice; booking check-in; message (full, closed, booking refusals); desk (printer not ready);
offline (server unreachable); enroll (first start). Every screen but issuing goes back to welcome after the
idle time; elder mode never gives less than 30 s for a choice (适老化).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

from hallclient.types import Issued, NotIssued
from hallcore.config import Material, Matter, PriorityClass, Question
from hallcore.precheck import Judgement, PrecheckOutcome, asked, judge, possible, screen_materials
from hallui.cardread import CardVisit
from hallui.issuing import PrintResult
from kiosk.info import ELDER_MIN_CHOICE_S, FlowSettings, Message
from kiosk.notifypad import NotifyPad


class Screen(StrEnum):
    ENROLL = "enroll"
    WELCOME = "welcome"
    MATTERS = "matters"
    QUESTION = "question"
    MATERIALS = "materials"
    CONFIRM = "confirm"
    ISSUING = "issuing"
    TICKET = "ticket"
    NOTICE = "notice"
    BOOKING = "booking"
    MESSAGE = "message"
    DESK = "desk"
    OFFLINE = "offline"
    CARD = "card"  # a card was read: the greeting, today's bookings, the way on
    NOTIFY = "notify"  # "快到您了": a number for notices, after the ticket (kiosk/pages_notify.py)


#: Screens where a citizen is on the way to a ticket: a printer or server loss sends them to the desk.
SELLING = frozenset(
    {Screen.MATTERS, Screen.QUESTION, Screen.MATERIALS, Screen.CONFIRM, Screen.BOOKING, Screen.CARD}
)
#: Screens where a card read starts a visit (greeting) rather than being ignored mid-way.
GREETS = frozenset(
    {Screen.WELCOME, Screen.MATTERS, Screen.CARD, Screen.MESSAGE, Screen.TICKET, Screen.NOTICE}
)
#: Screens the idle timer never leaves: issuing is waiting on the hall and the printer; the others are the
#: kiosk's own states, left only when their cause goes away.
UNTIMED = frozenset({Screen.ISSUING, Screen.ENROLL, Screen.DESK, Screen.OFFLINE, Screen.WELCOME})


@dataclass(slots=True)
class KioskFlow:
    settings: FlowSettings = field(default_factory=FlowSettings)
    matters: tuple[Matter, ...] = ()
    priority_classes: tuple[PriorityClass, ...] = ()
    screen: Screen = Screen.WELCOME
    languages: tuple[str, ...] = (
        "zh",
        "en",
    )  # the hall's, in the order shown; every visit starts in the first
    language: str = "zh"
    elder: bool = False
    origin: Screen = Screen.MATTERS  # where the matter was chosen: back from its first question goes there
    browse: str = "department"  # or "category"
    group: str = ""  # the department id or category chosen; "" = the list of groups
    page: int = 0
    query: str = ""
    matter: Matter | None = None
    question: int = 0  # index in the matter's questions of the one on screen
    answers: dict[str, bool] = field(default_factory=dict)
    present: set[str] = field(default_factory=set)
    priority: str = ""
    booking_code: str = ""
    issued: Issued | None = None
    not_issued: NotIssued | None = None
    print_result: PrintResult | None = None
    message: Message | None = None
    full: set[str] = field(default_factory=set)  # matters refused with cap_reached today
    printer_ok: bool = True
    printer_reason: str = ""
    server_ok: bool = True
    server_down_since: float | None = None
    last_touch: float = 0.0
    enrolled: bool = True
    reader_ok: bool = False  # a 居民身份证 reader is there and working: the welcome invites 刷身份证
    card: CardVisit | None = None  # the card read for this visit (the agent's in 代办)
    principal: CardVisit | None = None  # 代办: the principal's card, when the agent has it
    notify: NotifyPad | None = None  # the number pad of "快到您了", from the ticket screen
    notified: str = ""  # the masked number the hall took for this ticket

    # ---- time ---------------------------------------------------------------------------------------------

    @property
    def idle_limit_s(self) -> float:
        if self.elder:
            return max(ELDER_MIN_CHOICE_S, self.settings.elder_idle_reset_s)
        return self.settings.idle_reset_s

    def seconds_left(self, now: float) -> float | None:
        """Seconds until this screen times out to welcome; None on screens without a timeout."""
        if self.screen in UNTIMED:
            return None
        return max(0.0, self.last_touch + self.idle_limit_s - now)

    def touch(self, now: float) -> None:
        self.last_touch = now

    def tick(self, now: float) -> bool:
        """Apply timeouts; True when the screen changed."""
        before = self.screen
        if (
            not self.server_ok
            and self.server_down_since is not None
            and now - self.server_down_since >= self.settings.offline_delay_s
            and self.screen not in (Screen.ISSUING, Screen.ENROLL, Screen.OFFLINE)
        ):
            self._reset()
            self.screen = Screen.OFFLINE
        left = self.seconds_left(now)
        if left is not None and left <= 0:
            self.home(now)
        return self.screen is not before

    # ---- welcome ------------------------------------------------------------------------------------------

    def _reset(self) -> None:
        self.matter = None
        self.question = 0
        self.answers = {}
        self.present = set()
        self.priority = ""
        self.booking_code = ""
        self.issued = None
        self.not_issued = None
        self.print_result = None
        self.message = None
        self.query = ""
        self.group = ""
        self.page = 0
        self.card = None
        self.principal = None
        self.notify = None
        self.notified = ""

    def home(self, now: float) -> None:
        """Back to welcome with nothing of the last citizen left; language and elder mode reset too."""
        self._reset()
        self.language = self.languages[0] if self.languages else "zh"
        self.elder = False
        self.touch(now)
        self.screen = self._resting()

    def _resting(self) -> Screen:
        if not self.enrolled:
            return Screen.ENROLL
        if not self.server_ok and self.screen is Screen.OFFLINE:
            return Screen.OFFLINE
        if not self.printer_ok:
            return Screen.DESK
        return Screen.WELCOME

    def set_language(self, language: str, now: float) -> None:
        self.touch(now)
        if language in self.languages:
            self.language = language

    def toggle_elder(self, now: float) -> None:
        self.touch(now)
        self.elder = not self.elder

    def start(self, now: float) -> None:
        self.touch(now)
        if self._blocked():
            return
        self.screen = Screen.MATTERS

    def start_booking(self, now: float) -> None:
        self.touch(now)
        if self._blocked():
            return
        self.booking_code = ""
        self.screen = Screen.BOOKING

    def _blocked(self) -> bool:
        if not self.printer_ok:
            self.screen = Screen.DESK
            return True
        return not self.server_ok and self.screen is Screen.OFFLINE

    # ---- matters ------------------------------------------------------------------------------------------

    def set_browse(self, by: str, now: float) -> None:
        self.touch(now)
        self.browse = by
        self.group = ""
        self.page = 0

    def set_group(self, key: str, now: float) -> None:
        self.touch(now)
        self.group = key
        self.page = 0

    def move_page(self, step: int, now: float) -> None:
        self.touch(now)
        self.page = max(0, self.page + step)

    def set_query(self, query: str, now: float) -> None:
        self.touch(now)
        self.query = query
        self.page = 0

    def choose_matter(self, code: str, now: float) -> None:
        """A matter tapped in the list, or straight from a home tile (then back leads home again)."""
        self.touch(now)
        matter = next((m for m in self.matters if m.code == code), None)
        if matter is None or self.screen not in (Screen.WELCOME, Screen.MATTERS, Screen.CARD):
            return
        if self.screen is Screen.WELCOME and self._blocked():
            return
        self.origin = Screen.MATTERS if self.screen is Screen.MATTERS else self.screen
        self.matter = matter
        self.answers = {}
        self.present = set()
        self.priority = ""
        self.question = 0
        if code in self.full:
            self.message = Message("message.full")
            self.screen = Screen.MESSAGE
            return
        self._next_question(-1)

    # Questions can depend on earlier answers (hallcore.precheck.asked): the next one is the first question
    # after the current one that the answers so far lead to; an answer that closes a branch drops the
    # answers given inside it, so the pre-check never sees an answer to a question it did not ask.

    @property
    def current_question(self) -> Question:
        assert self.matter is not None
        return self.matter.precheck.questions[self.question]

    @property
    def progress(self) -> tuple[int, int]:
        """(this question's place, the questions asked or still possible): "question 1 of 2"."""
        assert self.matter is not None
        ids = [q.id for q in possible(self.matter, self.answers)]
        here = self.current_question.id
        return (ids.index(here) + 1 if here in ids else 1), len(ids)

    def _asked_indexes(self) -> list[int]:
        assert self.matter is not None
        ids = {q.id for q in asked(self.matter, self.answers)}
        return [i for i, q in enumerate(self.matter.precheck.questions) if q.id in ids]

    def _next_question(self, after: int) -> None:
        nxt = next((i for i in self._asked_indexes() if i > after), None)
        if nxt is None:
            self._after_questions()
        else:
            self._to_question(nxt)

    def _to_question(self, index: int) -> None:
        self.question = index
        self.screen = Screen.QUESTION

    def answer(self, yes: bool, now: float) -> None:
        self.touch(now)
        if self.matter is None or self.screen is not Screen.QUESTION:
            return
        self.answers[self.current_question.id] = yes
        still = {q.id for q in asked(self.matter, self.answers)}
        self.answers = {k: v for k, v in self.answers.items() if k in still}
        self._next_question(self.question)

    @property
    def materials_shown(self) -> tuple[Material, ...]:
        """The materials the citizen ticks: those no question asks for (代办 papers go by the answer)."""
        return screen_materials(self.matter) if self.matter is not None else ()

    def _after_questions(self) -> None:
        assert self.matter is not None
        if self.materials_shown:
            self.screen = Screen.MATERIALS
        else:
            self._after_materials()

    def toggle_material(self, material: str, now: float) -> None:
        self.touch(now)
        if material in self.present:
            self.present.discard(material)
        else:
            self.present.add(material)

    def materials_done(self, now: float) -> None:
        self.touch(now)
        if self.screen is Screen.MATERIALS:
            self._after_materials()

    def _after_materials(self) -> None:
        self.screen = Screen.CONFIRM

    def all_present(self, now: float) -> bool:
        """材料都带齐了，取号: every paper shown is here, the normal ticket in the same tap (True: issue now).
        Answers that fail the pre-check still lead to the confirm screen and its 一次性告知单."""
        self.touch(now)
        if self.screen is not Screen.MATERIALS:
            return False
        self.present = {m.id for m in self.materials_shown}
        self._after_materials()
        if self.local is PrecheckOutcome.FAIL:
            return False
        return self.submit("", now)

    @property
    def judgement(self) -> Judgement | None:
        """What hallcore's pre-check rule says of the answers so far (the server decides; this picks the
        confirm screen's wording and shows what an answer added to the checklist)."""
        if self.matter is None:
            return None
        return judge(self.matter, self.answers, self.present)

    @property
    def local(self) -> PrecheckOutcome:
        j = self.judgement
        return PrecheckOutcome.PASS if j is None else j.outcome

    @property
    def selectable_classes(self) -> tuple[PriorityClass, ...]:
        return tuple(p for p in self.priority_classes if p.kiosk_selectable)

    def back(self, now: float) -> None:
        self.touch(now)
        if self.screen is Screen.QUESTION:
            before = [i for i in self._asked_indexes() if i < self.question]
            if before:
                self._to_question(before[-1])
            else:
                self._back_to_origin()
        elif self.screen is Screen.MATERIALS:
            self._back_to_last_question()
        elif self.screen is Screen.CONFIRM:
            assert self.matter is not None
            if self.materials_shown:
                self.screen = Screen.MATERIALS
            else:
                self._back_to_last_question()
        elif self.screen is Screen.MATTERS and (self.group or self.query):
            self.group, self.query, self.page = "", "", 0
        elif self.screen in (Screen.MATTERS, Screen.BOOKING, Screen.CARD):
            self.home(now)
        elif self.screen is Screen.MESSAGE:
            self.screen = Screen.MATTERS if self.matter is not None else Screen.WELCOME
        elif self.screen is Screen.NOTIFY:
            self.screen = Screen.TICKET

    def open_notify(self, now: float) -> None:
        """From the ticket: the number pad for notices (kiosk/pages_notify.py; the controller sends)."""
        self.touch(now)
        if self.screen is Screen.TICKET and self.issued is not None:
            self.notify = NotifyPad()
            self.screen = Screen.NOTIFY

    def _back_to_last_question(self) -> None:
        shown = self._asked_indexes()
        if shown:
            self._to_question(shown[-1])
        else:
            self._back_to_origin()

    def _back_to_origin(self) -> None:
        """Out of a matter to where it was chosen (the home tiles keep the visit's language and mode)."""
        if self.origin is Screen.MATTERS:
            self.screen = Screen.MATTERS
            return
        card = self.card
        self._reset()
        self.card = card
        self.screen = Screen.CARD if card is not None else Screen.WELCOME

    # ---- issuing ------------------------------------------------------------------------------------------

    def submit(self, priority: str, now: float) -> bool:
        """The final tap: True when the app should issue now (the flow is then on ISSUING)."""
        self.touch(now)
        if self.screen is not Screen.CONFIRM or self.matter is None:
            return False
        if not self.printer_ok:
            self.screen = Screen.DESK
            return False
        j = self.judgement
        if self.card is not None and not priority and not (j is not None and j.agent):
            priority = self.card.age_class  # verified by the card: nobody has to claim it
        self.priority = priority
        self.screen = Screen.ISSUING
        return True

    # ---- 刷身份证 ------------------------------------------------------------------------------------------

    def card_read(self, visit: CardVisit, now: float) -> bool:
        """A card was placed: greet its holder (a new visit), or in 代办 take it as the principal's card on
        the confirm screen. False when the screen ignores cards (mid pre-check, issuing, out of service)."""
        if not self.enrolled or not self.printer_ok or self.screen is Screen.OFFLINE:
            return False
        j = self.judgement
        if self.screen is Screen.CONFIRM and self.card is not None and j is not None and j.agent:
            self.touch(now)
            self.principal = visit
            return True
        if self.screen not in GREETS:
            return False
        self._reset()
        self.touch(now)
        self.card = visit
        self.screen = Screen.CARD
        return True

    def card_known(self, visit: CardVisit) -> None:
        """The hall answered the card's lookup: today's bookings and the numbers left (same card only)."""
        if self.card is not None and self.card.id_number == visit.id_number:
            self.card = visit

    def submit_booking(self, code: str, now: float) -> bool:
        self.touch(now)
        code = code.strip()
        if self.screen is not Screen.BOOKING or not code:
            return False
        if not self.printer_ok:
            self.screen = Screen.DESK
            return False
        self.booking_code = code
        self.screen = Screen.ISSUING
        return True

    def issued_ticket(self, issued: Issued, result: PrintResult, now: float) -> None:
        self.touch(now)
        self.issued = issued
        self.print_result = result
        self.screen = Screen.TICKET

    def refused_ticket(self, not_issued: NotIssued, printed: bool, now: float) -> None:
        """The pre-check failed: no ticket, the 一次性告知单 is shown (and was printed if `printed`)."""
        self.touch(now)
        self.not_issued = not_issued
        self.print_result = PrintResult(printed=printed)
        self.screen = Screen.NOTICE

    def refused(self, message: Message, now: float, *, matter_full: bool = False) -> None:
        self.touch(now)
        if matter_full and self.matter is not None:
            self.full.add(self.matter.code)
        self.message = message
        self.screen = Screen.MESSAGE

    def walk_in_instead(self, now: float) -> None:
        """After a booking refusal: take a normal number."""
        self._reset()
        self.start(now)

    def printer_failed(self, now: float) -> None:
        """The printer stopped before anything valid was printed: nothing was issued, send to the desk."""
        self.touch(now)
        self.screen = Screen.DESK

    # ---- devices and server -------------------------------------------------------------------------------

    def set_printer(self, ok: bool, reason: str, now: float) -> None:
        self.printer_ok, self.printer_reason = ok, reason
        if not ok and (self.screen in SELLING or self.screen is Screen.WELCOME):
            self._reset()
            self.screen = Screen.DESK
        elif ok and self.screen is Screen.DESK:
            self.home(now)

    def set_server(self, ok: bool, now: float) -> None:
        if ok:
            self.server_down_since = None
            self.server_ok = True
            if self.screen is Screen.OFFLINE:
                self.home(now)
            return
        if self.server_ok:
            self.server_ok = False
            self.server_down_since = now

    def server_failed(self, now: float) -> None:
        """A command could not reach the server while a citizen waited: say so at once."""
        self.set_server(False, now)
        self._reset()
        self.screen = Screen.OFFLINE

    def set_enrolled(self, enrolled: bool, now: float) -> None:
        self.enrolled = enrolled
        if enrolled and self.screen is Screen.ENROLL:
            self.home(now)
        elif not enrolled:
            self.screen = Screen.ENROLL
