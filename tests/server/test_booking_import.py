"""Bookings from outside through the real server (docs/integrations.md "Bookings from outside"): a partner's
signed push is idempotent on its external id, the hall's own booking rules (slot capacity, `[persons]`
limits) hold for it as for a booking made on the hall's page, a partner's cancellation reaches the kiosk's
check-in, and a cancellation at the hall is reported back to the partner through the outbox."""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
from collections.abc import Iterator

import pytest

from hallclient.errors import Refusal
from hallclient.http import HttpHall
from hallcore.config import HallConfig, PartnerKey
from hallcore.idnumber import complete
from tests.fakes.live_server import MONDAY_9, wait_for
from tests.fakes.partner import (
    KEY_ID,
    NEW_KEY_ID,
    NEW_SECRET,
    SECRET,
    FakePartner,
    cancel,
    entry,
    person,
    push,
    secret_file,
    with_import,
)
from tests.server.conftest import Running, rid, start_server

PERSON = complete("11010119900307001")
OTHER = complete("11010119850512002")


@pytest.fixture
def hall(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path, partner: FakePartner
) -> Iterator[Running]:
    config = with_import(
        county, tmp_path, report_url=partner.report_url, list_url=partner.list_url, poll_s=3600
    )
    with start_server(tmp_path, config, seeded_db) as (_st, running):
        yield running


def test_a_push_books_once_and_a_repeat_gets_the_same_answer(hall: Running) -> None:
    now = hall.clock.now()
    r, _raw, _h = push(hall.http, now, entry("YW-1", PERSON, name="张三丰", phone="13800001111"))
    assert r.status_code == 201, r.text
    first = r.json()
    assert first["external_id"] == "YW-1"
    assert first["state"] == "booked"
    assert first["holder_masked"] != "张三丰"
    assert first["slot"] == "10:00:00"
    # The partner did not get the answer and sends again (a new nonce: a resend, not a replay).
    r2, _raw, _h = push(hall.http, now, entry("YW-1", PERSON, name="张三丰", phone="13800001111"))
    assert (r2.status_code, r2.json()) == (201, first)
    assert hall.count("SELECT COUNT(*) FROM bookings") == 1
    # The same id with other content is a conflict the sender can act on; nothing changes.
    r3, _raw, _h = push(hall.http, now, entry("YW-1", PERSON, slot="10:30"))
    assert r3.status_code == 409, r3.text
    body = r3.json()
    assert body["error"] == "external_id_conflict"
    assert body["detail"] == {"external_id": "YW-1", "code": first["code"]}
    assert "取消" in body["message"]
    assert "cancel" in body["message_en"]
    assert hall.count("SELECT COUNT(*) FROM bookings") == 1
    # The hall keeps the last 4 of the ID number, never the number; the phone for the booking page.
    assert (
        hall.count(
            "SELECT COUNT(*) FROM bookings WHERE id_last4 = ? AND phone = ?", (PERSON[-4:], "13800001111")
        )
        == 1
    )
    assert hall.count("SELECT COUNT(*) FROM booking_imports WHERE fingerprint LIKE ?", (f"%{PERSON}%",)) == 0


def test_capacity_and_person_limits_are_the_halls_own(hall: Running) -> None:
    now = hall.clock.now()
    quota = hall.config.booking.default_quota
    # The hall's own page takes the slot's first place; the partner fills the rest.
    r = hall.book("2026-11-24", "10:00", person(0))
    assert r.status_code == 201, r.text
    for i in range(1, quota):
        r, _raw, _h = push(hall.http, now, entry(f"CAP-{i}", person(i)))
        assert r.status_code == 201, r.text
    r, _raw, _h = push(hall.http, now, entry("CAP-full", person(9)))
    assert r.status_code == 409, r.text
    body = r.json()
    assert body["error"] == "slot_full"
    assert body["message"] == "该时段已约满"
    assert "10:00" not in body["detail"]["free_slots"]
    assert "10:30" in body["detail"]["free_slots"]
    # Refused: not bound, so the same id may be pushed again for a slot with places.
    r, _raw, _h = push(hall.http, now, entry("CAP-full", person(9), slot="10:30"))
    assert r.status_code == 201, r.text
    # Per person: bookings_per_day counts the hall's page and the partner's pushes together.
    per_day = hall.config.persons.bookings_per_day
    r = hall.book("2026-11-25", "09:00", OTHER)
    assert r.status_code == 201, r.text
    for i in range(1, per_day):
        r, _raw, _h = push(hall.http, now, entry(f"PL-{i}", OTHER, day="2026-11-25", slot=f"1{i}:00"))
        assert r.status_code == 201, r.text
    r, _raw, _h = push(hall.http, now, entry("PL-over", OTHER, day="2026-11-25", slot="15:00"))
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "person_limit"
    assert "每人每天最多预约" in r.json()["message"]
    # Bad input is refused naming the field, never echoing the ID number.
    r, _raw, _h = push(
        hall.http, now, entry("BAD-1", PERSON[:-1] + "0" if PERSON[-1] != "0" else PERSON[:-1] + "1")
    )
    assert r.status_code == 422
    assert r.json()["detail"]["errors"][0]["field"] == "id_number"
    assert PERSON[:10] not in r.text


