"""The admin page's forms against a real server (hallserver/web/admin.py): a disabled clerk is logged out of
every counter at once, each refused form answers a page that says what to fix and changes nothing, and the
page's station and A/B岗 forms act through the same API rules as the stations do. `c` is the manager's
logged-in client (tests/server/conftest.py)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.fakes.live_server import PIN, LiveServer
from tests.server.web_helpers import csrf_of


def post(c: httpx.Client, path: str, **data: str) -> httpx.Response:
    return c.post(path, data={**data, "csrf": csrf_of(c, "/web/admin")})


def refused(r: httpx.Response, status: int, says: str) -> None:
    """A form's refusal: the status of the API's refusal and a page saying it, with the way back."""
    assert r.status_code == status, r.text
    assert r.headers["content-type"].startswith("text/html")
    assert 'role="alert"' in r.text
    assert says in r.text
    assert 'href="/web/admin"' in r.text


def counter_act(hall: LiveServer, action: str) -> httpx.Response:
    return hall.act(hall.counter, action)


def test_disabling_a_clerk_logs_them_out_of_every_counter_at_once(hall: LiveServer, c: httpx.Client) -> None:
    hall.login_counter()
    staff = hall.counter.staff
    assert counter_act(hall, "open").status_code == 200
    assert post(c, f"/web/admin/clerks/{staff}/active", active="0").status_code == 303
    r = counter_act(hall, "call-next")
    assert (r.status_code, r.json()["error"]) == (403, "not_logged_in_here")
    login = {"staff": staff, "pin": PIN, "window": hall.counter.window}
    r = hall.http.post("/api/counter/login", json=login, headers=hall.counter.headers)
    assert r.status_code == 401  # a disabled clerk cannot log in again
    assert post(c, f"/web/admin/clerks/{staff}/active", active="1").status_code == 303
    hall.login_counter()
    actions = hall.query("SELECT action, target FROM audit WHERE action IN ('disable_clerk', 'enable_clerk')")
    assert actions == [("disable_clerk", staff), ("enable_clerk", staff)]


def test_refused_forms_say_what_to_fix_and_change_nothing(hall: LiveServer, c: httpx.Client) -> None:
    before = hall.query("SELECT code, name, pin_hash, active FROM staff ORDER BY code")
    refused(post(c, "/web/admin/clerks", code="c1", name="重名", pin="580314"), 409, "工号 c1 已存在")
    refused(post(c, "/web/admin/clerks", code="x9", name="新人", pin="111111"), 422, "PIN 过于简单")
    refused(post(c, "/web/admin/clerks/nobody/active", active="0"), 404, "没有工作人员 nobody")
    refused(post(c, "/web/admin/clerks/nobody/pin", pin="580314"), 404, "没有工作人员 nobody")
    refused(post(c, "/web/admin/windows/1/swap", partner="2"), 404, "没有这个操作")
    refused(post(c, f"/web/admin/stations/{hall.counter.id}/rename"), 404, "没有这个操作")
    refused(post(c, "/web/admin/managers/nobody/active", active="0"), 404, "nobody")
    # The last active manager cannot switch themselves off from the page either.
    refused(post(c, "/web/admin/managers/boss/active", active="0"), 409, "最后一个")
    assert hall.query("SELECT code, name, pin_hash, active FROM staff ORDER BY code") == before
    assert hall.query("SELECT active FROM managers WHERE username = 'boss'") == [(1,)]


def test_the_page_approves_moves_and_revokes_a_station(hall: LiveServer, c: httpx.Client) -> None:
    e = hall.enroll("counter", "三号柜台")
    sid = e["station_id"]
    assert post(c, f"/web/admin/stations/{sid}/approve", window="3，4").status_code == 303
    station = station_of(hall, sid)
    assert (station["state"], station["windows"]) == ("approved", [3, 4])
    refused(post(c, f"/web/admin/stations/{sid}/approve", window="99"), 404, "99")
    assert station_of(hall, sid)["windows"] == [3, 4]
    assert post(c, f"/web/admin/stations/{sid}/revoke").status_code == 303
    assert station_of(hall, sid)["state"] == "revoked"
    refused(post(c, f"/web/admin/stations/{sid}/approve", window="3"), 409, "revoked")


def station_of(hall: LiveServer, sid: str) -> dict[str, Any]:
    r = hall.http.get("/api/stations", headers=hall.manager_headers())
    (found,) = [s for s in r.json() if s["station_id"] == sid]
    return dict(found)


def test_the_page_covers_a_window_for_its_partner_and_ends_it(hall: LiveServer, c: httpx.Client) -> None:
    # Window 1's counter is logged in and open; window 2 (its A/B岗 partner) is covered by it from the page.
    hall.login_counter()
    assert counter_act(hall, "open").status_code == 200
    assert post(c, "/web/admin/windows/1/takeover", partner="2").status_code == 303
    assert "end-takeover" in c.get("/web/admin").text
    windows = hall.http.get("/api/snapshot", headers=hall.manager_headers()).json()["windows"]
    (one,) = [w for w in windows if w["number"] == 1]
    assert 2 in one["taken_over"]
    refused(post(c, "/web/admin/windows/1/takeover", partner="2"), 409, "1 号窗口已接管 2 号窗口")
    assert post(c, "/web/admin/windows/1/end-takeover", partner="2").status_code == 303
    assert "end-takeover" not in c.get("/web/admin").text
