"""The hall's key: a 0600 file beside the config, never in the database or its backups (等保 数据保密性,
DESIGN.md §9, docs/security.md).

Every fingerprint of personal data is an HMAC with this key (an ID number's person key; the idempotency
fingerprint of a request body that may hold a name, an ID number and a phone number), the audit chain is an
HMAC with a key derived from it, and so is the dashboard's CSRF token. A copy of the database alone — a
backup, a stolen disk image of `/var/lib/hallq` — then holds fingerprints nobody can brute-force.

Where the key is: `--key FILE` if given (a deployment keeps it beside the config, `/etc/hallq/keys/hall.key`:
docs/install.md); else the file this database recorded (`meta.key_file`, so `hallq admin --db` finds the
server's key); else `<db>.key` beside the database (`<config stem>.key` beside the config when the database is
`<config stem>.db` there, the default).
The database keeps a check value of the key (`meta.key_check`, an HMAC, not the key): a missing or
different key file is refused with what to do, never silently replaced by a new key, since a new key would
make every stored fingerprint unmatchable.

Versions before this one kept the key in `meta.hmac_secret`. Opening such a database moves it out: the
file is written first (0600, fsynced, never over an existing file), then the secret is deleted from the
database and the WAL truncated, so fingerprints made with it still match.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import pathlib
import secrets
import sqlite3
from dataclasses import dataclass

from hallserver.private import PrivateFileError, check_private, write_private_new

log = logging.getLogger(__name__)

KEY_BYTES = 32
LEGACY = "hmac_secret"  # the meta row older versions kept the key in
CHECK = "key_check"
RECORDED = "key_file"


class HallKeyError(Exception):
    """The key file is missing, unreadable, readable by others, or not this database's; says what to do."""


@dataclass(frozen=True, slots=True)
class HallKey:
    raw: bytes
    path: pathlib.Path

    def derive(self, purpose: str) -> bytes:
        """A key for one use (audit chain, idempotency fingerprints), so no two uses share bytes."""
        return hmac.new(self.raw, b"hallq:" + purpose.encode(), hashlib.sha256).digest()


def check_value(raw: bytes) -> str:
    return hmac.new(raw, b"hallq:key-check", hashlib.sha256).hexdigest()[:16]


def open_key(
    conn: sqlite3.Connection,
    db: pathlib.Path,
    *,
    given: pathlib.Path | None = None,
) -> HallKey:
    """This database's key (moved out of the database, or made for a new one, on first use). `conn` is an
    autocommit connection (isolation_level None) outside any transaction."""
    meta = dict(
        conn.execute(
            "SELECT key, value FROM meta WHERE key IN (?, ?, ?)", (LEGACY, CHECK, RECORDED)
        ).fetchall()
    )
    recorded = pathlib.Path(meta[RECORDED]) if RECORDED in meta else None
    if given is not None:
        path = given
    elif recorded is not None and recorded.exists():
        path = recorded
    else:
        path = db.with_suffix(".key")
    legacy = meta.get(LEGACY)
    check = meta.get(CHECK)
    if path.exists():
        raw = _read(path)
        if check is not None and check != check_value(raw):
            raise HallKeyError(
                f"{path} is not the key of {db} (the database was keyed with another file): give the right "
                "one with --key FILE; a new key would make every stored fingerprint unmatchable"
            )
        if legacy is not None and bytes.fromhex(legacy) != raw:
            raise HallKeyError(
                f"{path} differs from the key inside {db}: move that file away, and the server moves the "
                "database's own key out to this place"
            )
    elif check is not None:
        where = f" (it was at {recorded})" if recorded is not None else ""
        raise HallKeyError(
            f"the key file {path} of {db} is missing{where}: restore it from where the hall keeps it (not "
            "from a database backup: backups never hold it) or give it with --key FILE"
        )
    else:
        raw = bytes.fromhex(legacy) if legacy is not None else secrets.token_bytes(KEY_BYTES)
        try:
            write_private_new(path, raw.hex().encode() + b"\n")
        except FileExistsError:
            raw = _read(path)  # another process (the server, `hallq admin`) made it just now
        except OSError as exc:
            raise HallKeyError(
                f"cannot write the key file {path} ({exc.strerror}): make its directory writable by the "
                "hall's user, or give another place with --key FILE"
            ) from exc
        log.warning("hall key %s %s", "moved out of the database to" if legacy else "created at", path)
    _record(conn, raw, path, meta)
    return HallKey(raw, path)


def recorded_key(conn: sqlite3.Connection) -> HallKey:
    """The key at the place this database recorded (after `open_key` ran on it)."""
    row = conn.execute("SELECT value FROM meta WHERE key = ?", (RECORDED,)).fetchone()
    check = conn.execute("SELECT value FROM meta WHERE key = ?", (CHECK,)).fetchone()
    if row is None or check is None:
        raise HallKeyError("this database has no key yet: open it with open_key first")
    path = pathlib.Path(row[0])
    raw = _read(path)
    if check_value(raw) != check[0]:
        raise HallKeyError(f"{path} is not the key of this database")
    return HallKey(raw, path)


def _read(path: pathlib.Path) -> bytes:
    try:
        check_private(path)
        text = path.read_text(encoding="ascii").strip()
    except (OSError, PrivateFileError, UnicodeDecodeError) as exc:
        raise HallKeyError(f"cannot use the key file {path}: {exc}") from exc
    try:
        raw = bytes.fromhex(text)
    except ValueError:
        raw = b""
    if len(raw) < KEY_BYTES:
        raise HallKeyError(f"{path} is not a hall key ({KEY_BYTES} bytes in hex expected)")
    return raw


def _record(conn: sqlite3.Connection, raw: bytes, path: pathlib.Path, meta: dict[str, str]) -> None:
    """The check value and the file's place in the database; the old secret out of it."""
    want = {CHECK: check_value(raw), RECORDED: str(path.resolve())}
    if all(meta.get(k) == v for k, v in want.items()) and LEGACY not in meta:
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        for k, v in want.items():
            conn.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (k, v))
        moved = conn.execute("DELETE FROM meta WHERE key = ?", (LEGACY,)).rowcount
        conn.execute("COMMIT")
    except BaseException:
        with contextlib.suppress(sqlite3.Error):
            conn.execute("ROLLBACK")
        raise
    if moved:
        # The deleted row's bytes are zeroed in its page (secure_delete); the WAL still has the page as it
        # was until a checkpoint copies it back and truncates the log.
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchone()
