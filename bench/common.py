"""Shared by every benchmark: the result file format and the machine description.

Each benchmark writes `bench/results/NAME.json`; `bench/report.py` renders all of them into `bench/REPORT.md`,
so one benchmark never overwrites another's figures.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from hallcore.measures import percentile

RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> str:
    cpu = ""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} cores {cpu}, Python {platform.python_version()}, {platform.system()}"


def figure(
    name: str, value: float | None, unit: str, target: str = "", ok: bool | None = None, note: str = ""
) -> dict[str, Any]:
    return {"name": name, "value": value, "unit": unit, "target": target, "ok": ok, "note": note}


def below(
    figures: list[dict[str, Any]],
    name: str,
    value: float,
    unit: str,
    target: float | None = None,
    *,
    width: int,
) -> None:
    """Append a figure whose target, if any, is an upper bound (ok when under it), and print it as a row."""
    ok = True if target is None else value < target
    figures.append({"name": name, "value": round(value, 4), "unit": unit, "target": target, "ok": ok})
    print(
        f"{name:{width}s} {value:10.4f} {unit:5s}" + (f" (target < {target})" if target is not None else "")
    )


def _relative(argv: list[str]) -> list[str]:
    """The script as the repository names it (`bench/server.py`), not the checkout it ran from."""
    root = RESULTS.parents[1]
    script = Path(argv[0]) if argv else None
    if script is not None and script.is_absolute() and script.is_relative_to(root):
        return [str(script.relative_to(root)), *argv[1:]]
    return argv


def write(name: str, figures: list[dict[str, Any]], **extra: Any) -> Path:
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = RESULTS / f"{name}.json"
    data = {
        "name": name,
        "command": " ".join([Path(sys.executable).name, *_relative(sys.argv)]),
        "machine": machine(),
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "figures": figures,
        **extra,
    }
    out.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return out


def publish(name: str, figures: list[dict[str, Any]], *, width: int = 64, **extra: Any) -> Path:
    """Print the figures (name, value, unit, target, note), `write` them and say where."""
    for f in figures:
        target = f" ({f['target']})" if f.get("target") else ""
        print(f"{f['name']:{width}s} {f['value']:>10} {f['unit']}{target}  {f.get('note', '')}".rstrip())
    out = write(name, figures, **extra)
    print(f"wrote {out}")
    return out


def time_ms(fn: Callable[[], object], rounds: int) -> list[float]:
    """Milliseconds of each of `rounds` calls of `fn`."""
    out = []
    for _ in range(rounds):
        t0 = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t0) * 1000)
    return out


def pct(values: list[float], p: float) -> float:
    """The `p`-th percentile (0-100) by hallcore's one definition (nearest rank); NaN when empty."""
    v = percentile(values, p / 100)
    return float("nan") if v is None else v


def p95_ms(name: str, ms: list[float], target_ms: float | None = None, context: str = "") -> dict[str, Any]:
    """A latency's p95 figure in ms (ok when under `target_ms`, if there is one); the note gives `context`,
    then the median and the max."""
    p95 = pct(ms, 95)
    spread = f"median {statistics.median(ms):.2f} ms, max {max(ms):.2f} ms"
    return figure(
        name,
        round(p95, 2),
        "ms",
        "" if target_ms is None else f"< {target_ms:g}",
        None if target_ms is None else p95 < target_ms,
        f"{context}; {spread}" if context else spread,
    )
