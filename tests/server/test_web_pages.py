"""The web pages over HTTP against a real server: login cookie and CSRF, the fixture day's statistics on the
page and in the CSV and XLSX exports, 差评 follow-up, call-back phone masking and purge, booking pages."""

from __future__ import annotations

import csv
import datetime as dt
import io
import re

import httpx
from openpyxl import load_workbook

from tests.fakes.live_server import HJ01_PASSES, MONDAY_9, LiveServer, live_server
from tests.server.web_helpers import (
    WAIT_COLUMNS,
    Expected,
    FixtureDay,
    build_fixture_day,
    csrf_of,
    http_login,
)


def _text(html: str, id_: str) -> str:
    m = re.search(rf'id="{re.escape(id_)}"[^>]*>([^<]*)<', html)
    assert m is not None, f"no #{id_} on the page"
    return m.group(1)


def test_login_cookie_is_httponly_and_strict(hall: LiveServer, c: httpx.Client) -> None:
    cookie = next(h for h in c.get("/web/dashboard").request.headers.get_list("cookie"))
    assert "hallq_session=" in cookie
    # The Set-Cookie of the login, again, to read its attributes.
    with httpx.Client(base_url=hall.url) as fresh:
        r = fresh.get("/web/login")
        token = re.search(r'name="csrf" value="([^"]+)"', r.text)
        assert token is not None
        r = fresh.post(
            "/web/login",
            data={"csrf": token.group(1), "username": "boss", "password": "correct horse battery"},
        )
    set_cookie = r.headers["set-cookie"].lower()
    assert "hallq_session=" in set_cookie
    assert "httponly" in set_cookie
    assert "samesite=strict" in set_cookie


def test_pages_need_a_login(hall: LiveServer) -> None:
    r = httpx.get(f"{hall.url}/web/dashboard")
    assert r.status_code == 303
    assert r.headers["location"] == "/web/login"
    assert httpx.get(f"{hall.url}/web/api/dashboard").status_code == 401
    assert httpx.get(f"{hall.url}/web/stats.csv").status_code == 303


def test_login_form_needs_its_csrf_token(hall: LiveServer) -> None:
    r = httpx.post(f"{hall.url}/web/login", data={"username": "boss", "password": "correct horse battery"})
    assert r.status_code == 303
    assert "error=" in r.headers["location"]


def test_posts_without_csrf_are_refused(hall: LiveServer, c: httpx.Client) -> None:
    r = c.post("/web/admin/clerks", data={"code": "x1", "name": "X", "pin": "1234"})
    assert r.status_code == 403
    r = c.post("/web/admin/clerks", data={"code": "x1", "name": "X", "pin": "1234", "csrf": "wrong"})
    assert r.status_code == 403
    assert hall.count("SELECT COUNT(*) FROM staff WHERE code = 'x1'") == 0


def test_admin_adds_disables_and_resets_a_clerk(hall: LiveServer, c: httpx.Client) -> None:
    csrf = csrf_of(c, "/web/admin")
    assert (
        c.post(
            "/web/admin/clerks", data={"code": "x1", "name": "新人", "pin": "580314", "csrf": csrf}
        ).status_code
        == 303
    )
    assert hall.count("SELECT active FROM staff WHERE code = 'x1'") == 1
    assert c.post("/web/admin/clerks/x1/active", data={"active": "0", "csrf": csrf}).status_code == 303
    assert hall.count("SELECT active FROM staff WHERE code = 'x1'") == 0
    before = hall.query("SELECT pin_hash FROM staff WHERE code = 'x1'")[0][0]
    assert c.post("/web/admin/clerks/x1/pin", data={"pin": "987650", "csrf": csrf}).status_code == 303
    assert hall.query("SELECT pin_hash FROM staff WHERE code = 'x1'")[0][0] != before
    assert c.post("/web/admin/roster/1", data={"staff": "c1 x1", "csrf": csrf}).status_code == 303
    assert hall.query("SELECT staff FROM roster WHERE window = 1 ORDER BY staff") == [("c1",), ("x1",)]
    assert (
        hall.count(
            "SELECT COUNT(*) FROM audit WHERE actor = 'manager:boss'"
            " AND action IN ('add_clerk','disable_clerk','reset_pin')"
        )
        == 3
    )


