"""`hallq demo`: a simulated morning of the county hall against the real engine, printing calls and a summary.

This is the engine-only demo; the full hall (server, kiosk, counters, display, emulated devices) grows here as
those parts land.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

from hallcore.configload import load_config
from hallq.sim import SimParams, simulate, summary

CONFIG_DIR = Path(__file__).resolve().parent.parent / "config"


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="hallq demo", description="Run the demo hall.")
    ap.add_argument("--config", type=Path, default=CONFIG_DIR / "county.toml")
    ap.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2026, 11, 23))
    ap.add_argument("--hours", type=float, default=1.0, help="how much of the morning to simulate")
    ap.add_argument("--seed", type=int, default=7)
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    config = load_config(args.config)
    start = dt.time(9, 0)
    end = (dt.datetime.combine(args.day, start) + dt.timedelta(hours=args.hours)).time()
    print(f"hallq demo: {config.hall.name}, a simulated morning {start:%H:%M}–{end:%H:%M} on {args.day}\n")
    result = simulate(config, SimParams(args.day, start, end, seed=args.seed), on_call=print)
    print()
    print(summary(result))
    return 0
