"""The purge leaves nothing (issue 25, docs/security.md 剩余信息保护): a hall filled with known personal
values — names, ID numbers, phone numbers in case notes, reasons and call-back numbers — is purged
with the hall's clock moved past the retention, and the bytes of the database file, its WAL and a
backup made afterwards hold none of them; the audit chain still verifies, and fails after a row is
edited or deleted by hand."""

from __future__ import annotations

import asyncio
import dataclasses
import pathlib
import sqlite3
from typing import Any

import pytest

from hallcore.config import HallConfig
from hallcore.confignotify import Notify
from hallserver import admin, purge
from tests.server.conftest import Running, rid, start_server
from tests.server.web_helpers import csrf_of, http_login

HOLDER = "张三丰"
OTHER = "欧阳娜娜"
BOOKER = "李四光"
ID_IN_NOTE = "110101199003074514"
ID_BOOKED = "110101199003071233"
PHONE_IN_NOTE = "13912345678"
PHONE_IN_REASON = "13612345678"
PHONE_BOOKED = "13812345678"
PHONE_CALLBACK = "13700001111"
KNOWN = [
    HOLDER,
    OTHER,
    BOOKER,
    ID_IN_NOTE,
    ID_BOOKED,
    PHONE_IN_NOTE,
    PHONE_IN_REASON,
    PHONE_BOOKED,
    PHONE_CALLBACK,
]
#: The masked names go too (tickets, events, bookings).
MASKED = ["张**", "欧***", "李**"]


def fill_hall(server: Running) -> dict[str, Any]:
    """Tickets with names, a 差评 case with notes naming the holder, their phone and ID number, a call-back
    number, a ticket cancelled with a reason naming another holder and their phone, a booking."""
    desk = server.station("desk")
    counter = server.station("counter", window=1)
    assert server.act(counter, "open").status_code == 200
    issued = server.issue(desk, holder_name=HOLDER).json()
    other = server.issue(desk, holder_name=OTHER).json()
    assert issued["ticket"]["holder_masked"] == "张**"
    assert server.act(counter, "call-next").json()["ticket"]["id"] == issued["ticket"]["id"]
    assert server.act(counter, "start").status_code == 200
    assert server.act(counter, "finish").status_code == 200
    tid = issued["ticket"]["id"]
    r = server.http.post(
        f"/api/tickets/{tid}/rating", json={"request_id": rid(), "score": 1}, headers=counter.headers
    )
    assert r.status_code == 200, r.text
    r = server.http.post(
        f"/web/api/status/{issued['token']}/contact", json={"phone": PHONE_CALLBACK, "consent": True}
    )
    assert r.status_code == 200, r.text
    c = http_login(server.url)
    try:
        csrf = csrf_of(c, "/web/cases")
        note = f"已回访{HOLDER}，电话{PHONE_IN_NOTE}，身份证{ID_IN_NOTE}，群众表示理解"
        r = c.post(f"/web/cases/C-{tid}/step", data={"action": "callback", "note": note, "csrf": csrf})
        assert r.status_code == 303, r.text
    finally:
        c.close()
    r = server.http.post(
        f"/api/tickets/{other['ticket']['id']}/cancel",
        json={"request_id": rid(), "reason": f"{OTHER}来电（{PHONE_IN_REASON}）要求取消"},
        headers=counter.headers,
    )
    assert r.status_code == 200, r.text
    r = server.book("2026-11-24", "09:00", ID_BOOKED, name=BOOKER, phone=PHONE_BOOKED)
    assert r.status_code == 201, r.text
    return {"ticket": tid}


def close_the_case(server: Running) -> None:
    """`hallq admin purge` leaves open cases to the server (it holds them in memory): this one is closed."""
    c = http_login(server.url)
    try:
        csrf = csrf_of(c, "/web/cases")
        case = _one(server, "SELECT id FROM cases")
        for action, note in (("resolve", "已说明"), ("close", f"{HOLDER}表示认可，电话{PHONE_IN_NOTE}")):
            r = c.post(f"/web/cases/{case}/step", data={"action": action, "note": note, "csrf": csrf})
            assert r.status_code == 303, r.text
    finally:
        c.close()


