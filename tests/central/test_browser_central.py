"""The centre's overview in a real headless Chromium: it updates live as a hall calls numbers, drills down
to that hall's live view, and shows a hall that went offline as offline. Each page state passes the axe-core
audit for WCAG 2.2 AA (issue 23; tests/server/a11y.py), as the hall's own pages do (tests/web)."""

from __future__ import annotations

import pathlib
from collections.abc import Iterator
from typing import Any

import pytest
from playwright import sync_api as playwright

from hallcentral.devcluster import Cluster
from tests.central.support import ADMIN, centre, hall_config, ship_state, wait_for
from tests.fakes.live_server import HJ01_PASSES, live_server
from tests.server.a11y import assert_accessible
from tests.server.web_helpers import browser_login, page_of


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A page of the module's one Chromium (`browser`, tests/central/conftest.py)."""
    with page_of(browser, 1280, 720) as p:
        yield p


def test_overview_live_drill_down_and_offline(cluster: Cluster, tmp_path: pathlib.Path, page: Any) -> None:
    expect = playwright.expect
    with centre(cluster, tmp_path, offline_after_s=3) as c, live_server(tmp_path, hall_config(c.url)) as hall:
        c.add_users()
        wait_for(lambda: ship_state(hall)["state"] == "pending", what="enroll")
        c.approve("jinzhai", "county-a1")
        hall.login_counter()
        assert hall.act(hall.counter, "open").status_code == 200
        for _ in range(3):
            assert hall.post(
                hall.counter,
                "/api/tickets",
                matter="HJ01",
                **HJ01_PASSES,
                source="desk",
            ).status_code in (200, 201)
        wait_for(lambda: c.acked("jinzhai") == hall.hall.store.seq, what="shipped")

        page.goto(f"{c.url}/login?error=bad_login")
        assert_accessible(page, "centre: login")
        page.fill("#username", ADMIN[0])
        page.fill("#password", ADMIN[1])
        page.click("#login")
        page.wait_for_url(f"{c.url}/overview")
        row = page.locator("#hall-jinzhai")
        expect(page.locator("#conn")).to_have_text("实时")
        expect(row.locator(".waiting")).to_have_text("3")
        expect(row.locator(".open")).to_have_text("1")
        expect(row.locator(".state")).to_have_text("在线")
        assert_accessible(page, "centre: overview")
        # The hall calls a number: the overview follows without a reload.
        r = hall.act(hall.counter, "call-next")
        assert r.status_code == 200, r.text
        label = r.json()["ticket"]["label"]
        expect(row.locator(".waiting")).to_have_text("2")
        hall.act(hall.counter, "start")
        hall.act(hall.counter, "finish")
        assert hall.act(hall.counter, "call-next").status_code == 200
        expect(row.locator(".waiting")).to_have_text("1")
        # Drill down: the hall's live view shows the window with the ticket it holds.
        row.locator("a").click()
        page.wait_for_url(f"{c.url}/halls/jinzhai")
        expect(page.locator("#hall-online")).to_have_text("在线")
        expect(page.locator(f"#win-{hall.counter.window} .current")).not_to_have_text("")
        expect(page.locator("#calls")).to_contain_text(label)
        assert_accessible(page, "centre: a hall's live view")
        # The hall's own dashboard says its shipping is fine and nothing waits to be shipped.
        browser_login(page, hall.url)
        expect(page.locator("#central-state")).to_have_text("正常")
        expect(page.locator("#central-backlog")).to_have_text("0")
        page.goto(f"{c.url}/overview")
        # The hall goes away (its server stops): after offline_after_s the overview says so.
        hall.stop()
        expect(page.locator("#hall-jinzhai .state")).to_have_text("离线", timeout=15000)
        expect(page.locator("#hall-jinzhai")).to_have_class("overdue")
        assert_accessible(page, "centre: overview with a hall offline")
        page.screenshot(path=str(tmp_path / "overview-offline.png"))
