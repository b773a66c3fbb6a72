"""The slot list offers only what can be booked: a slot of today already over at the hall's clock is left out,
and the server's own refusal (该时段已过) agrees with the list at the boundary."""

from __future__ import annotations

import datetime as dt

from tests.server.conftest import Running

TODAY = "2026-11-23"  # MONDAY_9, the fixture clock's day
TOMORROW = "2026-11-24"


def offered(server: Running, day: str) -> list[str]:
    r = server.http.get("/api/booking/slots", params={"matter": "SW03", "day": day})
    assert r.status_code == 200, r.text
    return [s["start"][:5] for s in r.json()]


def test_slots_already_over_are_not_offered_and_the_first_offered_books(server: Running) -> None:
    whole_day = offered(server, TOMORROW)
    assert whole_day[:4] == ["08:30", "09:00", "09:30", "10:00"]
    assert offered(server, TODAY) == whole_day[1:]  # 09:00: the 08:30 slot is over
    now = server.clock.now()
    # One second before 10:00 the 09:30 slot is still open: offered, and it books.
    server.clock.set(now.replace(hour=9, minute=59, second=59))
    assert offered(server, TODAY) == whole_day[2:]
    r = server.book(TODAY, "09:30", "110101199003070011")
    assert r.status_code == 201, r.text
    # At 10:00 it is over: no longer offered, and refused for the same reason the list left it out.
    server.clock.set(now.replace(hour=10, minute=0, second=0))
    assert offered(server, TODAY) == whole_day[3:]
    r = server.book(TODAY, "09:30", "11010119900307109X")
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "in_past"
    assert server.book(TODAY, offered(server, TODAY)[0], "11010119900307109X").status_code == 201
    assert offered(server, TOMORROW) == whole_day  # other days keep all their slots
    # After the last slot of the day: nothing is offered today.
    last = dt.time.fromisoformat(whole_day[-1])
    server.clock.set(now.replace(hour=last.hour, minute=last.minute) + dt.timedelta(hours=2))
    assert offered(server, TODAY) == []
