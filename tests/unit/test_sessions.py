"""Days as halls keep them: sessions (a lunch break, cut-offs), 5+1 Saturdays (bookings first, walk-ins for
the series on duty, the desk), seasonal hours and the hall's own dates, and 延时服务 at closing."""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
import tomllib
from typing import Any

import pytest

from hallcore import commands as c
from hallcore.calendar import HallCalendar
from hallcore.config import AtClose, DateHours, HallConfig, Season, Session, Sessions
from hallcore.configload import ConfigError, parse_config
from hallcore.engine import Engine, Outcome, RefusalCode
from hallcore.model import Source, TicketState
from hallq.sim import simulate
from hallq.simparams import SimParams
from tests.fakes.halls import SHANGHAI, small_hall
from tests.unit.test_config import DOCS, doc_examples
from tests.unit.test_engine_rules import PASS, book, ok, refused

MORNING = Session(dt.time(8, 30), dt.time(12, 0))
AFTERNOON = Session(dt.time(13, 30), dt.time(17, 30))
LUNCH_BREAK: Sessions = (MORNING, AFTERNOON)
SATURDAY = dt.date(2026, 11, 28)


def at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), SHANGHAI)


MONDAY = dt.date(2026, 11, 23)


class Hall:
    """An engine over the small hall with the hours given, and a clock the test moves."""

    def __init__(self, at_close: AtClose = AtClose.EXPIRE, **hours: Sessions) -> None:
        base = small_hall()
        week = dict(base.hall.hours) | hours
        hall = dataclasses.replace(base.hall, hours=week, at_close=at_close)
        self.config: HallConfig = dataclasses.replace(base, hall=hall)
        self.e = Engine(self.config)
        self.now = at(MONDAY, 9)
        self.n = 0

    def do(self, cmd: c.Command) -> Outcome:
        return self.e.handle(cmd, self.now)

    def issue(self, matter: str = "sb01", source: Source = Source.DESK) -> str:
        kw = PASS if matter == "hj01" else {}
        self.n += 1
        out = ok(self.e.handle(c.IssueTicket(matter, source, f"t{self.n}", **kw), self.now))  # type: ignore[arg-type]
        assert out.ticket is not None
        if source is Source.KIOSK:
            ok(self.e.handle(c.ConfirmPrint(out.ticket.id), self.now))
        return out.ticket.id

    def call_next(self, window: int) -> str:
        """The id of the ticket `window` calls next (there must be one)."""
        called = ok(self.do(c.CallNext(window))).ticket
        assert called is not None
        return called.id

    def state(self, tid: str) -> TicketState:
        return self.e.tickets[tid].state


# --- sessions ----------------------------------------------------------------------------------------------


def test_a_walk_in_between_sessions_is_told_when_the_next_opens() -> None:
    h = Hall(mon=LUNCH_BREAK)
    h.now = at(MONDAY, 12, 10)
    r = refused(h.e.handle(c.IssueTicket("sb01", Source.KIOSK, "t"), h.now), RefusalCode.HALL_CLOSED)
    assert r.detail["next_opening"].startswith("2026-11-23T13:30")
    assert "下次取号时间 11-23 13:30" in r.message
    # The morning's cut-off is 30 minutes before its close; the afternoon takes walk-ins again.
    h.now = at(MONDAY, 11, 35)
    r = refused(h.e.handle(c.IssueTicket("sb01", Source.KIOSK, "t"), h.now), RefusalCode.HALL_CLOSED)
    assert r.detail["next_opening"].startswith("2026-11-23T13:30")
    h.now = at(MONDAY, 13, 30)
    h.issue(source=Source.KIOSK)
    cal = HallCalendar(h.config.hall)
    assert cal.is_open(at(MONDAY, 11, 59))
    assert not cal.is_open(at(MONDAY, 12, 0))
    assert (cal.opens_at(MONDAY), cal.closes_at(MONDAY)) == (at(MONDAY, 8, 30), at(MONDAY, 17, 30))
    assert cal.next_opening(at(MONDAY, 12, 0), walk_ins_only=True) == at(MONDAY, 13, 30)


