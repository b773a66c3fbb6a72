"""The hall key outside the database (issue 25, docs/security.md): migration of an older database's secret,
file modes of the database, its WAL, backups and the key file, refusals of a missing or wrong key, keyed
idempotency fingerprints, station tokens made at pickup and stored hashed, and the writer's durability."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import pathlib
import shutil
import sqlite3
import stat
from typing import Any

import pytest

from hallcore.clock import FakeClock
from hallcore.config import Durability, HallConfig
from hallserver import admin, audit, keys
from hallserver.app import serve_main
from hallserver.store import Job, Store, check_key, connect
from hallserver.writectx import Reply, WriteCtx, ok
from tests.fakes.live_server import MONDAY_9
from tests.server.conftest import Running, rid, start_server

ID_NUMBER = "110101199003071233"


def mode(path: pathlib.Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def person_key(secret: bytes, id_number: str) -> str:
    """What versions before issue 25 stored: HMAC-SHA256 of the ID number with `meta.hmac_secret`."""
    return hmac.new(secret, id_number.encode(), hashlib.sha256).hexdigest()


def old_database(tmp_path: pathlib.Path, seeded: pathlib.Path) -> tuple[pathlib.Path, bytes]:
    """A database as the version before issue 25 left it: the key in `meta.hmac_secret`, a booking keyed
    with it, an idempotency row with an unkeyed fingerprint, an approved token waiting in clear, and m010
    not yet applied."""
    db = tmp_path / "old.db"
    shutil.copy(seeded, db)
    db.chmod(0o644)
    secret = os.urandom(32)
    conn = sqlite3.connect(db)
    with conn:
        # Before issue 25: no key file recorded, no audit chain, the key inside.
        conn.execute("DELETE FROM meta WHERE key IN ('key_check', 'key_file', 'audit_head')")
        conn.execute("UPDATE audit SET hash = '', detail_hash = ''")
        conn.execute("INSERT INTO meta (key, value) VALUES ('hmac_secret', ?)", (secret.hex(),))
        conn.execute(
            "INSERT INTO bookings (code, matter, day, slot_start, slot_end, person_key, state, booked_at,"
            " ticket, holder_masked, id_last4, phone) VALUES ('OLDCODE1','SW03','2026-11-24','09:00',"
            "'09:30',?,'booked',?,'','',?,'')",
            (person_key(secret, ID_NUMBER), MONDAY_9.isoformat(), ID_NUMBER[-4:]),
        )
        plain = hashlib.sha256(b"/api/bookings\n{...}").hexdigest()[:32]
        conn.execute(
            "INSERT INTO idempotency (station, request_id, fingerprint, status, body, at)"
            " VALUES (?,?,?,?,?,?)",
            ("public", "r-old", plain, 201, "{}", MONDAY_9.isoformat()),
        )
        conn.execute(
            "INSERT INTO stations (id, name, role, state, code, poll_secret_hash, token_hash, pending_token,"
            " created_at) VALUES ('s-old','old','kiosk','approved','ABCD','x','th-old','tok-in-clear',?)",
            (MONDAY_9.isoformat(),),
        )
        conn.execute("DELETE FROM _sqlite_migrations WHERE name = 'm010_keys_out_of_the_database'")
    conn.close()
    return db, secret


def test_an_old_database_upgrades_with_its_key_moved_out(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    db, secret = old_database(tmp_path, seeded_db)
    with start_server(tmp_path, county, seeded_db, db=db) as (_st, server):
        key_file = db.with_suffix(".key")
        assert server.hall.store.secret == secret  # moved, never regenerated
        assert key_file.read_text().strip() == secret.hex()
        assert mode(key_file) == 0o600
        # A booking made now is keyed as the old one was: per-person limits still recognise the person.
        r = server.book("2026-11-24", "09:30", ID_NUMBER)
        assert r.status_code == 201, r.text
        code = r.json()["code"]
        stored = {
            row[0]: row[1]
            for row in rows(db, "SELECT code, person_key FROM bookings WHERE id_last4 = '1233'")
        }
        assert stored[code] == stored["OLDCODE1"] == person_key(secret, ID_NUMBER)
        assert count(db, "SELECT COUNT(*) FROM meta WHERE key = 'hmac_secret'") == 0
        assert (
            count(db, "SELECT COUNT(*) FROM idempotency WHERE request_id = 'r-old' AND fingerprint = ''") == 1
        )
        assert count(db, "SELECT COUNT(*) FROM stations WHERE pending_token IS NOT NULL") == 0
        # The audit rows written before the chain existed are chained once, and the seal says so.
        assert count(db, "SELECT COUNT(*) FROM audit WHERE action = 'audit_sealed'") == 1
        conn = connect(db, readonly=True)
        try:
            verdict = audit.verify(conn, server.hall.store.audit_key)
        finally:
            conn.close()
        assert verdict.ok, verdict.reason
        assert verdict.rows > 1
        backup = tmp_path / "after.db"
        admin.backup(db, backup)
    # The secret is nowhere in the database's bytes, its WAL, or a backup made after the upgrade.
    for path in (db, db.with_name(db.name + "-wal"), backup):
        if path.exists():
            data = path.read_bytes()
            assert secret.hex().encode() not in data, path
            assert secret not in data, path
    assert mode(db) == 0o600  # an older 0644 file is tightened


def test_a_backup_of_a_database_not_yet_upgraded_leaves_the_key_out(
    tmp_path: pathlib.Path, seeded_db: pathlib.Path
) -> None:
    db, secret = old_database(tmp_path, seeded_db)
    old = os.umask(0o022)
    try:
        dest = tmp_path / "b.db"
        admin.backup(db, dest)
    finally:
        os.umask(old)
    assert mode(dest) == 0o600
    assert secret.hex().encode() not in dest.read_bytes()
    assert count(db, "SELECT COUNT(*) FROM meta WHERE key = 'hmac_secret'") == 1  # the source is untouched


def test_file_modes_of_database_wal_backup_and_key(tmp_path: pathlib.Path, county: HallConfig) -> None:
    old = os.umask(0o022)  # what a shell outside systemd usually has
    try:
        db = tmp_path / "fresh.db"
        store = Store(db, county, FakeClock(MONDAY_9), durability=Durability.NORMAL)
        store.start()
        try:
            store.submit_nowait(Job(lambda ctx: ok({}))).result(30)
            for path in (
                db,
                db.with_name("fresh.db-wal"),
                db.with_name("fresh.db-shm"),
                db.with_suffix(".key"),
            ):
                assert mode(path) == 0o600, path
            dest = tmp_path / "backup.db"
            admin.backup(db, dest)
            assert mode(dest) == 0o600
            assert dest.with_suffix(".key").exists() is False
        finally:
            store.stop()
    finally:
        os.umask(old)
    assert store.key is not None
    assert store.key.raw.hex().encode() not in dest.read_bytes()


def test_a_missing_wrong_or_open_key_file_is_refused(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = tmp_path / "hall.db"
    key = check_key(db, None)
    key_file = db.with_suffix(".key")
    assert key.path == key_file
    key_file.chmod(0o644)
    with pytest.raises(keys.HallKeyError, match="chmod 600"):
        check_key(db, None)
    key_file.chmod(0o600)
    other = tmp_path / "other.key"
    other.write_text(os.urandom(32).hex())
    other.chmod(0o600)
    with pytest.raises(keys.HallKeyError, match="not the key of"):
        check_key(db, other)
    key_file.rename(tmp_path / "moved-away")
    with pytest.raises(keys.HallKeyError, match="missing"):
        check_key(db, None)
    assert not key_file.exists()  # never silently replaced by a new key
    # `hallq server` says so and exits 2 before listening.
    cfg = tmp_path / "hall.toml"
    shutil.copy(pathlib.Path(__file__).resolve().parents[2] / "config" / "county.toml", cfg)
    assert serve_main(["--config", str(cfg), "--db", str(db), "--no-mdns", "--port", "0"]) == 2
    assert "missing" in capsys.readouterr().err
    # Given the right file with --key, the database opens with its own key.
    assert check_key(db, tmp_path / "moved-away").raw == key.raw


def test_the_key_file_is_where_the_database_recorded_it(tmp_path: pathlib.Path) -> None:
    """`hallq admin --db` finds the key the server was given with --key (a deployment keeps it in /etc)."""
    db = tmp_path / "var" / "hall.db"
    db.parent.mkdir()
    given = tmp_path / "etc" / "hall.key"
    given.parent.mkdir()
    key = check_key(db, given)
    assert not db.with_suffix(".key").exists()
    assert check_key(db, None) == key


def test_idempotency_fingerprints_are_keyed(server: Running) -> None:
    request_id = rid()
    body = {"request_id": request_id, "matter": "SW03", "day": "2026-11-24", "slot": "09:00",
            "id_number": ID_NUMBER, "name": "张三丰", "phone": "13812345678"}  # fmt: skip
    r = server.http.post("/api/bookings", json=body)
    assert r.status_code == 201, r.text
    (fp,) = rows(server.db, "SELECT fingerprint FROM idempotency WHERE request_id = ?", (request_id,))[0]
    # Not a plain hash of what was sent (which would give the ID number away to a brute force).
    sent = json.dumps({k: v for k, v in body.items() if k != "request_id"})
    assert fp != hashlib.sha256(f"/api/bookings\n{sent}".encode()).hexdigest()[:32]
    assert len(fp) == 32
    assert server.http.post("/api/bookings", json=body).json() == r.json()  # the same request replays
    changed = {**body, "phone": "13900000000"}
    assert server.http.post("/api/bookings", json=changed).json()["error"] == "request_id_reused"


def test_an_approved_token_is_made_at_pickup_and_stored_hashed(server: Running) -> None:
    r = server.http.post("/api/enroll", json={"name": "kiosk-x", "role": "kiosk"})
    e = r.json()
    r = server.http.post(f"/api/stations/{e['station_id']}/approve", json={}, headers=server.manager())
    assert r.status_code == 200, r.text
    state, token_hash, pending = rows(
        server.db, "SELECT state, token_hash, pending_token FROM stations WHERE id = ?", (e["station_id"],)
    )[0]
    assert (state, token_hash, pending) == ("approved", None, None)  # nothing to steal from the database yet
    r = server.http.get(f"/api/enroll/{e['station_id']}", params={"poll_secret": e["poll_secret"]})
    token = r.json()["token"]
    (th,) = rows(server.db, "SELECT token_hash FROM stations WHERE id = ?", (e["station_id"],))[0]
    assert th == hashlib.sha256(token.encode()).hexdigest()
    clear = "SELECT COUNT(*) FROM stations WHERE token_hash = ? OR pending_token = ?"
    assert count(server.db, clear, (token, token)) == 0
    assert server.http.get("/api/hall", headers={"Authorization": f"Bearer {token}"}).status_code == 200
    again = server.http.get(f"/api/enroll/{e['station_id']}", params={"poll_secret": e["poll_secret"]})
    assert again.json().get("token") is None  # handed over once


def test_an_approval_not_collected_within_minutes_expires(server: Running) -> None:
    e = server.http.post("/api/enroll", json={"name": "kiosk-y", "role": "kiosk"}).json()
    r = server.http.post(f"/api/stations/{e['station_id']}/approve", json={}, headers=server.manager())
    assert r.status_code == 200, r.text
    server.clock.advance(11 * 60)
    r = server.http.get(f"/api/enroll/{e['station_id']}", params={"poll_secret": e["poll_secret"]})
    assert r.json()["state"] == "expired"
    assert r.json().get("token") is None


@pytest.mark.parametrize(("durability", "level"), [(Durability.FULL, 2), (Durability.NORMAL, 1)])
def test_the_writer_runs_the_configured_synchronous_level(
    tmp_path: pathlib.Path, county: HallConfig, durability: Durability, level: int
) -> None:
    """`full` survives a power cut only if every commit is fsynced: PRAGMA synchronous is per connection, so
    it is read back on the writer's own connection, inside a job."""
    store = Store(tmp_path / "d.db", county, FakeClock(MONDAY_9), durability=durability)
    store.start()
    try:

        def read(ctx: WriteCtx) -> Reply:
            sync = ctx.conn.execute("PRAGMA synchronous").fetchone()[0]
            journal = ctx.conn.execute("PRAGMA journal_mode").fetchone()[0]
            secure = ctx.conn.execute("PRAGMA secure_delete").fetchone()[0]
            return ok({"sync": sync, "journal": journal, "secure": secure})

        reply = store.submit_nowait(Job(read)).result(30)
    finally:
        store.stop()
    assert json.loads(reply.text) == {"sync": level, "journal": "wal", "secure": 1}


def rows(db: pathlib.Path, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
    conn = connect(db, readonly=True)
    try:
        return [tuple(r) for r in conn.execute(sql, params)]
    finally:
        conn.close()


def count(db: pathlib.Path, sql: str, params: tuple[object, ...] = ()) -> int:
    return int(rows(db, sql, params)[0][0])
