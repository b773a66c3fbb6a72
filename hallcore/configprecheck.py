"""The checks of a matter's pre-check that types cannot express (docs/config.md "Pre-check").

A question's `when` must name a question asked *before* it: then one pass over the checklist in order decides
what is asked (hallcore/precheck.py), and nothing can wait on itself or on a later answer. A `when` that names
no question of the matter, or a question after it, or closes a loop, is refused with its dotted key, so a
question that could never be asked (or would be asked in an order the kiosk cannot follow) never reaches a
hall.
"""

from __future__ import annotations

from hallcore.config import Precheck, Question
from hallcore.configrules import at_least, check_template, nonempty, unique
from hallcore.configwalk import Walker, did_you_mean, one_of

#: Placeholders of the 承诺书 text (`Precheck.pledge`).
PLEDGE_FIELDS = frozenset({"matter", "items", "due"})


def check_precheck(w: Walker, key: str, pre: Precheck) -> None:
    """Record an issue on `w` for every problem of one matter's `[matters.precheck]` at `key`."""
    at_least(w, f"{key}.tolerance_days", pre.tolerance_days, 1, " working day")
    questions = list(enumerate(pre.questions))
    materials = list(enumerate(pre.materials))
    unique(w, questions, f"{key}.questions", "id", "question id within the matter")
    unique(w, materials, f"{key}.materials", "id", "material id within the matter")
    material_ids = [m.id for m in pre.materials]
    # A wrong answer that opens a follow-up is not a failure by itself (the follow-up decides).
    opens = {(q.when.question, q.when.answer) for q in pre.questions if q.when is not None}
    owner: dict[str, int] = {}
    for j, q in questions:
        qkey = f"{key}.questions[{j}]"
        nonempty(w, f"{qkey}.id", q.id, "a short id")
        nonempty(w, f"{qkey}.text", q.text, "the question shown at the kiosk")
        if q.when is not None:
            _check_when(w, f"{qkey}.when.question", j, pre.questions)
        elif q.agent:
            w.issue(
                f"{qkey}.agent",
                q.agent,
                "false for a question asked of everyone",
                "an agent question is asked only after the applicant is not here: give it a when",
            )
        if q.asks_for:
            _check_asks_for(w, qkey, q, material_ids, owner, j, key)
        elif (q.id, not q.expected) not in opens:
            # 行政许可法 Art. 32: the 一次性告知单 must say what is wrong, so a failing answer needs a reason.
            nonempty(w, f"{qkey}.fail_reason", q.fail_reason, "the reason printed on the 一次性告知单")
    for j, mat in materials:
        mkey = f"{key}.materials[{j}]"
        nonempty(w, f"{mkey}.id", mat.id, "a short id")
        nonempty(w, f"{mkey}.name", mat.name, "the material's name")
        if mat.tolerable and not mat.required:
            w.issue(
                f"{mkey}.tolerable",
                mat.tolerable,
                "false for an optional material",
                "容缺 only applies to required materials; drop tolerable or set required = true",
            )
    for name in ("pledge", "pledge_en"):
        text = getattr(pre, name)
        if not text:
            continue
        check_template(w, f"{key}.{name}", text, PLEDGE_FIELDS)
        if not any(q.tolerable for q in pre.questions) and not any(m.tolerable for m in pre.materials):
            w.issue(
                f"{key}.{name}",
                text,
                "no 承诺书 for a matter without tolerable materials or questions",
                "a 承诺书 is printed with a 容缺 ticket only",
            )


def _check_when(w: Walker, key: str, j: int, questions: tuple[Question, ...]) -> None:
    q = questions[j]
    assert q.when is not None
    target = q.when.question
    ids = [x.id for x in questions]
    earlier = ids[:j]
    if target not in ids:
        hint = did_you_mean(target, earlier) or "a question must be defined before the ones that follow it"
        w.issue(key, target, one_of("question ids asked before this one", earlier), hint)
        return
    loop = _loop(j, questions)
    if loop:
        w.issue(
            key,
            target,
            "a question asked before this one, not one that waits on this one",
            "the conditions go round in a circle: " + " → ".join(loop),
        )
    elif target not in earlier:
        w.issue(
            key,
            target,
            one_of("question ids asked before this one", earlier),
            f"{target!r} comes later in the list: move it above {q.id!r}",
        )


def _loop(j: int, questions: tuple[Question, ...]) -> list[str]:
    """The ids of the `when` loop through question `j` ("a → b → a"), or [] when following its `when`s
    reaches a question without one (or a loop that does not come back to it)."""
    index = {q.id: i for i, q in reversed(list(enumerate(questions)))}
    path = [questions[j].id]
    seen = {j}
    i = j
    while True:
        w = questions[i].when
        if w is None or w.question not in index:
            return []
        i = index[w.question]
        path.append(questions[i].id)
        if i == j:
            return path
        if i in seen:
            return []
        seen.add(i)


def _check_asks_for(
    w: Walker,
    qkey: str,
    q: Question,
    material_ids: list[str],
    owner: dict[str, int],
    j: int,
    key: str,
) -> None:
    for k, mid in enumerate(q.asks_for):
        if mid not in material_ids:
            hint = did_you_mean(mid, material_ids) or "list the material in [[matters.precheck.materials]]"
            w.issue(f"{qkey}.asks_for[{k}]", mid, one_of("material ids of the matter", material_ids), hint)
        elif mid in owner:
            w.issue(
                f"{qkey}.asks_for[{k}]",
                mid,
                "a material no other question asks for",
                f"{key}.questions[{owner[mid]}] asks for it too",
            )
        else:
            owner[mid] = j
    if not q.expected:
        w.issue(
            f"{qkey}.expected",
            q.expected,
            "true for a question that asks for materials",
            "yes means the materials are here",
        )
    if q.tolerable:
        w.issue(
            f"{qkey}.tolerable",
            q.tolerable,
            "false for a question that asks for materials",
            "whether they may be brought later is each material's own tolerable",
        )
