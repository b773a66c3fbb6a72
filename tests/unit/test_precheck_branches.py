"""Questions that depend on earlier answers (`when`), tolerable questions, questions that ask for materials
and the 代办 branch: the rules of hallcore/precheck.py, by example and over random checklists."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallcore.config import Material, Matter, Precheck, Question, When
from hallcore.precheck import (
    AddedItem,
    MissingKind,
    PrecheckInputError,
    PrecheckOutcome,
    asked,
    evaluate,
    judge,
    possible,
    screen_materials,
)
from tests.unit.test_precheck import TODAY, bare_matter, precheck_calendar

IN_PERSON = Question(id="in_person", text="是否本人到场办理？")
AGENT_DOCS = Question(
    id="agent_docs",
    text="带了授权委托书和代理人身份证吗？",
    when=When("in_person", False),
    asks_for=("authorization", "agent_id"),
    agent=True,
)
ID_CARD = Material(id="idcard", name="居民身份证", name_en="ID card", where="本人携带")
AUTHORIZATION = Material(id="authorization", name="授权委托书", name_en="Power of attorney", where="服务台")
AGENT_ID = Material(id="agent_id", name="代理人身份证", name_en="Agent's ID card", where="代理人携带")
PHOTO = Material(id="photo", name="照片回执", where="照相馆", tolerable=True)

HJ01 = Matter(
    code="HJ01",
    name="户口迁入登记",
    series="A",
    department="gongan",
    precheck=Precheck(
        questions=(IN_PERSON, AGENT_DOCS),
        materials=(ID_CARD, PHOTO, AUTHORIZATION, AGENT_ID),
        tolerance_days=5,
    ),
)


def run(
    answers: dict[str, bool], present: set[str], matter: Matter = HJ01
) -> tuple[PrecheckOutcome, list[str], list[str], bool]:
    r = evaluate(matter, answers, present, TODAY, precheck_calendar())
    return r.outcome, [i.id for i in r.missing], [a.id for a in r.added], r.agent


# ---- the 代办 branch ---------------------------------------------------------------------------------------


def test_in_person_asks_nothing_more_and_adds_nothing() -> None:
    assert [q.id for q in asked(HJ01, {"in_person": True})] == ["in_person"]
    assert run({"in_person": True}, {"idcard", "photo"}) == (PrecheckOutcome.PASS, [], [], False)


def test_an_agent_with_both_papers_passes_with_them_on_the_checklist() -> None:
    r = evaluate(
        HJ01, {"in_person": False, "agent_docs": True}, {"idcard", "photo"}, TODAY, precheck_calendar()
    )
    assert r.outcome is PrecheckOutcome.PASS
    assert r.missing == ()
    assert r.added == (
        AddedItem("authorization", "授权委托书", "Power of attorney"),
        AddedItem("agent_id", "代理人身份证", "Agent's ID card"),
    )
    assert r.agent


def test_an_agent_without_the_papers_gets_them_on_the_notice_with_where() -> None:
    r = evaluate(
        HJ01, {"in_person": False, "agent_docs": False}, {"idcard", "photo"}, TODAY, precheck_calendar()
    )
    assert r.outcome is PrecheckOutcome.FAIL
    assert [(i.id, i.kind, i.where) for i in r.missing] == [
        ("authorization", MissingKind.MATERIAL, "服务台"),
        ("agent_id", MissingKind.MATERIAL, "代理人携带"),
    ]
    assert r.added == ()
    assert r.agent  # counted as 代办 even when sent home: the statistics count who came


def test_not_in_person_is_not_a_failure_by_itself() -> None:
    # The follow-up decides; "in_person" has no fail reason and never appears on the notice.
    outcome, missing, _, _ = run({"in_person": False, "agent_docs": False}, set())
    assert outcome is PrecheckOutcome.FAIL
    assert "in_person" not in missing
    assert missing == ["idcard", "photo", "authorization", "agent_id"]


def test_agent_papers_are_not_on_the_materials_screen() -> None:
    assert [m.id for m in screen_materials(HJ01)] == ["idcard", "photo"]


def test_the_agent_question_needs_its_answer_after_a_no() -> None:
    with pytest.raises(PrecheckInputError, match="unanswered questions: agent_docs") as e:
        run({"in_person": False}, {"idcard"})
    assert e.value.unanswered == ("agent_docs",)
    # An answer to a question not asked is ignored: a desk may send the expected answer to every question.
    assert run({"in_person": True, "agent_docs": False}, {"idcard", "photo"}) == (
        PrecheckOutcome.PASS,
        [],
        [],
        False,
    )


def test_ticking_an_agent_paper_does_not_count_the_answer_does() -> None:
    outcome, missing, added, _ = run(
        {"in_person": False, "agent_docs": False}, {"idcard", "photo", "agent_id"}
    )
    assert (outcome, added) == (PrecheckOutcome.FAIL, [])
    assert missing == ["authorization", "agent_id"]


def test_a_tolerable_paper_asked_for_is_owed_under_rongque() -> None:
    tolerable_auth = dataclasses.replace(AUTHORIZATION, tolerable=True)
    tolerable_id = dataclasses.replace(AGENT_ID, tolerable=True)
    m = dataclasses.replace(
        HJ01, precheck=dataclasses.replace(HJ01.precheck, materials=(ID_CARD, tolerable_auth, tolerable_id))
    )
    r = evaluate(m, {"in_person": False, "agent_docs": False}, {"idcard"}, TODAY, precheck_calendar())
    assert r.outcome is PrecheckOutcome.TOLERATED
    assert [i.id for i in r.missing] == ["authorization", "agent_id"]
    assert r.due == dt.date(2026, 10, 12)


# ---- tolerable questions -------------------------------------------------------------------------------

SIGNED = Question(
    id="signed",
    text="申请表是否已签字？",
    fail_reason="申请表须申请人签字",
    where="窗口补签",
    tolerable=True,
)


def test_a_tolerable_question_answered_wrong_is_rongque_with_its_reason() -> None:
    m = bare_matter(Precheck(questions=(SIGNED,)))
    r = evaluate(m, {"signed": False}, set(), TODAY, precheck_calendar())
    assert r.outcome is PrecheckOutcome.TOLERATED
    assert [(i.id, i.kind, i.text, i.tolerable) for i in r.missing] == [
        ("signed", MissingKind.QUESTION, "申请表须申请人签字", True)
    ]
    # 20 working days from Tue 9-29: 9-30, 10-08, 10-09, 10-10 (调休), 10-12 … 10-30 (19), 11-02.
    assert r.due == dt.date(2026, 11, 2)


def test_a_tolerable_question_does_not_save_a_failing_material() -> None:
    m = bare_matter(Precheck(questions=(SIGNED,), materials=(ID_CARD,)))
    r = evaluate(m, {"signed": False}, set(), TODAY, precheck_calendar())
    assert r.outcome is PrecheckOutcome.FAIL
    assert [i.id for i in r.missing] == ["signed", "idcard"]


# ---- what is asked ---------------------------------------------------------------------------------------


def test_possible_counts_the_questions_an_answer_may_still_open() -> None:
    assert [q.id for q in possible(HJ01, {})] == ["in_person", "agent_docs"]
    assert [q.id for q in possible(HJ01, {"in_person": True})] == ["in_person"]
    assert [q.id for q in asked(HJ01, {})] == ["in_person"]


def test_a_non_bool_answer_opens_nothing() -> None:
    assert [q.id for q in asked(HJ01, {"in_person": 0})] == ["in_person"]


@st.composite
def checklists(draw: st.DrawFn) -> tuple[Matter, dict[str, bool]]:
    """A matter whose questions each follow nothing or an earlier question's answer, and some answers."""
    n = draw(st.integers(1, 7))
    questions = []
    for i in range(n):
        when = None
        if i and draw(st.booleans()):
            when = When(f"q{draw(st.integers(0, i - 1))}", draw(st.booleans()))
        questions.append(
            Question(
                id=f"q{i}",
                text=f"q{i}?",
                fail_reason=f"q{i} failed",
                expected=draw(st.booleans()),
                tolerable=draw(st.booleans()),
                when=when,
            )
        )
    answers = draw(st.dictionaries(st.sampled_from([q.id for q in questions]), st.booleans()))
    matter = bare_matter(Precheck(questions=tuple(questions)))
    return matter, answers


