"""`hallq server` as a child process, for the benchmarks and the fault tests: start it and wait for the line
it prints once it listens (`hallq server: http(s)://host:port/ …`, hallserver/app.py), which names the port
when it was asked for port 0."""

from __future__ import annotations

import datetime as dt
import pathlib
import select
import subprocess
import sys
import time
from collections.abc import Mapping, Sequence

READY = b"hallq server: http"  # http:// or https://


class ServerDidNotStart(RuntimeError):
    pass


class FakeStart:
    """Hall time for `--fake-start` when a server is started again and again (kill -9 rounds): it began at
    `start` when this object was made and runs on at real speed across restarts, as a real clock would."""

    def __init__(self, start: dt.datetime) -> None:
        self.start = start
        self._t0 = time.monotonic()

    def now(self) -> str:
        return (self.start + dt.timedelta(seconds=time.monotonic() - self._t0)).isoformat()


def server_command(config: pathlib.Path, db: pathlib.Path, *args: str) -> list[str]:
    """`python -m hallserver` on `config` and `db`, port 0, no mDNS, then `args`."""
    paths = ("--config", str(config), "--db", str(db))
    return [sys.executable, "-m", "hallserver", *paths, "--port", "0", "--no-mdns", *args]


def start_server(
    cmd: Sequence[str],
    log: pathlib.Path,
    timeout: float,
    *,
    cwd: pathlib.Path | None = None,
    env: Mapping[str, str] | None = None,
) -> tuple[subprocess.Popen[bytes], str]:
    """Run `cmd` with stderr appended to `log`; the process and its URL once it listens. A process that
    exits, or does not listen within `timeout` s, is killed and `ServerDidNotStart` names the log's tail."""
    with log.open("ab") as err:
        popen = subprocess.Popen(list(cmd), stdout=subprocess.PIPE, stderr=err, cwd=cwd, env=env)
    assert popen.stdout is not None
    deadline = time.monotonic() + timeout
    line = b""
    while not line.startswith(READY):
        left = deadline - time.monotonic()
        if left <= 0 or popen.poll() is not None:
            popen.kill()
            popen.wait()
            popen.stdout.close()
            tail = log.read_text("utf-8", errors="replace")[-3000:]
            raise ServerDidNotStart(f"the server did not start within {timeout:.0f} s; {log}:\n{tail}")
        if select.select([popen.stdout], [], [], left)[0]:
            line = popen.stdout.readline()
    return popen, line.split()[2].decode().rstrip("/")
