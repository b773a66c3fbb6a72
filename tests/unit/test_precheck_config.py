"""check-config on pre-check branches: every `when` names an earlier question (an unknown, later or circular
one is an error with its dotted key), `asks_for`, `agent`, the 承诺书 text; the docs' snippets load."""

from __future__ import annotations

import copy
import re
import tomllib
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from hallcore.configload import ConfigError, ConfigIssue, parse_config
from hallcore.precheck import PrecheckOutcome, evaluate
from tests.unit.test_config import DOCS, issues_of, small_hall
from tests.unit.test_precheck import TODAY, precheck_calendar

KEY = "matters[0].precheck"


def hall_with(questions: list[dict[str, Any]], **precheck: Any) -> dict[str, Any]:
    data = small_hall()
    pre = data["matters"][0]["precheck"]
    pre["questions"] = questions
    pre.update(precheck)
    return data


def q(qid: str, when: tuple[str, bool] | None = None, **more: Any) -> dict[str, Any]:
    table: dict[str, Any] = {"id": qid, "text": f"{qid}?", "fail_reason": f"{qid} failed"}
    if when is not None:
        table["when"] = {"question": when[0], "answer": when[1]}
    table.update(more)
    return table


def keyed(issues: tuple[ConfigIssue, ...], key: str) -> list[ConfigIssue]:
    return [i for i in issues if i.key == key]


# ---- when ------------------------------------------------------------------------------------------------


def test_a_when_on_an_earlier_question_loads() -> None:
    config = parse_config(hall_with([q("a"), q("b", ("a", False))]), "hall.toml")
    (b,) = [x for x in config.matters[0].precheck.questions if x.id == "b"]
    assert b.when is not None
    assert (b.when.question, b.when.answer) == ("a", False)


def test_a_when_on_an_unknown_question_says_which_are_earlier() -> None:
    (issue,) = issues_of(hall_with([q("in_person"), q("b", ("in_persn", False))]))
    assert issue.key == f"{KEY}.questions[1].when.question"
    assert issue.value == "in_persn"
    assert issue.expected == "one of the question ids asked before this one in_person"
    assert issue.hint == "did you mean 'in_person'?"


def test_a_when_on_a_later_question_says_to_move_it() -> None:
    (issue,) = issues_of(hall_with([q("a", ("b", True)), q("b")]))
    assert issue.key == f"{KEY}.questions[0].when.question"
    assert issue.hint == "'b' comes later in the list: move it above 'a'"


def test_a_question_waiting_on_itself_is_a_circle() -> None:
    (issue,) = issues_of(hall_with([q("a"), q("b", ("b", True))]))
    assert issue.key == f"{KEY}.questions[1].when.question"
    assert issue.hint == "the conditions go round in a circle: b → b"


def test_a_circle_of_two_is_reported_on_both() -> None:
    issues = issues_of(hall_with([q("a", ("b", True)), q("b", ("a", False))]))
    assert [i.key for i in issues] == [
        f"{KEY}.questions[0].when.question",
        f"{KEY}.questions[1].when.question",
    ]
    assert [i.hint for i in issues] == [
        "the conditions go round in a circle: a → b → a",
        "the conditions go round in a circle: b → a → b",
    ]


def test_a_when_needs_both_keys() -> None:
    data = hall_with([q("a"), q("b")])
    data["matters"][0]["precheck"]["questions"][1]["when"] = {"question": "a"}
    (issue,) = issues_of(data)
    assert issue.key == f"{KEY}.questions[1].when.answer"


@st.composite
def when_graphs(draw: st.DrawFn) -> list[int | None]:
    """Per question: None (no when), the index of the question it follows (any, itself and later ones too),
    or -1 for an id that names no question."""
    n = draw(st.integers(1, 6))
    return [draw(st.none() | st.integers(-1, n - 1)) for _ in range(n)]


def _in_loop(targets: list[int | None], i: int) -> bool:
    """Following the whens from question `i` comes back to it."""
    seen, at = {i}, targets[i]
    while at is not None and at >= 0 and at not in seen:
        seen.add(at)
        at = targets[at]
    return at == i


@settings(max_examples=80, deadline=None)
@given(when_graphs())
def test_only_whens_on_earlier_questions_load(targets: list[int | None]) -> None:
    questions = [
        q(f"q{i}", None if t is None else ("nobody" if t == -1 else f"q{t}", bool(i % 2)))
        for i, t in enumerate(targets)
    ]
    data = hall_with(questions)
    later = [i for i, t in enumerate(targets) if t is not None and not 0 <= t < i]
    if not later:
        parse_config(data, "hall.toml")
        return
    # A loop needs a when on a later question; each question in it is named, with the circle.
    bad = [i for i, t in enumerate(targets) if i in later or _in_loop(targets, i)]
    issues = issues_of(data)
    assert [i.key for i in issues] == [f"{KEY}.questions[{i}].when.question" for i in bad]
    for i in bad:
        (issue,) = keyed(issues, f"{KEY}.questions[{i}].when.question")
        assert ("circle" in issue.hint) == _in_loop(targets, i)


