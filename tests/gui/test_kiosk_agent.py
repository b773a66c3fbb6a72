"""The 代办 branch at the kiosk, for every example matter that lets an agent apply: "本人到场？" no →
"带了授权委托书和代理人身份证吗？" yes → a ticket that lists the two papers to show at the window; no → no
ticket, and the 一次性告知单 lists them with where to get them.

Each walk taps the real kiosk against a real hall server on 127.0.0.1 (the example hall's own config) and the
TCP printer emulator, and checks the bytes that came out of the printer and the pre-check the hall recorded.
"""

from __future__ import annotations

import asyncio
import functools
import pathlib
import re
from collections.abc import Callable
from typing import Any

import pytest

from hallcore.config import HallConfig, Matter, Question
from hallcore.precheck import screen_materials
from hallfiles.config import read_config
from kiosk.flow import Screen
from tests.fakes.live_server import COUNTY
from tests.gui.kiosk_rig import Rig, kiosk_rig

PROVINCIAL = COUNTY.parent / "provincial.toml"
CONFIGS = {"county": COUNTY, "provincial": PROVINCIAL}


@functools.cache
def config_of(hall: str) -> HallConfig:
    return read_config(CONFIGS[hall])


def agent_matters(config: HallConfig) -> list[Matter]:
    """Matters asking 本人到场 with the 代办 branch: an `agent` question follows a "no"."""
    return [m for m in config.matters if any(q.agent for q in m.precheck.questions)]


def cases() -> list[tuple[str, str]]:
    return [(hall, m.code) for hall in CONFIGS for m in agent_matters(config_of(hall))]


def test_every_matter_that_lets_an_agent_apply_has_the_branch() -> None:
    """The examples' matters asking 本人到场 that an agent may apply for; the ones whose documents take
    fingerprints on site (ID card, passport, permits) ask `in_person_only` and have no branch."""
    assert cases() == [
        ("county", "HJ01"),
        ("county", "BD01"),
        ("provincial", "WJ02"),
        ("provincial", "JY02"),
        ("provincial", "GA05"),
    ]
    for hall in CONFIGS:
        config = config_of(hall)
        branched = {m.code for m in agent_matters(config)}
        for m in config.matters:
            ids = [q.id for q in m.precheck.questions]
            assert ("in_person" in ids) == ("agent_docs" in ids) == (m.code in branched)


def walk(rig: Rig, m: Matter, answer: Callable[[Question], bool]) -> list[tuple[str, str]]:
    """Welcome → search → the matter → each question asked, answered by `answer` → tick every required
    material on the screen (never the agent's papers: the answer vouches for them) → confirm. Returns the
    (id, text on screen) of each question asked."""
    rig.tap("welcomeStart")
    for ch in m.pinyin:
        rig.tap(f"key_{ch.upper()}")
    rig.tap(f"matter_{m.code}")
    asked = []
    while rig.screen is Screen.QUESTION:
        q = rig.app.flow.current_question
        asked.append((q.id, rig.text("questionText")))
        rig.tap("questionYes" if answer(q) else "questionNo")
    rig.expect(Screen.MATERIALS)
    assert not rig.has("material_authorization")
    assert not rig.has("material_agent_id")
    for mat in screen_materials(m):
        if mat.required:
            rig.tap(f"material_{mat.id}")
    rig.tap("materialsDone")
    rig.expect(Screen.CONFIRM)
    return asked


def agent(papers: bool) -> Callable[[Question], bool]:
    """Not in person; the agent's papers as given; everything else as expected."""
    return lambda q: False if q.id == "in_person" else papers if q.agent else q.expected


AGENT_QUESTION = ("agent_docs", "带了授权委托书和代理人身份证吗？")


def gb(text: str) -> bytes:
    return text.encode("gb18030")


def printed(raw: bytes) -> str:
    """The text as the printer prints it (GB18030), without control bytes or white space, so a line the
    layout wrapped still reads as one."""
    return re.sub(r"[\x00-\x20\x7f]", "", raw.decode("gb18030", errors="ignore"))


