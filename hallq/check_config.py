"""`hallq check-config FILE...`: validate hall configuration files and print every problem of each, and warn
when a hall's calendar does not reach `hall.calendar.warn_days` ahead (a warning: the file is still valid)."""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
import sys

from hallcore.calendar import HallCalendar
from hallcore.configload import ConfigError
from hallfiles.config import read_config


def main(argv: list[str]) -> int:
    """Check each file; 0 when all are valid, 2 when any is not (or the arguments are wrong)."""
    parser = argparse.ArgumentParser(
        prog="hallq check-config",
        description="Validate hall configuration files and list every problem at once.",
    )
    parser.add_argument("files", nargs="+", type=pathlib.Path, metavar="FILE", help="a hall's TOML file")
    parser.add_argument(
        "--today",
        type=dt.date.fromisoformat,
        metavar="YYYY-MM-DD",
        help="check the calendar's reach from this day (default: today in the hall's time zone)",
    )
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        # argparse exits on --help (0) and on bad arguments (2); the dispatcher expects a return code.
        return exc.code if isinstance(exc.code, int) else 2
    failed = 0
    for path in args.files:
        try:
            config = read_config(path)
        except ConfigError as exc:
            failed += 1
            print(
                f"FAIL {path} ({len(exc.issues)} problem{'s' if len(exc.issues) != 1 else ''})",
                file=sys.stderr,
            )
            for issue in exc.issues:
                print(f"  {issue}", file=sys.stderr)
            continue
        print(
            f"OK  {path} ({len(config.windows)} windows, {len(config.matters)} matters, "
            f"{len(config.series)} series)"
        )
        for warning in config.warnings:
            # Settings an earlier hallq used, loaded as their nearest equivalent: valid, but say what to
            # write.
            print(f"  warning: {warning}")
        cal = HallCalendar(config.hall)
        today = args.today or cal.business_day(dt.datetime.now(dt.UTC))
        gap = cal.coverage_gap(today)
        if gap is not None:
            print(f"  warning: {path}: hall.calendar: {gap.en()}")
    return 2 if failed else 0