def test_a_partner_cancellation_reaches_the_kiosk(hall: Running) -> None:
    now = hall.clock.now()
    r, _raw, _h = push(hall.http, now, entry("YW-K", PERSON, day="2026-11-23", slot="09:30"))
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    kiosk = hall.station("kiosk")

    async def at_the_kiosk() -> tuple[int, Refusal]:
        async with HttpHall(hall.url, kiosk.token, retries=0) as api:
            found = await api.person_today(PERSON)
            before = len(found.bookings)
            c = cancel(hall.http, now, "YW-K")
            assert (c.status_code, c.json()["state"]) == (200, "cancelled"), c.text
            after = await api.person_today(PERSON)
            assert not after.bookings  # the card read finds no booking to check in any more
            with pytest.raises(Refusal) as refused:
                await api.check_in(code, request_id=rid())
            return before, refused.value

    before, refusal = asyncio.run(at_the_kiosk())
    assert before == 1
    assert refusal.code == "booking_state"
    assert refusal.message == "该预约已取消"
    # Cancelling again answers the same state; the partner's own cancellation is not reported back to it.
    again = cancel(hall.http, now, "YW-K")
    assert again.status_code == 200
    assert again.json()["state"] == "cancelled"
    assert hall.count("SELECT COUNT(*) FROM outbox WHERE kind = 'booking_cancel'") == 0
    assert cancel(hall.http, now, "NOPE").json()["error"] == "unknown_booking"


def test_a_cancellation_at_the_hall_is_reported_to_the_partner(hall: Running, partner: FakePartner) -> None:
    now = hall.clock.now()
    r, _raw, _h = push(hall.http, now, entry("YW-R", PERSON))
    code = r.json()["code"]
    partner.mode = "down"  # the partner is unreachable first: the report waits in the outbox
    c = hall.http.post(f"/api/bookings/{code}/cancel", json={"request_id": rid()})
    assert c.status_code == 200, c.text
    wait_for(lambda: 503 in partner.answers, 30, "a first report attempt")
    assert hall.count("SELECT COUNT(*) FROM outbox WHERE kind = 'booking_cancel' AND sent_at IS NULL") == 1
    partner.mode = "ok"
    wait_for(lambda: bool(partner.reports), 30, "the cancellation reported")
    report = partner.reports[0]
    assert report["external_id"] == "YW-R"
    assert report["code"] == code
    assert report["state"] == "cancelled"
    assert partner.bad == []  # signed with the partner's key, verified by the partner
    wait_for(
        lambda: (
            hall.count("SELECT COUNT(*) FROM outbox WHERE kind = 'booking_cancel' AND sent_at IS NOT NULL")
            == 1
        ),
        30,
        "the report marked sent",
    )
    # The partner learns of it once; its own push of that id answers the booking as first made.
    assert len(partner.reports) == 1
    # The manager's view: the key in use, the report sent, nothing of the person.
    st = hall.http.get("/api/import/status", headers=hall.manager())
    assert st.status_code == 200, st.text
    (p,) = st.json()["partners"]
    assert (p["id"], p["signs_with"], p["imported"]) == ("ywtb", KEY_ID, 1)
    assert (p["reports_pending"], p["reports_dead"], p["reports_sent"]) == (0, 0, 1)
    assert p["keys"] == [{"id": KEY_ID, "valid_until": None, "taken": True, "usable": True, "problem": ""}]
    assert PERSON not in st.text
    assert SECRET.decode() not in st.text
    kiosk = hall.station("kiosk")
    assert hall.http.get("/api/import/status", headers=kiosk.headers).status_code == 403


