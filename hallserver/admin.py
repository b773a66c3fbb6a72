"""`hallq admin`: accounts, rosters, stations, online backup and the outbox, straight on the hall's database.

Safe while the server runs: SQLite WAL lets this process write between the server's transactions (busy
timeout), and the server reads staff, rosters and managers from the database at each login.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import getpass
import json
import pathlib
import sqlite3
import sys
from collections.abc import Iterator, Sequence
from typing import Any

from hallcore.credentials import password_problem, pin_problem
from hallserver import admin_audit, admin_calendar, admin_outbox, admin_tls, audit, keys
from hallserver.admin_calendar import CalendarImportError
from hallserver.auth import hash_secret
from hallserver.keys import HallKeyError
from hallserver.outbox import OutboxError
from hallserver.private import create_private
from hallserver.purge import PurgeError
from hallserver.store import connect, migrate
from hallserver.tls import TlsError


class AdminError(Exception):
    """A refused admin command; the message says what to do."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()


def _open(db: pathlib.Path) -> sqlite3.Connection:
    """The database, upgraded, with its key found (where it recorded it: `main` records `--key` first) and
    its audit rows chained."""
    return connect_keyed(db)


@contextlib.contextmanager
def _write(db: pathlib.Path) -> Iterator[sqlite3.Connection]:
    """`_open`'s connection in one write transaction (BEGIN IMMEDIATE: a running server's writer waits for
    it), committed when the block ends, rolled back if it raises; closed after."""
    conn = _open(db)
    try:
        with conn:
            conn.execute("BEGIN IMMEDIATE")
            yield conn
    finally:
        conn.close()


def connect_keyed(db: pathlib.Path, key_file: pathlib.Path | None = None) -> sqlite3.Connection:
    migrate(db)
    conn = connect(db)
    try:
        key = keys.open_key(conn, db, given=key_file)
        audit.seal(conn, key.derive("audit"), _now())
    except BaseException:
        conn.close()
        raise
    return conn


def _audit(conn: sqlite3.Connection, action: str, target: str, **detail: object) -> None:
    """An audit row as `admin-cli:<user>`, chained (hallserver/audit.py) in the caller's transaction."""
    key = keys.recorded_key(conn).derive("audit")
    actor = f"admin-cli:{getpass.getuser()}"
    audit.append(conn, key, _now(), actor, "", action, target, json.dumps(detail, ensure_ascii=False))


def _check_password(username: str, password: str) -> None:
    problem = password_problem(username, password)
    if problem is not None:
        raise AdminError(problem.en)


def create_manager(db: pathlib.Path, username: str, password: str) -> None:
    _check_password(username, password)
    with _write(db) as conn:
        if conn.execute("SELECT 1 FROM managers WHERE username = ?", (username,)).fetchone():
            raise AdminError(f"manager {username!r} exists already")
        conn.execute(
            "INSERT INTO managers (username, password_hash, created_at) VALUES (?,?,?)",
            (username, hash_secret(password), _now()),
        )
        _audit(conn, "create_manager", username)


def set_password(db: pathlib.Path, username: str, password: str) -> int:
    """A manager's new password; every session of theirs ends (the server checks sessions on every request).
    Returns how many sessions ended."""
    _check_password(username, password)
    return _manager_change(
        db, username, "change_password", "password_hash = ?", (hash_secret(password),), end_sessions=True
    )


def set_manager_active(db: pathlib.Path, username: str, active: bool) -> int:
    """Deactivate (ending every session at once) or reactivate a manager; returns the sessions ended."""
    action = "enable_manager" if active else "disable_manager"
    return _manager_change(db, username, action, "active = ?", (int(active),), end_sessions=not active)


def _manager_change(
    db: pathlib.Path,
    username: str,
    action: str,
    assign: str,
    values: tuple[object, ...],
    *,
    end_sessions: bool,
) -> int:
    with _write(db) as conn:
        cur = conn.execute(f"UPDATE managers SET {assign} WHERE username = ?", (*values, username))  # noqa: S608
        if cur.rowcount == 0:
            raise AdminError(f"no manager {username!r} (create it with create-manager)")
        ended = 0
        if end_sessions:
            ended = conn.execute(
                "UPDATE sessions SET revoked = 1 WHERE username = ? AND revoked = 0", (username,)
            ).rowcount
        _audit(conn, action, username, sessions=ended)
        return ended


def _check_pin(pin: str) -> None:
    problem = pin_problem(pin)
    if problem is not None:
        raise AdminError(problem.en)


