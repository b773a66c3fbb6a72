"""预审: every outcome, the complete 一次性告知 list, 容缺 deadlines in working days, and input errors."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallcore.calendar import HallCalendar
from hallcore.config import Calendar, CalendarYear, Hall, Material, Matter, Precheck, Question, Session
from hallcore.errors import HallError
from hallcore.precheck import (
    MissingItem,
    MissingKind,
    PrecheckInputError,
    PrecheckOutcome,
    PrecheckResult,
    evaluate,
)

WEEKDAY = (Session(dt.time(9, 0), dt.time(17, 0)),)
TODAY = dt.date(2026, 9, 29)  # Tuesday before National Day 2026


def bare_matter(precheck: Precheck) -> Matter:
    """A matter that is nothing but this checklist."""
    return Matter(code="X", name="x", series="A", department="d", precheck=precheck)


def precheck_calendar() -> HallCalendar:
    """Mon–Fri hall with National Day 2026 (10-01..10-07) and the 调休 Saturday 10-10."""
    return HallCalendar(
        Hall(
            id="hall-1",
            name="测试大厅",
            hours=dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), WEEKDAY),
            calendar=Calendar(
                years=(
                    CalendarYear(
                        2026,
                        holidays=tuple(dt.date(2026, 10, d) for d in range(1, 8)),
                        workdays=(dt.date(2026, 10, 10),),
                    ),
                )
            ),
        )
    )


RESIDENT = Question(
    id="resident",
    text="您是否为本市户籍？",
    text_en="Are you registered as a resident of this city?",
    expected=True,
    fail_reason="非本市户籍，请到户籍所在地办理",
    fail_reason_en="Not a resident: apply where your household is registered",
    where="户籍所在地政务服务中心",
    where_en="The service centre where your household is registered",
)
NO_TAX_DEBT = Question(
    id="tax_debt",
    text="您是否有欠税？",
    expected=False,
    fail_reason="存在欠税，请先缴清",
    where="税务窗口（二楼）",
)
NO_REASON = Question(id="agent", text="是否本人办理？", text_en="In person?")

ID_CARD = Material(
    id="id_card", name="居民身份证", name_en="ID card", where="公安户籍窗口", where_en="Police"
)
HOUSEHOLD = Material(id="household", name="户口簿", where="派出所")
PHOTO = Material(id="photo", name="一寸照片", name_en="Photo", where="大厅照相点", tolerable=True)
COPY = Material(id="copy", name="身份证复印件", where="自助复印机", tolerable=True)
LETTER = Material(id="letter", name="单位介绍信", where="工作单位", required=False)

MATTER = Matter(
    code="HJ-001",
    name="户籍迁移",
    series="A",
    department="police",
    precheck=Precheck(
        questions=(RESIDENT, NO_TAX_DEBT),
        materials=(ID_CARD, HOUSEHOLD, PHOTO, COPY, LETTER),
        tolerance_days=5,
    ),
)
GOOD_ANSWERS = {"resident": True, "tax_debt": False}
ALL_REQUIRED = {"id_card", "household", "photo", "copy"}


def run(answers: dict[str, bool], present: set[str], matter: Matter = MATTER) -> PrecheckResult:
    return evaluate(matter, answers, present, TODAY, precheck_calendar())


def test_pass() -> None:
    result = run(GOOD_ANSWERS, ALL_REQUIRED)
    assert result == PrecheckResult(outcome=PrecheckOutcome.PASS, missing=(), due=None, matter_code="HJ-001")
    assert result.issues_ticket


def test_optional_material_is_never_missing() -> None:
    assert run(GOOD_ANSWERS, ALL_REQUIRED).outcome is PrecheckOutcome.PASS
    assert run(GOOD_ANSWERS, ALL_REQUIRED | {"letter"}).outcome is PrecheckOutcome.PASS


def test_tolerated_with_due_date_in_working_days() -> None:
    result = run(GOOD_ANSWERS, {"id_card", "household", "copy"})
    assert result.outcome is PrecheckOutcome.TOLERATED
    assert result.outcome.value == "容缺"
    assert result.issues_ticket
    assert result.missing == (
        MissingItem(
            id="photo",
            kind=MissingKind.MATERIAL,
            text="一寸照片",
            text_en="Photo",
            where="大厅照相点",
            where_en="",
            tolerable=True,
        ),
    )
    # 5 working days from Tue 9-29: 9-30, 10-08, 10-09, 10-10 (调休), 10-12.
    assert result.due == dt.date(2026, 10, 12)


def test_tolerated_lists_every_tolerable_item() -> None:
    result = run(GOOD_ANSWERS, {"id_card", "household"})
    assert result.outcome is PrecheckOutcome.TOLERATED
    assert [item.id for item in result.missing] == ["photo", "copy"]


def test_tolerance_of_zero_days_is_due_on_the_next_working_day_if_today_is_not_one() -> None:
    matter = bare_matter(Precheck(materials=(PHOTO,), tolerance_days=0))
    calendar = precheck_calendar()
    assert evaluate(matter, {}, set(), TODAY, calendar).due == TODAY
    assert evaluate(matter, {}, set(), dt.date(2026, 10, 3), calendar).due == dt.date(2026, 10, 8)


def test_failed_question_fails_with_reason_and_where() -> None:
    result = run({"resident": False, "tax_debt": False}, ALL_REQUIRED)
    assert result.outcome is PrecheckOutcome.FAIL
    assert result.outcome.value == "不通过"
    assert not result.issues_ticket
    assert result.due is None
    assert result.missing == (
        MissingItem(
            id="resident",
            kind=MissingKind.QUESTION,
            text="非本市户籍，请到户籍所在地办理",
            text_en="Not a resident: apply where your household is registered",
            where="户籍所在地政务服务中心",
            where_en="The service centre where your household is registered",
            tolerable=False,
        ),
    )


def test_expected_false_question() -> None:
    result = run({"resident": True, "tax_debt": True}, ALL_REQUIRED)
    assert result.outcome is PrecheckOutcome.FAIL
    assert [(i.id, i.text, i.where) for i in result.missing] == [
        ("tax_debt", "存在欠税，请先缴清", "税务窗口（二楼）")
    ]


def test_question_without_fail_reason_shows_its_text() -> None:
    matter = bare_matter(Precheck(questions=(NO_REASON,)))
    (item,) = run({"agent": False}, set(), matter).missing
    assert (item.text, item.text_en) == ("是否本人办理？", "In person?")


def test_missing_non_tolerable_material_fails_and_still_lists_tolerable_ones() -> None:
    result = run(GOOD_ANSWERS, {"household", "copy"})
    assert result.outcome is PrecheckOutcome.FAIL
    assert result.due is None
    assert [(i.id, i.tolerable) for i in result.missing] == [("id_card", False), ("photo", True)]


def test_failed_question_with_only_tolerable_materials_missing_fails() -> None:
    result = run({"resident": True, "tax_debt": True}, {"id_card", "household"})
    assert result.outcome is PrecheckOutcome.FAIL
    assert [i.id for i in result.missing] == ["tax_debt", "photo", "copy"]


def test_everything_missing_is_listed_at_once() -> None:
    result = run({"resident": False, "tax_debt": True}, set())
    assert result.outcome is PrecheckOutcome.FAIL
    # Questions first, then materials, each in checklist order; the optional letter is not listed.
    assert [(i.kind, i.id) for i in result.missing] == [
        (MissingKind.QUESTION, "resident"),
        (MissingKind.QUESTION, "tax_debt"),
        (MissingKind.MATERIAL, "id_card"),
        (MissingKind.MATERIAL, "household"),
        (MissingKind.MATERIAL, "photo"),
        (MissingKind.MATERIAL, "copy"),
    ]
    assert all(item.where for item in result.missing)
    assert result.matter_code == "HJ-001"


def test_matter_without_checklist_passes() -> None:
    matter = bare_matter(Precheck())
    assert run({}, set(), matter).outcome is PrecheckOutcome.PASS


def test_result_is_frozen() -> None:
    result = run(GOOD_ANSWERS, ALL_REQUIRED)
    with pytest.raises(AttributeError):
        result.outcome = PrecheckOutcome.FAIL  # type: ignore[misc]


# --- input errors -----------------------------------------------------------------------------------------


def test_unknown_question_id() -> None:
    with pytest.raises(PrecheckInputError, match="unknown question ids: married") as info:
        run({**GOOD_ANSWERS, "married": True}, ALL_REQUIRED)
    assert info.value.unknown_questions == ("married",)
    assert isinstance(info.value, HallError)


def test_unanswered_question() -> None:
    with pytest.raises(PrecheckInputError, match="unanswered questions: tax_debt") as info:
        run({"resident": True}, ALL_REQUIRED)
    assert info.value.unanswered == ("tax_debt",)


def test_unknown_material_id() -> None:
    with pytest.raises(PrecheckInputError, match="unknown material ids: passport") as info:
        run(GOOD_ANSWERS, ALL_REQUIRED | {"passport"})
    assert info.value.unknown_materials == ("passport",)


def test_non_bool_answer() -> None:
    answers: dict[str, object] = {"resident": "no", "tax_debt": False}
    with pytest.raises(PrecheckInputError, match="not yes/no: resident") as info:
        run(answers, ALL_REQUIRED)  # type: ignore[arg-type]
    assert info.value.not_bool == ("resident",)


def test_every_input_problem_is_reported_at_once() -> None:
    with pytest.raises(PrecheckInputError) as info:
        run({"married": True}, {"passport", "id_card"})
    error = info.value
    assert error.matter_code == "HJ-001"
    assert error.unknown_questions == ("married",)
    assert error.unanswered == ("resident", "tax_debt")
    assert error.unknown_materials == ("passport",)
    assert "HJ-001" in str(error)


# --- the rules, over every combination --------------------------------------------------------------------


@given(
    answers=st.fixed_dictionaries({"resident": st.booleans(), "tax_debt": st.booleans()}),
    present=st.sets(st.sampled_from(["id_card", "household", "photo", "copy", "letter"])),
)
def test_outcome_follows_the_rules(answers: dict[str, bool], present: set[str]) -> None:
    result = run(answers, present)
    failed = {q.id for q in (RESIDENT, NO_TAX_DEBT) if answers[q.id] != q.expected}
    absent = {m.id for m in MATTER.precheck.materials if m.required and m.id not in present}
    assert {i.id for i in result.missing} == failed | absent
    blocking = failed | (absent & {"id_card", "household"})
    if blocking:
        assert (result.outcome, result.due) == (PrecheckOutcome.FAIL, None)
    elif absent:
        assert (result.outcome, result.due) == (PrecheckOutcome.TOLERATED, dt.date(2026, 10, 12))
    else:
        assert (result.outcome, result.due) == (PrecheckOutcome.PASS, None)
