"""The dashboard's audit view in a real browser (Playwright driving Debian's chromium) against a real server
(issue 25): the chain's verdict, filters by action, actor and day, and the CSV export of what is filtered,
which is itself audited. The browser is the module's one Chromium (`browser`, tests/server/conftest.py)."""

from __future__ import annotations

import csv
import io
import pathlib
from typing import Any

from tests.server.conftest import Running, rid
from tests.server.web_helpers import browser_login, needs_chromium

needs_chromium()

TIMEOUT_MS = 10_000


def rows_shown(page: Any) -> list[list[str]]:
    return [
        [c.strip() for c in r.locator("td").all_inner_texts()]
        for r in page.locator("table.audit tbody tr").all()
    ]


def test_the_audit_view_filters_and_exports(server: Running, browser: Any, tmp_path: pathlib.Path) -> None:
    counter = server.station("counter", window=1)  # a clerk_login row for c1
    r = server.http.put("/api/roster/2", json={"staff": ["c2"]}, headers=server.manager())
    assert r.status_code == 200, r.text
    desk = server.station("desk")
    t = server.issue(desk).json()["ticket"]
    r = server.http.post(
        f"/api/tickets/{t['id']}/cancel",
        json={"request_id": rid(), "reason": "群众离开"},
        headers=counter.headers,
    )
    assert r.status_code == 200, r.text
    t2 = server.issue(desk).json()["ticket"]
    for action in ("open", "call-next", "start", "finish"):
        assert server.act(counter, action).status_code == 200
    r = server.http.post(
        f"/api/tickets/{t2['id']}/rating", json={"request_id": rid(), "score": 5}, headers=counter.headers
    )
    assert r.status_code == 200, r.text
    ctx = browser.new_context(accept_downloads=True)
    try:
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        browser_login(page, server.url)
        page.click("nav.top >> text=审计")
        page.wait_for_url(f"{server.url}/web/audit")
        assert "审计链完整" in page.inner_text("#chain")
        actions = {r[4] for r in rows_shown(page)}
        want = {"clerk_login", "set_roster", "cancel_ticket", "web_login", "manager_login", "rating"}
        assert want <= actions, actions
        # By action.
        page.select_option("#audit-filter select[name=action]", "cancel_ticket")
        page.click("#audit-filter button")
        page.wait_for_url("**/web/audit?*action=cancel_ticket*")
        shown = rows_shown(page)
        assert [r[4] for r in shown] == ["cancel_ticket"]
        assert t["id"] in shown[0][5]
        assert "群众离开" in shown[0][6]
        # By actor, across actions.
        page.select_option("#audit-filter select[name=action]", "")
        page.fill("#audit-filter input[name=actor]", "manager:")
        page.click("#audit-filter button")
        page.wait_for_url("**/web/audit?*actor=manager*")
        assert {r[4] for r in rows_shown(page)} >= {"set_roster", "web_login"}
        assert all(r[2].startswith("manager:") for r in rows_shown(page))
        # By day: nothing the day after (hall time is Monday 2026-11-23).
        page.fill("#audit-filter input[name=from]", "2026-11-24")
        page.click("#audit-filter button")
        page.wait_for_url("**/web/audit?*from=2026-11-24*")
        assert rows_shown(page) == []
        # The CSV carries what the view filters.
        page.fill("#audit-filter input[name=from]", "2026-11-23")
        page.fill("#audit-filter input[name=to]", "2026-11-23")
        page.click("#audit-filter button")
        page.wait_for_url("**/web/audit?*to=2026-11-23*")
        on_page = rows_shown(page)
        with page.expect_download() as info:
            page.click("#audit-csv")
        path = tmp_path / "audit.csv"
        info.value.save_as(path)
    finally:
        ctx.close()
    table = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    assert table[0] == ["id", "at", "actor", "station", "action", "target", "detail"]
    assert [r[0] for r in table[1:]] == [r[0] for r in on_page]
    assert all(r[2].startswith("manager:") for r in table[1:])
    # The export is audited, with its filters.
    assert server.count("SELECT COUNT(*) FROM audit WHERE action = 'export' AND target = 'audit.csv'") == 1
    assert (
        server.count("SELECT COUNT(*) FROM audit WHERE action = 'export' AND detail LIKE '%manager:%'") == 1
    )
