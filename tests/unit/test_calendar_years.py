"""Yearly calendars: a year is known or not; deadlines into an unknown year are estimates and say so; the
60-day warning; no booking slots in an unknown year; the CSV file a year comes in; the old `hall.holidays`."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tomllib
from typing import Any

import pytest

from hallcore import commands as c
from hallcore.calendar import HallCalendar
from hallcore.calendarfile import changes, parse_year_csv, to_csv, with_files
from hallcore.config import Calendar, CalendarYear, Hall, Session, Sessions
from hallcore.configload import ConfigError, config_from_bytes, parse_config
from hallcore.engine import Engine, RefusalCode, Refused
from tests.fakes.halls import SHANGHAI, small_hall
from tests.unit.test_config import DOCS, doc_examples

# Test data shaped like a State Council notice (a Spring Festival week with a 调休 Saturday after it); the
# tests rely on its shape, not on it being the real 2027 notice.
YEAR_2027 = b"""# 2027 test calendar
date,kind
2027-01-01,holiday
2027-02-06,holiday
2027-02-07,holiday
2027-02-08,holiday
2027-02-09,holiday
2027-02-10,holiday
2027-02-11,holiday
2027-02-12,holiday
2027-02-13,holiday
2027-02-14,holiday
2027-02-20,workday
"""

WEEKDAY: Sessions = (Session(dt.time(9), dt.time(17)),)


def hall(*years: CalendarYear) -> Hall:
    hours = dict.fromkeys(("mon", "tue", "wed", "thu", "fri"), WEEKDAY)
    return Hall(id="h", name="厅", hours=hours, calendar=Calendar(years=years))


Y2026 = CalendarYear(2026, holidays=tuple(dt.date(2026, 10, d) for d in range(1, 8)))
Y2027 = parse_year_csv(YEAR_2027, "2027.csv")


# --- deadlines ---------------------------------------------------------------------------------------------


def test_a_deadline_into_a_year_without_calendar_is_an_estimate_and_says_so() -> None:
    cal = HallCalendar(hall(Y2026))
    # 20 working days from Monday 25 January 2027 as plain weeks: 22 February, a week before the real day.
    d = cal.deadline(dt.date(2027, 1, 25), 20)
    assert (d.due, d.estimated) == (dt.date(2027, 2, 22), True)
    assert d.text() == "约 20 个工作日（日历待更新）"
    assert d.text("en") == "about 20 working days (calendar to be updated)"
    # From December into January crosses into the unknown year as well.
    assert cal.deadline(dt.date(2026, 12, 21), 20).estimated
    assert not cal.deadline(dt.date(2026, 11, 2), 20).estimated
    assert (
        cal.deadline(dt.date(2026, 11, 2), 20).text()
        == cal.add_working_days(dt.date(2026, 11, 2), 20).isoformat()
    )


def test_loading_the_year_counts_the_festival_and_its_tiaoxiu_saturday() -> None:
    cal = HallCalendar(hall(Y2026, Y2027))
    # Feb 8-12 are holidays, Saturday Feb 20 a 调休 working day: Jan 26-29, Feb 1-5, 15-20, 22-26.
    d = cal.deadline(dt.date(2027, 1, 25), 20)
    assert (d.due, d.estimated) == (dt.date(2027, 2, 26), False)
    assert d.text() == "2027-02-26"
    assert cal.is_workday(dt.date(2027, 2, 20))  # the 调休 Saturday
    assert cal.sessions_on(dt.date(2027, 2, 20)) == WEEKDAY
    assert not cal.is_workday(dt.date(2027, 2, 8))
    assert cal.opens_at(dt.date(2027, 2, 8)) is None


def test_covers_and_known_until() -> None:
    cal = HallCalendar(hall(Y2026, Y2027))
    assert cal.covers(dt.date(2027, 6, 1))
    assert not cal.covers(dt.date(2028, 1, 1))
    assert cal.known_until(dt.date(2026, 3, 1)) == dt.date(2027, 12, 31)
    assert cal.known_until(dt.date(2028, 3, 1)) is None
    assert cal.covers_span(dt.date(2026, 12, 1), dt.date(2027, 12, 31))
    assert not cal.covers_span(dt.date(2027, 12, 1), dt.date(2028, 1, 1))


# --- the warning, 60 days ahead ----------------------------------------------------------------------------


def test_the_warning_comes_sixty_days_before_the_calendar_runs_out() -> None:
    cal = HallCalendar(hall(Y2026))
    assert cal.coverage_gap(dt.date(2026, 11, 1)) is None  # 60 days on is 31 December
    gap = cal.coverage_gap(dt.date(2026, 11, 2))
    assert gap is not None
    assert (gap.first_unknown, gap.known_until, gap.year) == (
        dt.date(2027, 1, 1),
        dt.date(2026, 12, 31),
        2027,
    )
    assert "2027 年的节假日和调休安排尚未载入" in gap.zh()
    assert "hallq admin calendar import" in gap.zh()
    assert "the 2027 holidays" in gap.en()
    gap_today = cal.coverage_gap(dt.date(2027, 3, 1))
    assert gap_today is not None
    assert (gap_today.first_unknown, gap_today.known_until) == (dt.date(2027, 3, 1), None)
    assert HallCalendar(hall(Y2026, Y2027)).coverage_gap(dt.date(2026, 12, 3)) is None


def test_warn_days_is_the_halls_choice() -> None:
    short = Hall(id="h", name="厅", hours={"mon": WEEKDAY}, calendar=Calendar(years=(Y2026,), warn_days=30))
    assert HallCalendar(short).coverage_gap(dt.date(2026, 12, 1)) is None
    assert HallCalendar(short).coverage_gap(dt.date(2026, 12, 3)) is not None


# --- bookings ----------------------------------------------------------------------------------------------


def test_no_booking_slot_on_a_day_of_a_year_without_calendar() -> None:
    config = small_hall()
    only_2026 = dataclasses.replace(config.hall, calendar=Calendar(years=(Y2026,)))
    engine = Engine(dataclasses.replace(config, hall=only_2026))
    now = dt.datetime(2026, 12, 28, 9, 0, tzinfo=SHANGHAI)
    assert engine.slots("sb01", dt.date(2026, 12, 31))  # Thursday, 2026: slots
    assert engine.slots("sb01", dt.date(2027, 1, 4)) == []  # Monday, 2027: none until the year is loaded
    out = engine.handle(c.BookSlot("sb01", dt.date(2027, 1, 4), dt.time(9, 0), "p1", "BK1"), now)
    assert isinstance(out, Refused)
    assert out.code is RefusalCode.SLOT_UNKNOWN
    assert "2027 年的节假日安排尚未载入" in out.message


# --- the CSV file ------------------------------------------------------------------------------------------


def test_a_year_file_parses_with_chinese_kinds_a_bom_and_comments() -> None:
    raw = "\ufeff2027-02-08,休  # 春节\n2027-02-20,班\n".encode()
    year = parse_year_csv(raw, "x.csv")
    assert (year.year, year.holidays, year.workdays) == (
        2027,
        (dt.date(2027, 2, 8),),
        (dt.date(2027, 2, 20),),
    )
    assert parse_year_csv(to_csv(Y2027).encode(), "again.csv").holidays == Y2027.holidays


def test_a_bad_year_file_lists_every_problem_by_line() -> None:
    raw = b"date,kind\n2027-02-30,holiday\n2027-02-08,day-off\n2027-02-08\n"
    with pytest.raises(ConfigError) as caught:
        parse_year_csv(raw, "2027.csv")
    lines = [(i.line, i.expected) for i in caught.value.issues]
    assert lines == [
        (2, "a date like 2027-02-08"),
        (3, "holiday or workday (休 or 班)"),
        (4, "a row 'date,kind', e.g. '2027-02-08,holiday'"),
    ]
    with pytest.raises(ConfigError) as caught:
        parse_year_csv(b"2027-02-08,holiday\n2027-02-09,workday\n2026-10-01,holiday\n", "2027.csv", 2027)
    shown = [str(i) for i in caught.value.issues]
    assert any("2027.csv:3" in s and "a day of 2027" in s for s in shown), shown
    assert any("2027.csv:2" in s and "it is a Tuesday" in s for s in shown), shown
    with pytest.raises(ConfigError, match="at least one holiday"):
        parse_year_csv(b"2027-02-20,workday\n", "2027.csv")


def test_changes_say_what_an_import_changes() -> None:
    newer = dataclasses.replace(Y2027, holidays=(*Y2027.holidays[1:], dt.date(2027, 2, 15)))
    assert changes(None, Y2027)[0] == "+ 2027-01-01 holiday (Fri)"
    assert changes(Y2027, newer) == ["- 2027-01-01 holiday (Fri)", "+ 2027-02-15 holiday (Mon)"]
    assert changes(Y2027, Y2027) == []


def test_files_beside_the_config_add_years_and_replace_the_configs() -> None:
    text = doc_examples()[0]
    replaced = b"2026-10-01,holiday\n2026-10-02,holiday\n"
    seen: list[str] = []

    def folder(name: str) -> dict[str, bytes]:
        seen.append(name)
        return {"2027.csv": YEAR_2027, "2026.csv": replaced, "README.txt": b"ignored"}

    config = config_from_bytes(text.encode(), "etc/hall.toml", folder)
    assert seen == ["calendar"]
    years = {y.year: y for y in config.hall.calendar.years}
    assert years[2026].holidays == (dt.date(2026, 10, 1), dt.date(2026, 10, 2))
    assert years[2026].source == "etc/calendar/2026.csv"
    assert years[2027].workdays == (dt.date(2027, 2, 20),)
    with pytest.raises(ConfigError) as caught:
        config_from_bytes(text.encode(), "etc/hall.toml", lambda _: {"holidays-2027.csv": YEAR_2027})
    assert "a file named for its year, e.g. 2027.csv" in str(caught.value)
    with pytest.raises(ConfigError) as caught:
        config_from_bytes(text.encode(), "etc/hall.toml", lambda _: {"2028.csv": YEAR_2027})
    assert "etc/calendar/2028.csv:3" in str(caught.value)


def test_with_files_keeps_the_years_in_order() -> None:
    merged = with_files(Calendar(years=(Y2026,)), {"2027.csv": YEAR_2027}, "calendar")
    assert [y.year for y in merged.years] == [2026, 2027]


# --- the old keys ------------------------------------------------------------------------------------------


def test_old_holiday_keys_load_as_years_with_a_warning() -> None:
    data: dict[str, Any] = tomllib.loads(doc_examples()[0])
    del data["hall"]["calendar"]
    data["hall"]["holidays"] = [dt.date(2026, 10, 1), "2026-10-02", dt.date(2027, 2, 8)]
    data["hall"]["extra_workdays"] = [dt.date(2026, 10, 10)]
    config = parse_config(data, "old.toml")
    years = {y.year: y for y in config.hall.calendar.years}
    assert years[2026].holidays == (dt.date(2026, 10, 1), dt.date(2026, 10, 2))
    assert years[2026].workdays == (dt.date(2026, 10, 10),)
    assert years[2027].holidays == (dt.date(2027, 2, 8),)
    (warning,) = config.warnings
    assert warning.startswith(
        "old.toml: hall.holidays and hall.extra_workdays: replaced by [[hall.calendar.years]]"
    )
    assert "loaded as the years 2026, 2027" in warning


def test_a_year_given_twice_in_the_config_is_an_error() -> None:
    data: dict[str, Any] = tomllib.loads(doc_examples()[0])
    data["hall"]["calendar"]["years"].append({"year": 2026})
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "hall.toml")
    (issue,) = caught.value.issues
    assert (issue.key, issue.expected) == ("hall.calendar.years[1].year", "each year once")


def test_the_docs_calendar_section_loads() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    (snippet,) = [tomllib.loads(b) for b in blocks if b.startswith("[hall.calendar]")]
    data: dict[str, Any] = tomllib.loads(doc_examples()[0])
    data["hall"]["calendar"] = snippet["hall"]["calendar"]
    config = parse_config(data, "hall.toml")
    (year,) = config.hall.calendar.years
    assert (year.year, len(year.holidays), year.workdays) == (
        2026,
        7,
        (dt.date(2026, 9, 20), dt.date(2026, 10, 10)),
    )
    assert config.warnings == ()
