"""A clerk whose PIN is from before the 6-digit rule logs in at the counter: the hall asks for a new PIN, and
the login page (or the keypad, `staff*PIN*new PIN`) sends it with the next login (issue 16)."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest
from pytestqt.qtbot import QtBot

from drivers.protocols import KeyCode
from tests.fakes.live_server import LiveServer, set_old_pin
from tests.gui.counter_rig import KEYPAD, Bus, Counter, bus, hqp_station, start_counter, stop_counter

__all__ = ["bus"]  # a fixture this module uses


@pytest.fixture
def counter(
    live: LiveServer, bus: Bus, running: asyncio.AbstractEventLoop, qtbot: QtBot
) -> Iterator[Counter]:
    c = start_counter(live, qtbot, running, hqp_station(bus.emu.url))
    yield c
    stop_counter(c, running)


def test_a_short_pin_is_replaced_on_the_login_page(counter: Counter, live: LiveServer) -> None:
    c = counter
    set_old_pin(live.db, "c1", "2468")
    page = c.app.window.login
    assert page.new_pin.isHidden()
    page.staff.setText("c1")
    page.pin.setText("2468")
    page.go.click()
    c.until(lambda: c.flow.pin_change)
    assert not page.new_pin.isHidden()
    assert "PIN" in page.message.text()
    page.pin.setText("2468")
    page.new_pin.setText("123456")  # too easy: refused, the field stays
    page.go.click()
    c.until(lambda: "简单" in page.message.text() or "easy" in page.message.text())
    assert c.flow.pin_change
    page.pin.setText("2468")
    page.new_pin.setText("580314")
    page.go.click()
    c.until(lambda: c.flow.phase.value == "main" and c.flow.window_state == "open")
    assert c.flow.session is not None  # logged in (and the new-PIN field gone with the login page)
    assert live.count("SELECT COUNT(*) FROM audit WHERE action = 'change_pin' AND target = 'c1'") == 1


def test_a_short_pin_is_replaced_from_the_keypad(counter: Counter, live: LiveServer, bus: Bus) -> None:
    c = counter
    set_old_pin(live.db, "c1", "2468")
    bus.emu.press(KEYPAD, KeyCode.LOGIN, "c1*2468")
    c.until(lambda: c.flow.pin_change)
    bus.emu.press(KEYPAD, KeyCode.LOGIN, "c1*2468*580314")
    c.until(lambda: c.flow.window_state == "open")
    assert live.count("SELECT COUNT(*) FROM audit WHERE action = 'change_pin'") == 1
