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
    assert admin.main([*base, "add-clerk", "c1", "王芳", "--pin", "2468"]) == 0
    assert admin.main([*base, "add-clerk", "c2", "李雷", "--pin", "12"]) == 1  # PIN too short
    assert admin.main([*base, "reset-pin", "c1", "--pin", "13579"]) == 0
    assert admin.main([*base, "reset-pin", "nobody", "--pin", "13579"]) == 1
    assert admin.main([*base, "set-roster", "3", "c1"]) == 0
    assert admin.main([*base, "set-roster", "3", "ghost"]) == 1
    assert admin.main([*base, "list-stations"]) == 0
    assert admin.main([*base, "backup", str(tmp_path / "copy.db")]) == 0
    assert admin.main([*base, "backup", str(tmp_path / "copy.db")]) == 1  # never overwrite
    assert admin.main(["add-clerk", "c9", "x", "--pin", "1234"]) == 1  # no --db/--config
    err = capsys.readouterr().err
    assert "exists already" in err
    assert "4 to 12 digits" in err
    copy = sqlite3.connect(str(tmp_path / "copy.db"))
    try:
        assert copy.execute("SELECT staff FROM roster WHERE window = 3").fetchall() == [("c1",)]
        assert copy.execute("SELECT COUNT(*) FROM audit").fetchone()[0] == 4
        pin_hash = copy.execute("SELECT pin_hash FROM staff WHERE code = 'c1'").fetchone()[0]
        assert pin_hash.startswith("$argon2")
    finally:
        copy.close()
