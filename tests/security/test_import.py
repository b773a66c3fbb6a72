"""The booking import API against the hall LAN (docs/integrations.md "Bookings from outside", "Who may
call"): only a partner's key signs for it — a station's or a manager's token is not taken — and a neighbour
who captured a partner's request can neither replay it (before or after a server restart) nor change it."""

from __future__ import annotations

import datetime as dt
import json
import pathlib
import shutil

from hallcore.config import HallConfig
from hallcore.idnumber import complete
from tests.fakes.live_server import seeded_db
from tests.fakes.partner import PUSH, entry, push, signed, with_import
from tests.security.conftest import NEIGHBOUR, client_from
from tests.server.conftest import Running, start_server

PERSON = complete("11010119900307001")


def test_only_partners_may_call_and_a_captured_request_is_useless(
    tmp_path: pathlib.Path, county: HallConfig
) -> None:
    config = with_import(county, tmp_path)
    db = tmp_path / "hall.db"
    shutil.copy(seeded_db(), db)
    with start_server(tmp_path, config, seeded_db(), db=db) as (_st, hall):
        now = hall.clock.now()
        body = json.dumps(entry("SEC-1", PERSON)).encode()
        # Stations and staff: their tokens are not a partner's signature.
        kiosk = hall.station("kiosk")
        for headers in (kiosk.headers, hall.manager(), {}):
            r = hall.http.post(PUSH, content=body, headers={**headers, "Content-Type": "application/json"})
            assert (r.status_code, r.json()["error"]) == (401, "unsigned"), r.text
        # The partner's request, as a neighbour on the LAN captures it.
        r, raw, headers = push(hall.http, now, entry("SEC-1", PERSON))
        assert r.status_code == 201, r.text
        with client_from(hall, NEIGHBOUR) as neighbour:
            again = neighbour.post(PUSH, content=raw, headers=headers)
            assert (again.status_code, again.json()["error"]) == (409, "replayed"), again.text
            # Changed (another slot, another person) under the captured signature: refused.
            forged = raw.replace(b"10:00", b"11:00")
            r = neighbour.post(PUSH, content=forged, headers=headers)
            assert r.status_code == 401
            assert r.json()["error"] == "bad_signature"
            # A cancellation signed for one booking does not cancel another (the path is signed).
            path = f"{PUSH}/SEC-1/cancel"
            captured = signed(path, b"{}", now)
            r = neighbour.post(f"{PUSH}/SEC-2/cancel", content=b"{}", headers=captured)
            assert r.status_code == 401
            assert r.json()["error"] == "bad_signature"
            # A guessed key id without the secret, and a made-up secret: refused.
            r = neighbour.post(PUSH, content=raw, headers=signed(PUSH, raw, now, key_id="ywtb-guess"))
            assert r.json()["error"] == "unknown_key"
            r = neighbour.post(PUSH, content=raw, headers=signed(PUSH, raw, now, secret=b"guess"))
            assert r.json()["error"] == "bad_signature"
        assert hall.count("SELECT COUNT(*) FROM bookings") == 1
        # A refused request is not a blank cheque either: its replay is refused once a place is free.
        r, raw_full, headers_full = push(hall.http, now, entry("SEC-3", PERSON, day="2026-12-31"))
        assert r.json()["error"] == "too_far_ahead"
        hall.clock.advance(60)
    # After a restart (the nonce store is in the database) and within the window: still refused.
    with start_server(tmp_path, config, seeded_db(), db=db) as (_st, hall):
        hall.clock.advance(120)
        r = hall.http.post(PUSH, content=raw, headers=headers)
        assert (r.status_code, r.json()["error"]) == (409, "replayed"), r.text
        r = hall.http.post(PUSH, content=raw_full, headers=headers_full)
        assert r.json()["error"] == "replayed", r.text
        # Once the window is over, the timestamp refuses it (and the old nonce may be forgotten).
        hall.clock.advance(hall.config.booking_import.window_s)
        r = hall.http.post(PUSH, content=raw, headers=headers)
        assert (r.status_code, r.json()["error"]) == (401, "stale_request"), r.text
        assert r.json()["detail"] == {"window_s": 300}
        assert hall.count("SELECT COUNT(*) FROM bookings") == 1
        assert hall.clock.now() - now > dt.timedelta(seconds=300)


def test_a_neighbours_made_up_requests_are_bounded_and_spend_no_partner_budget(
    tmp_path: pathlib.Path, county: HallConfig
) -> None:
    from hallserver.limits import IMPORT, LIMITS

    with start_server(tmp_path, with_import(county, tmp_path, burst=5), seeded_db()) as (_st, hall):
        now = hall.clock.now()
        burst = int(LIMITS[IMPORT].per_address.burst)
        raw = json.dumps(entry("FLOOD", PERSON)).encode()
        with client_from(hall, NEIGHBOUR) as neighbour:
            answers = [
                neighbour.post(PUSH, content=raw, headers=signed(PUSH, raw, now, secret=b"guess")).status_code
                for _ in range(burst + 1)
            ]
        assert answers[:burst] == [401] * burst
        assert answers[-1] == 429
        # The partner, from its own address, pushes as before: its budget (burst 5) is untouched.
        for i in range(5):
            r, _raw, _h = push(
                hall.http, now, entry(f"OK-{i}", complete(f"11010119800101{i:03d}"), f"1{i}:00")
            )
            assert r.status_code == 201, r.text


def test_the_import_api_is_off_unless_enabled(server: Running) -> None:
    r, _raw, _h = push(server.http, server.clock.now(), entry("OFF-1", PERSON))
    assert (r.status_code, r.json()["error"]) == (404, "import_disabled")
