"""Logins that hold under concurrency and that a neighbour cannot lock (issue 16, "Logins").

Findings: the limit was checked before the argon2 verify and the failure recorded after it, so 20 concurrent
wrong passwords or PINs were all evaluated; five bad tries from anywhere locked the manager's name and the
address for everyone for five minutes; PINs could be 4 digits.
"""

from __future__ import annotations

import sqlite3

import pytest

from hallserver import admin
from tests.fakes.live_server import MANAGER, PIN, set_old_pin
from tests.security.conftest import NEIGHBOUR, Call, at_once, client_from
from tests.server.conftest import Running
from tests.server.web_helpers import csrf_of, http_login

#: Free attempts per (account, address) before the delays start (hallserver/throttle.py PAIR.free).
FREE = 5


def audit_count(server: Running, action: str) -> int:
    return server.count("SELECT COUNT(*) FROM audit WHERE action = ?", (action,))


def test_twenty_concurrent_wrong_passwords_evaluate_at_most_the_limit(server: Running) -> None:
    wrong: list[Call] = [
        ("POST", "/api/manager/login", {"username": MANAGER[0], "password": f"guess {i}"}, {})
        for i in range(20)
    ]
    replies = at_once(server, wrong)
    statuses = sorted(r.status_code for r in replies)
    assert statuses.count(401) == FREE, statuses
    assert statuses.count(429) == 20 - FREE, statuses
    assert audit_count(server, "login_failed") == FREE  # the evaluated ones, each audited
    refused = next(r for r in replies if r.status_code == 429)
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.json()["error"] == "too_many_attempts"


def test_twenty_concurrent_wrong_pins_evaluate_at_most_the_limit(server: Running) -> None:
    counter = server.station("counter", window=1, login=False)
    wrong: list[Call] = [
        (
            "POST",
            "/api/counter/login",
            {"staff": "c1", "pin": f"{900000 + i * 7}", "window": 1},
            counter.headers,
        )
        for i in range(20)
    ]
    statuses = sorted(r.status_code for r in at_once(server, wrong))
    assert statuses.count(401) == FREE, statuses
    assert statuses.count(429) == 20 - FREE, statuses


def test_a_neighbour_hammering_the_managers_name_does_not_lock_the_manager_out(server: Running) -> None:
    with client_from(server, NEIGHBOUR) as neighbour:
        got = [
            neighbour.post(
                "/api/manager/login", json={"username": MANAGER[0], "password": f"x{i}"}
            ).status_code
            for i in range(30)
        ]
        assert got[:FREE] == [401] * FREE, got
        assert set(got[FREE:]) == {429}, got
        # The manager, at their own desk, logs in at once: through the API and through the login page.
        r = server.http.post("/api/manager/login", json={"username": MANAGER[0], "password": MANAGER[1]})
        assert r.status_code == 200, r.text
        http_login(server.url).close()
        # Growing delays, not a fixed lockout: the neighbour, waiting as told (`Retry-After`: the address's
        # request budget or the login delay, whichever answers), gets one more evaluated try after 1 s, then
        # after 2 s, 4 s, 8 s.
        gaps = []
        for _ in range(4):
            waited = 0
            while True:
                r = neighbour.post("/api/manager/login", json={"username": MANAGER[0], "password": "again"})
                if r.status_code != 429:
                    break
                wait = int(r.headers["Retry-After"])
                server.clock.advance(wait)
                waited += wait
            assert r.status_code == 401, r.text
            gaps.append(waited)
        assert gaps == [1, 2, 4, 8], gaps


def test_a_neighbour_guessing_a_clerks_pin_does_not_keep_the_clerk_out(server: Running) -> None:
    mine = server.station("counter", window=1, login=False)
    theirs = server.station("counter", window=1, login=False)
    with client_from(server, NEIGHBOUR) as neighbour:
        for i in range(25):
            neighbour.post(
                "/api/counter/login",
                json={"staff": "c1", "pin": f"{700000 + i}", "window": 1},
                headers=theirs.headers,
            )
    r = server.http.post(
        "/api/counter/login", json={"staff": "c1", "pin": PIN, "window": 1}, headers=mine.headers
    )
    assert r.status_code == 200, r.text


def test_spraying_pins_over_many_staff_codes_from_one_address_slows_down(server: Running) -> None:
    counter = server.station("counter", window=1, login=False)
    statuses = [
        server.http.post(
            "/api/counter/login",
            json={"staff": f"c{1 + i % 8}", "pin": f"{800000 + i}", "window": 1},
            headers=counter.headers,
        ).status_code
        for i in range(40)
    ]
    # Five a name (8 names: 40 would all be tried), but 30 an address: the rest wait.
    assert statuses.count(401) == 30, statuses
    assert statuses.count(429) == 10, statuses