def _one(server: Running, sql: str) -> str:
    return _one_in(server.db, sql)


def _one_in(db: pathlib.Path, sql: str) -> str:
    conn = sqlite3.connect(db)
    try:
        return str(conn.execute(sql).fetchone()[0])
    finally:
        conn.close()


def files_of(db: pathlib.Path) -> list[pathlib.Path]:
    return [p for p in (db, db.with_name(db.name + "-wal")) if p.exists()]


def found_in(path: pathlib.Path, values: list[str]) -> list[str]:
    data = path.read_bytes()
    return [v for v in values if v.encode() in data]


def purge_now(server: Running) -> dict[str, Any]:
    loop = server.hall.store.loop
    assert loop is not None
    counts: dict[str, Any] = asyncio.run_coroutine_threadsafe(server.hall.purge(), loop).result(60)
    return counts


def verify(db: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
    rc = admin.main(["--db", str(db), "audit", "verify"])
    return rc, capsys.readouterr().out


@pytest.mark.parametrize("step_rows", [purge.STEP_ROWS, 3], ids=["one-step", "steps-of-3"])
def test_purge_leaves_nothing_in_the_file_wal_or_a_backup(
    server: Running,
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    step_rows: int,
) -> None:
    """With steps of 3 rows the purge runs as many short jobs (as over years of history) to the same end."""
    monkeypatch.setattr(purge, "STEP_ROWS", step_rows)
    monkeypatch.setattr(purge, "STEP_NAMED", min(step_rows, purge.STEP_NAMED))
    fill_hall(server)
    audit_rows = server.count("SELECT COUNT(*) FROM audit")
    # Before: the values are there (or the test would prove nothing).
    before = set().union(*(found_in(p, KNOWN + MASKED) for p in files_of(server.db)))
    assert {HOLDER, OTHER, PHONE_IN_NOTE, ID_IN_NOTE, PHONE_CALLBACK, "张**"} <= before, before
    server.clock.advance((server.config.privacy.retention_days + 2) * 86400)
    counts = purge_now(server)
    assert counts["tickets"] == 2
    assert counts["case_contacts"] == 1
    assert counts["case_notes"] >= 1
    assert counts["audit_details"] >= 2
    assert counts["events"] >= 3
    backup = tmp_path / "after-purge.db"
    admin.backup(server.db, backup)
    for path in [*files_of(server.db), backup]:
        assert found_in(path, KNOWN + MASKED) == [], path
    # What stays: the rows (statistics keep their counts), the case and its scrubbed note.
    conn = sqlite3.connect(server.db)
    try:
        ((steps,),) = conn.execute("SELECT steps FROM cases").fetchall()
    finally:
        conn.close()
    assert "[姓名]" in steps
    assert "[电话]" in steps
    assert "[身份证号]" in steps
    assert "群众表示理解" in steps
    assert server.count("SELECT COUNT(*) FROM tickets") == 2
    assert server.count("SELECT COUNT(*) FROM audit WHERE action = 'purge'") == 1
    assert server.count("SELECT COUNT(*) FROM audit") == audit_rows + 1  # audit rows are kept, scrubbed
    rc, out = verify(server.db, capsys)
    assert rc == 0, out
    assert "chain holds" in out
    # A second run finds nothing more, and is not audited again.
    assert purge_now(server)["tickets"] == 0
    assert server.count("SELECT COUNT(*) FROM audit WHERE action = 'purge'") == 1


@pytest.mark.parametrize(
    ("edit", "why"),
    [
        ("UPDATE audit SET actor = 'manager:nobody' WHERE id = 3", "row 3 does not follow"),
        (
            "UPDATE audit SET detail = '{}' WHERE id = (SELECT MAX(id) FROM audit WHERE scrubbed_at IS NULL)",
            "edited",
        ),
        ("DELETE FROM audit WHERE id = 3", "row 4 does not follow row 2"),
        ("DELETE FROM audit WHERE id = (SELECT MAX(id) FROM audit)", "rows deleted"),
        ("UPDATE audit SET hash = '' WHERE id = 2", "row 2 is not chained"),
    ],
    ids=["edited", "details-edited", "deleted", "last-deleted", "unchained"],
)
def test_audit_verify_finds_a_hand_edit(
    server: Running, tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], edit: str, why: str
) -> None:
    fill_hall(server)
    server.clock.advance((server.config.privacy.retention_days + 2) * 86400)
    purge_now(server)
    copy = tmp_path / "copy.db"
    admin.backup(server.db, copy)
    assert verify(copy, capsys)[0] == 0
    conn = sqlite3.connect(copy)
    with conn:
        assert conn.execute(edit).rowcount == 1
    conn.close()
    rc, out = verify(copy, capsys)
    assert rc == 1
    assert "BROKEN" in out
    assert why in out


