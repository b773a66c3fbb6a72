"""刷身份证取号's pure rules (hallcore/identity.py, calendar.next_day_opening) and the client's guard that an
ID number leaves a station only over the pinned TLS connection or to this machine (hallclient/http.py)."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import ssl

import httpx
import pytest

from hallclient.errors import ServerUntrusted
from hallclient.http import HttpHall
from hallcore import identity
from hallcore.calendar import HallCalendar
from tests.fakes.halls import MONDAY_9, small_hall


def test_age_turns_over_on_the_birthday_and_leap_days_on_1_march() -> None:
    born = dt.date(1956, 11, 24)
    assert identity.age_on(born, dt.date(2026, 11, 23)) == 69
    assert identity.age_on(born, dt.date(2026, 11, 24)) == 70
    leap = dt.date(1956, 2, 29)
    assert identity.age_on(leap, dt.date(2026, 2, 28)) == 69
    assert identity.age_on(leap, dt.date(2026, 3, 1)) == 70


def test_age_class_from_the_config_and_only_for_a_known_class() -> None:
    config = small_hall()
    elder = config.identity.elder_class
    assert elder in config.class_by_id
    day = dt.date(2026, 11, 23)
    old, young = dt.date(1950, 1, 1), dt.date(1990, 1, 1)
    assert identity.age_class(config, old, day) == elder
    assert identity.age_class(config, young, day) == ""
    assert identity.age_class(config, None, day) == ""
    older = dataclasses.replace(config, identity=dataclasses.replace(config.identity, elder_age=80))
    assert identity.age_class(older, old, day) == ""
    none = dataclasses.replace(config, identity=dataclasses.replace(config.identity, elder_class="nobody"))
    assert identity.age_class(none, old, day) == ""


def test_age_band_and_expiry() -> None:
    day = dt.date(2026, 11, 23)
    assert identity.age_band(dt.date(1950, 1, 1), day) == 70
    assert identity.age_band(dt.date(2020, 1, 1), day) == 0
    assert identity.age_band(dt.date(1910, 1, 1), day) == 100
    assert identity.age_band(None, day) is None
    assert identity.card_expired(dt.date(2026, 11, 22), False, day)
    assert not identity.card_expired(dt.date(2026, 11, 23), False, day)  # the last valid day
    assert not identity.card_expired(None, True, day)  # 长期


def test_next_day_opening_is_tomorrows_first_walk_in_session() -> None:
    cal = HallCalendar(small_hall().hall)
    nxt = cal.next_day_opening(MONDAY_9)
    assert nxt is not None
    assert cal.business_day(nxt) > cal.business_day(MONDAY_9)
    # The same answer at any time of today: a per-day limit ends at the next day's opening.
    assert cal.next_day_opening(MONDAY_9.replace(hour=23, minute=59)) == nxt


@pytest.mark.parametrize(
    ("url", "pinned", "allowed"),
    [
        ("http://127.0.0.1:8000", False, True),
        ("http://localhost:8000", False, True),
        ("http://192.168.10.2:8000", False, False),
        ("https://192.168.10.2:8443", False, False),
        ("https://192.168.10.2:8443", True, True),
    ],
)
def test_an_id_number_goes_only_over_the_pinned_connection(url: str, pinned: bool, allowed: bool) -> None:
    sent: list[bytes] = []

    def handle(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(200, json={"bookings": [], "tickets_left": 3, "next_opening": None})

    verify = ssl.create_default_context() if pinned else None
    hall = HttpHall(url, "t", transport=httpx.MockTransport(handle), verify=verify, retries=0)

    async def ask() -> None:
        try:
            await hall.person_today("11010119900307109X")
        finally:
            await hall.aclose()

    if allowed:
        asyncio.run(ask())
        assert len(sent) == 1
    else:
        with pytest.raises(ServerUntrusted):
            asyncio.run(ask())
        assert sent == []
