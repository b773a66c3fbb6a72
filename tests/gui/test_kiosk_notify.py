""" "快到您了" at the kiosk (issue 30): from the ticket screen, the large number pad (the number masked while
typed), the consent box, and the opt-in recorded by the real hall server for the kiosk's own ticket."""

from __future__ import annotations

import asyncio
import pathlib
import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QPushButton

from kiosk.flow import Screen
from tests.gui.kiosk_rig import Rig, kiosk_rig

PHONE = "13812345678"


@pytest.fixture
def rig(tmp_path: pathlib.Path, qtbot: Any, running: asyncio.AbstractEventLoop) -> Iterator[Rig]:
    with kiosk_rig(tmp_path, qtbot, running) as r:
        yield r


def subs(rig: Rig) -> list[tuple[str, str, str, str]]:
    conn = sqlite3.connect(str(rig.hall.db))
    try:
        return conn.execute("SELECT ref, via, masked, address FROM notice_subs").fetchall()
    finally:
        conn.close()


def test_kiosk_number_pad_opts_its_ticket_in(rig: Rig) -> None:
    rig.take_hj01()
    rig.tap("ticketNotify")
    rig.expect(Screen.NOTIFY)
    for d in PHONE[:7]:
        rig.tap(f"notifyKey_{d}")
    assert rig.text("notifyNumber") == "138 ****"
    for d in PHONE[7:]:
        rig.tap(f"notifyKey_{d}")
    assert rig.text("notifyNumber") == "138 **** 5678"  # never the whole number on the screen
    send = rig.view.findChild(QPushButton, "notifySend")
    assert send is not None
    assert not send.isEnabled()  # no consent yet
    rig.tap("notifyConsent")
    rig.tap("notifySend")
    rig.wait_screen(Screen.TICKET)
    assert rig.text("ticketNotified").endswith("138****5678")
    ticket = rig.app.flow.issued
    assert ticket is not None
    assert subs(rig) == [(ticket.ticket.id, "kiosk", "138****5678", PHONE)]


def test_the_pad_takes_only_digits_and_goes_back(rig: Rig) -> None:
    rig.take_hj01()
    rig.tap("ticketNotify")
    for key in ("1", "3", "del", "clear", "1", "9"):
        rig.tap(f"notifyKey_{key}")
    assert rig.text("notifyNumber") == "19"
    rig.tap("backButton")
    rig.expect(Screen.TICKET)
    assert subs(rig) == []
