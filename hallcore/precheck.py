"""预审: the kiosk's pre-check of a matter's conditions and materials before a ticket is issued.

Outcomes (DESIGN.md §4): 通过 → ticket; 容缺 → ticket marked 容缺 with the missing items and a deadline to
supply them; 不通过 → no ticket, and the 一次性告知单 lists every missing item and where to get it.

行政许可法 Art. 32 requires telling the applicant *all* missing items at once, so a result always lists every
failed condition and every missing required material — tolerable ones included, even when something else
already fails — so the citizen comes back only once.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from enum import StrEnum

from hallcore.calendar import HallCalendar
from hallcore.config import Matter
from hallcore.errors import HallError


class PrecheckOutcome(StrEnum):
    PASS = "通过"  # noqa: S105 - an outcome label, not a password
    TOLERATED = "容缺"
    FAIL = "不通过"


class MissingKind(StrEnum):
    MATERIAL = "material"
    QUESTION = "question"


class PrecheckInputError(HallError):
    """The answers do not fit the matter's checklist: unknown ids, unanswered questions or non-bool answers.

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
            "(answer every question of the matter's checklist with true/false and list only its material ids)"
        )


@dataclass(frozen=True, slots=True)
class MissingItem:
    """One line of the 一次性告知单.

    `text` is the material's name, or the question's fail_reason (its text if no reason is configured).
    Failed questions are never tolerable.
    """

    id: str
    kind: MissingKind
    text: str
    text_en: str
    where: str
    where_en: str
    tolerable: bool


@dataclass(frozen=True, slots=True)
class PrecheckResult:
    """The outcome, every missing item (failed questions first, then materials, each in checklist order),
    the 容缺 deadline (only for TOLERATED) and the matter's code."""

    outcome: PrecheckOutcome
    missing: tuple[MissingItem, ...]
    due: dt.date | None
    matter_code: str

    @property
    def issues_ticket(self) -> bool:
        """True for 通过 and 容缺: the kiosk may issue a ticket."""
        return self.outcome is not PrecheckOutcome.FAIL


def _check_input(matter: Matter, answers: Mapping[str, bool], present: Collection[str]) -> None:
    question_ids = [q.id for q in matter.precheck.questions]
    known_questions = set(question_ids)
    known_materials = {m.id for m in matter.precheck.materials}
    unknown_questions = tuple(sorted(k for k in answers if k not in known_questions))
    unanswered = tuple(q for q in question_ids if q not in answers)
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


def judge(
    matter: Matter, answers: Mapping[str, bool], present: Collection[str]
) -> tuple[PrecheckOutcome, tuple[MissingItem, ...]]:
    """The outcome and every missing item, without checking the input or dating a 容缺 (`evaluate` does
    both). An unanswered question counts as failed: the kiosk asks this before the citizen has finished."""
    present_ids = set(present)
    missing: list[MissingItem] = [
        MissingItem(
            id=q.id,
            kind=MissingKind.QUESTION,
            text=q.fail_reason or q.text,
            text_en=q.fail_reason_en or q.text_en,
            where=q.where,
            where_en=q.where_en,
            tolerable=False,
        )
        for q in matter.precheck.questions
        if answers.get(q.id) != q.expected
    ]
    missing.extend(
        MissingItem(
            id=m.id,
            kind=MissingKind.MATERIAL,
            text=m.name,
            text_en=m.name_en,
            where=m.where,
            where_en=m.where_en,
            tolerable=m.tolerable,
        )
        for m in matter.precheck.materials
        if m.required and m.id not in present_ids
    )
    if any(not item.tolerable for item in missing):
        return PrecheckOutcome.FAIL, tuple(missing)
    return (PrecheckOutcome.TOLERATED if missing else PrecheckOutcome.PASS), tuple(missing)


def evaluate(
    matter: Matter,
    answers: Mapping[str, bool],
    present: Collection[str],
    today: dt.date,
    calendar: HallCalendar,
) -> PrecheckResult:
    """Pre-check `matter` given yes/no `answers` by question id and the material ids `present`.

    FAIL if any question fails or a required non-tolerable material is missing; TOLERATED if only tolerable
    materials are missing, due `tolerance_days` working days after `today`; else PASS. Materials with
    `required=False` never count as missing. Raises PrecheckInputError on unknown ids or unanswered questions.
    """
    _check_input(matter, answers, present)
    outcome, missing = judge(matter, answers, present)
    # 容缺 deadline in working days: hall holidays and weekends don't count, 调休 days do.
    due = (
        calendar.add_working_days(today, matter.precheck.tolerance_days)
        if outcome is PrecheckOutcome.TOLERATED
        else None
    )
    return PrecheckResult(outcome=outcome, missing=missing, due=due, matter_code=matter.code)
