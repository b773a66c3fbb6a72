"""`hallq admin calendar import FILE | show`: a year of holidays and 调休 working days, installed beside the
hall's config (`hall.calendar.dir`, default `calendar/<year>.csv`), and what the calendar covers.

The file is checked completely (hallcore/calendarfile.py) before anything is written; the installed copy is
written to a temporary file and renamed, so a running server that reloads mid-import reads the old year or the
new, never half a file. The server loads it at its next start or reload (SIGHUP).
"""

from __future__ import annotations

import argparse
import datetime as dt
import pathlib
from collections.abc import Callable
from typing import Any

from hallcore.calendar import HallCalendar
from hallcore.calendarfile import changes, parse_year_csv, to_csv
from hallcore.configload import ConfigError
from hallfiles.config import read_config


class CalendarImportError(Exception):
    """A refused calendar command; the message says what to do."""


def add_parser(sub: Any) -> None:
    p = sub.add_parser("calendar", help="holidays and 调休 working days, a year at a time: import, show")
    csub = p.add_subparsers(dest="calendar_cmd", required=True)
    q = csub.add_parser("import", help="check a year's CSV (date,kind) and install it beside the config")
    q.add_argument("file", type=pathlib.Path)
    q.add_argument("--dry-run", action="store_true", help="check and show the changes, write nothing")
    q = csub.add_parser("show", help="the years loaded and how far ahead they reach")
    q.add_argument("--today", type=dt.date.fromisoformat, metavar="YYYY-MM-DD")


def run(config_path: pathlib.Path | None, args: argparse.Namespace, say: Callable[[str], None]) -> None:
    """One calendar command; `CalendarImportError` when refused (nothing written then)."""
    if config_path is None:
        raise CalendarImportError("give --config FILE: the calendar is installed beside the hall's config")
    config = _load(config_path)
    calendar = config.hall.calendar
    if args.calendar_cmd == "show":
        cal = HallCalendar(config.hall)
        for y in calendar.years:
            days = f"{len(y.holidays)} holidays, {len(y.workdays)} 调休 workdays"
            say(f"{y.year}: {days}  ({y.source or 'config'})")
        today = args.today or cal.business_day(dt.datetime.now(dt.UTC))
        gap = cal.coverage_gap(today)
        say(f"warning: {gap.en()}" if gap else f"covers the next {calendar.warn_days} days from {today}")
        return
    try:
        raw = args.file.read_bytes()
    except OSError as exc:
        raise CalendarImportError(f"cannot read {args.file}: {exc.strerror or exc}") from exc
    try:
        year = parse_year_csv(raw, str(args.file))
    except ConfigError as exc:
        raise CalendarImportError(exc.report("hallq admin calendar import", args.file)) from exc
    old = next((y for y in calendar.years if y.year == year.year), None)
    diff = changes(old, year)
    folder = config_path.parent / calendar.dir
    dest = folder / f"{year.year}.csv"
    what = f"{year.year}: {len(year.holidays)} holidays, {len(year.workdays)} 调休 workdays"
    say(f"{what} (was: {'not loaded' if old is None else old.source or 'the config'})")
    for line in diff or ["no change"]:
        say(f"  {line}")
    if args.dry_run:
        say("dry run: nothing written")
        return
    folder.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(f".{dest.name}.tmp")
    tmp.write_text(to_csv(year), encoding="utf-8")
    tmp.replace(dest)
    _load(config_path)  # the hall's config still loads with the new year in it
    say(f"installed {dest}; the server takes it at its next start or reload (systemctl reload hallq-server)")


def _load(config_path: pathlib.Path) -> Any:
    try:
        return read_config(config_path)
    except ConfigError as exc:
        raise CalendarImportError(exc.report("hallq admin calendar", config_path)) from exc