def add_clerk(db: pathlib.Path, code: str, name: str, pin: str) -> None:
    _check_pin(pin)
    with _write(db) as conn:
        if conn.execute("SELECT 1 FROM staff WHERE code = ?", (code,)).fetchone():
            raise AdminError(f"staff code {code!r} exists already (use reset-pin to change the PIN)")
        conn.execute(
            "INSERT INTO staff (code, name, pin_hash, created_at) VALUES (?,?,?,?)",
            (code, name, hash_secret(pin), _now()),
        )
        _audit(conn, "add_clerk", code, name=name)


def reset_pin(db: pathlib.Path, code: str, pin: str) -> None:
    _check_pin(pin)
    with _write(db) as conn:
        cur = conn.execute("UPDATE staff SET pin_hash = ? WHERE code = ?", (hash_secret(pin), code))
        if cur.rowcount == 0:
            raise AdminError(f"no staff {code!r} (add it with add-clerk)")
        _audit(conn, "reset_pin", code)


def set_roster(db: pathlib.Path, window: int, staff: Sequence[str]) -> None:
    with _write(db) as conn:
        known = {r[0] for r in conn.execute("SELECT code FROM staff")}
        unknown = [s for s in staff if s not in known]
        if unknown:
            raise AdminError(f"unknown staff {', '.join(unknown)} (add them with add-clerk first)")
        conn.execute("DELETE FROM roster WHERE window = ?", (window,))
        for s in dict.fromkeys(staff):
            conn.execute("INSERT INTO roster (window, staff) VALUES (?, ?)", (window, s))
        _audit(conn, "set_roster", str(window), staff=list(staff))


def backup(db: pathlib.Path, dest: pathlib.Path) -> int:
    """SQLite's online backup: a consistent copy while the server keeps writing, made 0600 whatever the
    umask. Never with the hall key: a database not yet opened by this version still holds it in
    `meta.hmac_secret`, and the copy has it deleted (zeroed, secure_delete). Returns the page count."""
    try:
        create_private(dest, exclusive=True)
    except FileExistsError:
        raise AdminError(f"{dest} exists: choose a new file") from None
    src = connect(db, readonly=True)
    out = connect(dest)
    try:
        src.backup(out, pages=1024)
        out.execute("DELETE FROM meta WHERE key = ?", (keys.LEGACY,))
        return int(out.execute("PRAGMA page_count").fetchone()[0])
    finally:
        out.close()
        src.close()


def list_stations(db: pathlib.Path) -> list[dict[str, object]]:
    conn = _open(db)
    try:
        cur = conn.execute(
            "SELECT id, name, role, state, code, window, staff, created_at FROM stations ORDER BY created_at"
        )
        cols = [d[0] for d in cur.description]
        return [dict(zip(cols, r, strict=True)) for r in cur]
    finally:
        conn.close()


def _db_from(args: argparse.Namespace) -> pathlib.Path:
    if args.db is not None:
        return pathlib.Path(args.db)
    if args.config is not None:
        return pathlib.Path(args.config).with_suffix(".db")
    raise AdminError("give --db PATH or --config FILE (the database is <config stem>.db next to it)")


def _secret(source: str | None, prompt: str) -> str:
    """A password or PIN from the prompt (asked twice), or from a file (`-`: the first line of stdin); never
    from the command line, where every user sees it in `ps`."""
    if source is None:
        first = getpass.getpass(prompt)
        if getpass.getpass("again: ") != first:
            raise AdminError("the two entries differ")
        return first
    try:
        text = sys.stdin.readline() if source == "-" else pathlib.Path(source).read_text(encoding="utf-8")
    except OSError as exc:
        raise AdminError(f"cannot read {source}: {exc.strerror}") from exc
    value = text.splitlines()[0] if text.strip() else ""
    if not value:
        raise AdminError(f"{'stdin' if source == '-' else source} is empty")
    return value


class _NotOnArgv(argparse.Action):
    """`--password VALUE` / `--pin VALUE` are refused with what to do instead."""

    def __call__(self, parser: argparse.ArgumentParser, *_args: object, **_kw: object) -> None:
        parser.error(
            f"{self.option_strings[0]} is not taken on the command line (every user sees it in ps): leave it "
            f"out to be asked, or give {self.option_strings[0]}-file FILE (- for stdin)"
        )


def _secret_options(p: argparse.ArgumentParser, name: str) -> None:
    p.add_argument(f"--{name}-file", metavar="FILE", help=f"read the {name} from FILE (- for stdin)")
    p.add_argument(f"--{name}", action=_NotOnArgv, help=argparse.SUPPRESS)


