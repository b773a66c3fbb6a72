"""The kiosk's screen state machine and matter search, without Qt, a server or a printer."""

from __future__ import annotations

import pathlib

import pytest

from hallclient.types import NotIssued, PrecheckResult
from hallcore.config import HallConfig
from hallcore.precheck import PrecheckOutcome
from hallfiles.config import read_config
from hallui.matters import group, search
from kiosk.flow import KioskFlow, Screen
from kiosk.info import ELDER_MIN_CHOICE_S, FlowSettings, Message
from kiosk.texts import TEXTS, catalog

ROOT = pathlib.Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def county() -> HallConfig:
    return read_config(ROOT / "config" / "county.toml")


def make(county: HallConfig, **settings: float) -> KioskFlow:
    return KioskFlow(
        settings=FlowSettings(**settings), matters=county.matters, priority_classes=county.priority_classes
    )


def confirming(county: HallConfig) -> KioskFlow:
    """A flow at the confirm screen of ZH01 (no questions, no materials), at time 0."""
    f = make(county)
    f.start(0)
    f.choose_matter("ZH01", 0)
    return f


def issuing(county: HallConfig) -> KioskFlow:
    """`confirming`, then submitted: waiting for the server's answer."""
    f = confirming(county)
    assert f.submit("", 0)
    return f


def on(f: KioskFlow, screen: Screen) -> bool:
    """`f.screen is screen`, through a call so that mypy does not narrow the property between steps."""
    return f.screen is screen


def test_walk_in_goes_question_by_question(county: HallConfig) -> None:
    f = make(county)
    f.start(0)
    assert on(f, Screen.MATTERS)
    f.choose_matter("CR01", 1)  # two questions, two materials
    assert (f.screen, f.question) == (Screen.QUESTION, 0)
    f.answer(True, 2)
    assert (f.screen, f.question) == (Screen.QUESTION, 1)
    f.back(3)
    assert f.question == 0
    f.answer(True, 4)
    f.answer(True, 5)
    assert on(f, Screen.MATERIALS)
    f.toggle_material("idcard", 6)
    f.toggle_material("photo_receipt", 6)
    f.materials_done(7)
    assert on(f, Screen.CONFIRM)
    assert f.local is PrecheckOutcome.PASS
    assert f.submit("elderly", 8)
    assert (f.screen, f.priority) == (Screen.ISSUING, "elderly")


def test_the_agent_branch_opens_after_a_no_and_closes_after_a_yes(county: HallConfig) -> None:
    f = make(county)
    f.start(0)
    f.choose_matter("HJ01", 1)  # in person? → (no) agent's papers? → materials
    assert (f.screen, f.current_question.id, f.progress) == (Screen.QUESTION, "in_person", (1, 2))
    f.answer(False, 2)
    assert (f.screen, f.current_question.id, f.progress) == (Screen.QUESTION, "agent_docs", (2, 2))
    f.answer(True, 3)
    assert on(f, Screen.MATERIALS)
    # The agent's papers come with the answer, not as boxes to tick.
    assert [m.id for m in f.materials_shown] == ["idcard", "hukou", "move_permit", "marriage_cert"]
    for mid in ("idcard", "hukou", "move_permit"):
        f.toggle_material(mid, 4)
    f.materials_done(5)
    assert on(f, Screen.CONFIRM)
    j = f.judgement
    assert j is not None
    assert (j.outcome, j.agent, [a.id for a in j.added]) == (
        PrecheckOutcome.PASS,
        True,
        ["authorization", "agent_id"],
    )
    # Back through the branch, then "in person after all": the agent's answer is dropped, not sent.
    f.back(6)
    f.back(7)
    assert f.current_question.id == "agent_docs"
    f.back(8)
    assert f.current_question.id == "in_person"
    f.answer(True, 9)
    assert on(f, Screen.MATERIALS)
    assert f.answers == {"in_person": True}
    assert f.progress == (1, 1)
    f.back(10)
    assert f.current_question.id == "in_person"


