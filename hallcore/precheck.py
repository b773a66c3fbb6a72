"""预审: the kiosk's pre-check of a matter's conditions and materials before a ticket is issued.

Outcomes (DESIGN.md §4): 通过 → ticket; 容缺 → ticket marked 容缺 with the missing items and a deadline to
supply them; 不通过 → no ticket, and the 一次性告知单 lists every missing item and where to get it.

行政许可法 Art. 32 requires telling the applicant *all* missing items at once, so a result always lists every
failed condition and every missing required material — tolerable ones included, even when something else
already fails — so the citizen comes back only once.

Questions can depend on earlier answers (`Question.when`), so what is asked is worked out from the
answers (`asked`). The 代办 branch is the common case (DOMAIN.md "Rules as real halls run them"):
"是否本人到场？" no → "带了授权委托书和代理人身份证吗？" (asked only then; `agent`; `asks_for` the two
materials) yes → they join the checklist and the ticket says so; no → the 一次性告知单 lists them with where
to get them. An answer that opens a follow-up question is not a failure by itself: the follow-up decides.
A tolerable question's wrong answer is 容缺 like a tolerable material. hallcore/configprecheck.py makes sure
every `when` names an earlier question, so one pass over the checklist in order decides everything (no
cycles, nothing unreachable).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from hallcore.calendar import HallCalendar
from hallcore.config import Material, Matter, Question
from hallcore.errors import HallError


class PrecheckOutcome(StrEnum):
    PASS = "通过"  # noqa: S105 - an outcome label, not a password
    TOLERATED = "容缺"
    FAIL = "不通过"


class MissingKind(StrEnum):
    MATERIAL = "material"
    QUESTION = "question"


class PrecheckInputError(HallError):
    """The answers do not fit the matter's checklist: unknown ids, unanswered questions (those the earlier
    answers lead to) or non-bool answers.

    Every problem is reported at once; the lists are also kept as attributes for the shell.
    """

    def __init__(
        self,
        matter_code: str,
        *,
        unknown_questions: tuple[str, ...] = (),
        unanswered: tuple[str, ...] = (),
        not_bool: tuple[str, ...] = (),
        unknown_materials: tuple[str, ...] = (),
    ) -> None:
        self.matter_code = matter_code
        self.unknown_questions = unknown_questions
        self.unanswered = unanswered
        self.not_bool = not_bool
        self.unknown_materials = unknown_materials
        parts = [
            f"{label}: {', '.join(ids)}"
            for label, ids in (
                ("unknown question ids", unknown_questions),
                ("unanswered questions", unanswered),
                ("answers that are not yes/no", not_bool),
                ("unknown material ids", unknown_materials),
            )
            if ids
        ]
        super().__init__(
            f"pre-check of matter {matter_code!r}: {'; '.join(parts)} "
            "(answer every question the earlier answers lead to with true/false, "
            "and list only the matter's material ids)"
        )


@dataclass(frozen=True, slots=True)
class MissingItem:
    """One line of the 一次性告知单.

    `text` is the material's name, or the question's fail_reason (its text if no reason is configured).
    `tolerable`: 容缺 may take it (a tolerable material, or the wrong answer to a tolerable question).
    """

    id: str
    kind: MissingKind
    text: str
    text_en: str
    where: str
    where_en: str
    tolerable: bool


@dataclass(frozen=True, slots=True)
class AddedItem:
    """A material an answer added to the checklist (代办: the power of attorney, the agent's ID card): the
    ticket lists it so the citizen has it ready at the window."""

    id: str
    text: str
    text_en: str


@dataclass(frozen=True, slots=True)
class PrecheckResult:
    """The outcome, every missing item (failed questions first, then materials, each in checklist order),
    the 容缺 deadline (only for TOLERATED), the matter's code, the materials answers added to the checklist
    and whether someone acts for the applicant (代办: an `agent` question was asked)."""

    outcome: PrecheckOutcome
    missing: tuple[MissingItem, ...]
    due: dt.date | None
    matter_code: str
    added: tuple[AddedItem, ...] = ()
    agent: bool = False
    # The due day counted days of a year without a calendar (hallcore/calendar.py): shown as an estimate.
    due_estimated: bool = False

    @property
    def issues_ticket(self) -> bool:
        """True for 通过 and 容缺: the kiosk may issue a ticket."""
        return self.outcome is not PrecheckOutcome.FAIL


def asked(matter: Matter, answers: Mapping[str, object]) -> tuple[Question, ...]:
    """The questions put to this applicant given `answers`, in checklist order: a question without `when`
    always, one with `when` once its question was asked and got that answer. A question whose `when` waits
    on an answer not given yet is not (yet) asked."""
    out: list[Question] = []
    ids: set[str] = set()
    for q in matter.precheck.questions:
        w = q.when
        if w is None or (w.question in ids and answers.get(w.question) is w.answer):
            out.append(q)
            ids.add(q.id)
    return tuple(out)


def possible(matter: Matter, answers: Mapping[str, object]) -> tuple[Question, ...]:
    """`asked`, plus the questions an answer still to be given may open (the kiosk's "question i of n")."""
    out: list[Question] = []
    ids: set[str] = set()
    for q in matter.precheck.questions:
        w = q.when
        if w is None or (w.question in ids and answers.get(w.question, w.answer) is w.answer):
            out.append(q)
            ids.add(q.id)
    return tuple(out)


def asked_for(matter: Matter) -> dict[str, Question]:
    """Material id → the question that asks for it: such a material is on the checklist only when its
    question is asked, and the answer says whether it is here (the materials screen does not show it)."""
    return {mid: q for q in matter.precheck.questions for mid in q.asks_for}


def screen_materials(matter: Matter) -> tuple[Material, ...]:
    """The materials the applicant ticks (kiosk materials screen, desk form): those no question asks for."""
    by_question = asked_for(matter)
    return tuple(m for m in matter.precheck.materials if m.id not in by_question)


def _check_input(matter: Matter, answers: Mapping[str, bool], present: Collection[str]) -> None:
    known_questions = {q.id for q in matter.precheck.questions}
    known_materials = {m.id for m in matter.precheck.materials}
    unknown_questions = tuple(sorted(k for k in answers if k not in known_questions))
    # An answer to a question the earlier answers did not lead to is ignored, not refused: a desk or an older
    # kiosk may send the expected answer to every question of the matter.
    unanswered = tuple(q.id for q in asked(matter, answers) if q.id not in answers)
    # Answers come from JSON at the shell: a "no" string would be truthy, so insist on real bools.
    not_bool = tuple(k for k, v in answers.items() if k in known_questions and not isinstance(v, bool))
    unknown_materials = tuple(sorted({m for m in present if m not in known_materials}))
    if unknown_questions or unanswered or not_bool or unknown_materials:
        raise PrecheckInputError(
            matter.code,
            unknown_questions=unknown_questions,
            unanswered=unanswered,
            not_bool=not_bool,
            unknown_materials=unknown_materials,
        )


@dataclass(frozen=True, slots=True)
class Judgement:
    """What the rules say of the answers so far (`judge`)."""

    outcome: PrecheckOutcome
    missing: tuple[MissingItem, ...]
    added: tuple[AddedItem, ...]
    agent: bool


def _material_item(m: Material) -> MissingItem:
    return MissingItem(
        id=m.id,
        kind=MissingKind.MATERIAL,
        text=m.name,
        text_en=m.name_en,
        where=m.where,
        where_en=m.where_en,
        tolerable=m.tolerable,
    )


def judge(matter: Matter, answers: Mapping[str, object], present: Collection[str]) -> Judgement:
    """The outcome, every missing item, the materials answers added and whether it is 代办, without checking
    the input or dating a 容缺 (`evaluate` does both). An unanswered question counts as failed: the kiosk
    asks this before the citizen has finished."""
    present_ids = set(present)
    questions = asked(matter, answers)
    # An answer that opens a follow-up is not wrong by itself: the follow-up decides (the 代办 branch).
    opens = {(q.when.question, q.when.answer) for q in questions if q.when is not None}
    missing: list[MissingItem] = [
        MissingItem(
            id=q.id,
            kind=MissingKind.QUESTION,
            text=q.fail_reason or q.text,
            text_en=q.fail_reason_en or q.text_en,
            where=q.where,
            where_en=q.where_en,
            tolerable=q.tolerable,
        )
        for q in questions
        if not q.asks_for and answers.get(q.id) is not q.expected and (q.id, answers.get(q.id)) not in opens
    ]
    by_question = asked_for(matter)
    asked_ids = {q.id for q in questions}
    added: list[AddedItem] = []
    for m in matter.precheck.materials:
        q = by_question.get(m.id)
        if q is None:
            here = m.id in present_ids
        elif q.id not in asked_ids:
            continue  # its question is not asked: not on this applicant's checklist
        else:
            here = answers.get(q.id) is q.expected
            if here:
                added.append(AddedItem(m.id, m.name, m.name_en))
        if m.required and not here:
            missing.append(_material_item(m))
    agent = any(q.agent for q in questions)
    if any(not item.tolerable for item in missing):
        outcome = PrecheckOutcome.FAIL
    else:
        outcome = PrecheckOutcome.TOLERATED if missing else PrecheckOutcome.PASS
    return Judgement(outcome, tuple(missing), tuple(added), agent)


def evaluate(
    matter: Matter,
    answers: Mapping[str, bool],
    present: Collection[str],
    today: dt.date,
    calendar: HallCalendar,
) -> PrecheckResult:
    """Pre-check `matter` given yes/no `answers` by question id and the material ids `present`.

    FAIL if any asked question fails or a required non-tolerable material is missing; TOLERATED if only
    tolerable items are missing, due `tolerance_days` working days after `today`; else PASS. Materials with
    `required=False` never count as missing; a material a question asks for counts by that answer (and only
    when the question is asked); answers to questions not asked are ignored. Raises PrecheckInputError on
    unknown ids, non-bool answers or asked questions left unanswered.
    """
    _check_input(matter, answers, present)
    j = judge(matter, answers, present)
    # 容缺 deadline in working days: hall holidays and weekends don't count, 调休 days do.
    deadline = (
        calendar.deadline(today, matter.precheck.tolerance_days)
        if j.outcome is PrecheckOutcome.TOLERATED
        else None
    )
    return PrecheckResult(
        outcome=j.outcome,
        missing=j.missing,
        due=deadline.due if deadline else None,
        matter_code=matter.code,
        added=j.added,
        agent=j.agent,
        due_estimated=deadline is not None and deadline.estimated,
    )