def test_a_sessions_own_cutoff() -> None:
    late = Session(dt.time(13, 30), dt.time(17, 30), cutoff_min=0)
    h = Hall(mon=(MORNING, late))
    h.now = at(MONDAY, 17, 29)
    h.issue(source=Source.KIOSK)
    h.now = at(MONDAY, 11, 31)
    refused(h.e.handle(c.IssueTicket("sb01", Source.KIOSK, "t"), h.now), RefusalCode.HALL_CLOSED)


def test_an_evening_booking_session_offers_slots_and_no_walk_ins() -> None:
    evening = Session(dt.time(18, 0), dt.time(19, 0), walk_ins=False)
    morning_no_bookings = Session(dt.time(8, 30), dt.time(12, 0), bookings=False)
    h = Hall(tue=(morning_no_bookings, evening))
    tuesday = dt.date(2026, 11, 24)
    assert [a for a, _b, _left in h.e.slots("sb01", tuesday)] == [dt.time(18, 0), dt.time(18, 30)]
    h.now = at(tuesday, 18, 10)
    r = refused(h.e.handle(c.IssueTicket("sb01", Source.KIOSK, "t"), h.now), RefusalCode.BOOKING_ONLY_DAY)
    assert r.detail["next_opening"].startswith("2026-11-25T08:30")


def test_saturday_walk_ins_come_after_the_booked() -> None:
    saturday = Session(dt.time(9), dt.time(12), booked_first=True, walk_in_series=("B", "C"))
    h = Hall(sat=(saturday,))
    ok(book(h, "SAT", day=SATURDAY, at=dt.time(10, 0)))  # type: ignore[arg-type]
    h.now = at(SATURDAY, 9, 5)
    walk_in = h.issue("zh01", Source.KIOSK)  # 综合咨询 is on duty
    # A series not on duty takes bookings only.
    hj01 = c.IssueTicket("hj01", Source.KIOSK, "t", answers={"resident": True}, present=frozenset({"idcard"}))
    r = refused(h.e.handle(hj01, h.now), RefusalCode.SERIES_CLOSED)
    assert "现场取号仅限：社保、综合" in r.message
    h.now = at(SATURDAY, 10, 5)
    booked = ok(h.e.handle(c.CheckIn("SAT", "tb"), h.now)).ticket
    assert booked is not None
    ok(h.e.handle(c.OpenWindow(3, "clerk"), h.now))
    assert h.call_next(3) == booked.id  # checked in an hour after the walk-in came, called before them
    # The walk-in counts from the session's close, and is called next.
    assert h.e.tickets[walk_in].since == at(SATURDAY, 12, 0)
    assert h.e.tickets[walk_in].issued_at == at(SATURDAY, 9, 5)
    ok(h.e.handle(c.StartServing(3), h.now))
    ok(h.e.handle(c.Finish(3), h.now))
    assert h.call_next(3) == walk_in


def test_the_desk_on_a_booking_only_saturday() -> None:
    h = Hall()  # the small hall's Saturday: 9-12, bookings only
    ok(book(h, "SAT", day=SATURDAY, at=dt.time(10, 0)))  # type: ignore[arg-type]
    h.now = at(SATURDAY, 9, 10)
    r = refused(h.e.handle(c.IssueTicket("sb01", Source.KIOSK, "t"), h.now), RefusalCode.BOOKING_ONLY_DAY)
    assert r.detail["next_opening"].startswith("2026-11-30T08:30")  # the kiosk: Monday
    helped = h.issue("sb01", Source.DESK)  # the desk helps whoever comes
    assert h.e.tickets[helped].since == at(SATURDAY, 12, 0)
    h.now = at(SATURDAY, 10, 2)
    booked = ok(h.e.handle(c.CheckIn("SAT", "tb"), h.now)).ticket
    assert booked is not None
    ok(h.e.handle(c.OpenWindow(2, "clerk"), h.now))
    assert h.call_next(2) == booked.id
    # Before the session opens the desk is told when it does.
    h.now = at(SATURDAY, 8, 0)
    r = refused(h.e.handle(c.IssueTicket("sb01", Source.DESK, "t2"), h.now), RefusalCode.HALL_CLOSED)
    assert r.detail["next_opening"].startswith("2026-11-28T09:00")


