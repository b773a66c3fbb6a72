"""Inputs (issue 16, "Boundaries and inputs"): names and free text refuse control and format characters,
manager forms answer 422 naming the field, and what anyone types is shown as text on every page.

Findings: names and free text accepted NUL and U+202E (which turns "exe.txt" around on a screen); manager web
forms answered 500 with a traceback on bad input (6 cases).
"""

from __future__ import annotations

import re

import httpx

from tests.security.conftest import NEIGHBOUR, booking, client_from, person, rows
from tests.server.conftest import Running, rid
from tests.server.web_helpers import csrf_of, http_login

BAD_TEXT = {"NUL": "张\x00三", "RLO": "张\u202etxt.exe", "ZWJ": "张\u200d三", "ESC": "\x1b[2J"}


def test_names_and_free_text_refuse_control_and_format_characters(server: Running) -> None:
    desk = server.station("desk")
    counter = server.station("counter", window=1, staff="c1")
    waiting = server.issue(desk).json()["ticket"]["id"]
    before = server.count("SELECT COUNT(*) FROM events")
    for what, text in BAD_TEXT.items():
        attempts: list[tuple[str, httpx.Response]] = [
            ("holder_name", server.issue(desk, holder_name=text)),
            (
                "name",
                server.http.post("/api/bookings", json=booking(person(1), name=text)),
            ),
            ("name", server.http.post("/api/enroll", json={"name": text, "role": "display"})),
            (
                "reason",
                server.http.post(
                    f"/api/tickets/{waiting}/cancel",
                    json={"request_id": rid(), "reason": text},
                    headers=counter.headers,
                ),
            ),
            (
                "staff.0",
                server.http.put("/api/roster/1", json={"staff": [text]}, headers=server.manager()),
            ),
        ]
        for field, r in attempts:
            assert r.status_code == 422, (what, field, r.text)
            body = r.json()
            assert body["error"] == "invalid_field", (what, field, body)
            assert body["detail"]["errors"][0]["field"] == field, (what, field, body)
            assert "control or format" in body["message_en"], (what, field, body)
    assert server.count("SELECT COUNT(*) FROM events") == before
    assert server.count("SELECT COUNT(*) FROM bookings") == 0
    # Chinese names, with the middle dot of minority and foreign names, are text like any other.
    assert server.issue(desk, holder_name="阿依古丽·买买提").status_code == 201


def test_bad_manager_form_input_is_a_422_naming_the_field(server: Running) -> None:
    pending = server.http.post("/api/enroll", json={"name": "new board", "role": "display"}).json()
    sid = pending["station_id"]
    web = http_login(server.url)
    try:
        csrf = csrf_of(web, "/web/admin")
        cases: list[tuple[str, str, dict[str, str], str]] = [
            ("roster of window 'abc'", "/web/admin/roster/abc", {"staff": "c1"}, "window"),
            ("takeover partner 'x'", "/web/admin/windows/1/takeover", {"partner": "x"}, "partner"),
            (
                "approve for window 'three'",
                f"/web/admin/stations/{sid}/approve",
                {"window": "three"},
                "window",
            ),
            (
                "a clerk without a code",
                "/web/admin/clerks",
                {"code": "", "name": "王", "pin": "580314"},
                "code",
            ),
            (
                "a clerk named with NUL",
                "/web/admin/clerks",
                {"code": "x1", "name": "王\x00", "pin": "580314"},
                "name",
            ),
            ("a 4-digit PIN", "/web/admin/clerks", {"code": "x2", "name": "王", "pin": "1234"}, "pin"),
            ("a roster code with U+202E", "/web/admin/roster/1", {"staff": "c1 \u202ec2"}, "staff"),
        ]
        wrong = []
        for what, path, data, field in cases:
            r = web.post(path, data={**data, "csrf": csrf})
            if r.status_code != 422 or field not in r.text or "Traceback" in r.text:
                wrong.append(f"{what}: {r.status_code} {r.text[:120]}")
        # The dashboard's script posts JSON: a broken body is a 400, a wrong type a 422, never a 500.
        h = {"X-CSRF-Token": csrf, "Content-Type": "application/json"}
        r = web.post(f"/web/api/stations/{sid}/approve", content=b"{", headers=h)
        if r.status_code != 400:
            wrong.append(f"dashboard approve with broken JSON: {r.status_code} {r.text[:120]}")
        r = web.post(f"/web/api/stations/{sid}/approve", content=b'{"window": "3"}', headers=h)
        if r.status_code != 422 or "window" not in r.text:
            wrong.append(f"dashboard approve with window '3': {r.status_code} {r.text[:120]}")
        r = web.get("/web/stats", params={"date": "yesterday"})
        if r.status_code != 422 or "date" not in r.text:
            wrong.append(f"stats for date 'yesterday': {r.status_code} {r.text[:120]}")
    finally:
        web.close()
    assert not wrong, "\n".join(wrong)
    assert server.count("SELECT COUNT(*) FROM staff WHERE code IN ('x1', 'x2')") == 0