@pytest.mark.parametrize(("hall", "code"), cases())
def test_the_agent_path_prints_the_papers(
    hall: str, code: str, tmp_path: pathlib.Path, qtbot: Any, running: asyncio.AbstractEventLoop
) -> None:
    config = config_of(hall)
    m = config.matter_by_code[code]
    auth, agent_id = (
        next(x for x in m.precheck.materials if x.id == i) for i in ("authorization", "agent_id")
    )
    with kiosk_rig(tmp_path, qtbot, running, config=config) as rig:
        # With both papers: a ticket that says 代办 and lists them.
        assert AGENT_QUESTION in walk(rig, m, agent(papers=True))
        assert "授权委托书、代理人身份证" in rig.text("confirmAgent")
        assert not rig.has("confirmFail")
        rig.tap("confirmNormal")
        rig.wait_screen(Screen.TICKET)
        assert rig.text("ticketAgentItem_0") == f"1. {auth.name}"
        assert rig.text("ticketAgentItem_1") == f"2. {agent_id.name}"
        (paper,) = rig.tickets()
        label = rig.text("ticketNumber")
        for piece in ("代办：请在窗口出示以下材料", f"1. {auth.name}", f"2. {agent_id.name}", label):
            assert gb(piece) in paper.raw, f"{piece!r} not printed"
        assert rig.db_tickets() == [(label, "waiting", "通过", "", code)]
        # Without them: no ticket; the 一次性告知单 lists both with where to get them.
        rig.tap("homeButton")
        assert AGENT_QUESTION in walk(rig, m, agent(papers=False))
        assert rig.has("confirmFail")
        rig.tap("confirmNormal")
        rig.wait_screen(Screen.NOTICE)
        assert rig.text("noticeItem_0") == f"1. {auth.name}"
        assert rig.text("noticeItem_1") == f"2. {agent_id.name}"
        assert not rig.has("noticeItem_2")  # everything else was brought
        _, notice = rig.tickets()
        for piece in ("一次性告知单", auth.name, auth.where, agent_id.name, agent_id.where):
            assert piece in printed(notice.raw), f"{piece!r} not on the notice"
        assert [t[0] for t in rig.db_tickets()] == [label]
        recorded = rig.hall.query("SELECT outcome, missing, agent, source FROM prechecks ORDER BY id")
        assert [tuple(r) for r in recorded] == [
            ("通过", "[]", 1, "kiosk"),
            ("不通过", '["authorization", "agent_id"]', 1, "kiosk"),
        ]


def in_person_only(config: HallConfig) -> list[Matter]:
    """Matters whose documents take the applicant's fingerprints or photo on site: no 代办 branch."""
    return [m for m in config.matters if any(q.id == "in_person_only" for q in m.precheck.questions)]


@pytest.mark.parametrize("hall", list(CONFIGS))
def test_an_agent_for_a_fingerprint_matter_is_told_at_once(
    hall: str, tmp_path: pathlib.Path, qtbot: Any, running: asyncio.AbstractEventLoop
) -> None:
    """The other matters asking 本人到场 (ID cards, passports, permits): an agent who answers "not in person"
    gets no ticket and a 一次性告知单 that says why no one can apply for the applicant and what to do, before
    queueing for nothing. One rig per hall walks every such matter."""
    config = config_of(hall)
    matters = in_person_only(config)
    assert [m.code for m in matters] == {
        "county": ["HJ03", "HJ04", "CR01", "CR02"],
        "provincial": ["GA01", "GA02", "GA03"],
    }[hall]
    with kiosk_rig(tmp_path, qtbot, running, config=config) as rig:
        for n, m in enumerate(matters):
            (q,) = [q for q in m.precheck.questions if q.id == "in_person_only"]
            asked = walk(rig, m, lambda x: x.expected and x.id != "in_person_only")
            assert "agent_docs" not in dict(asked)  # no agent's papers question for these
            assert rig.has("confirmFail")
            rig.tap("confirmNormal")
            rig.wait_screen(Screen.NOTICE)
            assert rig.text("noticeItem_0") == f"1. {q.fail_reason}"
            assert not rig.has("noticeItem_1")  # everything else was brought
            notice = rig.tickets()[n]
            for piece in ("一次性告知单", m.name, q.fail_reason, q.where):
                assert piece in printed(notice.raw), f"{m.code}: {piece!r} not on the notice"
            rig.tap("homeButton")
        assert rig.db_tickets() == []
        recorded = rig.hall.query("SELECT matter, outcome, missing, agent FROM prechecks ORDER BY id")
        assert [tuple(r) for r in recorded] == [(m.code, "不通过", '["in_person_only"]', 0) for m in matters]
