"""The home screen as a first-time citizen meets it, against a real hall server on 127.0.0.1 and the TCP
printer emulator (tests/gui/kiosk_rig.py): the hall's first tile leads to a printed ticket in at most two
taps more than the matter asks questions (the tile, the answers, 材料都带齐了，取号), the elder path in at
most four; the tiles show the people waiting in their series, live; back from a tile's question goes home.
"""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from kiosk.flow import Screen
from tests.gui.kiosk_rig import Rig, kiosk_rig


@pytest.fixture
def rig(tmp_path: pathlib.Path, qtbot: Any, running: asyncio.AbstractEventLoop) -> Iterator[Rig]:
    with kiosk_rig(tmp_path, qtbot, running) as r:
        yield r


def first_timer(rig: Rig, *, elder: bool) -> tuple[int, int]:
    """From home to a printed ticket for the first tile's matter, answering each question as its pre-check
    expects and taking "I have them all"; returns (taps, questions answered)."""
    taps = 0

    def tap(name: str) -> None:
        nonlocal taps
        taps += 1
        rig.tap(name)

    rig.expect(Screen.WELCOME)
    if elder:
        tap("welcomeElder")
    first = rig.controller.info.home_matters[0]
    tap(f"home_{first.code}")
    answered = 0
    while rig.screen is Screen.QUESTION:
        answered += 1
        tap("questionYes" if rig.app.flow.current_question.expected else "questionNo")
    if rig.screen is Screen.MATERIALS:
        tap("materialsAll")
    else:
        tap("confirmNormal")
    rig.wait_screen(Screen.TICKET)
    assert rig.text("ticketNumber") == rig.db_tickets()[-1][0]
    assert rig.db_tickets()[-1][1:3] == ("waiting", "通过")
    assert rig.db_tickets()[-1][4] == first.code
    assert rig.text("ticketNumber") in rig.tickets()[-1].text  # printed, not only shown
    return taps, answered


def test_first_tile_to_a_printed_ticket_in_questions_plus_two_taps(rig: Rig) -> None:
    assert rig.controller.info.home_matters[0].code == rig.app.config.kiosk.home_matters[0]
    taps, questions = first_timer(rig, elder=False)
    assert questions >= 1
    assert taps <= questions + 2, (taps, questions)


def test_elder_path_in_questions_plus_four_taps(rig: Rig) -> None:
    taps, questions = first_timer(rig, elder=True)
    assert rig.app.flow.elder
    assert taps <= questions + 4, (taps, questions)


def test_tiles_show_the_people_waiting_live_and_back_leads_home(rig: Rig) -> None:
    first = rig.controller.info.home_matters[0]
    rig.wait(lambda: first.series in rig.controller.info.waiting, "the first count of people waiting")
    assert rig.text(f"home_{first.code}_sub").startswith("无需等候")
    first_timer(rig, elder=False)
    rig.tap("homeButton")  # 好的 on the ticket screen
    rig.expect(Screen.WELCOME)
    rig.wait(lambda: rig.controller.info.waiting.get(first.series) == 1, "the snapshot with the new ticket")
    assert rig.text(f"home_{first.code}_sub").startswith("等候 1 人")
    # A tile's first question goes back home, keeping the language chosen.
    rig.tap("lang_en")
    rig.tap(f"home_{first.code}")
    rig.expect(Screen.QUESTION)
    rig.tap("backButton")
    rig.expect(Screen.WELCOME)
    assert rig.app.flow.language == "en"
    assert rig.text(f"home_{first.code}_sub").startswith("1 waiting")


def test_tiles_tell_the_halls_own_estimate_before_this_kiosk_issued_anything(rig: Rig) -> None:
    """Issue 28 scaled a tile's wait from this kiosk's own last ticket, so a kiosk that had issued nothing
    showed none; the hall's snapshot now carries each series' estimate for its next ticket (issue 29)."""
    hall = rig.hall
    first = rig.controller.info.home_matters[0]
    assert hall.counter.window is not None
    assert first.series in hall.config.window_by_number[hall.counter.window].series
    hall.login_counter()
    assert hall.act(hall.counter, "open").status_code == 200
    desk = hall.station("desk")  # people come in through the service desk, not this kiosk
    for _ in range(4):
        r = hall.post(desk, "/api/tickets", matter=first.code)
        assert r.status_code < 300, r.text
    rig.wait(lambda: rig.controller.info.waiting.get(first.series) == 4, "the four waiting")
    rig.wait(lambda: first.series in rig.controller.info.estimates, "the hall's estimate on the tile")
    with hall.hall.store.engine_lock:
        told = hall.hall.store.engine.estimate_for(first.series, 4, hall.clock.now())
    assert told.low_min is not None
    assert told.high_min is not None
    assert rig.controller.info.estimates[first.series] == (told.low_min, told.high_min)
    assert rig.text(f"home_{first.code}_sub") == f"等候 4 人 · 约 {told.low_min}–{told.high_min} 分钟"
    assert rig.tickets() == []  # this kiosk printed nothing
