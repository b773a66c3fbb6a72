"""Public endpoints (issue 16, "Public endpoints"): ID numbers, per-person limits, request budgets per
address, enrollment caps and expiry, booking codes kept out of events, and public payloads that carry only
what the phone page shows.

Findings: any 18-digit string was an ID number and one client made 23 bookings with made-up IDs, unthrottled;
52 enrollment requests from one address, 50 accepted, pending ones never expired; the status reply and the
public stream carried clerks' staff codes and other citizens' masked names; booking codes (whoever holds one
may cancel) went to every station in events, so a display's token could cancel other people's bookings.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import itertools
import json
from typing import Any

from websockets.asyncio.client import connect

from hallcore.idnumber import complete
from tests.security.conftest import NEIGHBOUR, TUESDAY, booking, client_from, person, rows
from tests.server.conftest import Running, rid

SLOTS = ("09:00", "09:30", "10:00", "10:30", "11:00", "14:00", "14:30", "15:00")


def test_made_up_id_numbers_are_refused(server: Running) -> None:
    good = person(1)
    made_up = {
        "check character": good[:-1] + ("0" if good[-1] != "0" else "1"),
        "no such date": complete("11010119901350001"),
        "born tomorrow": complete("11010120261124001"),
        "older than 120": complete("11010118800101001"),
        "random digits": "123456789012345678",
    }
    for why, number in made_up.items():
        r = server.http.post("/api/bookings", json=booking(number))
        assert r.status_code == 422, (why, r.text)
        body = r.json()
        assert body["error"] == "invalid_field", (why, body)
        assert body["detail"]["errors"][0]["field"] == "id_number", (why, body)
    assert server.count("SELECT COUNT(*) FROM bookings") == 0
    assert server.http.post("/api/bookings", json=booking(good)).status_code == 201


def test_one_person_cannot_hoard_bookings(server: Running) -> None:
    me = person(7)
    days = [TUESDAY + dt.timedelta(days=i) for i in range(4)]  # Tue..Fri, one ISO week
    got = [
        server.http.post("/api/bookings", json=booking(me, day, slot)).status_code
        for day, slot in ((days[0], "09:00"), (days[0], "09:30"), (days[0], "10:00"))
    ]
    assert got == [201, 201, 409], got  # two a day
    assert server.http.post("/api/bookings", json=booking(me, days[1])).status_code == 201
    r = server.http.post("/api/bookings", json=booking(me, days[2]))
    assert r.status_code == 409, r.text  # three open at once (the week would allow four)
    assert r.json()["error"] == "person_limit"
    assert server.count("SELECT COUNT(*) FROM bookings WHERE state = 'booked'") == 3


def test_one_address_cannot_book_for_a_crowd(server: Running) -> None:
    """Valid, different ID numbers from one address: the address's write budget (20 at once, then one
    every 5 s) stops the run, whatever the per-person limits would allow."""
    places = itertools.product([TUESDAY + dt.timedelta(days=i) for i in range(4)], SLOTS)
    with client_from(server, NEIGHBOUR) as scalper:
        got = []
        for n, (day, slot) in zip(range(30), places, strict=False):
            r = scalper.post("/api/bookings", json=booking(person(100 + n), day, slot))
            got.append(r.json().get("error", "") if r.status_code != 201 else "ok")
    assert got[:20] == ["ok"] * 20, got
    assert set(got[20:]) == {"too_many_requests"}, got
    # Someone else, from their own phone, still books.
    assert server.http.post("/api/bookings", json=booking(person(999), TUESDAY, "16:00")).status_code == 201


def test_enrollment_requests_are_capped_and_expire(server: Running) -> None:
    with client_from(server, NEIGHBOUR) as flood:
        made = []
        for i in range(20):
            r = flood.post("/api/enroll", json={"name": f"fake {i}", "role": "display"})
            assert r.status_code == 201, r.text
            made.append(r.json())
        server.clock.advance(60)  # the write budget refills: what stops the next one is the cap
        r = flood.post("/api/enroll", json={"name": "one more", "role": "display"})
        assert r.status_code == 429, r.text
        assert r.json()["error"] == "too_many_pending"
        # Another address still enrolls.
        assert server.http.post("/api/enroll", json={"name": "real", "role": "display"}).status_code == 201
        server.clock.advance(24 * 3600 + 60)  # a day later, unapproved: expired
        poll = flood.get(
            f"/api/enroll/{made[0]['station_id']}", params={"poll_secret": made[0]["poll_secret"]}
        )
        assert poll.status_code == 200, poll.text
        assert poll.json()["state"] == "expired"
        assert flood.post("/api/enroll", json={"name": "again", "role": "display"}).status_code == 201
    assert server.count("SELECT COUNT(*) FROM stations WHERE state = 'expired'") == 21


def frames(server: Running, path: str, headers: dict[str, str], until_seq: int) -> list[dict[str, Any]]:
    """What a stream at `path` sends up to event `until_seq` (snapshot or catch-up, then live events)."""

    async def main() -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        async with connect(f"{server.ws_url}{path}", additional_headers=headers) as ws:
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 20))
                out.append(msg)
                if msg.get("seq", 0) >= until_seq and msg.get("kind") != "heartbeat":
                    return out

    return asyncio.run(main())


def test_booking_codes_never_go_out_in_events(server: Running) -> None:
    kiosk = server.station("kiosk")
    display = server.station("display")
    codes = []
    for n, slot in enumerate(("09:00", "09:30", "10:00")):
        r = server.http.post("/api/bookings", json=booking(person(200 + n), dt.date(2026, 11, 23), slot))
        assert r.status_code == 201, r.text
        codes.append(r.json()["code"])
    r = server.http.post(f"/api/bookings/{codes[1]}/cancel", json={"request_id": rid()})
    assert r.status_code == 200, r.text
    r = server.http.post(
        f"/api/bookings/{codes[0]}/checkin", json={"request_id": rid()}, headers=kiosk.headers
    )
    assert r.status_code == 201, r.text
    last = server.hall.hub.last_seq
    stored = server.count("SELECT COUNT(*) FROM events WHERE kind = 'booking_changed'")
    assert stored == 5  # booked ×3, cancelled, checked in
    texts = [t for (t,) in rows(server, "SELECT body FROM events")]
    seen = json.dumps(frames(server, "/events?since=0", display.headers, last), ensure_ascii=False)
    snapshot = server.http.get("/api/snapshot", headers=display.headers).text
    for code in codes:
        assert not any(code in t for t in texts), code
        assert code not in seen, code
        assert code not in snapshot, code


def test_public_payloads_carry_only_the_phone_pages_ticket(server: Running) -> None:
    """A citizen's phone (its ticket's token) sees its own ticket and the numbers called — never a clerk's
    staff code, another citizen's masked name, a priority class or a note."""
    desk = server.station("desk")
    counter = server.station("counter", window=1, staff="c1")
    theirs = server.issue(desk, holder_name="张三丰").json()
    mine = server.issue(desk).json()
    assert server.act(counter, "open").status_code == 200
    called = server.act(counter, "call-next")
    assert called.status_code == 200, called.text
    assert called.json()["ticket"]["id"] == theirs["ticket"]["id"]
    assert called.json()["ticket"]["holder_masked"].startswith("张")  # staff see it
    last = server.hall.hub.last_seq
    public = {
        "status": server.http.get(f"/api/status/{mine['token']}").json(),
        "phone status": server.http.get(f"/web/api/status/{mine['token']}").json(),
        "stream": frames(server, f"/events?token={mine['token']}", {}, last),
        "stream from 0": frames(server, f"/events?token={mine['token']}&since=0", {}, last),
    }
    assert theirs["ticket"]["label"] in json.dumps(public["status"]["calls"])  # the call itself is there
    for where, payload in public.items():
        text = json.dumps(payload, ensure_ascii=False)
        assert "张" not in text, where
        leaked = [(k, v) for k, v in _items(payload) if k in PRIVATE and v not in ("", None, [], 0)]
        assert not leaked, (where, leaked)


#: Keys that never carry a value in a public payload (hallcore/public.py).
PRIVATE = {
    "staff",
    "holder_masked",
    "note",
    "priority",
    "priority_name",
    "call_reason",
    "claimed",
    "pause_reason",
}


def _items(value: Any) -> list[tuple[str, Any]]:
    """Every (key, value) pair anywhere in a JSON value."""
    out: list[tuple[str, Any]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            out.append((k, v))
            out.extend(_items(v))
    elif isinstance(value, list):
        for v in value:
            out.extend(_items(v))
    return out


def test_every_public_write_spends_the_write_budget() -> None:
    """The public endpoints that write (hallserver/limits.py `public_class`), the phone page's own ones
    included: a new one that is left out would be unbounded."""
    from hallserver.limits import WRITE, public_class

    for path in (
        "/api/bookings",
        "/api/bookings/AB12CD34/cancel",
        "/api/enroll",
        "/web/api/status/some-token-of-22-chars/contact",
        "/web/api/status/some-token-of-22-chars/rating",
    ):
        assert public_class("POST", path) == WRITE, path