#: Each payload, once stored and shown, would run script if a page put it into HTML unescaped.
XSS = ('<img src=x onerror="window.pwned=1">', "\"'><script>window.pwned=2</script>", "<svg/onload=alert(3)>")


def test_what_anyone_types_is_shown_as_text_on_every_page(server: Running) -> None:
    """Every free-text field a citizen, a station or a manager fills, with markup in it, on every page that
    shows it: the HTML never carries the markup unescaped (the pages' scripts write text, never HTML)."""
    desk = server.station("desk", name=XSS[1][:60])
    counter = server.station("counter", window=1, staff="c1")
    tickets = [server.issue(desk, holder_name=x[:50]).json() for x in XSS]
    booked = server.http.post("/api/bookings", json=booking(person(1), name=XSS[0][:50])).json()
    with client_from(server, NEIGHBOUR) as stranger:
        stranger.post("/api/enroll", json={"name": XSS[2], "role": "display"})
    assert server.act(counter, "open").status_code == 200
    t = server.act(counter, "call-next").json()["ticket"]["id"]
    server.act(counter, "start")
    server.act(counter, "finish")
    r = server.http.post(
        f"/api/tickets/{t}/rating", json={"request_id": rid(), "score": 1}, headers=counter.headers
    )
    assert r.status_code == 200, r.text
    web = http_login(server.url)
    try:
        csrf = csrf_of(web, "/web/admin")
        for i, x in enumerate(XSS):
            web.post(
                "/web/admin/clerks", data={"code": f"x{i}", "name": x[:50], "pin": "580314", "csrf": csrf}
            )
        case = server.count("SELECT COUNT(*) FROM cases")
        assert case == 1
        (case_id,) = [r[0] for r in rows(server, "SELECT id FROM cases")]
        step = web.post(
            f"/web/cases/{case_id}/step", data={"action": "callback", "note": XSS[1], "csrf": csrf}
        )
        assert step.status_code == 303, step.text
        pages = {
            path: web.get(path).text for path in ("/web/dashboard", "/web/admin", "/web/cases", "/web/stats")
        }
    finally:
        web.close()
    pages[f"/s/{tickets[0]['token']}"] = server.http.get(f"/s/{tickets[0]['token']}").text
    pages[f"/book/{booked['code']}"] = server.http.get(f"/book/{booked['code']}").text
    shown = 0
    for path, html in pages.items():
        for x in XSS:
            assert x not in html, (path, x)
            assert not re.search(r"<(img|script|svg)[^>]*(onerror|onload|window\.pwned)", html, re.I), path
        shown += sum(1 for x in ("&lt;img", "&lt;svg", "&lt;script") if x in html)
    assert shown, "the payloads were not shown anywhere: the test would not see an unescaped one"
