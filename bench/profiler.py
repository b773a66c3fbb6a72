"""Sampling profiles of a running server process with py-spy, summarised into top entries for the notes.

    with Profile(pid, "fan-out") as prof:
        ...  # the scenario
    prof.top()  # {"samples": N, "own": [...], "inclusive": [...]} per thread

py-spy (`--nonblocking`: the target is never paused) samples every thread of the server; idle threads
(blocked in epoll, a queue or a lock) are left out, so the counts are where CPU time went. Each stack is
summarised two ways: "own" (the innermost frame, where the time was spent) and "inclusive" (every distinct
function on the stack, so a caller shows the total of what it called).
Not a benchmark: `./dev bench` skips it.
"""

from __future__ import annotations

import collections
import os
import pathlib
import re
import shutil
import signal
import subprocess
import sys
import tempfile
from typing import Any

#: Frames every stack of a thread starts with (interpreter start, asyncio's loop): left out of "inclusive".
_PLUMBING = re.compile(
    r"^(_run_module_as_main|_run_code|<module>|run|serve_main|main|Runner\.run|BaseEventLoop\.(run_forever|"
    r"run_until_complete|_run_once)|Handle\._run|Thread\.(run|_bootstrap|_bootstrap_inner)|_worker) \("
)

#: "func (path/to/file.py:123)" -> "func (file.py)": lines would split one function into many entries.
_FRAME = re.compile(r"^(?P<func>.*?) \((?P<file>[^():]+?)(?::\d+)?\)$")


def pyspy() -> str | None:
    here = pathlib.Path(sys.executable).parent / "py-spy"
    return str(here) if here.exists() else shutil.which("py-spy")


def _short(frame: str) -> str:
    m = _FRAME.match(frame.strip())
    if not m:
        return frame.strip()
    file = m.group("file")
    parts = pathlib.PurePath(file).parts
    # Keep the package directory: "uvicorn/protocols/websockets/wsproto_impl.py" reads better than the name.
    for anchor in ("site-packages", "lib", "python3.11"):
        if anchor in parts:
            parts = parts[len(parts) - parts[::-1].index(anchor) :]
    short = "/".join(parts[-3:])
    return f"{m.group('func')} ({short})"


def summarise(raw: str, limit: int = 12) -> dict[str, Any]:
    """Top entries of py-spy's raw (collapsed) output, per thread name."""
    own: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    incl: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    total: collections.Counter[str] = collections.Counter()
    for line in raw.splitlines():
        stack, _, count = line.rpartition(" ")
        if not stack or not count.isdigit():
            continue
        n = int(count)
        frames = stack.split(";")
        thread = "?"
        if frames and frames[0].startswith("thread ("):  # --threads: 'thread (1234): hall-writer'
            thread = _thread_name(frames[0])
            frames = frames[1:]
        if frames and frames[0].startswith("process "):
            frames = frames[1:]
        if not frames:
            continue
        names = [_short(f) for f in frames]
        total[thread] += n
        own[thread][names[-1]] += n
        for name in set(names):
            if not _PLUMBING.match(name):
                incl[thread][name] += n
    out: dict[str, Any] = {}
    for thread, n in total.most_common():
        out[thread] = {
            "samples": n,
            "own": [[k, round(100 * v / n, 1)] for k, v in own[thread].most_common(limit)],
            "inclusive": [[k, round(100 * v / n, 1)] for k, v in incl[thread].most_common(limit)],
        }
    return out


def _thread_name(frame: str) -> str:
    name = frame.partition("): ")[2].strip()
    # Pools number their threads (hall-read_0, hall-read_1): one entry per pool.
    return re.sub(r"_\d+$", "", name) or "?"


class Profile:
    """py-spy recording `pid` while the block runs (a no-op summary when py-spy is not installed)."""

    def __init__(self, pid: int, label: str, rate: int = 250) -> None:
        self.pid, self.label, self.rate = pid, label, rate
        self._dir = pathlib.Path(tempfile.mkdtemp(prefix="hallq-pyspy-"))
        self._out = self._dir / "raw.txt"
        self._proc: subprocess.Popen[bytes] | None = None
        self.result: dict[str, Any] = {}

    def __enter__(self) -> Profile:
        exe = pyspy()
        if exe is not None:
            cmd = [exe, "record", "--pid", str(self.pid), "--rate", str(self.rate), "--nonblocking"]
            cmd += ["--threads", "--format", "raw", "--output", str(self._out)]
            self._proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        return self

    def __exit__(self, *exc: object) -> None:
        proc = self._proc
        if proc is not None:
            proc.send_signal(signal.SIGINT)
            try:
                _, err = proc.communicate(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                _, err = proc.communicate()
            keep = os.environ.get("HALLQ_PYSPY_KEEP")  # a directory: keep the raw stacks for a closer look
            if keep and self._out.exists():
                name = re.sub(r"[^\w.-]+", "_", self.label)[:80]
                shutil.copy(self._out, pathlib.Path(keep) / f"{name}.txt")
            if self._out.exists():
                self.result = summarise(self._out.read_text(encoding="utf-8", errors="replace"))
            else:
                self.result = {"error": err.decode(errors="replace")[-300:]}
        shutil.rmtree(self._dir, ignore_errors=True)

    def top(self) -> dict[str, Any]:
        return {"label": self.label, **self.result}
