"""Fault-suite durations (issue 10): runs the fault tests and collects the `[fault figure]` lines they print
into bench/results/faults.json. Durations are figures, never test assertions; the tests check behaviour.

    python -m bench.faults           # the short rounds of ./dev test (2 kill rounds, 5 s network cut)
    python -m bench.faults --soak    # also the long rounds (20 kill rounds, 30 s cuts)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from bench.common import figure, write

ROOT = Path(__file__).resolve().parent.parent
LINE = re.compile(r"\[fault figure\] (.+?): ([0-9.]+) s")


def main() -> None:
    soak = "--soak" in sys.argv
    marker = "slow or soak" if soak else "not soak"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", QT_API="pyside6")
    cmd = [sys.executable, "-m", "pytest", "tests/e2e/test_faults.py", "-q", "-s", "-p", "no:cacheprovider",
           "-m", marker, "--timeout", "1800"]  # fmt: skip
    out = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    figures = []
    for name, value in LINE.findall(out.stdout):
        figures.append(figure(name, float(value), "s", "report (no target)", None))
        print(f"{name}: {value} s")
    tail = out.stdout.strip().splitlines()[-1:] if out.stdout.strip() else []
    summary = tail[0] if tail else "no output"
    notes = (
        f"Collected from `pytest tests/e2e/test_faults.py -s -m '{marker}'` ({summary}). "
        "Each is how long the hall took to get back to normal by itself after the fault; the tests assert "
        "the behaviour (nothing lost, duplicated or applied twice), not these times."
    )
    write("faults", figures, notes=notes, exit_code=out.returncode)
    if out.returncode != 0:
        print(out.stdout[-3000:], file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
