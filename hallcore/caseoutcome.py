"""How a case ends at the window (DOMAIN.md "Rules as real halls run them"): the outcome the clerk records
when finishing a ticket, with its reason and the business system's case number (办件编号).

- 办结: concluded on the spot; 受理: accepted, promised by a date (承诺件); 补正: told what to supply (the
  一次性告知: what is missing is the reason); 不予受理: refused, with a reason from the hall's list
  (`outcomes.refusal_reasons`, 行政许可法 Art. 32); 咨询: advice only.
- 现场办结率 = 办结 ÷ (办结 + 受理) over 即办件 (`hallcore.measures.onsite_rate_outcomes`).
- A finish that names no outcome (a keypad without outcome keys, the vendor keypad's "next") is 办结; the
  clerk may change it at the window for `outcomes.change_window_s` after the finish.

On an HQP/1 keypad the finish key's digits carry the outcome (docs/devices.md): one outcome digit
(`KEYPAD_DIGITS`), for 不予受理 optionally a second digit choosing the reason by its place in the hall's list
(1 = first), then optionally `*` and the 办件编号 (digits only on a keypad).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import StrEnum

from hallcore.config import Outcomes
from hallcore.text import Problem, text_problem


class CaseOutcome(StrEnum):
    DONE = "办结"
    ACCEPTED = "受理"
    CORRECTION = "补正"
    REFUSED = "不予受理"
    ADVICE = "咨询"


#: English names, also accepted on input (the API and the emulator's console).
OUTCOME_EN: dict[CaseOutcome, str] = {
    CaseOutcome.DONE: "concluded",
    CaseOutcome.ACCEPTED: "accepted",
    CaseOutcome.CORRECTION: "correction",
    CaseOutcome.REFUSED: "refused",
    CaseOutcome.ADVICE: "advice",
}
#: The outcome digit after the finish key on a keypad.
KEYPAD_DIGITS: dict[str, CaseOutcome] = {
    "1": CaseOutcome.DONE,
    "2": CaseOutcome.ACCEPTED,
    "3": CaseOutcome.CORRECTION,
    "4": CaseOutcome.REFUSED,
    "5": CaseOutcome.ADVICE,
}
DIGIT_OF: dict[CaseOutcome, str] = {o: d for d, o in KEYPAD_DIGITS.items()}
#: What the 补正 reason (the items to supply) may hold, in characters.
REASON_MAX = 200
#: 办件编号: the business systems' case numbers seen are letters, digits and - _ / . (up to 40).
CASE_NO = re.compile(r"^[0-9A-Za-z][0-9A-Za-z_\-/.]{0,39}$")


def parse(text: str) -> CaseOutcome | None:
    """An outcome by its Chinese value or English name; None when it is neither."""
    t = text.strip()
    for o in CaseOutcome:
        if t in (o.value, OUTCOME_EN[o]):
            return o
    return None


@dataclass(frozen=True, slots=True)
class Recorded:
    """An outcome as it is stored on the ticket (checked)."""

    outcome: CaseOutcome
    reason: str = ""
    case_no: str = ""


def check(config: Outcomes, outcome: CaseOutcome, reason: str, case_no: str) -> Recorded | Problem:
    """The outcome as stored, or why it is refused. 不予受理 needs one of the hall's reasons; 补正 may name
    what to supply; the other outcomes keep no reason."""
    case_no = case_no.strip()
    if case_no and not CASE_NO.match(case_no):
        return Problem(
            f"办件编号 {case_no!r} 无效：应为字母、数字及 - _ / .，不超过 40 位",
            f"case number {case_no!r} is not valid: letters, digits and - _ / . only, up to 40",
        )
    reason = reason.strip()
    if outcome is CaseOutcome.REFUSED:
        if reason not in config.refusal_reasons:
            listed = "；".join(config.refusal_reasons)
            return Problem(
                f"不予受理须选择理由：{listed}",
                f"a refusal needs one of the hall's reasons: {listed}",
            )
        return Recorded(outcome, reason, case_no)
    if outcome is CaseOutcome.CORRECTION:
        problem = text_problem(reason)
        if problem is not None:
            return problem
        if len(reason) > REASON_MAX:
            return Problem(
                f"补正内容不超过 {REASON_MAX} 字", f"what to supply: at most {REASON_MAX} characters"
            )
        return Recorded(outcome, reason, case_no)
    return Recorded(outcome, "", case_no)


@dataclass(frozen=True, slots=True)
class KeypadOutcome:
    """What a keypad's finish digits ask for."""

    outcome: CaseOutcome
    reason: str = ""
    case_no: str = ""


def from_keypad(digits: str, refusal_reasons: tuple[str, ...]) -> KeypadOutcome | Problem:
    """The finish key's digits: "" (办结), an outcome digit (不予受理: then a reason digit), `*` 办件编号."""
    head, star, case_no = digits.partition("*")
    if star and not case_no.isdigit():
        return Problem("办件编号须为数字", "a case number from the keypad is digits")
    if not head:
        return KeypadOutcome(CaseOutcome.DONE, "", case_no)
    outcome = KEYPAD_DIGITS.get(head[0])
    if outcome is None:
        return Problem(
            "办结结果键：1 办结 2 受理 3 补正 4 不予受理 5 咨询",
            "outcome digit: 1 concluded, 2 accepted, 3 correction, 4 refused, 5 advice",
        )
    rest = head[1:]
    if outcome is not CaseOutcome.REFUSED:
        if rest:
            return Problem("办结结果只需一位数字", "one outcome digit only")
        return KeypadOutcome(outcome, "", case_no)
    index = int(rest) if rest.isdigit() else 1 if not rest else 0
    if not refusal_reasons or not 1 <= index <= len(refusal_reasons):
        return Problem(
            f"不予受理理由序号应为 1–{len(refusal_reasons)}",
            f"the refusal reason is a number 1-{len(refusal_reasons)}",
        )
    return KeypadOutcome(outcome, refusal_reasons[index - 1], case_no)
