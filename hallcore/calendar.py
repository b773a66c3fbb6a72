"""The hall's calendar: business days, opening hours, walk-in cut-off and working-day deadlines.

All questions take `now` as a timezone-aware datetime (the core never reads the wall clock) and answer in
the hall's time zone. Opening hours lie within one calendar day (`open < close`).

Rules, and where they come from:

- Holidays and 调休 working days come a year at a time (`hall.calendar`, one `CalendarYear` per State Council
  notice). A year with no calendar is *unknown*: its days follow the plain week (that is the only guess there
  is), but a deadline that reaches into it is an estimate (`deadline`: "约 N 个工作日（日历待更新）"),
  no booking slot is offered on it, and `coverage_gap` says so ahead of time (check-config, the dashboard).
- A holiday is closed, even if it is also a 调休 working day (a config mistake; the closed reading gives the
  citizen the later deadline, never an earlier one).
- 调休: a 调休 working day (a weekend day made a working day by State Council notice) is a normal
  working day. It takes the hours of the *nearest regular weekday* — the closest weekday, by weekday distance,
  that has normal (not booking-only) hours; ties go to the following weekday. So a 调休 Saturday opens like
  Friday and a 调休 Sunday like Monday, whatever the hall's own Saturday "5+1" hours are.
- Working days (for 容缺 and 差评 deadlines): normal-hours days that are not holidays, plus extra workdays.
  The Saturday "5+1" booking-only day is not a working day: it is an extra service, not a day of the week
  counted by 行政许可法 deadlines.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from hallcore.config import Hall, Series, Session, Sessions
from hallcore.errors import HallError

WEEKDAY_KEYS: tuple[str, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")

# next_opening looks this far ahead; a hall closed for longer (e.g. under renovation) has no "next opening".
NEXT_OPENING_HORIZON_DAYS = 60


class CalendarError(HallError):
    """The calendar cannot answer: no working day is reachable (no weekday has normal hours)."""


def _require_aware(now: dt.datetime) -> None:
    # A naive datetime would be read in the machine's local zone: a wall-clock dependency in disguise.
    if now.tzinfo is None or now.tzinfo.utcoffset(now) is None:
        raise ValueError(f"hallcore needs a timezone-aware datetime, got naive {now.isoformat()}")


@dataclass(frozen=True, slots=True)
class Deadline:
    """A working-day deadline: its day, and whether unknown years were counted as plain weeks to reach it."""

    due: dt.date
    working_days: int
    estimated: bool = False

    def text(self, language: str = "zh") -> str:
        """The date, or — when it reaches past the loaded calendar — the count, marked as waiting for it."""
        if not self.estimated:
            return self.due.isoformat()
        return estimated_days_text(self.working_days, language)


def estimated_days_text(n: int, language: str = "zh") -> str:
    """A working-day count that crosses a year without a calendar: never shown as if it were exact."""
    if language == "en":
        return f"about {n} working days (calendar to be updated)"
    return f"约 {n} 个工作日（日历待更新）"


@dataclass(frozen=True, slots=True)
class CoverageGap:
    """The first day within the warning horizon whose year has no calendar, and the last known day before."""

    first_unknown: dt.date
    known_until: dt.date | None
    horizon_days: int

    @property
    def year(self) -> int:
        return self.first_unknown.year

    def zh(self) -> str:
        until = f"日历只到 {self.known_until.isoformat()}" if self.known_until else "日历未载入"
        return (
            f"{until}：{self.year} 年的节假日和调休安排尚未载入（{self.horizon_days} 天内用到）。"
            f"载入前，跨入该年的工作日期限只能估算，该年不开放预约。"
            f"请用 hallq admin calendar import 导入国务院办公厅公布的 {self.year} 年安排"
        )

    def en(self) -> str:
        until = f"the calendar ends {self.known_until.isoformat()}" if self.known_until else "no calendar"
        return (
            f"{until}: the {self.year} holidays and 调休 working days are not loaded (needed within "
            f"{self.horizon_days} days); until they are, working-day deadlines into {self.year} are "
            "estimates and no booking slots are offered there. Load them with: "
            "hallq admin calendar import FILE"
        )


class HallCalendar:
    """Calendar questions about one hall, answered in the hall's time zone."""

    def __init__(self, hall: Hall) -> None:
        self._hall = hall
        self._tz = ZoneInfo(hall.timezone)
        years = hall.calendar.years
        self._known_years = frozenset(y.year for y in years)
        self._holidays = frozenset(d for y in years for d in y.holidays)
        self._extra_workdays = frozenset(d for y in years for d in y.workdays)
        # A regular weekday is Monday to Friday with a session that takes walk-ins in the hall's own week:
        # 行政许可法 counts 工作日, so a 5+1 Saturday never is one, walk-ins or not (seasons and dates change
        # hours, not which days are working days; 调休 makes weekend days working days).
        self._regular = tuple(
            wd < 5 and _takes_walk_ins(hall.hours.get(key, ())) for wd, key in enumerate(WEEKDAY_KEYS)
        )
        self._dates = {d: entry.sessions for entry in hall.dates for d in entry.dates}
        self._seasons = tuple(
            (month_day(x.start) or (1, 1), month_day(x.end) or (12, 31), x.hours) for x in hall.seasons
        )
        # Between two working days lie at most 6 weekdays without normal hours per run, plus holidays.
        self._max_gap_days = 7 * (len(self._holidays) + 1)

    def _week(self, day: dt.date) -> dict[str, Sessions]:
        """The weekly hours in force on `day`: a season's for the weekdays it gives, else the hall's."""
        md = (day.month, day.day)
        for start, end, hours in self._seasons:
            inside = start <= md <= end if start <= end else (md >= start or md <= end)
            if inside:
                return {**self._hall.hours, **hours}
        return self._hall.hours

    def _nearest_regular(self, day: dt.date) -> Sessions:
        """调休: the sessions of the nearest regular weekday (ties: the following one), in force on `day`."""
        week = self._week(day)
        weekday = day.weekday()
        for distance in range(4):
            for candidate in ((weekday + distance) % 7, (weekday - distance) % 7):
                if self._regular[candidate]:
                    return week.get(WEEKDAY_KEYS[candidate], ())
        return ()

    @property
    def hall(self) -> Hall:
        return self._hall

    @property
    def tz(self) -> ZoneInfo:
        return self._tz

    # --- days -------------------------------------------------------------------------------------------

    def local(self, now: dt.datetime) -> dt.datetime:
        """`now` in the hall's time zone."""
        _require_aware(now)
        return now.astimezone(self._tz)

    def business_day(self, now: dt.datetime) -> dt.date:
        """The hall's local date at `now` (ticket numbers restart on it)."""
        return self.local(now).date()

    def sessions_on(self, day: dt.date) -> Sessions:
        """The sessions of `day` in time order: the hall's own for that date if it set any, else none on a
        holiday, the nearest regular weekday's on a 调休 day, else the week's (a season's in its months)."""
        given = self._dates.get(day)
        if given is not None:
            return given
        if day in self._holidays:
            return ()
        if day in self._extra_workdays:
            return self._nearest_regular(day)
        return self._week(day).get(WEEKDAY_KEYS[day.weekday()], ())

    def is_booking_only(self, day: dt.date) -> bool:
        """True on a day that is open but takes no walk-ins (the Saturday "5+1" day as most halls keep it)."""
        sessions = self.sessions_on(day)
        return bool(sessions) and not _takes_walk_ins(sessions)

    def is_workday(self, day: dt.date) -> bool:
        """True on a working day for deadlines: a regular weekday and not a holiday, or a 调休 working day."""
        if day in self._holidays:
            return False
        return day in self._extra_workdays or self._regular[day.weekday()]

    def _next_workday(self, day: dt.date) -> dt.date:
        """The first working day strictly after `day`."""
        for offset in range(1, self._max_gap_days + 1):
            candidate = day + dt.timedelta(days=offset)
            if self.is_workday(candidate):
                return candidate
        raise CalendarError(
            f"hall {self._hall.id!r}: no working day within {self._max_gap_days} days after {day}; "
            "give at least one weekday normal hours in [hall.hours]"
        )

    def add_working_days(self, day: dt.date, n: int) -> dt.date:
        """The n-th working day after `day`; n=0 gives `day` itself if a working day, else the next one."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if n == 0:
            return day if self.is_workday(day) else self._next_workday(day)
        for _ in range(n):
            day = self._next_workday(day)
        return day

    # --- the calendar's reach ----------------------------------------------------------------------------

    def covers(self, day: dt.date) -> bool:
        """True when the holidays of `day`'s year are loaded."""
        return day.year in self._known_years

    def covers_span(self, a: dt.date, b: dt.date) -> bool:
        """True when every day from `a` to `b` (either order) lies in a year with a calendar."""
        lo, hi = min(a, b), max(a, b)
        return all(year in self._known_years for year in range(lo.year, hi.year + 1))

    def known_until(self, day: dt.date) -> dt.date | None:
        """The last day of the run of known years that holds `day`, or None when `day`'s year is unknown."""
        if day.year not in self._known_years:
            return None
        year = day.year
        while year + 1 in self._known_years:
            year += 1
        return dt.date(year, 12, 31)

    def coverage_gap(self, today: dt.date, days: int | None = None) -> CoverageGap | None:
        """The first day of the next `days` (default `hall.calendar.warn_days`) whose year has no calendar."""
        horizon = self._hall.calendar.warn_days if days is None else days
        end = today + dt.timedelta(days=horizon)
        for year in range(today.year, end.year + 1):
            if year not in self._known_years:
                first = max(today, dt.date(year, 1, 1))
                before = first - dt.timedelta(days=1)
                return CoverageGap(first, self.known_until(before) if first > today else None, horizon)
        return None

    def deadline(self, day: dt.date, n: int) -> Deadline:
        """`add_working_days(day, n)`, marked estimated when it counted days of a year without a calendar."""
        due = self.add_working_days(day, n)
        return Deadline(due, n, estimated=not self.covers_span(day + dt.timedelta(days=1), due))

    def working_days_between(self, a: dt.date, b: dt.date) -> int:
        """Working days d with a < d <= b; negative (the same count) when b < a.

        So `working_days_between(a, add_working_days(a, n)) == n` for n >= 1.
        """
        if b < a:
            return -self.working_days_between(b, a)
        return sum(
            1 for offset in range(1, (b - a).days + 1) if self.is_workday(a + dt.timedelta(days=offset))
        )

    # --- hours ------------------------------------------------------------------------------------------

    def _at(self, day: dt.date, t: dt.time) -> dt.datetime:
        return dt.datetime.combine(day, t, tzinfo=self._tz)

    def opens_at(self, day: dt.date) -> dt.datetime | None:
        """When the first session of `day` opens (aware, hall time zone), or None when closed."""
        sessions = self.sessions_on(day)
        return self._at(day, sessions[0].open) if sessions else None

    def closes_at(self, day: dt.date) -> dt.datetime | None:
        """When the last session of `day` closes (aware, hall time zone), or None when closed."""
        sessions = self.sessions_on(day)
        return self._at(day, sessions[-1].close) if sessions else None

    def session_at(self, now: dt.datetime) -> Session | None:
        """The session `now` falls in (open <= now < close), or None (closed, or between sessions)."""
        day = self.business_day(now)
        for session in self.sessions_on(day):
            if self._at(day, session.open) <= now < self._at(day, session.close):
                return session
        return None

    def later_session_today(self, now: dt.datetime) -> Session | None:
        """The next session of today that has not opened yet, or None."""
        day = self.business_day(now)
        return next((x for x in self.sessions_on(day) if self._at(day, x.open) > now), None)

    def is_open(self, now: dt.datetime) -> bool:
        """True within one of today's sessions, booking-only ones included."""
        return self.session_at(now) is not None

    def _series_bounds(
        self, series: Series, day: dt.date, session: Session
    ) -> tuple[dt.datetime, dt.datetime]:
        opens, closes = self._at(day, session.open), self._at(day, session.close)
        # A series' own hours narrow the session's, never widen them.
        if series.open is not None:
            opens = max(opens, self._at(day, series.open))
        if series.close is not None:
            closes = min(closes, self._at(day, series.close))
        return opens, closes

    def series_open(self, series: Series, now: dt.datetime) -> bool:
        """True when a session is open and `now` is within the series' own hours, if it has any."""
        session = self.session_at(now)
        if session is None:
            return False
        opens, closes = self._series_bounds(series, self.business_day(now), session)
        return opens <= now < closes

    def cutoff(self, session: Session) -> dt.timedelta:
        minutes = self._hall.cutoff_min if session.cutoff_min is None else session.cutoff_min
        return dt.timedelta(minutes=minutes)

    def accepting_walk_ins(
        self, now: dt.datetime, series: Series | None = None, *, desk: bool = False
    ) -> bool:
        """True when a walk-in ticket may be issued: within a session that takes walk-ins (of `series`, if it
        names the series it takes) and its hours, before its close − cut-off.

        With `series`, its narrower hours apply and the cut-off is taken from the series' close. `desk`: the
        导办台 issues in any session, walk-ins or not (staff decide; DOMAIN.md, Changchun 5+1: 咨询 and help).
        """
        session = self.session_at(now)
        if session is None:
            return False
        if not desk and not self.takes(session, series):
            return False
        day = self.business_day(now)
        if series is None:
            opens, closes = self._at(day, session.open), self._at(day, session.close)
        else:
            opens, closes = self._series_bounds(series, day, session)
        return opens <= now < closes - self.cutoff(session)

    @staticmethod
    def takes(session: Session, series: Series | None) -> bool:
        """True when `session` takes walk-ins (of `series`, when given)."""
        if not session.walk_ins:
            return False
        return series is None or not session.walk_in_series or series.prefix in session.walk_in_series

    def next_opening(
        self, now: dt.datetime, *, walk_ins_only: bool = False, series: Series | None = None
    ) -> dt.datetime | None:
        """The first session opening strictly after `now`, within 60 days, or None.

        `walk_ins_only` skips sessions that take no walk-ins (of `series`, if given): what the kiosk tells a
        walk-in citizen — after lunch, or the next working day.
        """
        today = self.business_day(now)
        for offset in range(NEXT_OPENING_HORIZON_DAYS + 1):
            day = today + dt.timedelta(days=offset)
            for session in self.sessions_on(day):
                if walk_ins_only and not self.takes(session, series):
                    continue
                opens = self._at(day, session.open)
                if opens > now:
                    return opens
        return None

    def next_day_opening(
        self, now: dt.datetime, *, walk_ins_only: bool = True, series: Series | None = None
    ) -> dt.datetime | None:
        """The first opening (taking walk-ins, by default) on a business day after today's: when a limit
        counted per day (a daily cap, a person's tickets) lets the citizen take a number again."""
        tomorrow = self.business_day(now) + dt.timedelta(days=1)
        start = dt.datetime.combine(tomorrow, dt.time(0), self.tz) - dt.timedelta(microseconds=1)
        return self.next_opening(start, walk_ins_only=walk_ins_only, series=series)

    def booked_first_until(self, now: dt.datetime) -> dt.datetime | None:
        """When a walk-in issued now in a booked-first session starts to count (the session's close), or
        None when walk-ins keep their own time. A session without walk-ins is booked-first for the desk."""
        session = self.session_at(now)
        if session is None or (session.walk_ins and not session.booked_first):
            return None
        return self._at(self.business_day(now), session.close)


def _takes_walk_ins(sessions: Sessions) -> bool:
    return any(x.walk_ins for x in sessions)


def month_day(text: str) -> tuple[int, int] | None:
    """A season's "05-01" as (5, 1); None when it is not a month and day of some year."""
    month, sep, day = text.partition("-")
    if not sep or not (month.isdigit() and day.isdigit() and len(month) == 2 and len(day) == 2):
        return None
    try:
        dt.date(2024, int(month), int(day))  # a leap year: 02-29 is a day of some years
    except ValueError:
        return None
    return int(month), int(day)