def test_matter_without_questions_or_materials_goes_to_confirm(county: HallConfig) -> None:
    f = confirming(county)
    assert on(f, Screen.CONFIRM)


def test_local_outcome_is_hallcores_rule(county: HallConfig) -> None:
    def local(matter: str, answers: dict[str, bool], present: set[str]) -> PrecheckOutcome:
        f = make(county)
        f.start(0)
        f.choose_matter(matter, 0)
        f.answers, f.present = answers, present
        return f.local

    assert local("SB02", {}, {"idcard", "photo_receipt"}) is PrecheckOutcome.PASS  # photo_receipt: tolerable
    assert local("SB02", {}, {"idcard"}) is PrecheckOutcome.TOLERATED
    assert local("SB02", {}, set()) is PrecheckOutcome.FAIL
    # Not in person and the agent's papers not answered for yet: they count as missing.
    assert local("HJ01", {"in_person": False}, {"idcard", "hukou", "move_permit"}) is PrecheckOutcome.FAIL
    papers = {"idcard", "hukou", "move_permit"}
    assert local("HJ01", {"in_person": False, "agent_docs": True}, papers) is PrecheckOutcome.PASS
    assert local("HJ01", {}, {"idcard", "hukou", "move_permit"}) is PrecheckOutcome.FAIL  # not answered yet


def test_idle_timeout_and_elder_minimum(county: HallConfig) -> None:
    f = make(county, idle_reset_s=60, elder_idle_reset_s=10)
    f.start(0)
    assert f.seconds_left(30) == 30
    assert not f.tick(59)
    assert f.tick(60)
    assert on(f, Screen.WELCOME)
    f.toggle_elder(100)
    f.start(100)
    # A hall configured below 30 s still gets 30 s in elder mode.
    assert f.idle_limit_s == ELDER_MIN_CHOICE_S
    assert not f.tick(129)
    assert f.tick(130)
    assert (f.screen, f.elder, f.language) == (Screen.WELCOME, False, "zh")


def test_issuing_never_times_out(county: HallConfig) -> None:
    f = issuing(county)
    assert not f.tick(10_000)
    assert on(f, Screen.ISSUING)


def test_printer_loss_sends_to_desk_and_back(county: HallConfig) -> None:
    f = make(county)
    f.start(0)
    f.choose_matter("HJ01", 0)
    f.set_printer(False, "缺纸 paper out", 1)
    assert on(f, Screen.DESK)
    assert f.matter is None
    f.start(2)
    assert on(f, Screen.DESK)
    f.set_printer(True, "", 3)
    assert on(f, Screen.WELCOME)


def test_printer_loss_on_confirm_blocks_submit(county: HallConfig) -> None:
    f = confirming(county)
    f.printer_ok = False
    assert not f.submit("", 1)
    assert on(f, Screen.DESK)


def test_server_outage_after_delay_then_back(county: HallConfig) -> None:
    f = make(county, offline_delay_s=5)
    f.start(0)
    f.set_server(False, 10)
    assert not f.tick(14)
    assert on(f, Screen.MATTERS)
    assert f.tick(15)
    assert on(f, Screen.OFFLINE)
    f.start(16)
    assert on(f, Screen.OFFLINE)
    f.set_server(True, 20)
    assert on(f, Screen.WELCOME)


def test_server_failure_while_issuing_is_shown_at_once(county: HallConfig) -> None:
    f = issuing(county)
    f.server_failed(1)
    assert on(f, Screen.OFFLINE)


def test_full_matter_is_remembered(county: HallConfig) -> None:
    f = issuing(county)
    f.refused(Message("message.full"), 1, matter_full=True)
    assert on(f, Screen.MESSAGE)
    f.back(2)
    assert on(f, Screen.MATTERS)
    f.choose_matter("ZH01", 3)
    assert on(f, Screen.MESSAGE)


