"""`hallq admin`: accounts, rosters, stations and an online backup on a real database file."""

from __future__ import annotations

import io
import pathlib
import sqlite3

import pytest

from hallserver import admin


def _file(tmp_path: pathlib.Path, value: str) -> str:
    path = tmp_path / f"secret-{len(list(tmp_path.glob('secret-*')))}"
    path.write_text(value + "\n", encoding="utf-8")
    path.chmod(0o600)
    return str(path)


def pw(tmp_path: pathlib.Path, value: str) -> list[str]:
    """A password from a file: never on the command line, where `ps` shows it."""
    return ["--password-file", _file(tmp_path, value)]


def pin(tmp_path: pathlib.Path, value: str) -> list[str]:
    return ["--pin-file", _file(tmp_path, value)]


def test_admin_commands(tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "hall.db"
    base = ["--db", str(db)]
    assert admin.main([*base, "create-manager", "boss", *pw(tmp_path, "long enough")]) == 0
    assert admin.main([*base, "create-manager", "boss", *pw(tmp_path, "long enough")]) == 1
    assert admin.main([*base, "create-manager", "short", *pw(tmp_path, "1234")]) == 1
    assert admin.main([*base, "create-manager", "deputy", *pw(tmp_path, "deputy-pass")]) == 1  # has the name
    assert admin.main([*base, "add-clerk", "c1", "王芳", *pin(tmp_path, "246813")]) == 0
    assert admin.main([*base, "add-clerk", "c2", "李雷", *pin(tmp_path, "2468")]) == 1  # PIN too short
    assert admin.main([*base, "add-clerk", "c2", "李雷", *pin(tmp_path, "123456")]) == 1  # PIN too easy
    assert admin.main([*base, "reset-pin", "c1", *pin(tmp_path, "135792")]) == 0
    assert admin.main([*base, "reset-pin", "nobody", *pin(tmp_path, "135792")]) == 1
    assert admin.main([*base, "set-roster", "3", "c1"]) == 0
    assert admin.main([*base, "set-roster", "3", "ghost"]) == 1
    assert admin.main([*base, "list-stations"]) == 0
    assert admin.main([*base, "backup", str(tmp_path / "copy.db")]) == 0
    assert admin.main([*base, "backup", str(tmp_path / "copy.db")]) == 1  # never overwrite
    assert admin.main(["add-clerk", "c9", "x", *pin(tmp_path, "1234")]) == 1  # no --db/--config
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
    assert admin.main([*base, "create-manager", "boss", *pw(tmp_path, "long enough")]) == 0
    assert admin.main([*base, "set-password", "boss", *pw(tmp_path, "short")]) == 1
    assert admin.main([*base, "set-password", "boss", *pw(tmp_path, "a longer one 2")]) == 0
    assert admin.main([*base, "set-password", "ghost", *pw(tmp_path, "a longer one 2")]) == 1
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


def test_passwords_never_come_from_argv(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    db = tmp_path / "hall.db"
    base = ["--db", str(db)]
    assert admin.main([*base, "create-manager", "boss", "--password", "long enough"]) == 2
    assert admin.main([*base, "add-clerk", "c1", "王芳", "--pin", "246813"]) == 2
    err = capsys.readouterr().err
    assert "not taken on the command line" in err
    assert "--password-file" in err
    assert "--pin-file" in err
    # From stdin (`-`): the first line, e.g. `printf '%s\n' "$PW" | hallq admin … --password-file -`.
    monkeypatch.setattr("sys.stdin", io.StringIO("long enough 2\nignored\n"))
    assert admin.main([*base, "create-manager", "boss", "--password-file", "-"]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO(""))
    assert admin.main([*base, "create-manager", "deputy", "--password-file", "-"]) == 1
    assert "stdin is empty" in capsys.readouterr().err
    conn = sqlite3.connect(str(db))
    try:
        assert [r[0] for r in conn.execute("SELECT username FROM managers")] == ["boss"]
    finally:
        conn.close()