def _say(text: str, file: Any = None) -> None:
    (file or sys.stdout).write(text + "\n")


def build_parser() -> argparse.ArgumentParser:
    """`hallq admin`'s arguments (also what tests check documented commands against)."""
    parser = argparse.ArgumentParser(prog="hallq admin", description="Manage a hall's accounts and database.")
    parser.add_argument("--db", help="the hall's SQLite file")
    parser.add_argument("--config", help="the hall's TOML file (database next to it)")
    parser.add_argument(
        "--key", type=pathlib.Path, help="the hall key's file (default: where the database recorded it)"
    )
    sub = parser.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("create-manager", help="create a manager login (password prompted, or from a file)")
    p.add_argument("username")
    _secret_options(p, "password")
    p = sub.add_parser("set-password", help="set a manager's password (ends their sessions)")
    p.add_argument("username")
    _secret_options(p, "password")
    p = sub.add_parser("deactivate-manager", help="disable a manager login, ending its sessions at once")
    p.add_argument("username")
    p = sub.add_parser("activate-manager", help="enable a manager login again")
    p.add_argument("username")
    p = sub.add_parser("add-clerk", help="add a clerk (staff code, name, PIN)")
    p.add_argument("code")
    p.add_argument("name")
    _secret_options(p, "pin")
    p = sub.add_parser("reset-pin", help="set a clerk's PIN")
    p.add_argument("code")
    _secret_options(p, "pin")
    p = sub.add_parser("set-roster", help="who may log in at a window")
    p.add_argument("window", type=int)
    p.add_argument("staff", nargs="*")
    p = sub.add_parser("backup", help="online backup to DEST")
    p.add_argument("dest", type=pathlib.Path)
    sub.add_parser("list-stations", help="enrolled stations")
    admin_outbox.add_parser(sub)
    admin_calendar.add_parser(sub)
    admin_audit.add_parsers(sub)
    admin_tls.add_parser(sub)
    return parser


def main(argv: list[str]) -> int:
    """`hallq admin COMMAND …`; 0 on success, 1 when refused, 2 on bad arguments."""
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    if args.cmd == "tls":  # certificates, not the database
        try:
            admin_tls.run(_say, args)
        except TlsError as exc:
            _say(f"hallq admin tls: {exc}", file=sys.stderr)
            return 1
        return 0
    try:
        if args.cmd == "calendar":
            admin_calendar.run(None if args.config is None else pathlib.Path(args.config), args, _say)
            return 0
        db = _db_from(args)
        if args.cmd != "backup":  # a backup reads the database only, and never with the key
            # The key first: found (or moved out of an older database) and recorded where the rest looks.
            connect_keyed(db, args.key).close()
        if args.cmd == "create-manager":
            create_manager(db, args.username, _secret(args.password_file, "password: "))
            _say(f"manager {args.username} created")
        elif args.cmd == "set-password":
            ended = set_password(db, args.username, _secret(args.password_file, "password: "))
            _say(f"password of {args.username} set ({ended} sessions ended)")
        elif args.cmd in ("deactivate-manager", "activate-manager"):
            active = args.cmd == "activate-manager"
            ended = set_manager_active(db, args.username, active)
            done = "activated" if active else f"deactivated ({ended} sessions ended)"
            _say(f"manager {args.username} {done}")
        elif args.cmd == "add-clerk":
            add_clerk(db, args.code, args.name, _secret(args.pin_file, "PIN: "))
            _say(f"clerk {args.code} added")
        elif args.cmd == "reset-pin":
            reset_pin(db, args.code, _secret(args.pin_file, "PIN: "))
            _say(f"PIN of {args.code} reset")
        elif args.cmd == "set-roster":
            set_roster(db, args.window, args.staff)
            _say(f"window {args.window}: {' '.join(args.staff) or '(any clerk)'}")
        elif args.cmd == "backup":
            pages = backup(db, args.dest)
            _say(f"backup written to {args.dest} ({pages} pages)")
        elif args.cmd == "list-stations":
            for s in list_stations(db):
                _say(
                    f"{s['id']}  {s['role']:<8} {s['state']:<9} {s['code']}"
                    f"  window={s['window']}  {s['name']}"
                )
        elif args.cmd == "outbox":
            admin_outbox.run(_open, _audit, _say, db, args)
        elif args.cmd in ("audit", "purge"):
            return admin_audit.run(_open, _audit, _say, db, args)
    except (AdminError, OutboxError, CalendarImportError, HallKeyError, PurgeError, sqlite3.Error) as exc:
        _say(f"hallq admin: {exc}", file=sys.stderr)
        return 1
    return 0