def test_seasons_and_the_halls_own_dates() -> None:
    base = small_hall()
    summer = Season("夏季作息", "06-01", "08-31", {"mon": LUNCH_BREAK})
    winter = Season("冬季作息", "12-01", "02-28", {"fri": (Session(dt.time(9), dt.time(16)),)})
    open_saturday = DateHours((dt.date(2026, 12, 5),), (Session(dt.time(9), dt.time(12), booked_first=True),))
    closed_monday = DateHours((dt.date(2026, 12, 7),), ())
    hall = dataclasses.replace(base.hall, seasons=(summer, winter), dates=(open_saturday, closed_monday))
    cal = HallCalendar(hall)
    assert cal.sessions_on(dt.date(2026, 6, 1)) == LUNCH_BREAK  # a Monday in summer
    assert cal.sessions_on(dt.date(2026, 6, 2)) == base.hall.hours["tue"]  # the season leaves Tuesday alone
    assert cal.sessions_on(dt.date(2026, 11, 23)) == base.hall.hours["mon"]
    assert cal.sessions_on(dt.date(2027, 1, 8))[0].close == dt.time(16)  # a winter Friday, over new year
    assert cal.sessions_on(dt.date(2026, 12, 5))[0].booked_first
    assert not cal.is_booking_only(dt.date(2026, 12, 5))
    assert not cal.is_workday(dt.date(2026, 12, 5))  # a 5+1 Saturday with walk-ins is still no 工作日
    assert cal.sessions_on(dt.date(2026, 12, 7)) == ()
    assert cal.is_workday(dt.date(2026, 12, 7))  # closed for the hall's reasons, still a working day


# --- 延时服务 ----------------------------------------------------------------------------------------------


def test_a_ticket_waiting_at_closing_is_served_while_its_window_is_open() -> None:
    h = Hall()
    h.now = at(MONDAY, 16, 50)
    ok(h.do(c.OpenWindow(2, "clerk")))  # 社保 only: series B
    b1, b2 = h.issue("sb01"), h.issue("sb01")
    a1 = h.issue("hj01")  # 户籍: windows 1 and 3, both closed
    h.now = at(MONDAY, 17, 40)  # after closing
    ok(h.do(c.Tick()))
    assert (h.state(b1), h.state(b2)) == (TicketState.WAITING, TicketState.WAITING)
    assert h.state(a1) is TicketState.EXPIRED
    assert h.call_next(2) == b1
    ok(h.do(c.StartServing(2)))
    ok(h.do(c.Finish(2)))
    ok(h.do(c.CloseWindow(2)))
    ok(h.do(c.Tick()))
    assert h.state(b2) is TicketState.EXPIRED  # the last window of its series closed


def test_a_paused_window_still_holds_its_line_after_closing() -> None:
    h = Hall()
    h.now = at(MONDAY, 16, 50)
    ok(h.do(c.OpenWindow(2, "clerk")))
    b1 = h.issue("sb01")
    ok(h.do(c.PauseWindow(2, "休息")))
    h.now = at(MONDAY, 17, 45)
    ok(h.do(c.Tick()))
    assert h.state(b1) is TicketState.WAITING


def test_at_close_expire_or_carry_over_the_lunch_break() -> None:
    for rule, after_lunch in ((AtClose.EXPIRE, TicketState.EXPIRED), (AtClose.CARRY, TicketState.WAITING)):
        h = Hall(rule, mon=LUNCH_BREAK)
        h.now = at(MONDAY, 11, 20)
        t = h.issue("sb01")
        h.now = at(MONDAY, 12, 5)  # no window of B open, the morning closed
        ok(h.do(c.Tick()))
        assert h.state(t) is after_lunch, rule
    # Carried to the afternoon; after the last session it goes like every other.
    h.now = at(MONDAY, 17, 31)
    ok(h.do(c.Tick()))
    assert h.state(t) is TicketState.EXPIRED


def test_yesterdays_tickets_expire_even_with_a_window_left_open() -> None:
    h = Hall()
    h.now = at(MONDAY, 16, 50)
    ok(h.do(c.OpenWindow(2, "clerk")))
    t = h.issue("sb01")
    h.now = at(dt.date(2026, 11, 24), 8, 0)  # before Tuesday opens: a new business day all the same
    ok(h.do(c.Tick()))
    assert h.state(t) is TicketState.EXPIRED


