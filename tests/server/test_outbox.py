"""The outbox under faults and from a shell: `kill -9` of the real server process while a row is on the wire
(no row lost, none accepted twice: the idempotency key per row), and `hallq admin outbox list|retry|discard`
on a database file (refusals change nothing; actions are audited)."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import re
import shutil
import sqlite3

import pytest

from hallcore.provincial import RatingFacts, rating_item
from hallfiles.config import read_config
from hallq.serverproc import server_command
from hallserver import admin, outbox
from hallserver.store import migrate
from tests.fakes.live_server import COUNTY, kill9, server_process, wait_for
from tests.fakes.province import APP_KEY, SECRET, fake_province

NOW = dt.datetime(2026, 11, 23, 9, 30, tzinfo=dt.timezone(dt.timedelta(hours=8)))


def _queue(db: pathlib.Path, n: int) -> list[str]:
    """`n` ratings in the outbox as the writer queues them; their idempotency keys."""
    migrate(db)
    conn = sqlite3.connect(str(db))
    keys = []
    try:
        with conn:
            for i in range(1, n + 1):
                rating = {
                    "ticket": f"2026-11-23/A{i:03d}",
                    "score": 5 - i % 5,
                    "matter": "HJ01",
                    "window": 1,
                    "staff": "c1",
                    "at": NOW.isoformat(),
                }
                item = rating_item("jinzhai", rating, RatingFacts(matter_name="户口迁入"))
                outbox.enqueue(conn, NOW, "rating", item)
                keys.append(item["idempotency_key"])
    finally:
        conn.close()
    return keys


def _uploading_config(tmp_path: pathlib.Path, url: str) -> pathlib.Path:
    secret = tmp_path / "hcp.secret"
    secret.write_bytes(SECRET)
    secret.chmod(0o600)
    text = COUNTY.read_text(encoding="utf-8")
    head, rest = text.split("\n[upload]\n", 1)
    section, tail = rest.split("\n[upload.field_map]\n", 1)
    section = re.sub(r"(?m)^enabled = false$", "enabled = true", section)
    section = re.sub(r'(?m)^endpoint = ".*"$', f'endpoint = "{url}"', section)
    section = re.sub(r'(?m)^app_key = ""$', f'app_key = "{APP_KEY}"', section)
    section = re.sub(r'(?m)^secret_file = ""$', f'secret_file = "{secret}"', section)
    section = re.sub(r"(?m)^retry_first_s = .*$", "retry_first_s = 0.2", section)
    path = tmp_path / "hall.toml"
    path.write_text(f"{head}\n[upload]\n{section}\n[upload.field_map]\n{tail}", encoding="utf-8")
    return path


def test_kill9_mid_upload_loses_nothing_and_counts_nothing_twice(
    tmp_path: pathlib.Path, seeded_db: pathlib.Path
) -> None:
    db = tmp_path / "hall.db"
    shutil.copy(seeded_db, db)
    keys = _queue(db, 6)
    log = tmp_path / "server.log"
    with fake_province() as platform:
        # The platform takes the third row, then holds its answer: the server dies with it on the wire.
        platform.hold = {keys[2]}
        cmd = server_command(_uploading_config(tmp_path, platform.url), db, "--tick-s", "3600")
        with server_process(cmd, log) as popen:
            assert platform.held.wait(30), "the held row never reached the platform"
            kill9(popen)
        platform.release.set()
        conn = sqlite3.connect(str(db))
        try:
            sent = [
                k for (k,) in conn.execute("SELECT key FROM outbox WHERE sent_at IS NOT NULL ORDER BY id")
            ]
        finally:
            conn.close()
        assert sent == keys[:2]  # the third was accepted by the platform but never marked: it goes again
        with server_process(cmd, log):

            def unsent() -> int:
                c = sqlite3.connect(str(db))
                try:
                    return int(c.execute("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").fetchone()[0])
                finally:
                    c.close()

            wait_for(lambda: unsent() == 0, 30, "every row sent after the restart")
    assert platform.bad_signatures == []
    assert platform.keys == keys  # every row, in order, each accepted once
    assert platform.repeats == [keys[2]]  # the one on the wire came again and was recognised by its key
    assert [b["evaluateId"] for b in platform.accepted] == keys  # the key in the payload (county map)


def test_admin_outbox_commands(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "hall.db"
    keys = _queue(db, 3)
    conn = sqlite3.connect(str(db))
    with conn:
        outbox.mark_failed(conn, 1, NOW, "HTTP 422: 事项编码不存在", dead=True)
        outbox.mark_sent(conn, 3, NOW)
    conn.close()
    base = ["--db", str(db), "outbox"]
    assert admin.main([*base, "list"]) == 0
    out = capsys.readouterr().out
    for part in (keys[0], "事项编码不存在", "1 row(s) dead"):
        assert part in out
    assert admin.main([*base, "list", "--state", "all", "--kind", "rating"]) == 0
    assert "3 row(s) all" in capsys.readouterr().out
    assert admin.main([*base, "retry", "1", "2"]) == 1  # 2 is pending, not dead: nothing changes
    assert "not dead letters" in capsys.readouterr().err
    assert admin.main([*base, "retry", "1"]) == 0
    assert admin.main([*base, "discard", "3"]) == 1  # sent already
    assert admin.main([*base, "discard", "2"]) == 0
    assert admin.main([*base, "list", "--state", "bogus"]) == 2
    conn = sqlite3.connect(str(db))
    try:
        rows = conn.execute(f"SELECT id FROM outbox WHERE {outbox.PENDING} ORDER BY id").fetchall()
        assert rows == [(1,)]
        audit = conn.execute(
            "SELECT action, target FROM audit WHERE action LIKE 'outbox_%' ORDER BY id"
        ).fetchall()
        assert audit == [("outbox_retry", "1"), ("outbox_discard", "2")]
    finally:
        conn.close()


def test_rows_queued_before_the_adapter_are_sent_as_data_items(tmp_path: pathlib.Path) -> None:
    """An outbox row written by an earlier hallq (the bare `ratings` row as a JSON array, no key column) is
    read as the same data items, with the same idempotency key, as a row queued now."""
    db = tmp_path / "hall.db"
    migrate(db)
    legacy = [
        "2026-11-23/A007",
        2,
        "HJ01",
        3,
        "c3",
        NOW.isoformat(),
        NOW.isoformat(),
        None,
        None,
        None,
        "pad",
    ]
    conn = sqlite3.connect(str(db))
    with conn:
        conn.execute(
            "INSERT INTO outbox (at, kind, body) VALUES (?, 'rating', ?)",
            (NOW.isoformat(), json.dumps(legacy)),
        )
    ((_row_id, kind, key, text),) = outbox.pending(conn, 10)
    conn.close()
    assert (kind, key) == ("rating", "")
    item = outbox.item_of(key, text, read_config(COUNTY))
    assert item["idempotency_key"] == "jinzhai:2026-11-23/A007"
    assert (item["score"], item["level_name"], item["channel"], item["window"], item["clerk"]) == (
        2,
        "不满意",
        "评价器",
        3,
        "c3",
    )
    assert item["matter_name"] == read_config(COUNTY).matter_by_code["HJ01"].name
