"""HallCalendar: business days in the hall's zone, hours, walk-in cut-off, 5+1 Saturdays and working days."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallcore.calendar import CalendarError, HallCalendar
from hallcore.config import Calendar, CalendarYear, Hall, Series, Session
from hallcore.errors import HallError

SHANGHAI = ZoneInfo("Asia/Shanghai")
UTC = dt.UTC

WEEKDAY = (Session(dt.time(9, 0), dt.time(17, 0)),)
FRIDAY = (Session(dt.time(9, 0), dt.time(16, 0)),)  # shorter, so a 调休 Saturday's hours are recognisable
SATURDAY_5_PLUS_1 = (Session(dt.time(9, 0), dt.time(12, 0), walk_ins=False),)

NATIONAL_DAY_2026 = tuple(dt.date(2026, 10, d) for d in range(1, 8))
TIAOXIU_SUNDAY = dt.date(2026, 9, 20)
TIAOXIU_SATURDAY = dt.date(2026, 10, 10)


def calendar_hall(**overrides: object) -> Hall:
    """A Shanghai hall: Mon–Thu 9–17, Fri 9–16, Saturday 9–12 booking only, National Day 2026 and its 调休."""
    fields: dict[str, object] = {
        "id": "hall-1",
        "name": "测试政务服务大厅",
        "hours": {
            "mon": WEEKDAY,
            "tue": WEEKDAY,
            "wed": WEEKDAY,
            "thu": WEEKDAY,
            "fri": FRIDAY,
            "sat": SATURDAY_5_PLUS_1,
        },
        "cutoff_min": 30,
    }
    holidays = overrides.pop("holidays", NATIONAL_DAY_2026)
    workdays = overrides.pop("extra_workdays", (TIAOXIU_SUNDAY, TIAOXIU_SATURDAY))
    years = overrides.pop("years", (2026, 2027))
    fields.update(overrides)
    fields["calendar"] = calendar_of(years, holidays, workdays)
    return Hall(**fields)  # type: ignore[arg-type]


def calendar_of(years: object, holidays: object, workdays: object) -> Calendar:
    """Known `years`, each with the holidays and 调休 working days that fall in it."""
    assert isinstance(years, tuple)
    assert isinstance(holidays, tuple)
    assert isinstance(workdays, tuple)
    return Calendar(
        years=tuple(
            CalendarYear(
                y,
                holidays=tuple(d for d in holidays if d.year == y),
                workdays=tuple(d for d in workdays if d.year == y),
            )
            for y in years
        )
    )


@pytest.fixture
def cal() -> HallCalendar:
    return HallCalendar(calendar_hall())


def sh(year: int, month: int, day: int, hour: int = 0, minute: int = 0, second: int = 0) -> dt.datetime:
    """An aware datetime in Shanghai time."""
    return dt.datetime(year, month, day, hour, minute, second, tzinfo=SHANGHAI)


# --- business day -----------------------------------------------------------------------------------------


def test_business_day_follows_shanghai_not_utc_near_midnight(cal: HallCalendar) -> None:
    assert cal.business_day(dt.datetime(2026, 11, 23, 16, 30, tzinfo=UTC)) == dt.date(2026, 11, 24)
    assert cal.business_day(dt.datetime(2026, 11, 23, 15, 59, 59, tzinfo=UTC)) == dt.date(2026, 11, 23)
    assert cal.business_day(dt.datetime(2026, 11, 23, 16, 0, tzinfo=UTC)) == dt.date(2026, 11, 24)


def test_local_converts_to_the_hall_zone(cal: HallCalendar) -> None:
    local = cal.local(dt.datetime(2026, 11, 23, 16, 30, tzinfo=UTC))
    assert local.tzinfo == SHANGHAI
    assert (local.date(), local.time()) == (dt.date(2026, 11, 24), dt.time(0, 30))


def test_naive_datetime_is_refused(cal: HallCalendar) -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        cal.business_day(dt.datetime(2026, 11, 23, 16, 30))  # noqa: DTZ001 - the point of the test


def test_hall_in_another_zone() -> None:
    urumqi = HallCalendar(calendar_hall(timezone="Asia/Urumqi"))  # UTC+6
    assert urumqi.business_day(dt.datetime(2026, 11, 23, 17, 30, tzinfo=UTC)) == dt.date(2026, 11, 23)
    assert urumqi.opens_at(dt.date(2026, 11, 23)) == dt.datetime(2026, 11, 23, 3, 0, tzinfo=UTC)


# --- sessions_on, workdays, booking-only -------------------------------------------------------------


def test_sessions_on_regular_days(cal: HallCalendar) -> None:
    assert cal.sessions_on(dt.date(2026, 11, 23)) == WEEKDAY  # Monday
    assert cal.sessions_on(dt.date(2026, 11, 27)) == FRIDAY
    assert cal.sessions_on(dt.date(2026, 11, 28)) == SATURDAY_5_PLUS_1
    assert cal.sessions_on(dt.date(2026, 11, 29)) == ()  # Sunday: no hours configured


def test_holidays_are_closed_even_on_weekdays(cal: HallCalendar) -> None:
    for day in NATIONAL_DAY_2026:
        assert cal.sessions_on(day) == ()
        assert not cal.is_workday(day)
        assert cal.opens_at(day) is None
        assert cal.closes_at(day) is None


def test_tiaoxiu_days_take_the_nearest_regular_weekdays_hours(cal: HallCalendar) -> None:
    # Sunday -> Monday's hours; Saturday -> Friday's (not the 5+1 booking-only hours).
    assert cal.sessions_on(TIAOXIU_SUNDAY) == WEEKDAY
    assert cal.sessions_on(TIAOXIU_SATURDAY) == FRIDAY
    assert not cal.is_booking_only(TIAOXIU_SATURDAY)
    assert cal.is_workday(TIAOXIU_SUNDAY)
    assert cal.is_workday(TIAOXIU_SATURDAY)


def test_tiaoxiu_hours_when_monday_is_closed() -> None:
    hours = dict(calendar_hall().hours)
    del hours["mon"]
    cal = HallCalendar(calendar_hall(hours=hours))
    assert (
        cal.sessions_on(TIAOXIU_SUNDAY) == WEEKDAY
    )  # Tuesday is two weekdays away, Friday too: following wins
    assert cal.sessions_on(TIAOXIU_SATURDAY) == FRIDAY


def test_a_date_both_holiday_and_extra_workday_is_closed() -> None:
    cal = HallCalendar(calendar_hall(extra_workdays=(dt.date(2026, 10, 3),)))
    assert cal.sessions_on(dt.date(2026, 10, 3)) == ()
    assert not cal.is_workday(dt.date(2026, 10, 3))


def test_booking_only_saturday(cal: HallCalendar) -> None:
    saturday = dt.date(2026, 11, 28)
    assert cal.is_booking_only(saturday)
    assert not cal.is_workday(saturday)  # a service day, not a working day for deadlines
    assert not cal.is_booking_only(dt.date(2026, 11, 27))
    assert not cal.is_booking_only(dt.date(2026, 11, 29))  # closed Sunday


def test_weekdays_and_weekends(cal: HallCalendar) -> None:
    assert [cal.is_workday(dt.date(2026, 11, 23) + dt.timedelta(days=i)) for i in range(7)] == [
        True,
        True,
        True,
        True,
        True,
        False,
        False,
    ]


# --- working-day deadlines --------------------------------------------------------------------------------


def test_add_working_days_skips_national_day(cal: HallCalendar) -> None:
    assert cal.add_working_days(dt.date(2026, 9, 30), 1) == dt.date(2026, 10, 8)
    assert cal.add_working_days(dt.date(2026, 9, 30), 2) == dt.date(2026, 10, 9)
    # The third is the 调休 Saturday.
    assert cal.add_working_days(dt.date(2026, 9, 30), 3) == TIAOXIU_SATURDAY
    assert cal.add_working_days(dt.date(2026, 9, 30), 4) == dt.date(2026, 10, 12)


def test_twenty_working_days_across_national_day(cal: HallCalendar) -> None:
    # 9-29, 9-30, 10-08, 10-09, 10-10 (调休), then 15 weekdays from 10-12: the 20th is Friday 10-30.
    assert cal.add_working_days(dt.date(2026, 9, 28), 20) == dt.date(2026, 10, 30)
    # Without the holiday it would be four weeks on.
    plain = HallCalendar(calendar_hall(holidays=(), extra_workdays=()))
    assert plain.add_working_days(dt.date(2026, 9, 28), 20) == dt.date(2026, 10, 26)


def test_tiaoxiu_sunday_counts_as_a_working_day(cal: HallCalendar) -> None:
    # Friday 9-18: Saturday 9-19 is booking-only (not counted), Sunday 9-20 is a 调休 workday.
    assert cal.add_working_days(dt.date(2026, 9, 18), 1) == TIAOXIU_SUNDAY
    assert cal.add_working_days(dt.date(2026, 9, 18), 2) == dt.date(2026, 9, 21)


def test_add_zero_working_days(cal: HallCalendar) -> None:
    assert cal.add_working_days(dt.date(2026, 9, 29), 0) == dt.date(2026, 9, 29)
    assert cal.add_working_days(dt.date(2026, 10, 3), 0) == dt.date(2026, 10, 8)
    assert cal.add_working_days(dt.date(2026, 11, 28), 0) == dt.date(2026, 11, 30)  # booking-only Saturday


def test_add_working_days_from_a_holiday(cal: HallCalendar) -> None:
    assert cal.add_working_days(dt.date(2026, 10, 5), 1) == dt.date(2026, 10, 8)


def test_negative_working_days_are_refused(cal: HallCalendar) -> None:
    with pytest.raises(ValueError, match="n must be >= 0"):
        cal.add_working_days(dt.date(2026, 9, 29), -1)


def test_no_working_day_reachable_raises_a_hall_error() -> None:
    cal = HallCalendar(calendar_hall(hours={"sat": SATURDAY_5_PLUS_1}, extra_workdays=()))
    with pytest.raises(CalendarError, match="no working day") as info:
        cal.add_working_days(dt.date(2026, 9, 29), 1)
    assert isinstance(info.value, HallError)


def test_working_days_between(cal: HallCalendar) -> None:
    assert cal.working_days_between(dt.date(2026, 9, 28), dt.date(2026, 10, 30)) == 20
    assert cal.working_days_between(dt.date(2026, 10, 30), dt.date(2026, 9, 28)) == -20
    assert cal.working_days_between(dt.date(2026, 10, 1), dt.date(2026, 10, 7)) == 0
    assert cal.working_days_between(dt.date(2026, 9, 29), dt.date(2026, 9, 29)) == 0


@given(
    start=st.dates(min_value=dt.date(2026, 8, 1), max_value=dt.date(2026, 12, 31)),
    n=st.integers(min_value=1, max_value=45),
)
def test_working_days_between_inverts_add_working_days(start: dt.date, n: int) -> None:
    cal = HallCalendar(calendar_hall())
    deadline = cal.add_working_days(start, n)
    assert cal.is_workday(deadline)
    assert cal.working_days_between(start, deadline) == n
    assert cal.working_days_between(start, deadline - dt.timedelta(days=1)) == n - 1


# --- opening hours, walk-ins, series ----------------------------------------------------------------------


def test_opens_and_closes_at_are_aware_hall_times(cal: HallCalendar) -> None:
    opens = cal.opens_at(dt.date(2026, 11, 23))
    closes = cal.closes_at(dt.date(2026, 11, 23))
    assert opens == dt.datetime(2026, 11, 23, 1, 0, tzinfo=UTC)
    assert closes == dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC)
    assert opens is not None
    assert opens.tzinfo is not None


def test_is_open_boundaries(cal: HallCalendar) -> None:
    assert not cal.is_open(sh(2026, 11, 23, 8, 59, 59))
    assert cal.is_open(sh(2026, 11, 23, 9, 0))
    assert cal.is_open(sh(2026, 11, 23, 16, 59, 59))
    assert not cal.is_open(sh(2026, 11, 23, 17, 0))
    assert not cal.is_open(sh(2026, 10, 2, 10, 0))  # National Day
    assert not cal.is_open(sh(2026, 11, 29, 10, 0))  # Sunday
    assert cal.is_open(sh(2026, 9, 20, 10, 0))  # 调休 Sunday


def test_is_open_takes_utc_input(cal: HallCalendar) -> None:
    assert cal.is_open(dt.datetime(2026, 11, 23, 1, 0, tzinfo=UTC))  # 09:00 in Shanghai
    assert not cal.is_open(dt.datetime(2026, 11, 23, 9, 0, tzinfo=UTC))  # 17:00 in Shanghai


def test_walk_in_cutoff(cal: HallCalendar) -> None:
    assert cal.accepting_walk_ins(sh(2026, 11, 23, 9, 0))
    assert cal.accepting_walk_ins(sh(2026, 11, 23, 16, 29, 59))
    assert not cal.accepting_walk_ins(sh(2026, 11, 23, 16, 30))  # 30 min before close
    assert cal.is_open(sh(2026, 11, 23, 16, 45))
    assert not cal.accepting_walk_ins(sh(2026, 11, 23, 16, 45))
    assert not cal.accepting_walk_ins(sh(2026, 11, 23, 8, 59))
    assert not cal.accepting_walk_ins(sh(2026, 11, 27, 15, 30))  # Friday closes at 16:00
    assert not cal.accepting_walk_ins(sh(2026, 10, 2, 10, 0))


def test_walk_in_cutoff_is_configurable() -> None:
    cal = HallCalendar(calendar_hall(cutoff_min=0))
    assert cal.accepting_walk_ins(sh(2026, 11, 23, 16, 59))
    assert not cal.accepting_walk_ins(sh(2026, 11, 23, 17, 0))


def test_booking_only_saturday_is_open_but_takes_no_walk_ins(cal: HallCalendar) -> None:
    saturday_10 = sh(2026, 11, 28, 10, 0)
    assert cal.is_open(saturday_10)
    assert not cal.accepting_walk_ins(saturday_10)
    # A 调休 Saturday is a full working day: walk-ins welcome.
    assert cal.accepting_walk_ins(sh(2026, 10, 10, 10, 0))


def test_series_with_narrower_hours(cal: HallCalendar) -> None:
    morning = Series(prefix="M", name="上午专窗", open=dt.time(9, 30), close=dt.time(12, 0))
    assert not cal.series_open(morning, sh(2026, 11, 23, 9, 15))
    assert cal.series_open(morning, sh(2026, 11, 23, 9, 30))
    assert cal.series_open(morning, sh(2026, 11, 23, 11, 59))
    assert not cal.series_open(morning, sh(2026, 11, 23, 12, 0))
    assert not cal.series_open(morning, sh(2026, 10, 2, 10, 0))  # the hall is closed
    # The walk-in cut-off applies to the series' own close.
    assert cal.accepting_walk_ins(sh(2026, 11, 23, 11, 29), series=morning)
    assert not cal.accepting_walk_ins(sh(2026, 11, 23, 11, 30), series=morning)
    assert not cal.accepting_walk_ins(sh(2026, 11, 23, 9, 15), series=morning)
    assert not cal.accepting_walk_ins(sh(2026, 10, 2, 10, 0), series=morning)


def test_series_hours_never_widen_the_halls(cal: HallCalendar) -> None:
    wide = Series(prefix="W", name="宽", open=dt.time(7, 0), close=dt.time(20, 0))
    assert not cal.series_open(wide, sh(2026, 11, 23, 8, 0))
    assert not cal.series_open(wide, sh(2026, 11, 23, 18, 0))
    assert cal.series_open(wide, sh(2026, 11, 23, 12, 0))
    only_close = Series(prefix="C", name="只设结束", close=dt.time(15, 0))
    assert cal.series_open(only_close, sh(2026, 11, 23, 9, 0))
    assert not cal.series_open(only_close, sh(2026, 11, 23, 15, 0))
    plain = Series(prefix="A", name="综合")
    assert cal.series_open(plain, sh(2026, 11, 23, 16, 59))


# --- next opening -----------------------------------------------------------------------------------------


def test_next_opening_before_open_is_today(cal: HallCalendar) -> None:
    assert cal.next_opening(sh(2026, 11, 23, 7, 0)) == sh(2026, 11, 23, 9, 0)


def test_next_opening_while_open_is_the_next_day(cal: HallCalendar) -> None:
    assert cal.next_opening(sh(2026, 11, 23, 9, 0)) == sh(2026, 11, 24, 9, 0)


def test_next_opening_after_friday_close(cal: HallCalendar) -> None:
    friday_evening = sh(2026, 11, 27, 18, 0)
    assert cal.next_opening(friday_evening) == sh(2026, 11, 28, 9, 0)  # the 5+1 Saturday
    assert cal.next_opening(friday_evening, walk_ins_only=True) == sh(2026, 11, 30, 9, 0)


def test_next_opening_across_national_day(cal: HallCalendar) -> None:
    assert cal.next_opening(sh(2026, 9, 30, 17, 30)) == sh(2026, 10, 8, 9, 0)
    assert cal.next_opening(dt.datetime(2026, 10, 3, 4, 0, tzinfo=UTC)) == sh(2026, 10, 8, 9, 0)


def test_next_opening_gives_up_after_sixty_days() -> None:
    closed = HallCalendar(calendar_hall(hours={}, extra_workdays=()))
    assert closed.next_opening(sh(2026, 11, 23, 9, 0)) is None
    one_day = HallCalendar(calendar_hall(hours={}, extra_workdays=(dt.date(2027, 1, 21),)))
    assert one_day.next_opening(sh(2026, 11, 23, 9, 0)) is None  # 59 days on, but no regular hours to copy
    far = HallCalendar(
        calendar_hall(holidays=tuple(dt.date(2026, 12, 1) + dt.timedelta(i) for i in range(61)))
    )
    assert far.next_opening(sh(2026, 11, 30, 18, 0)) is None
    near = HallCalendar(
        calendar_hall(holidays=tuple(dt.date(2026, 12, 1) + dt.timedelta(i) for i in range(59)))
    )
    assert near.next_opening(sh(2026, 11, 30, 18, 0)) == sh(2027, 1, 29, 9, 0)