# --- the config: the docs' example, the old keys, mistakes ----------------------------------------------


def test_the_docs_sessions_example_loads() -> None:
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    (snippet,) = [tomllib.loads(b) for b in blocks if b.startswith("[[hall.hours.mon]]")]
    data: dict[str, Any] = tomllib.loads(doc_examples()[0])
    data["hall"]["hours"]["mon"] = snippet["hall"]["hours"]["mon"]
    config = parse_config(data, "hall.toml")
    morning, afternoon, evening = config.hall.hours["mon"]
    assert (morning.close, afternoon.open, afternoon.cutoff_min) == (dt.time(12), dt.time(13, 30), 15)
    assert (evening.walk_ins, evening.bookings) == (False, True)
    assert config.warnings == ()


def test_old_booking_only_and_expire_at_close_load_with_warnings() -> None:
    data: dict[str, Any] = tomllib.loads(doc_examples()[0])
    data["hall"]["hours"]["sat"] = {"open": "09:00", "close": "12:00", "booking_only": True}
    data["hall"]["expire_at_close"] = False
    config = parse_config(data, "old.toml")
    (saturday,) = config.hall.hours["sat"]
    assert not saturday.walk_ins
    assert config.hall.at_close is AtClose.CARRY
    sat, expire = config.warnings
    assert sat.startswith(
        "old.toml: hall.hours.sat.booking_only = true: replaced by sessions: loaded as walk_ins"
    )
    assert "replaced by 延时服务" in expire
    assert "hall.at_close = 'carry'" in expire


def test_session_mistakes_are_reported_as_the_file_has_them() -> None:
    data: dict[str, Any] = tomllib.loads(doc_examples()[0])
    data["hall"]["hours"]["mon"] = {"open": "08:30", "close": "08:00"}
    data["hall"]["hours"]["tue"] = [
        {"open": "08:30", "close": "12:00", "walk_in_series": ["Z"]},
        {"open": "11:00", "close": "17:00", "walk_ins": False, "bookings": False},
    ]
    data["hall"]["seasons"] = [
        {"name": "夏", "start": "6-1", "end": "08-31", "hours": {"mon": {"open": "08:30", "close": "12:00"}}}
    ]
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "hall.toml")
    got = {(i.key, i.expected) for i in caught.value.issues}
    assert ("hall.hours.mon.close", "a time after open (08:30)") in got
    assert ("hall.hours.tue[0].walk_in_series[0]", "one of the series prefixes A") in got
    assert ("hall.hours.tue[1].open", "a time at or after the session before closes (12:00)") in got
    assert ("hall.seasons[0].start", 'a month and day like "05-01" (every year)') in got


# --- the simulator ------------------------------------------------------------------------------------------


def test_the_simulator_keeps_the_lunch_break_and_the_saturday() -> None:
    base = small_hall()
    week = dict(base.hall.hours) | {
        "mon": LUNCH_BREAK,
        "sat": (Session(dt.time(9), dt.time(12), booked_first=True, walk_in_series=("C",)),),
    }
    config = dataclasses.replace(base, hall=dataclasses.replace(base.hall, hours=week))
    monday = simulate(config, SimParams(MONDAY, dt.time(8, 30), dt.time(17, 30), 120, seed=3))
    issued = (
        [t for t in monday.engine.tickets.values() if t.source is not Source.BOOKING] if monday.engine else []
    )
    assert issued
    assert not [t for t in issued if at(MONDAY, 12) <= t.issued_at < at(MONDAY, 13, 30)]
    assert monday.pauses["午休（关窗）"] >= 1  # every window closes for the break and opens after
    saturday = simulate(config, SimParams(SATURDAY, dt.time(9), dt.time(12), 60, seed=3))
    assert saturday.engine is not None
    walk_ins = [t for t in saturday.engine.tickets.values() if t.source is not Source.BOOKING]
    assert walk_ins
    assert {t.series for t in walk_ins} == {"C"}  # 综合咨询 only, the rest book
