"""Which windows a station serves and who may log in there, as a manager changes them on a running hall:
re-approval with other windows (a clerk at a window the station loses is logged out at once), the approval's
refusals, a clerk's logout, and the roster (docs/api.md, Stations and People)."""

from __future__ import annotations

from typing import Any

from tests.fakes.live_server import PIN
from tests.server.conftest import Running


def stations(server: Running) -> dict[str, dict[str, Any]]:
    r = server.http.get("/api/stations", headers=server.manager())
    assert r.status_code == 200, r.text
    return {s["station_id"]: s for s in r.json()}


def login(server: Running, headers: dict[str, str], staff: str, window: int) -> Any:
    return server.http.post(
        "/api/counter/login", json={"staff": staff, "pin": PIN, "window": window}, headers=headers
    )


def audited(server: Running, action: str) -> list[tuple[Any, ...]]:
    return server.rows("SELECT target, detail FROM audit WHERE action = ?", (action,))


def test_reapproval_moves_a_station_and_logs_out_a_clerk_at_a_window_it_lost(server: Running) -> None:
    desk = server.station("desk")
    counter = server.station("counter", window=1)
    assert server.act(counter, "open").status_code == 200
    assert server.issue(desk).status_code == 201
    r = server.http.post(
        f"/api/stations/{counter.id}/approve", json={"windows": [2, 3]}, headers=server.manager()
    )
    assert r.status_code == 200, r.text
    assert (r.json()["windows"], r.json()["window"], r.json()["staff"]) == ([2, 3], 2, "")
    # At once: the clerk at window 1 is gone, the station may not act there any more.
    r = server.act(counter, "call-next")
    assert (r.status_code, r.json()["error"]) == (403, "window_not_approved")
    assert r.json()["detail"]["approved"] == [2, 3]
    assert login(server, counter.headers, "c1", 1).json()["error"] == "window_not_approved"
    assert login(server, counter.headers, "c2", 2).status_code == 200
    counter.window = 2
    assert server.act(counter, "open").status_code == 200
    assert server.act(counter, "call-next").status_code == 200
    assert [t for t, _d in audited(server, "set_station_windows")] == [counter.id]
    # Moving it within the windows it keeps leaves the clerk logged in.
    r = server.http.post(
        f"/api/stations/{counter.id}/approve", json={"windows": [2, 4]}, headers=server.manager()
    )
    assert (r.json()["staff"], r.json()["window"]) == ("c2", 2)
    assert stations(server)[counter.id]["windows"] == [2, 4]


def test_approval_refuses_an_unknown_window_or_station_and_a_revoked_station(server: Running) -> None:
    counter = server.station("counter", window=1)
    before = stations(server)[counter.id]
    r = server.http.post(f"/api/stations/{counter.id}/approve", json={"window": 99}, headers=server.manager())
    assert (r.status_code, r.json()["error"]) == (404, "unknown_window")
    r = server.http.post(
        "/api/stations/no-such-station/approve", json={"window": 1}, headers=server.manager()
    )
    assert r.status_code == 404
    assert stations(server)[counter.id] == before
    r = server.http.post(f"/api/stations/{counter.id}/revoke", headers=server.manager())
    assert (r.status_code, r.json()["state"]) == (200, "revoked")
    r = server.http.post(f"/api/stations/{counter.id}/approve", json={"window": 1}, headers=server.manager())
    assert (r.status_code, r.json()["error"]) == (409, "wrong_state")
    assert stations(server)[counter.id]["state"] == "revoked"
    assert server.act(counter, "open").status_code == 401  # its token went with the revocation


def test_a_clerk_logs_out_and_the_counter_acts_no_more(server: Running) -> None:
    counter = server.station("counter", window=1)
    assert server.act(counter, "open").status_code == 200
    r = server.http.post("/api/counter/logout", headers=counter.headers)
    assert (r.status_code, r.json()) == (200, {})
    r = server.act(counter, "pause", reason="会议")
    assert (r.status_code, r.json()["error"]) == (403, "not_logged_in_here")
    assert stations(server)[counter.id]["staff"] == ""
    assert [t for t, _d in audited(server, "clerk_logout")] == ["1"]
    assert login(server, counter.headers, "c1", 1).status_code == 200
    assert server.act(counter, "pause", reason="会议").status_code == 200


def test_the_roster_decides_who_logs_in_at_a_window(server: Running) -> None:
    counter = server.station("counter", window=3, login=False)
    manager = server.manager()
    r = server.http.put("/api/roster/99", json={"staff": ["c3"]}, headers=manager)
    assert (r.status_code, r.json()["error"]) == (404, "unknown_window")
    r = server.http.put("/api/roster/3", json={"staff": ["c3", "nobody"]}, headers=manager)
    assert (r.status_code, r.json()["error"]) == (404, "unknown_staff")
    assert "nobody" in r.json()["message_en"]
    assert server.rows("SELECT COUNT(*) FROM roster") == [(0,)]  # nothing of the refused list kept
    r = server.http.put("/api/roster/3", json={"staff": ["c3", "c3"]}, headers=manager)
    assert (r.status_code, r.json()) == (200, {"window": 3, "staff": ["c3"]})
    r = login(server, counter.headers, "c4", 3)
    assert (r.status_code, r.json()["error"]) == (403, "not_on_roster")
    assert r.json()["detail"]["roster"] == ["c3"]
    assert login(server, counter.headers, "c3", 3).status_code == 200
    # An empty roster opens the window to any active clerk again.
    assert server.http.put("/api/roster/3", json={"staff": []}, headers=manager).status_code == 200
    assert login(server, counter.headers, "c4", 3).status_code == 200
    r = login(server, counter.headers, "c4", 99)
    assert (r.status_code, r.json()["error"]) == (404, "unknown_window")
