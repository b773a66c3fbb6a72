"""Child processes of the tests that start the real commands (`hallq demo`, a kiosk, a server): reading their
output up to a line, finding what is still running, and never leaving one behind."""

from __future__ import annotations

import re
import signal
import subprocess
import time
from pathlib import Path
from typing import Any


def sigint_ignored(cmd: list[str]) -> list[str]:
    """`cmd` started with SIGINT ignored, as `cmd &` in a shell script and nohup start it (and a test run
    started that way passes on to everything it spawns): sh's `trap "" INT` is inherited through exec."""
    return ["/bin/sh", "-c", 'trap "" INT; exec "$@"', "sh", *cmd]


def processes_using(path: Path) -> list[str]:
    """Command lines of live processes that mention `path` (the demo's children all take it as an arg)."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmd = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if str(path) in cmd:
            found.append(cmd)
    return found


def read_until(proc: subprocess.Popen[str], pattern: str, timeout: float) -> re.Match[str]:
    deadline = time.monotonic() + timeout
    seen = []
    assert proc.stdout is not None
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            if proc.poll() is not None:
                break
            continue
        seen.append(line)
        m = re.search(pattern, line)
        if m:
            return m
    raise AssertionError(f"no line matching {pattern!r} within {timeout} s:\n{''.join(seen)}")


def interrupt_and_wait(proc: subprocess.Popen[Any], state: Path, timeout: float) -> None:
    """Stop a demo as Ctrl-C does (SIGINT): it exits 0 within `timeout` and, within 10 s more, no process
    mentioning its `state` folder is left (its children stopped with it)."""
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=timeout) == 0
    deadline = time.monotonic() + 10
    while processes_using(state) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert processes_using(state) == []


def reap(proc: subprocess.Popen[Any], timeout: float = 30) -> None:
    """In a test's `finally`: kill the child if it still runs (SIGKILL: the test failed), wait for it and
    close its pipes."""
    if proc.poll() is None:
        proc.kill()
    proc.wait(timeout=timeout)
    for pipe in (proc.stdin, proc.stdout, proc.stderr):
        if pipe is not None:
            pipe.close()
