"""What anyone types, in a real browser (issue 16, "XSS payloads in every free-text field on every page"):
markup in station, device, clerk, holder and booking names, device reasons and case notes, on the pages that
show them — the dashboard and the phone page build theirs in script. Two things are checked: nothing of it
ran (no dialog, `window.pwned` unset, no CSP violation reported), and nothing of it became an element (an
escaping mistake shows there even where the CSP would have stopped the script).
"""

from __future__ import annotations

from typing import Any

from tests.security.conftest import NEIGHBOUR, booking, client_from, person, rows
from tests.server.conftest import Running, rid
from tests.server.web_helpers import browser_login, chromium_page, csrf_of, http_login, needs_chromium

needs_chromium()

XSS = '<img src=x onerror="window.pwned=1;alert(1)"><script>window.pwned=2</script>'
#: Elements only a payload would have made.
INJECTED = "img[src='x'], script:not([src]), svg[onload], [onerror]"


def test_markup_typed_anywhere_stays_text_in_the_browser(server: Running) -> None:
    display = server.station("display", name=XSS[:64])
    r = server.http.post(
        "/api/devices/health",
        json={"device": XSS[:64], "health": "degraded", "reason": XSS},
        headers=display.headers,
    )
    assert r.status_code == 200, r.text
    with client_from(server, NEIGHBOUR) as stranger:
        assert stranger.post("/api/enroll", json={"name": XSS[:64], "role": "display"}).status_code == 201
    desk = server.station("desk")
    counter = server.station("counter", window=1, staff="c1")
    mine = server.issue(desk, holder_name=XSS[:50]).json()
    booked = server.http.post("/api/bookings", json=booking(person(3), name=XSS[:50])).json()
    assert server.act(counter, "open").status_code == 200
    called = server.act(counter, "call-next").json()["ticket"]["id"]
    server.act(counter, "start")
    server.act(counter, "finish")
    rate = {"request_id": rid(), "score": 1}
    assert (
        server.http.post(f"/api/tickets/{called}/rating", json=rate, headers=counter.headers).status_code
        == 200
    )
    web = http_login(server.url)
    try:
        csrf = csrf_of(web, "/web/admin")
        web.post("/web/admin/clerks", data={"code": "x1", "name": XSS[:50], "pin": "580314", "csrf": csrf})
        (case_id,) = [r[0] for r in rows(server, "SELECT id FROM cases")]
        step = {"action": "callback", "note": XSS[:200], "csrf": csrf}
        assert web.post(f"/web/cases/{case_id}/step", data=step).status_code == 303
    finally:
        web.close()
    assert server.count("SELECT COUNT(*) FROM staff WHERE code = 'x1'") == 1

    with chromium_page() as page:
        dialogs: list[str] = []
        violations: list[str] = []

        def on_dialog(d: Any) -> None:
            dialogs.append(d.message)
            d.dismiss()

        def on_console(m: Any) -> None:
            if "Content Security Policy" in m.text:
                violations.append(m.text)

        page.on("dialog", on_dialog)
        page.on("console", on_console)
        browser_login(page, server.url)
        # The dashboard draws its cards from the JSON: wait until the pending station and the device are in.
        page.wait_for_function(
            "() => document.querySelector('#pending .card') && document.querySelector('#devices td')"
        )
        shown = {"/web/dashboard": page.inner_text("body")}
        for path in ("/web/admin", "/web/cases", f"/s/{mine['token']}", f"/book/{booked['code']}"):
            page.goto(f"{server.url}{path}")
            page.wait_for_load_state("load")
            if path.startswith("/s/"):
                page.wait_for_function("() => document.getElementById('calls').children.length > 0")
            assert page.locator(INJECTED).count() == 0, path
            shown[path] = page.inner_text("body")
        page.goto(f"{server.url}/web/dashboard")
        page.wait_for_function("() => document.querySelector('#pending .card')")
        assert page.locator(INJECTED).count() == 0, "/web/dashboard"
        assert page.evaluate("() => window.pwned") is None
    assert dialogs == []
    assert violations == [], violations
    # The payloads are there, as text (where a page shows that field at all).
    assert "<img src=x" in shown["/web/dashboard"]
    assert "<img src=x" in shown["/web/admin"]
    assert "<img src=x" in shown["/web/cases"]
