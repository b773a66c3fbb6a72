"""The kiosk flow with a card read (kiosk/flow.py, kiosk/card.py): where a card starts a visit and where it
is ignored, the principal's card in 代办, the verified class at the final tap, and the visit forgotten at
the idle reset. Pure: no Qt, no server."""

from __future__ import annotations

import datetime as dt
import pathlib

import pytest

from drivers.codecs import idcard as c
from drivers.codecs.idcard_text import TextFields, parse_text
from drivers.protocols import IdCard
from hallcore import idnumber
from hallcore.config import HallConfig
from hallfiles.config import read_config
from hallui.cardread import visit_of
from kiosk.flow import KioskFlow, Screen
from kiosk.info import FlowSettings

ROOT = pathlib.Path(__file__).resolve().parents[2]
DAY = dt.date(2026, 11, 23)
OLD = idnumber.complete("34152419500315123")
YOUNG = idnumber.complete("34150219980711248")


@pytest.fixture(scope="module")
def county() -> HallConfig:
    return read_config(ROOT / "config" / "county.toml")


def id_card(number: str, valid_to: str = "长期") -> IdCard:
    f = TextFields("张三", "1", "01", number[6:14], "某地", number, "公安局", "20150601", valid_to)
    card = parse_text(c.join_text(f))
    assert isinstance(card, IdCard)
    return card


def flow(county: HallConfig) -> KioskFlow:
    return KioskFlow(
        settings=FlowSettings(), matters=county.matters, priority_classes=county.priority_classes
    )


def test_a_card_starts_a_visit_with_the_verified_class_and_never_shows_the_number(county: HallConfig) -> None:
    v = visit_of(id_card(OLD), county, DAY)
    assert (v.masked, v.age_class, v.expired) == ("张*", "elderly", False)
    assert OLD not in repr(v)
    f = flow(county)
    assert f.card_read(v, 0)
    assert f.screen is Screen.CARD
    f.start(1)
    f.choose_matter("ZH01", 1)  # no questions, no materials
    assert f.submit("", 2)
    assert f.priority == "elderly"  # the card's class, nobody claimed it


def test_a_card_is_ignored_mid_pre_check_and_forgotten_at_the_idle_reset(county: HallConfig) -> None:
    f = flow(county)
    f.start(0)
    f.choose_matter("HJ01", 0)
    assert f.screen is Screen.QUESTION
    assert not f.card_read(visit_of(id_card(YOUNG), county, DAY), 1)
    assert f.card is None
    f.home(2)
    assert f.card_read(visit_of(id_card(YOUNG), county, DAY), 3)
    f.tick(3 + f.idle_limit_s + 1)
    assert (f.screen, f.card) == (Screen.WELCOME, None)


def test_in_agent_mode_the_second_card_is_the_principals_and_no_class_is_sent(county: HallConfig) -> None:
    f = flow(county)
    f.card_read(visit_of(id_card(OLD), county, DAY), 0)
    f.start(0)
    f.choose_matter("HJ01", 0)
    f.answer(False, 0)  # not in person
    f.answer(True, 0)  # the agent's papers
    for m in f.materials_shown:
        f.toggle_material(m.id, 0)
    f.materials_done(0)
    assert f.screen is Screen.CONFIRM
    principal = visit_of(id_card(YOUNG), county, DAY)
    assert f.card_read(principal, 1)
    assert f.principal is principal
    assert f.card is not None
    assert f.card.id_number == OLD
    assert f.submit("", 2)
    assert f.priority == ""


def test_expired_and_failed_cards(county: HallConfig) -> None:
    assert visit_of(id_card(YOUNG, "20261122"), county, DAY).expired
    assert not visit_of(id_card(YOUNG, "20261123"), county, DAY).expired
    wrong = YOUNG[:17] + ("0" if YOUNG[17] != "0" else "1")
    assert visit_of(id_card(wrong), county, DAY).expired  # a failed number check is treated as expired