def test_dashboard_approves_an_enrollment(hall: LiveServer, c: httpx.Client) -> None:
    e = hall.enroll("kiosk", "新取号机")
    d = c.get("/web/api/dashboard").json()
    assert [p["code"] for p in d["pending"]] == [e["code"]]
    r = c.post(f"/web/api/stations/{e['station_id']}/approve", json={}, headers={"X-CSRF-Token": csrf_of(c)})
    assert r.status_code == 200, r.text
    assert c.get("/web/api/dashboard").json()["pending"] == []


def test_fixture_day_statistics_page_and_exports(hall: LiveServer, c: httpx.Client) -> None:
    build_fixture_day(hall)
    want = Expected()
    html = c.get("/web/stats", params={"period": "day", "date": "2026-11-23"}).text
    assert _text(html, "total-tickets") == str(want.tickets)
    assert _text(html, "total-wait-mean") == want.wait_mean
    assert _text(html, "total-wait-p50") == want.wait_p50
    assert _text(html, "total-wait-p90") == want.wait_p90
    assert _text(html, "total-wait-max") == want.wait_max
    assert _text(html, "total-within") == want.within
    assert _text(html, "total-handle") == want.handle
    assert _text(html, "total-rated") == str(want.rated)
    assert _text(html, "total-satisfaction") == want.satisfaction
    assert _text(html, "total-participation") == want.participation
    assert _text(html, "precheck-pass") == str(want.precheck_pass)
    assert _text(html, "precheck-tolerated") == str(want.precheck_tolerated)
    assert _text(html, "precheck-fail") == str(want.precheck_fail)
    assert html.count("<svg") >= 5  # charts drawn on the server

    q = {"period": "day", "date": "2026-11-23", "by": "matter"}
    rows = list(csv.reader(io.StringIO(c.get("/web/stats.csv", params=q).content.decode("utf-8-sig"))))
    header = next(r for r in rows if r and r[0] == "key")
    total = rows[rows.index(header) + 1]
    got = dict(zip(header, total, strict=True))
    assert got["取号数"] == "12"
    assert got["平均等候(分)"] == "14.0"
    assert got["P50等候(分)"] == "12.0"
    assert got["P90等候(分)"] == "26.0"
    assert got["最长等候(分)"] == "30.0"
    assert got["满意率"] == "0.8"
    precheck = rows.index(["# 预审"])
    assert rows[precheck + 2 : precheck + 5] == [["通过", "10"], ["容缺", "2"], ["不通过", "2"]]

    wb = load_workbook(io.BytesIO(c.get("/web/stats.xlsx", params=q).content))
    ws = wb["按matter"]
    values = list(ws.iter_rows(values_only=True))
    x = dict(zip(values[1], values[2], strict=True))
    assert tuple(x[k] for k in WAIT_COLUMNS) == Expected().xlsx_waits()
    assert x["满意率"] == 0.8
    pre = {r[0]: r[1] for r in list(wb["预审"].iter_rows(values_only=True))[2:]}
    assert pre == {"通过": 10, "容缺": 2, "不通过": 2}


def test_statistics_by_hour_and_window(hall: LiveServer, c: httpx.Client) -> None:
    build_fixture_day(hall)
    for by in ("series", "window", "clerk", "hour"):
        r = c.get("/web/stats", params={"period": "week", "date": "2026-11-23", "by": by})
        assert r.status_code == 200, r.text
    html = c.get("/web/stats", params={"period": "day", "date": "2026-11-23", "by": "hour"}).text
    # All twelve were taken at 09:00 hall time.
    assert re.search(r"<td>9</td><td>09:00</td><td>12</td>", html), html[:2000]