def test_notice_and_booking(county: HallConfig) -> None:
    f = issuing(county)
    f.refused_ticket(NotIssued(PrecheckResult(PrecheckOutcome.FAIL, (), None, "hj01"), {}), True, 1)
    assert on(f, Screen.NOTICE)
    f.home(2)
    f.start_booking(3)
    assert not f.submit_booking("   ", 4)
    assert f.submit_booking(" K7M2P9QX ", 5)
    assert (f.screen, f.booking_code) == (Screen.ISSUING, "K7M2P9QX")
    f.refused(Message("booking.too_early", offer_walk_in=True), 6)
    f.walk_in_instead(7)
    assert (f.screen, f.booking_code) == (Screen.MATTERS, "")


def test_enrollment_screen_until_approved(county: HallConfig) -> None:
    f = make(county)
    f.set_enrolled(False, 0)
    assert on(f, Screen.ENROLL)
    assert not f.tick(10_000)
    f.set_enrolled(True, 1)
    assert on(f, Screen.WELCOME)


def test_search_by_name_initials_and_code(county: HallConfig) -> None:
    assert [m.code for m in search(county.matters, "hkqr")] == ["HJ01"]
    assert search(county.matters, "HK")[0].code == "HJ01"
    assert {m.code for m in search(county.matters, "公积金")} == {"GJ01", "GJ02", "GJ03"}
    assert [m.code for m in search(county.matters, "bd02")] == ["BD02"]
    assert search(county.matters, "passport")[0].code == "CR01"
    assert search(county.matters, "zzzz") == []
    assert len(search(county.matters, "")) == len(county.matters)


def test_grouping(county: HallConfig) -> None:
    by_dept = group(county.matters, "department")
    assert [m.code for m in by_dept["gongjijin"]] == ["GJ01", "GJ02", "GJ03"]
    by_cat = group(county.matters, "category")
    assert "户籍" in by_cat


def test_catalogue_complete_and_used_keys_exist() -> None:
    assert catalog().problems() == []
    src = "".join(p.read_text() for p in (ROOT / "kiosk").glob("*.py"))
    import re

    used = set(
        re.findall(
            r'"((?:welcome|matters|question|materials|priority|confirm|issuing|ticket|notice|'
            r'booking|message|desk|offline|common|printer|home|header|steps)\.[a-z_]+)"',
            src,
        )
    )
    assert used
    assert used <= set(TEXTS), sorted(used - set(TEXTS))


def test_languages_are_the_halls_and_every_visit_starts_in_the_first(county: HallConfig) -> None:
    f = make(county)
    f.languages = ("zh", "en", "bo")
    f.set_language("bo", 0)
    assert f.language == "bo"
    f.set_language("mn", 1)  # not the hall's: ignored
    assert f.language == "bo"
    f.set_language("zh", 2)
    assert f.language == "zh"
    f.set_language("en", 3)
    f.home(4)
    assert f.language == "zh"


def test_a_home_tile_goes_straight_to_its_questions_and_back_home(county: HallConfig) -> None:
    f = make(county)
    f.set_language("en", 0)
    f.choose_matter("CR01", 1)  # from the home screen
    assert (f.screen, f.question) == (Screen.QUESTION, 0)
    f.back(2)
    assert on(f, Screen.WELCOME)
    assert f.matter is None
    assert f.language == "en"  # back is not a new visit
    f.printer_ok = False
    f.choose_matter("CR01", 3)
    assert on(f, Screen.DESK)


def test_all_present_takes_the_number_in_the_same_tap(county: HallConfig) -> None:
    f = make(county)
    f.choose_matter("CR01", 0)
    f.answer(True, 1)
    f.answer(True, 2)
    assert on(f, Screen.MATERIALS)
    assert f.all_present(3)
    assert on(f, Screen.ISSUING)
    assert f.present == {m.id for m in f.materials_shown}
    assert f.priority == ""
    # Answers that fail the pre-check lead to the confirm screen and its 一次性告知单, never to a ticket.
    f = make(county)
    f.choose_matter("CR01", 0)
    f.answer(False, 1)
    f.answer(True, 2)
    assert not f.all_present(3)
    assert on(f, Screen.CONFIRM)
    assert f.local is PrecheckOutcome.FAIL
    assert not f.all_present(4)  # only on the checklist
