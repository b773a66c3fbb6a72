"""刷身份证取号 at the kiosk (issue 27). The emulated 居民身份证 reader over a pty, built by drivers.factory
from the station's config as `hallq kiosk` builds it; the real kiosk app offscreen; a real server over TLS;
the ESC/POS printer emulator. A card greets its holder by masked name, the birth date gives the elder class
(printed), the per-person limit refuses with the time to come back (at this kiosk and at another), today's
booking is found by the card, an expired card gets the hall's policy, 代办 counts as the agent's, and an
unplugged reader leaves the touch path working while the dashboard shows the reader down."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.codecs.idcard import FIND_CARD
from drivers.codecs.idcard_text import TextFields
from drivers.emulators.idcard import EmulatedCard
from hallcore import idnumber
from hallcore.config import ExpiredCard, HallConfig
from hallfiles.config import read_config
from kiosk.flow import Screen
from tests.fakes.live_server import COUNTY
from tests.gui.kiosk_rig import HJ01, HJ01_PAPERS, SB02, Rig, kiosk_rig

#: Born 1950: 76 on Monday 2026-11-23, over the county's elder age (70).
ELDER_ID = idnumber.complete("34152419500315123")
YOUNG_ID = idnumber.complete("34150219980711248")
ADDRESS = "安徽省六安市金寨县梅山镇红军路88号"


def card(name: str, number: str, *, valid_to: str = "长期") -> EmulatedCard:
    return EmulatedCard.from_fields(
        TextFields(
            name=name,
            sex="1" if int(number[16]) % 2 else "2",
            nation="01",
            birth=number[6:14],
            address=ADDRESS,
            id_number=number,
            authority="金寨县公安局",
            valid_from="20150601",
            valid_to=valid_to,
        )
    )


ELDER = card("张三丰", ELDER_ID)
YOUNG = card("王堃喆", YOUNG_ID, valid_to="20280801")


def county(**changes: Any) -> HallConfig:
    c = read_config(COUNTY)
    persons = dataclasses.replace(c.persons, **changes.pop("persons", {}))
    ident = dataclasses.replace(c.identity, **changes.pop("identity", {}))
    return dataclasses.replace(c, persons=persons, identity=ident)


@pytest.fixture
def rig(tmp_path: pathlib.Path, qtbot: Any, running: asyncio.AbstractEventLoop) -> Iterator[Rig]:
    with kiosk_rig(tmp_path, qtbot, running, reader=True) as r:
        r.wait(lambda: r.app.flow.reader_ok, "the reader found")
        yield r


def lift(rig: Rig) -> None:
    """Take the card away and let the reader see it gone (two polls): the driver reports a card once per
    placement, so the same card laid again within one poll would be the same placement."""
    emu = rig.card_reader
    assert emu is not None
    finds = emu.counts[FIND_CARD]
    emu.lift()
    rig.wait(lambda: emu.counts[FIND_CARD] > finds + 1, "the reader to see the card lifted", 30)


def place(rig: Rig, c: EmulatedCard, screen: Screen = Screen.CARD) -> None:
    assert rig.card_reader is not None
    lift(rig)
    rig.card_reader.place(c)
    rig.wait_screen(screen, timeout=30)  # a hang guard: the reader polls, the lookup crosses TLS


def looked_up(rig: Rig) -> None:
    rig.wait(lambda: rig.app.flow.card is None or rig.app.flow.card.tickets_left is not None, "the lookup")


def take_sb02(rig: Rig) -> None:
    """From the greeting: SB02 (no questions) with every paper, to the ticket."""
    rig.tap("cardStart")
    m = rig.app.config.matter_by_code[SB02]
    for ch in m.pinyin[:4]:
        rig.tap(f"key_{ch.upper()}")
    rig.tap(f"matter_{SB02}")
    rig.expect(Screen.MATERIALS)
    for mat in m.precheck.materials:
        rig.tap(f"material_{mat.id}")
    rig.tap("materialsDone")
    rig.tap("confirmNormal")
    rig.wait_screen(Screen.TICKET)


def test_card_greets_gives_the_elder_class_and_prints_it(rig: Rig) -> None:
    assert rig.has("welcomeCard")
    place(rig, ELDER)
    assert rig.text("cardGreeting") == "您好，张**"
    assert "老年人" in rig.text("cardClass")
    looked_up(rig)
    assert rig.text("cardLeft") == "今日还可取号 3 个"
    take_sb02(rig)
    assert "老年人" in rig.text("ticketPriority")
    assert "老年人" in rig.tickets()[-1].text
    row = rig.hall.query("SELECT priority, class_check, identity, holder_masked, age_band FROM tickets")
    assert row == [("elderly", "verified", "card", "张**", 70)]
    # A young holder: greeted, no class.
    rig.tap("homeButton")
    place(rig, YOUNG)
    assert rig.text("cardGreeting") == "您好，王**"
    assert not rig.has("cardClass")


def test_over_the_limit_is_refused_with_the_time_here_and_at_another_kiosk(
    tmp_path: pathlib.Path, qtbot: Any, running: asyncio.AbstractEventLoop
) -> None:
    with kiosk_rig(tmp_path, qtbot, running, reader=True, config=county(persons={"tickets_per_day": 1})) as r:
        r.wait(lambda: r.app.flow.reader_ok, "the reader found")
        place(r, YOUNG)
        take_sb02(r)
        r.tap("homeButton")
        place(r, YOUNG, Screen.MESSAGE)  # greeted, then the lookup says none are left
        assert r.text("messageTitle") == "您今日取号已达上限"
        assert r.text("messageNext") == "下次取号时间：2026-11-24 08:30"
        # Another kiosk of the hall, with the same card: the server's count refuses it too.
        other = r.hall.station("kiosk", "kiosk-2")
        papers = [m.id for m in r.app.config.matter_by_code[SB02].precheck.materials]
        again = r.hall.post(
            other, "/api/tickets", matter=SB02, answers={}, present=papers, id_number=YOUNG_ID
        )
        assert again.status_code == 409, again.text
        assert again.json()["detail"]["next_opening"].startswith("2026-11-24T08:30")


def test_the_per_matter_limit_refuses_at_the_final_tap(rig: Rig) -> None:
    place(rig, YOUNG)
    take_sb02(rig)
    rig.tap("homeButton")
    place(rig, YOUNG)
    looked_up(rig)
    assert rig.text("cardLeft") == "今日还可取号 2 个"
    rig.tap("cardStart")
    m = rig.app.config.matter_by_code[SB02]
    for ch in m.pinyin[:4]:
        rig.tap(f"key_{ch.upper()}")
    rig.tap(f"matter_{SB02}")
    for mat in m.precheck.materials:
        rig.tap(f"material_{mat.id}")
    rig.tap("materialsDone")
    rig.tap("confirmNormal")
    rig.wait_screen(Screen.MESSAGE)
    assert rig.text("messageTitle") == "您今日取号已达上限"
    assert "2026-11-24 08:30" in rig.text("messageNext")
    assert len(rig.hall.query("SELECT 1 FROM tickets")) == 1


def test_todays_booking_is_found_by_the_card_and_checked_in(rig: Rig) -> None:
    code = rig.hall.book("SW03", dt.date(2026, 11, 23), dt.time(9, 0), YOUNG_ID)
    place(rig, YOUNG)
    rig.wait(lambda: rig.has(f"cardBooking_{code}"), "the booking offered")
    rig.tap(f"cardBooking_{code}")
    rig.wait_screen(Screen.TICKET)
    assert rig.hall.query("SELECT state FROM bookings WHERE code = ?", (code,)) == [("checked_in",)]


def test_an_expired_card_is_served_or_sent_to_the_desk(
    tmp_path: pathlib.Path, qtbot: Any, running: asyncio.AbstractEventLoop
) -> None:
    expired = card("李四", YOUNG_ID, valid_to="20261122")
    with kiosk_rig(tmp_path, qtbot, running, reader=True) as r:  # the county serves anyway
        r.wait(lambda: r.app.flow.reader_ok, "the reader found")
        place(r, expired)
        assert r.has("cardExpired")
        take_sb02(r)
    desk_policy = county(identity={"expired": ExpiredCard.DESK})
    (tmp_path / "desk").mkdir()
    with kiosk_rig(tmp_path / "desk", qtbot, running, reader=True, config=desk_policy) as r:
        r.wait(lambda: r.app.flow.reader_ok, "the reader found")
        place(r, expired, Screen.MESSAGE)
        assert r.text("messageTitle").startswith("您的身份证已过期")
        assert r.hall.query("SELECT 1 FROM tickets") == []


def test_agent_card_counts_as_the_agents_without_age_class(rig: Rig) -> None:
    place(rig, ELDER)  # the agent is old, but acts for someone else: no elder class
    rig.tap("cardStart")
    m = rig.app.config.matter_by_code[HJ01]
    for ch in m.pinyin[:4]:
        rig.tap(f"key_{ch.upper()}")
    rig.tap(f"matter_{HJ01}")
    rig.tap("questionNo")  # not in person
    rig.tap("questionYes")  # with the agent's papers
    for mid in HJ01_PAPERS:
        rig.tap(f"material_{mid}")
    rig.tap("materialsDone")
    rig.expect(Screen.CONFIRM)
    assert rig.has("confirmAgent")
    assert rig.card_reader is not None
    lift(rig)
    rig.card_reader.place(YOUNG)  # the principal's card, which the agent carries
    rig.wait(lambda: rig.app.flow.principal is not None, "the principal's card")
    rig.tap("confirmNormal")
    rig.wait_screen(Screen.TICKET)
    rows = rig.hall.query("SELECT identity, priority, holder_masked, id_last4, age_band FROM tickets")
    assert rows == [("agent", "", "王**", YOUNG_ID[-4:], None)]
    keys = rig.hall.query("SELECT person_key != '', agent_key != '' FROM tickets")
    assert keys == [(1, 1)]


def test_reader_unplugged_the_touch_path_works_and_the_dashboard_shows_it(rig: Rig) -> None:
    assert rig.card_reader is not None
    rig.card_reader.unplug()
    rig.wait(lambda: not rig.app.flow.reader_ok, "the reader seen down")
    assert not rig.has("welcomeCard")
    rig.take_hj01()
    snap = rig.hall.http.get("/api/snapshot", headers=rig.hall.manager_headers())
    rig.wait(
        lambda: any(
            d["device"] == "id_reader" and d["health"] == "unavailable"
            for d in rig.hall.http.get("/api/snapshot", headers=rig.hall.manager_headers()).json()["devices"]
        ),
        "the dashboard's snapshot shows the reader down",
    )
    assert snap.status_code == 200