def _asked_by_definition(matter: Matter, answers: dict[str, bool], qid: str) -> bool:
    q = next(q for q in matter.precheck.questions if q.id == qid)
    if q.when is None:
        return True
    return (
        _asked_by_definition(matter, answers, q.when.question)
        and answers.get(q.when.question) is q.when.answer
    )


@given(checklists())
def test_asked_is_the_recursive_definition(case: tuple[Matter, dict[str, bool]]) -> None:
    matter, answers = case
    want = [q.id for q in matter.precheck.questions if _asked_by_definition(matter, answers, q.id)]
    assert [q.id for q in asked(matter, answers)] == want
    # Every asked question is also possible, and answering more never makes an asked question unasked
    # unless its own condition's answer changed.
    assert set(want) <= {q.id for q in possible(matter, answers)}


@given(checklists())
def test_outcome_follows_the_asked_questions_only(case: tuple[Matter, dict[str, bool]]) -> None:
    matter, answers = case
    questions = asked(matter, answers)
    opens = {(q.when.question, q.when.answer) for q in questions if q.when is not None}
    wrong = [
        q for q in questions if answers.get(q.id) is not q.expected and (q.id, answers.get(q.id)) not in opens
    ]
    j = judge(matter, answers, set())
    assert [i.id for i in j.missing] == [q.id for q in wrong]
    if any(not q.tolerable for q in wrong):
        assert j.outcome is PrecheckOutcome.FAIL
    elif wrong:
        assert j.outcome is PrecheckOutcome.TOLERATED
    else:
        assert j.outcome is PrecheckOutcome.PASS


@given(checklists())
def test_the_hall_needs_every_asked_answer_and_ignores_the_others(
    case: tuple[Matter, dict[str, bool]],
) -> None:
    matter, answers = case
    ids = {q.id for q in asked(matter, answers)}
    if ids <= set(answers):
        r = evaluate(matter, answers, set(), TODAY, precheck_calendar())
        only_asked = {k: v for k, v in answers.items() if k in ids}
        assert r == evaluate(matter, only_asked, set(), TODAY, precheck_calendar())
        return
    with pytest.raises(PrecheckInputError) as e:
        evaluate(matter, answers, set(), TODAY, precheck_calendar())
    assert set(e.value.unanswered) == ids - set(answers)


@given(checklists())
def test_a_kiosk_walk_answers_exactly_what_is_asked(case: tuple[Matter, dict[str, bool]]) -> None:
    """Answering the next asked question until none is left gives answers the hall takes as they are."""
    matter, wished = case
    answers: dict[str, bool] = {}
    while True:
        nxt = next((q for q in asked(matter, answers) if q.id not in answers), None)
        if nxt is None:
            break
        answers[nxt.id] = wished.get(nxt.id, nxt.expected)
    assert set(answers) == {q.id for q in asked(matter, answers)}
    evaluate(matter, answers, set(), TODAY, precheck_calendar())
