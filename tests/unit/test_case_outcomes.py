"""How a case ends at the window (issue 22, hallcore/caseoutcome.py): each outcome through the engine, its
checks, the change within `outcomes.change_window_s`, what the events and the rating carry, and the keypad's
outcome digits."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest

from hallcore import caseoutcome
from hallcore import commands as c
from hallcore.caseoutcome import CaseOutcome, KeypadOutcome
from hallcore.config import HallConfig, Outcomes
from hallcore.engine import Accepted, Engine, RefusalCode, Refused
from hallcore.events import RatingRecorded, TicketChanged
from hallcore.model import Source
from hallcore.text import Problem
from tests.fakes.halls import MONDAY_9, two_departments

REASONS = Outcomes().refusal_reasons


class Window2:
    """Window 2 (社保, matter sb01) serving one ticket after another."""

    def __init__(self, config: HallConfig | None = None) -> None:
        self.e = Engine(config or two_departments())
        self.now = MONDAY_9
        assert isinstance(self.do(c.OpenWindow(2, "clerk2")), Accepted)

    def do(self, cmd: c.Command) -> Accepted | Refused:
        return self.e.handle(cmd, self.now)

    def serving(self) -> str:
        out = self.do(c.IssueTicket("sb01", Source.DESK, f"tok{self.now.timestamp()}"))
        assert isinstance(out, Accepted)
        assert out.ticket is not None
        for cmd in (c.CallNext(2), c.StartServing(2)):
            assert isinstance(self.do(cmd), Accepted)
        return out.ticket.id

    def later(self, seconds: float) -> None:
        self.now += dt.timedelta(seconds=seconds)


def refused(out: Accepted | Refused, code: RefusalCode) -> None:
    assert isinstance(out, Refused), out
    assert out.code is code, out
    assert out.message
    assert out.message_en


def finished(out: Accepted | Refused) -> TicketChanged:
    assert isinstance(out, Accepted), out
    ev = out.events[-1]
    assert isinstance(ev, TicketChanged)
    return ev


@pytest.mark.parametrize("outcome", list(CaseOutcome))
def test_each_outcome_is_recorded_and_carried_by_the_event(outcome: CaseOutcome) -> None:
    w = Window2()
    tid = w.serving()
    reason = {CaseOutcome.REFUSED: REASONS[1], CaseOutcome.CORRECTION: "户口本原件"}.get(outcome, "")
    ev = finished(w.do(c.Finish(2, outcome.value, reason, "SB-2026-0001")))
    assert ev.action == "finished"
    assert (ev.ticket.outcome, ev.ticket.outcome_reason, ev.ticket.case_no) == (
        outcome.value,
        reason,
        "SB-2026-0001",
    )
    assert ev.ticket.department == "hrss"  # the matter's department, for 考核 by department
    t = w.e.tickets[tid]
    assert (t.outcome, t.outcome_reason, t.case_no) == (outcome.value, reason, "SB-2026-0001")


def test_a_finish_without_an_outcome_is_concluded_and_english_names_are_taken() -> None:
    w = Window2()
    w.serving()
    assert finished(w.do(c.Finish(2))).ticket.outcome == "办结"
    w.serving()
    assert finished(w.do(c.Finish(2, "accepted"))).ticket.outcome == "受理"


@pytest.mark.parametrize(
    ("outcome", "reason", "case_no"),
    [
        ("完成", "", ""),  # not an outcome
        ("不予受理", "", ""),  # a refusal needs a reason
        ("不予受理", "看着不顺眼", ""),  # ... one of the hall's
        ("补正", "x" * 201, ""),  # what to supply: 200 characters at most
        ("补正", "身份证\u202e", ""),  # no format characters
        ("办结", "", "SB 001"),  # a case number has no spaces
        ("办结", "", "x" * 41),
    ],
)
def test_bad_outcomes_are_refused_and_change_nothing(outcome: str, reason: str, case_no: str) -> None:
    w = Window2()
    tid = w.serving()
    out = w.do(c.Finish(2, outcome, reason, case_no))
    refused(out, RefusalCode.BAD_OUTCOME)
    assert w.e.tickets[tid].state == "serving"
    assert w.e.tickets[tid].outcome == ""


def test_the_outcome_may_be_changed_within_the_window_and_the_rating_follows() -> None:
    w = Window2()
    tid = w.serving()
    finished(w.do(c.Finish(2)))  # a vendor keypad's "next": 办结
    assert isinstance(w.do(c.Rate(tid, 5)), Accepted)
    w.later(59)
    out = w.do(c.SetOutcome(2, tid, "受理", case_no="2026120300123"))
    ev = finished(out)
    assert ev.action == "outcome_changed"
    assert (ev.ticket.outcome, ev.ticket.case_no) == ("受理", "2026120300123")
    assert isinstance(out, Accepted)
    assert out.changes.ratings == (tid,)
    r = w.e.ratings[tid]
    assert (r.outcome, r.case_no, r.department) == ("受理", "2026120300123", "hrss")
    w.later(2)  # 61 s after the finish
    late = w.do(c.SetOutcome(2, tid, "咨询"))
    refused(late, RefusalCode.OUTCOME_CLOSED)
    assert w.e.tickets[tid].outcome == "受理"


def test_only_the_window_that_finished_it_may_change_it_and_only_once_finished() -> None:
    w = Window2()
    tid = w.serving()
    out = w.do(c.SetOutcome(2, tid, "受理"))
    refused(out, RefusalCode.NOT_SERVED)
    finished(w.do(c.Finish(2)))
    out = w.do(c.SetOutcome(1, tid, "受理"))
    refused(out, RefusalCode.NOT_AT_WINDOW)
    out = w.do(c.SetOutcome(2, tid, "不予受理", "随便"))
    refused(out, RefusalCode.BAD_OUTCOME)
    assert w.e.tickets[tid].outcome == "办结"


def test_the_rating_carries_the_case() -> None:
    w = Window2()
    tid = w.serving()
    finished(w.do(c.Finish(2, "补正", "户口本原件", "A-77")))
    out = w.do(c.Rate(tid, 2))
    assert isinstance(out, Accepted)
    ev = next(e for e in out.events if isinstance(e, RatingRecorded))
    assert (ev.outcome, ev.case_no, ev.department) == ("补正", "A-77", "hrss")
    r = w.e.ratings[tid]
    assert (r.outcome, r.case_no, r.department) == ("补正", "A-77", "hrss")


def test_change_window_zero_means_no_change() -> None:
    cfg = dataclasses.replace(two_departments(), outcomes=Outcomes(change_window_s=0))
    w = Window2(cfg)
    tid = w.serving()
    finished(w.do(c.Finish(2)))
    w.later(1)
    out = w.do(c.SetOutcome(2, tid, "受理"))
    refused(out, RefusalCode.OUTCOME_CLOSED)


# ---- the keypad's digits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("digits", "want"),
    [
        ("", KeypadOutcome(CaseOutcome.DONE)),
        ("1", KeypadOutcome(CaseOutcome.DONE)),
        ("2", KeypadOutcome(CaseOutcome.ACCEPTED)),
        ("3", KeypadOutcome(CaseOutcome.CORRECTION)),
        ("4", KeypadOutcome(CaseOutcome.REFUSED, REASONS[0])),
        ("43", KeypadOutcome(CaseOutcome.REFUSED, REASONS[2])),
        ("5", KeypadOutcome(CaseOutcome.ADVICE)),
        ("2*2026120300123", KeypadOutcome(CaseOutcome.ACCEPTED, "", "2026120300123")),
        ("*88", KeypadOutcome(CaseOutcome.DONE, "", "88")),
    ],
)
def test_keypad_digits(digits: str, want: KeypadOutcome) -> None:
    assert caseoutcome.from_keypad(digits, REASONS) == want


@pytest.mark.parametrize("digits", ["6", "0", "12", "49", "40", "2*", "2*12a", "x"])
def test_keypad_digits_that_are_not_an_outcome(digits: str) -> None:
    got = caseoutcome.from_keypad(digits, REASONS)
    assert isinstance(got, Problem)
    assert got.zh
    assert got.en


def test_every_outcome_has_a_digit_and_an_english_name() -> None:
    assert set(caseoutcome.DIGIT_OF) == set(CaseOutcome) == set(caseoutcome.OUTCOME_EN)
    for o in CaseOutcome:
        assert caseoutcome.parse(o.value) is o
        assert caseoutcome.parse(caseoutcome.OUTCOME_EN[o]) is o
    assert caseoutcome.parse("done") is None
