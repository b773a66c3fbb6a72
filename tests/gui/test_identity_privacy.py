"""No ID number and no address anywhere after a carded day (issue 27's privacy test).

A day at a hall with the emulated reader on the kiosk: two holders take tickets by card (one elder), one
checks a booking in by card, a desk issues for a card's holder (the full name sent: the server masks it), an
agent acts for a principal, a wrong number is refused, a ticket is served and rated 差评 (a case with
实名回访), the manager reads the cases and statistics pages, and a backup is taken. Then every log line of
every logger, every event body, every table of the database and the raw bytes of the database, its WAL and
shared memory, the backup, the pages, and the text of every widget every kiosk screen showed are searched
for the full ID numbers, the addresses and the full names used: none may be there."""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import pathlib
import sqlite3
from typing import Any

import pytest
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QWidget

from hallcore import idnumber
from hallserver import admin
from kiosk.flow import Screen
from tests.gui.kiosk_rig import kiosk_rig
from tests.gui.test_kiosk_card import ADDRESS, ELDER, ELDER_ID, YOUNG, YOUNG_ID, card, lift, place, take_sb02
from tests.server.web_helpers import http_login

AGENT_ID = idnumber.complete("32010219800101002")
AGENT_ADDRESS = "江苏省南京市玄武区中山路1号"
DESK_ID = idnumber.complete("32010219400101003")


def widget_texts(root: QWidget) -> list[str]:
    out = []
    for w in root.findChildren(QWidget):
        if isinstance(w, QLabel | QAbstractButton | QLineEdit):
            out.append(w.text())
        out.append(w.toolTip())
        out.append(w.accessibleName())
    return out


def database_text(db: pathlib.Path) -> str:
    conn = sqlite3.connect(str(db))
    try:
        tables = [r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")]
        rows = [repr(r) for t in tables for r in conn.execute(f'SELECT * FROM "{t}"')]
    finally:
        conn.close()
    return "\n".join(rows)


def raw_bytes(db: pathlib.Path) -> str:
    """The database file and its sidecars as stored (UTF-8 text of deleted rows would show here too)."""
    data = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())
    return data.decode("utf-8", errors="replace") + data.decode("utf-16-le", errors="replace")


def test_a_carded_day_leaves_no_number_name_or_address_anywhere(
    tmp_path: pathlib.Path, qtbot: Any, running: asyncio.AbstractEventLoop, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    shown: list[str] = []
    agent = card("赵六", AGENT_ID)
    with kiosk_rig(tmp_path, qtbot, running, reader=True) as r:
        r.app.bridge.changed.connect(lambda: shown.extend(widget_texts(r.view)))  # after each render
        r.wait(lambda: r.app.flow.reader_ok, "the reader found")
        hall = r.hall
        # Two holders by card at the kiosk; the young one's booking checked in by card.
        place(r, ELDER)
        take_sb02(r)
        r.tap("homeButton")
        code = hall.book("SW03", dt.date(2026, 11, 23), dt.time(9, 0), YOUNG_ID)
        place(r, YOUNG)
        r.wait(lambda: r.has(f"cardBooking_{code}"), "the booking offered")
        r.tap(f"cardBooking_{code}")
        r.wait_screen(Screen.TICKET)
        r.tap("homeButton")
        # An agent's card (its own address on it) and a card the reader cannot check.
        place(r, agent)
        r.tap("homeButton")
        lift(r)
        # The desk issues for a holder whose card it read (name in full: the server masks it) and is refused
        # a wrong number; a counter serves one carded ticket and records a 差评 (a case, 实名回访).
        desk = hall.station("desk", "desk-privacy", window=14)
        w1 = hall.config.window_by_number[1]
        matter = next(m for m in hall.config.matters if m.series in w1.series and not m.precheck.questions)
        issued = hall.post(desk, "/api/tickets", matter=matter.code, id_number=DESK_ID, holder_name="钱七星")
        assert issued.status_code == 201, issued.text
        wrong = DESK_ID[:17] + ("0" if DESK_ID[17] != "0" else "1")
        assert hall.post(desk, "/api/tickets", matter=matter.code, id_number=wrong).status_code == 422
        assert hall.post(desk, "/api/identity", id_number=wrong).status_code == 422
        hall.login_counter()
        for action in ("open", "call-next", "start", "finish"):
            assert hall.act(hall.counter, action).status_code == 200
        tid = issued.json()["ticket"]["id"]
        rated = hall.post(hall.counter, f"/api/tickets/{tid}/rating", score=1, source="counter")
        assert rated.status_code == 200, rated.text
        web = http_login(hall.url, hall.ssl or True)
        try:
            cases_page = web.get("/web/cases").text
            assert "实名回访：钱**（证件尾号" in cases_page
            stats_page = web.get("/web/stats").text
            assert 'id="identity-carded"' in stats_page
        finally:
            web.close()
        backup = tmp_path / "backup.db"
        admin.backup(hall.db, backup)
        secrets = [
            ELDER_ID,
            YOUNG_ID,
            AGENT_ID,
            DESK_ID,
            ADDRESS,
            AGENT_ADDRESS,
            "张三丰",
            "王堃喆",
            "钱七星",
            "赵六",
        ]
        haystacks = {
            "logs": "\n".join(f"{rec.getMessage()} {rec.args!r}" for rec in caplog.records),
            "events": "\n".join(str(b) for (b,) in hall.query("SELECT body FROM events")),
            "tables": database_text(hall.db),
            "files (db, WAL, shm)": raw_bytes(hall.db),
            "backup": database_text(backup) + raw_bytes(backup),
            "pages": cases_page + stats_page,
            "widgets": "\n".join(shown + widget_texts(r.view)),
        }
        # The scan sees what the day left: masked names and last 4 digits, where they belong.
        assert "张**" in haystacks["widgets"]
        assert "钱**" in haystacks["events"]
        assert DESK_ID[-4:] in haystacks["tables"]
        assert "钱**" in haystacks["backup"]
        for where, text in haystacks.items():
            found = [s for s in secrets if s in text]
            assert found == [], f"{where} holds {found}"