def test_a_short_pin_must_be_changed_at_the_next_login(server: Running) -> None:
    set_old_pin(server.db, "c2", "2468")
    counter = server.station("counter", window=2, login=False)

    def login(**body: object) -> dict[str, object]:
        r = server.http.post(
            "/api/counter/login", json={"staff": "c2", "window": 2, **body}, headers=counter.headers
        )
        return {"status": r.status_code, **r.json()}

    first = login(pin="2468")
    assert first["status"] == 403, first
    assert first["error"] == "pin_change_required", first
    assert server.count("SELECT COUNT(*) FROM stations WHERE staff = 'c2'") == 0  # not logged in
    for weak in ("123456", "111111", "121212", "2468", "13579135"):
        bad = login(pin="2468", new_pin=weak)
        assert bad["status"] == 422, (weak, bad)
        assert bad["error"] == "weak_pin", (weak, bad)
        assert "new_pin" in str(bad["detail"])
    done = login(pin="2468", new_pin="580314")
    assert done["status"] == 200, done
    assert login(pin="2468")["status"] == 401  # the old PIN is gone
    assert login(pin="580314")["status"] == 200
    assert server.count("SELECT COUNT(*) FROM audit WHERE action = 'change_pin' AND target = 'c2'") == 1


def test_new_pins_and_passwords_follow_the_rules(server: Running) -> None:
    for weak in ("1234", "123456", "654321", "000000", "135791", "121212", "12a456"):
        with pytest.raises(admin.AdminError):
            admin.add_clerk(server.db, "x9", "新人", weak)
        with pytest.raises(admin.AdminError):
            admin.reset_pin(server.db, "c1", weak)
    admin.add_clerk(server.db, "x9", "新人", "580314")
    for user, weak in (
        ("deputy", "short1"),  # too short
        ("deputy", "onlyletterslong"),  # one kind of character
        ("deputy", "deputy-2026-x"),  # contains the name
        ("deputy", "password123"),  # well known
        ("deputy", "ababababab"),
    ):
        with pytest.raises(admin.AdminError):
            admin.create_manager(server.db, user, weak)
    admin.create_manager(server.db, "deputy", "river stone 42")
    # The manager pages refuse a weak PIN too, naming the field (422, never a 500).
    web = http_login(server.url)
    try:
        csrf = csrf_of(web, "/web/admin")
        r = web.post("/web/admin/clerks", data={"code": "x10", "name": "X", "pin": "1234", "csrf": csrf})
        assert r.status_code == 422, r.text
        assert "pin" in r.text
        r = web.post("/web/admin/clerks/c1/pin", data={"pin": "111111", "csrf": csrf})
        assert r.status_code == 422, r.text
        assert "pin" in r.text
    finally:
        web.close()
    assert server.count("SELECT COUNT(*) FROM staff WHERE code = 'x10'") == 0


def test_a_login_moves_an_older_costlier_hash_to_the_current_parameters(server: Running) -> None:
    """Every attempt on an account is verified at its stored hash's cost: hashes made with argon2-cffi's
    default (64 MiB, 3 passes) move to the current parameters at the account's next good login."""
    from argon2 import PasswordHasher

    old = PasswordHasher()  # what hallq used before (and what older halls' databases hold)
    conn = sqlite3.connect(str(server.db))
    try:
        with conn:
            conn.execute(
                "UPDATE managers SET password_hash = ? WHERE username = ?", (old.hash(MANAGER[1]), MANAGER[0])
            )
            conn.execute("UPDATE staff SET pin_hash = ? WHERE code = 'c3'", (old.hash(PIN),))
    finally:
        conn.close()

    def params(sql: str) -> str:
        conn = sqlite3.connect(str(server.db))
        try:
            return str(conn.execute(sql).fetchone()[0]).split("$")[3]
        finally:
            conn.close()

    assert params("SELECT password_hash FROM managers") == "m=65536,t=3,p=4"
    server.manager()
    assert params("SELECT password_hash FROM managers") == "m=19456,t=2,p=1"
    server.manager_token = ""
    server.manager()  # the new hash still takes the same password
    server.station("counter", window=3)  # logs c3 in
    assert params("SELECT pin_hash FROM staff WHERE code = 'c3'") == "m=19456,t=2,p=1"
    assert audit_count(server, "change_pin") == 0  # the same PIN: not a change
