"""A throw-away PostgreSQL cluster for tests and the demo: `initdb` + `pg_ctl` on a free port in a temporary
directory, removed after.

Debian keeps `initdb`/`pg_ctl` in PostgreSQL's versioned bin directory (/usr/lib/postgresql/<v>/bin), not on
PATH, and PostgreSQL refuses to run as root: as root the cluster belongs to the `postgres` user (its
directory is chowned to it and every command runs through `runuser -u postgres`). Connections go over TCP to
127.0.0.1 with `trust` authentication: the cluster lives for one test session or one demo and listens on
loopback only. fsync is off: a crash of the *centre* is what the tests kill, and the disk here stalls.
"""

from __future__ import annotations

import contextlib
import os
import pathlib
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator, Sequence


class ClusterError(RuntimeError):
    """PostgreSQL could not be found or started (the message says what to install or look at)."""


def bin_dir() -> pathlib.Path:
    """The newest PostgreSQL bin directory with initdb, or the one on PATH."""
    found = sorted(
        pathlib.Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda p: int(p.parts[4]) if p.parts[4].isdigit() else 0,
    )
    if found:
        return found[-1].parent
    on_path = shutil.which("initdb")
    if on_path:
        return pathlib.Path(on_path).parent
    raise ClusterError("PostgreSQL's initdb was not found: apt-get install postgresql (./dev setup does it)")


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Cluster:
    """One running cluster; `dsn(dbname)` for connections, `stop()` removes everything."""

    def __init__(self, root: pathlib.Path, port: int, bindir: pathlib.Path, as_postgres: bool) -> None:
        self.root = root
        self.port = port
        self.bindir = bindir
        self.as_postgres = as_postgres
        self.data = root / "data"
        self.log = root / "postgres.log"

    def dsn(self, dbname: str = "postgres") -> str:
        return f"host=127.0.0.1 port={self.port} user=postgres dbname={dbname}"

    def _run(self, args: Sequence[str], timeout: float = 60) -> subprocess.CompletedProcess[str]:
        cmd = [str(self.bindir / args[0]), *args[1:]]
        if self.as_postgres:
            # /usr/sbin may be missing from a CI job's PATH even as root.
            runuser = shutil.which("runuser") or "/usr/sbin/runuser"
            cmd = [runuser, "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=False)

    def start(self) -> None:
        r = self._run(
            [
                "initdb",
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
                "--locale=C.UTF-8",
            ]
        )
        if r.returncode != 0:
            raise ClusterError(f"initdb failed ({r.returncode}): {r.stderr.strip()[-800:]}")
        opts = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c synchronous_commit=off -c full_page_writes=off -c max_connections=200"
        )
        r = self._run(
            ["pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", opts, "-w", "-t", "60", "start"]
        )
        if r.returncode != 0:
            log = self.log.read_text(errors="replace")[-1500:] if self.log.exists() else ""
            raise ClusterError(f"pg_ctl start failed ({r.returncode}): {r.stderr.strip()} {log}")

    def create_database(self, name: str) -> str:
        """A fresh database; its DSN."""
        r = self._run(["createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", name])
        if r.returncode != 0:
            raise ClusterError(f"createdb {name} failed: {r.stderr.strip()}")
        return self.dsn(name)

    def stop(self) -> None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            self._run(["pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "-t", "30", "stop"])
        shutil.rmtree(self.root, ignore_errors=True)


def start_cluster(base: pathlib.Path | None = None) -> Cluster:
    """initdb + start on a free port in a new temporary directory (owned by `postgres` when root)."""
    bindir = bin_dir()
    root = pathlib.Path(tempfile.mkdtemp(prefix="hallq-pg-", dir=base))
    as_postgres = os.geteuid() == 0
    if as_postgres:
        try:
            pg = pwd.getpwnam("postgres")
        except KeyError as exc:
            raise ClusterError(
                "running as root but there is no 'postgres' user: apt-get install postgresql"
            ) from exc
        os.chown(root, pg.pw_uid, pg.pw_gid)
        # The postgres user must be able to reach the directory: /tmp is world-traversable, pytest's own
        # temporary directories (0700, root) are not — hence mkdtemp in the system temp dir by default.
        root.chmod(0o700)
    cluster = Cluster(root, free_port(), bindir, as_postgres)
    try:
        cluster.start()
    except BaseException:
        cluster.stop()
        raise
    return cluster


@contextlib.contextmanager
def running_cluster() -> Iterator[Cluster]:
    cluster = start_cluster()
    try:
        yield cluster
    finally:
        cluster.stop()