def test_bad_rating_becomes_a_case_followed_up_and_closed(hall: LiveServer, c: httpx.Client) -> None:
    day: FixtureDay = build_fixture_day(hall)
    html = c.get("/web/cases").text
    assert html.count('class="inline step"') == Expected().cases
    bad = day.ticket_ids[8]  # rated 1
    label = day.labels[8]
    # The rater leaves a phone number with consent on the phone page: masked on screen.
    r = httpx.post(
        f"{hall.url}/web/api/status/{day.tokens[8]}/contact", json={"phone": "13812345678", "consent": False}
    )
    assert r.status_code == 422
    r = httpx.post(
        f"{hall.url}/web/api/status/{day.tokens[8]}/contact", json={"phone": "13812345678", "consent": True}
    )
    assert r.status_code == 200
    assert r.json()["phone"] == "138****5678"
    html = c.get("/web/cases").text
    assert "138****5678" in html
    assert "13812345678" not in html
    csrf = csrf_of(c, "/web/cases")
    case = f"C-{bad}"
    for action, note in (("callback", "已电话回访"), ("resolve", "已说明办理要求"), ("close", "群众认可")):
        r = c.post(f"/web/cases/{case}/step", data={"action": action, "note": note, "csrf": csrf})
        assert r.status_code == 303, r.text
    assert hall.query("SELECT state FROM cases WHERE id = ?", (case,)) == [("closed",)]
    # Out of order is refused by the engine.
    r = c.post(f"/web/cases/{case}/step", data={"action": "close", "note": "again", "csrf": csrf})
    assert r.status_code == 409
    html = c.get("/web/stats", params={"period": "day", "date": "2026-11-23"}).text
    assert _text(html, "case-callback") == "100.0%"
    assert _text(html, "case-on-time") == "100.0%"
    assert label in c.get("/web/cases").text


def test_overdue_case_is_highlighted_and_phone_purged() -> None:
    with live_server() as hall:
        day = build_fixture_day(hall)
        httpx.post(
            f"{hall.url}/web/api/status/{day.tokens[7]}/contact",
            json={"phone": "13900001111", "consent": True},
        )
        # Six working days later (deadline 5 working days): the open cases are overdue.
        hall.clock.set(MONDAY_9 + dt.timedelta(days=9))
        c = http_login(hall.url)
        html = c.get("/web/cases").text
        c.close()
        assert html.count('class="overdue"') == 2
        assert "超期" in html
        n = hall.count("SELECT COUNT(*) FROM case_contacts")
        assert n == 1
        hall.clock.set(MONDAY_9 + dt.timedelta(days=hall.config.privacy.retention_days + 1))
        import asyncio

        # The one purge (hallserver/purge.py) takes the call-back numbers with the rest.
        fut = asyncio.run_coroutine_threadsafe(hall.hall.purge(), hall.hall.store.loop)  # type: ignore[arg-type]
        assert fut.result(10)["case_contacts"] == 1
        assert hall.count("SELECT COUNT(*) FROM case_contacts") == 0


def test_booking_pages_and_checkin(hall: LiveServer) -> None:
    html = httpx.get(f"{hall.url}/book").text
    assert "周六预约日" in html  # the Saturday 5+1 day is offered
    code = hall.book("HJ01", dt.date(2026, 11, 23), dt.time(9, 30))
    page = httpx.get(f"{hall.url}/book/{code}").text
    assert code in page
    assert "<svg" in page  # the code and its QR for the kiosk
    r = hall.post(
        hall.kiosk,
        f"/api/bookings/{code}/checkin",
        **HJ01_PASSES,
    )
    assert r.status_code == 201, r.text
    assert r.json()["ticket"]["source"] == "booking"


def test_phone_page_is_public_and_says_why_ahead_grew(hall: LiveServer) -> None:
    hall.login_counter()
    r = hall.post(
        hall.kiosk,
        "/api/tickets",
        matter="HJ01",
        **HJ01_PASSES,
    )
    mine = r.json()
    hall.post(hall.kiosk, f"/api/tickets/{mine['ticket']['id']}/printed")
    assert httpx.get(f"{hall.url}/s/{mine['token']}").status_code == 200
    desk = hall.station("desk", "desk")
    hall.clock.advance(60)
    r = hall.post(desk, "/api/tickets", matter="HJ01", priority="elderly")
    assert r.status_code == 201, r.text
    s = httpx.get(f"{hall.url}/web/api/status/{mine['token']}").json()
    assert s["ahead"] == 1
    assert s["ahead_reasons"]["priority"] == 1
    assert httpx.get(f"{hall.url}/web/api/status/short").status_code == 404
