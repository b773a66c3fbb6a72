"""Notices ("快到您了") from the phone page in a real browser (Playwright driving Debian's chromium) against a
real server: the page opts its own ticket in with a number and consent, shows it only masked, withdraws."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.live_server import LiveServer, live_server
from tests.server.web_helpers import needs_chromium

needs_chromium()

TIMEOUT_MS = 8000
PHONE = "13812345678"


@pytest.fixture(scope="module")
def hall() -> Iterator[LiveServer]:
    with live_server() as h:
        yield h


def test_phone_page_opts_its_own_ticket_in_and_out(hall: LiveServer, page: Any) -> None:
    papers = {"answers": {"in_person": True}, "present": ["idcard", "hukou", "move_permit"]}
    issued = hall.post(hall.kiosk, "/api/tickets", matter="HJ01", **papers)
    assert issued.status_code == 201, issued.text
    token = issued.json()["token"]
    page.goto(f"{hall.url}/s/{token}")
    page.wait_for_selector("#notify:not([hidden])", timeout=TIMEOUT_MS)
    page.fill("#notify-phone", PHONE)
    page.click("#notify-send")  # no consent: refused, nothing stored
    page.wait_for_function(
        "() => document.getElementById('notify-state').textContent !== ''", timeout=TIMEOUT_MS
    )
    assert "同意" in page.text_content("#notify-state")
    page.fill("#notify-phone", PHONE)
    page.check("#notify-consent")
    page.click("#notify-send")
    page.wait_for_selector("#notify-withdraw:not([hidden])", timeout=TIMEOUT_MS)
    assert "138****5678" in page.text_content("#notify-state")
    assert PHONE not in page.content()
    conn = sqlite3.connect(str(hall.db))
    try:
        assert conn.execute("SELECT via, address FROM notice_subs").fetchall() == [("phone", PHONE)]
    finally:
        conn.close()
    page.click("#notify-withdraw")
    page.wait_for_selector("#notify-form:not([hidden])", timeout=TIMEOUT_MS)
    conn = sqlite3.connect(str(hall.db))
    try:
        assert conn.execute("SELECT address, withdrawn_at IS NOT NULL FROM notice_subs").fetchall() == [
            ("", 1)
        ]
    finally:
        conn.close()