def test_rotation_two_keys_then_the_old_one_retired(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    keys = (
        PartnerKey(KEY_ID, secret_file(tmp_path, KEY_ID, SECRET), valid_until=MONDAY_9.date()),
        PartnerKey(NEW_KEY_ID, secret_file(tmp_path, NEW_KEY_ID, NEW_SECRET)),
    )
    with start_server(tmp_path, with_import(county, tmp_path, keys=keys), seeded_db) as (_st, hall):
        now = hall.clock.now()
        old, _raw, _h = push(hall.http, now, entry("ROT-1", PERSON))
        new, _raw, _h = push(hall.http, now, entry("ROT-2", OTHER), key_id=NEW_KEY_ID, secret=NEW_SECRET)
        assert (old.status_code, new.status_code) == (201, 201), (old.text, new.text)
        hall.clock.set(now + dt.timedelta(days=1))
        later = hall.clock.now()
        old, _raw, _h = push(hall.http, later, entry("ROT-3", person(3)))
        assert (old.status_code, old.json()["error"]) == (401, "key_retired"), old.text
        new, _raw, _h = push(
            hall.http, later, entry("ROT-4", person(4)), key_id=NEW_KEY_ID, secret=NEW_SECRET
        )
        assert new.status_code == 201, new.text
        (p,) = hall.http.get("/api/import/status", headers=hall.manager()).json()["partners"]
        assert p["signs_with"] == NEW_KEY_ID
        assert [(k["id"], k["taken"]) for k in p["keys"]] == [(KEY_ID, False), (NEW_KEY_ID, True)]


def test_each_partner_has_its_own_budget(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    config = with_import(county, tmp_path, rate_per_s=0.01, burst=3)
    with start_server(tmp_path, config, seeded_db) as (_st, hall):
        now = hall.clock.now()
        answers = [push(hall.http, now, entry(f"RL-{i}", person(i)))[0] for i in range(4)]
        assert [a.status_code for a in answers] == [201, 201, 201, 429], answers[-1].text
        assert answers[-1].json()["error"] == "too_many_requests"
        assert "Retry-After" in answers[-1].headers
        # Unsigned requests do not spend the partner's budget: after 100 s (1 token) it pushes again.
        for _ in range(5):
            assert push(hall.http, now, entry("RL-x", person(8)), secret=b"wrong")[0].status_code == 401
        hall.clock.advance(100)
        assert push(hall.http, hall.clock.now(), entry("RL-5", person(5)))[0].status_code == 201


def test_the_purge_forgets_what_an_import_kept_of_the_person(hall: Running) -> None:
    r, _raw, _h = push(hall.http, hall.clock.now(), entry("PG-1", PERSON, name="张三丰"))
    assert r.status_code == 201, r.text
    masked = r.json()["holder_masked"]
    assert hall.count("SELECT COUNT(*) FROM booking_imports WHERE instr(body, ?) > 0", (masked,)) == 1
    hall.clock.advance((hall.config.privacy.retention_days + 2) * 86400)
    loop = hall.hall.store.loop
    assert loop is not None
    asyncio.run_coroutine_threadsafe(hall.hall.purge(), loop).result(60)
    assert hall.count("SELECT COUNT(*) FROM booking_imports WHERE instr(body, ?) > 0", (masked,)) == 0
    assert (
        hall.count("SELECT COUNT(*) FROM booking_imports WHERE fingerprint = '' AND external_id = 'PG-1'")
        == 1
    )


def test_a_secret_others_could_read_is_not_used(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    path = secret_file(tmp_path, KEY_ID, SECRET)
    pathlib.Path(path).chmod(0o644)
    config = with_import(county, tmp_path, keys=(PartnerKey(KEY_ID, path),))
    with start_server(tmp_path, config, seeded_db) as (_st, hall):
        r, _raw, _h = push(hall.http, hall.clock.now(), entry("LEAK-1", PERSON))
        assert (r.status_code, r.json()["error"]) == (401, "unknown_key"), r.text
        (p,) = hall.http.get("/api/import/status", headers=hall.manager()).json()["partners"]
        (k,) = p["keys"]
        assert not k["usable"]
        assert f"chmod 600 {path}" in k["problem"]
        assert SECRET.decode() not in k["problem"]
