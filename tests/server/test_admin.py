"""`hallq admin`: accounts, rosters, stations and an online backup on a real database file."""

from __future__ import annotations

import pathlib
import sqlite3

import pytest

from hallserver import admin


def test_admin_commands(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "hall.db"
    base = ["--db", str(db)]
    assert admin.main([*base, "create-manager", "boss", "--password", "long enough"]) == 0
    assert admin.main([*base, "create-manager", "boss", "--password", "long enough"]) == 1
    assert admin.main([*base, "create-manager", "short", "--password", "1234"]) == 1
    assert admin.main([*base, "create-manager", "deputy", "--password", "deputy-pass"]) == 1  # has the name
    assert admin.main([*base, "add-clerk", "c1", "王芳", "--pin", "246813"]) == 0
    assert admin.main([*base, "add-clerk", "c2", "李雷", "--pin", "2468"]) == 1  # PIN too short
    assert admin.main([*base, "add-clerk", "c2", "李雷", "--pin", "123456"]) == 1  # PIN too easy
    assert admin.main([*base, "reset-pin", "c1", "--pin", "135792"]) == 0
    assert admin.main([*base, "reset-pin", "nobody", "--pin", "135792"]) == 1
    assert admin.main([*base, "set-roster", "3", "c1"]) == 0
    assert admin.main([*base, "set-roster", "3", "ghost"]) == 1
    assert admin.main([*base, "list-stations"]) == 0
    assert admin.main([*base, "backup", str(tmp_path / "copy.db")]) == 0
    assert admin.main([*base, "backup", str(tmp_path / "copy.db")]) == 1  # never overwrite
    assert admin.main(["add-clerk", "c9", "x", "--pin", "1234"]) == 1  # no --db/--config
    err = capsys.readouterr().err
    assert "exists already" in err
    assert "6 to 12 digits" in err
    assert "too easy to guess" in err
    copy = sqlite3.connect(str(tmp_path / "copy.db"))
    try:
        assert copy.execute("SELECT staff FROM roster WHERE window = 3").fetchall() == [("c1",)]
        assert copy.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 4
        pin_hash = copy.execute("SELECT pin_hash FROM staff WHERE code = 'c1'").fetchone()[0]
        assert pin_hash.startswith("$argon2")
    finally:
        copy.close()


def test_admin_manages_manager_logins(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "hall.db"
    base = ["--db", str(db)]
    assert admin.main([*base, "create-manager", "boss", "--password", "long enough"]) == 0
    assert admin.main([*base, "set-password", "boss", "--password", "short"]) == 1
    assert admin.main([*base, "set-password", "boss", "--password", "a longer one 2"]) == 0
    assert admin.main([*base, "set-password", "ghost", "--password", "a longer one 2"]) == 1
    assert admin.main([*base, "deactivate-manager", "boss"]) == 0
    assert admin.main([*base, "activate-manager", "boss"]) == 0
    out, err = capsys.readouterr()
    assert "deactivated (0 sessions ended)" in out
    assert "no manager 'ghost'" in err
    conn = sqlite3.connect(str(db))
    try:
        actions = [r[0] for r in conn.execute("SELECT action FROM audit ORDER BY id")]
        assert actions == ["create_manager", "change_password", "disable_manager", "enable_manager"]
    finally:
        conn.close()
