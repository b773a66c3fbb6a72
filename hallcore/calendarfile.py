"""Yearly calendars: the rules a year of holidays and 调休 working days must follow, the CSV file a year is
imported from (`hallq admin calendar import FILE`), and how files beside the config join its `hall.calendar`.

The State Council publishes each year's holiday notice in the autumn before. A hall loads it as a file
`<calendar dir>/<year>.csv` beside its config (`hall.calendar.dir`, default `calendar`): one row a day,
`date,kind` with kind `holiday` (休) or `workday` (班, a weekend day made a working day); `#` starts a comment
and a `date,kind` header may come first. A file replaces the same year written in the config. Pure: the
shells read the files and hand their bytes here.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Mapping

from hallcore.config import Calendar, CalendarYear
from hallcore.configwalk import MISSING, ConfigError, ConfigIssue

#: A calendar file's name: the year it holds.
FILE_NAME = re.compile(r"^(\d{4})\.csv$")
#: The words a row's kind may be written with, and what they mean.
KINDS = {"holiday": "holiday", "休": "holiday", "workday": "workday", "班": "workday"}


@dataclasses.dataclass(frozen=True, slots=True)
class Problem:
    """What is wrong with one day of a year (`day` None: with the year as a whole)."""

    day: dt.date | None
    expected: str
    hint: str = ""


def year_problems(year: CalendarYear) -> list[Problem]:
    """The rules of a year's calendar, shared by the config's `[[hall.calendar.years]]` and the CSV files."""
    out: list[Problem] = []
    if not 2000 <= year.year <= 2100:
        out.append(Problem(None, "a year from 2000 to 2100"))
        return out
    holidays = set(year.holidays)
    for kind, days in (("holiday", year.holidays), ("workday", year.workdays)):
        seen: set[dt.date] = set()
        for day in days:
            if day.year != year.year:
                out.append(
                    Problem(day, f"a day of {year.year}", f"a {kind} of {day.year} belongs in that year")
                )
            if day in seen:
                out.append(Problem(day, f"each {kind} once"))
            seen.add(day)
    for day in year.workdays:
        # 调休 moves a working day onto a weekend; a weekday here is almost always a typo in the date.
        if day.weekday() < 5:
            out.append(
                Problem(
                    day, "a Saturday or Sunday (调休 makes a weekend day a working day)", f"it is a {day:%A}"
                )
            )
        if day in holidays:
            out.append(Problem(day, "a day that is not also a holiday"))
    return out


def parse_year_csv(raw: bytes, source: str, year: int | None = None) -> CalendarYear:
    """A year's calendar from a CSV file's bytes; `ConfigError` listing every problem, by line. With `year`
    (from the file's name) every row must be of that year."""
    issues: list[ConfigIssue] = []

    def issue(line: int | None, value: object, expected: str, hint: str = "") -> None:
        issues.append(ConfigIssue(source, "", value, expected, hint, line=line))

    try:
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError:
        raise ConfigError(
            [ConfigIssue(source, "", MISSING, "a UTF-8 text file", "save it as UTF-8")]
        ) from None
    rows: list[tuple[int, dt.date, str]] = []
    for n, full in enumerate(text.splitlines(), start=1):
        line = full.split("#", 1)[0].strip()
        if not line:
            continue
        cells = [c.strip() for c in line.split(",")]
        if not rows and not issues and cells[0].lower() == "date":
            continue  # the header
        if len(cells) < 2:
            issue(n, line, "a row 'date,kind', e.g. '2027-02-08,holiday'")
            continue
        try:
            day = dt.date.fromisoformat(cells[0])
        except ValueError:
            issue(n, cells[0], "a date like 2027-02-08")
            continue
        kind = KINDS.get(cells[1].lower())
        if kind is None:
            issue(n, cells[1], "holiday or workday (休 or 班)")
            continue
        rows.append((n, day, kind))
    if not rows:
        if not issues:
            issue(None, MISSING, "at least one row 'date,kind' (the year's holidays)")
        raise ConfigError(issues)
    the_year = year if year is not None else rows[0][1].year
    line_of = {day: n for n, day, _ in rows}
    parsed = CalendarYear(
        year=the_year,
        holidays=tuple(sorted(d for _, d, k in rows if k == "holiday")),
        workdays=tuple(sorted(d for _, d, k in rows if k == "workday")),
        source=source,
    )
    if not parsed.holidays and not issues:
        issue(None, MISSING, "at least one holiday row (a year without one is not a State Council notice)")
    for p in year_problems(parsed):
        issue(line_of.get(p.day) if p.day else None, p.day or the_year, p.expected, p.hint)
    if issues:
        raise ConfigError(issues)
    return parsed


def to_csv(year: CalendarYear) -> str:
    """The file `hallq admin calendar import` installs: a header, then each day in date order."""
    lines = [f"# {year.year} holidays and 调休 working days" + (f" ({year.source})" if year.source else "")]
    lines.append("date,kind")
    days = [(d, "holiday") for d in year.holidays] + [(d, "workday") for d in year.workdays]
    lines += [f"{d.isoformat()},{kind}" for d, kind in sorted(days)]
    return "\n".join(lines) + "\n"


def with_files(calendar: Calendar, files: Mapping[str, bytes], folder: str) -> Calendar:
    """`calendar` with the years of the files (name -> bytes) in `folder` added, each replacing the same year
    of the config; `ConfigError` listing the problems of every bad file."""
    years = {y.year: y for y in calendar.years}
    issues: list[ConfigIssue] = []
    for name in sorted(files):
        match = FILE_NAME.match(name)
        source = f"{folder}/{name}"
        if match is None:
            if name.endswith(".csv"):
                issues.append(ConfigIssue(source, "", name, "a file named for its year, e.g. 2027.csv"))
            continue
        try:
            year = parse_year_csv(files[name], source, int(match.group(1)))
        except ConfigError as exc:
            issues.extend(exc.issues)
            continue
        years[year.year] = year
    if issues:
        raise ConfigError(issues)
    return dataclasses.replace(calendar, years=tuple(years[y] for y in sorted(years)))


def changes(old: CalendarYear | None, new: CalendarYear) -> list[str]:
    """What installing `new` changes, a line a day: '+ 2027-02-08 holiday', '- …', '~ … holiday -> workday'"""
    before = _kinds(old) if old is not None else {}
    after = _kinds(new)
    out: list[str] = []
    for day in sorted(before.keys() | after.keys()):
        a, b = before.get(day), after.get(day)
        if a == b:
            continue
        if a is None:
            out.append(f"+ {day.isoformat()} {b} ({day:%a})")
        elif b is None:
            out.append(f"- {day.isoformat()} {a} ({day:%a})")
        else:
            out.append(f"~ {day.isoformat()} {a} -> {b} ({day:%a})")
    return out


def _kinds(year: CalendarYear) -> dict[dt.date, str]:
    return dict.fromkeys(year.holidays, "holiday") | dict.fromkeys(year.workdays, "workday")
