"""Files only the hall's own user may read (等保 数据保密性, docs/security.md): the database with its WAL and
shared-memory files, backups, and the key file are created 0600 whatever the process umask.

SQLite creates `-wal` and `-shm` (and a backup's `-journal`) with the mode of the database file itself, so
making the database file 0600 before SQLite first opens it covers them too. A database left 0644 by an older
version is tightened at start.
"""

from __future__ import annotations

import contextlib
import os
import pathlib

PRIVATE = 0o600
#: The files beside a database that hold its data: the WAL (pages not yet checkpointed) and its index.
SIDECARS = ("-wal", "-shm", "-journal")


class PrivateFileError(Exception):
    """A private file that others could read, or that cannot be made."""


def create_private(path: pathlib.Path, *, exclusive: bool = False) -> None:
    """Make `path` as an empty 0600 file if it does not exist (`exclusive`: it must not exist)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL
    try:
        fd = os.open(path, flags, PRIVATE)
    except FileExistsError:
        if exclusive:
            raise
        return
    os.close(fd)


def tighten_database(path: pathlib.Path) -> None:
    """Create the database file 0600, or take group and other access away from it and its sidecars."""
    create_private(path)
    for p in (path, *(path.with_name(path.name + s) for s in SIDECARS)):
        with contextlib.suppress(FileNotFoundError):
            if p.stat().st_mode & 0o077:
                p.chmod(PRIVATE)


def check_private(path: pathlib.Path) -> None:
    """Refuse a secret file that other users could read (as `upload.make_signer` does for the app secret)."""
    if path.stat().st_mode & 0o077:
        raise PrivateFileError(f"{path} can be read by other users: chmod 600 {path}")


def read_secret(path: pathlib.Path) -> bytes:
    """A shared secret from its 0600 file, its trailing newline stripped (the provincial app secret, a booking
    partner's key). `PrivateFileError` for a file others could read or an empty one: the
    message names the file and the fix, never the secret."""
    check_private(path)
    secret = path.read_bytes().strip()
    if not secret:
        raise PrivateFileError(f"{path} is empty")
    return secret


def write_private_new(path: pathlib.Path, data: bytes) -> None:
    """Write `data` to a new 0600 file at `path`, durably (file and directory fsynced), never replacing one:
    a key file is written once, so a second writer fails instead of overwriting it."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    with contextlib.suppress(FileNotFoundError):
        tmp.unlink()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, PRIVATE)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    try:
        os.link(tmp, path)  # fails if `path` exists: never replaces a key
    finally:
        tmp.unlink()
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)