def test_admin_purge_before_a_date_is_audited(
    server: Running,
    tmp_path: pathlib.Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(purge, "STEP_ROWS", 3)  # many short transactions, as on a big database
    monkeypatch.setattr(purge, "STEP_NAMED", 1)
    fill_hall(server)
    close_the_case(server)
    db = tmp_path / "offline.db"
    admin.backup(server.db, db)  # the command works on the file (here a copy, with no server holding it)
    followup = "SELECT body FROM outbox WHERE kind = 'followup'"
    assert HOLDER in _one_in(db, followup)  # the close note, owed to the platform, names the holder
    assert admin.main(["--db", str(db), "purge", "--before", "2099-01-01"]) == 1  # after today
    assert "after today" in capsys.readouterr().err
    assert admin.main(["--db", str(db), "purge", "--before", "2026-11-25"]) == 0
    out = capsys.readouterr().out
    assert "purged before 2026-11-25" in out
    assert found_in(db, KNOWN + MASKED) == []
    assert "[姓名]表示认可" in _one_in(db, followup)  # still owed, without the name
    conn = sqlite3.connect(db)
    try:
        ((actor, target),) = conn.execute("SELECT actor, target FROM audit WHERE action = 'purge'").fetchall()
    finally:
        conn.close()
    assert actor.startswith("admin-cli:")
    assert target == "2026-11-25"
    assert verify(db, capsys)[0] == 0


PHONE_NOTICE = "13566667777"


def test_purge_forgets_notice_numbers(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    """A number opted in for notices (issue 30) is kept while a rule needs it — here the ticket still waits —
    and is gone from the file and the WAL after the retention, with its masked form and keyed hash."""
    cfg = dataclasses.replace(county, notify=Notify(enabled=True, batch_s=0.05))
    with start_server(tmp_path, cfg, seeded_db) as (_st, server):
        desk = server.station("desk")
        ids = [server.issue(desk).json()["ticket"]["id"] for _ in range(8)]
        r = server.http.post(
            f"/api/tickets/{ids[7]}/notify",
            json={"phone": PHONE_NOTICE, "consent": True},
            headers=desk.headers,
        )
        assert r.status_code == 200, r.text
        assert server.count("SELECT COUNT(*) FROM notice_subs WHERE address != ''") == 1
        assert any(found_in(p, [PHONE_NOTICE]) for p in files_of(server.db))
        server.clock.advance((server.config.privacy.retention_days + 2) * 86400)
        counts = purge_now(server)
        assert counts["notices"] == 1
        assert server.count("SELECT COUNT(*) FROM notice_subs") == 0
        backup = tmp_path / "after-purge.db"
        admin.backup(server.db, backup)
        for path in [*files_of(server.db), backup]:
            assert found_in(path, [PHONE_NOTICE, "135****7777"]) == [], path