# ---- what a branch needs -----------------------------------------------------------------------------------


def test_the_first_question_of_a_branch_needs_no_fail_reason() -> None:
    first = {"id": "in_person", "text": "本人？"}
    parse_config(hall_with([first, q("agent_docs", ("in_person", False))]), "hall.toml")
    (issue,) = issues_of(hall_with([first, q("agent_docs", ("in_person", True))]))
    assert issue.key == f"{KEY}.questions[0].fail_reason"


def test_asks_for_names_materials_of_the_matter_once() -> None:
    data = hall_with(
        [
            {"id": "a", "text": "a?", "asks_for": ["hukou", "phot_receipt"]},
            {"id": "b", "text": "b?", "asks_for": ["hukou"]},
        ]
    )
    issues = issues_of(data)
    assert [(i.key, i.hint) for i in issues] == [
        (f"{KEY}.questions[0].asks_for[1]", "did you mean 'photo_receipt'?"),
        (f"{KEY}.questions[1].asks_for[0]", f"{KEY}.questions[0] asks for it too"),
    ]


def test_asks_for_means_yes_is_here() -> None:
    issues = issues_of(hall_with([{"id": "a", "text": "a?", "asks_for": ["hukou"], "expected": False}]))
    assert [i.key for i in issues] == [f"{KEY}.questions[0].expected"]
    issues = issues_of(hall_with([{"id": "a", "text": "a?", "asks_for": ["hukou"], "tolerable": True}]))
    assert [i.key for i in issues] == [f"{KEY}.questions[0].tolerable"]


def test_an_agent_question_follows_an_answer() -> None:
    (issue,) = issues_of(hall_with([q("a", agent=True)]))
    assert issue.key == f"{KEY}.questions[0].agent"


# ---- the 承诺书 --------------------------------------------------------------------------------------------


def test_a_pledge_uses_only_its_placeholders() -> None:
    data = hall_with([q("a")], pledge="于{due}前补齐{items}，{name}")
    (issue,) = issues_of(data)
    assert issue.key == f"{KEY}.pledge"
    assert issue.expected == "only the placeholders {due}, {items}, {matter}"
    parse_config(hall_with([q("a")], pledge="{matter}：于{due}前补齐{items}"), "hall.toml")


def test_a_pledge_needs_something_tolerable() -> None:
    data = hall_with([q("a")], pledge_en="by {due}")
    for m in data["matters"][0]["precheck"]["materials"]:
        m.pop("tolerable", None)
    (issue,) = issues_of(data)
    assert issue.key == f"{KEY}.pledge_en"
    assert issue.hint == "a 承诺书 is printed with a 容缺 ticket only"


# ---- the docs ----------------------------------------------------------------------------------------------


def doc_snippets() -> list[dict[str, Any]]:
    """The ```toml blocks of docs/config.md that are parts of a matter, not whole files."""
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    return [d for d in (tomllib.loads(b) for b in blocks if "[hall]" not in b) if "matters" in d]


def test_the_docs_agent_branch_loads_and_branches() -> None:
    (branch,) = [s for s in doc_snippets() if "questions" in s["matters"]["precheck"]]
    data = small_hall()
    matter = copy.deepcopy(data["matters"][0])
    matter.update(code="HJ01", name="户口迁入登记", pinyin="hkqrdj")
    matter["precheck"] = {"tolerance_days": 20, **branch["matters"]["precheck"]}
    data["matters"].append(matter)
    config = parse_config(data, "docs")
    hj01 = config.matter_by_code["HJ01"]
    ok = evaluate(hj01, {"in_person": False, "agent_docs": True}, set(), TODAY, precheck_calendar())
    assert (ok.outcome, [a.id for a in ok.added], ok.agent) == (
        PrecheckOutcome.PASS,
        ["authorization", "agent_id"],
        True,
    )
    sent_home = evaluate(hj01, {"in_person": False, "agent_docs": False}, set(), TODAY, precheck_calendar())
    assert [i.id for i in sent_home.missing] == ["authorization", "agent_id"]


def test_the_docs_pledge_loads() -> None:
    (pledge,) = [s for s in doc_snippets() if "pledge" in s["matters"]["precheck"]]
    data = small_hall()
    data["matters"][0]["precheck"].update(pledge["matters"]["precheck"])
    config = parse_config(data, "docs")
    assert "{due}" in config.matters[0].precheck.pledge


def test_a_bad_when_stops_the_server_like_any_config_error() -> None:
    with pytest.raises(ConfigError, match=r"when\.question = 'b'"):
        parse_config(hall_with([q("a", ("b", True)), q("b")]), "hall.toml")
