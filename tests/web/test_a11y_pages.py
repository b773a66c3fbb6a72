"""Issue 23: every web page, in every state a hall manager or a citizen meets, passes the axe-core audit for
WCAG 2.0/2.1/2.2 A and AA (0 violations), and a keyboard alone reaches every control (with a visible focus)
and completes the page's main task. Real server, real Debian chromium (one browser for the tier), real
axe-core.

One hall for the module, built up in file order: the hand-worked fixture day (statistics and 差评 cases with
data), then windows open, paused and closed, a pending station, a device fault, and tickets in each state."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pathlib
import re
from collections.abc import Iterator
from typing import Any

import pytest

from hallcore.config import Estimates
from hallfiles.config import read_config
from tests.fakes.live_server import COUNTY, HJ01_PASSES, MONDAY_9, LiveServer, live_server
from tests.server.a11y import (
    AuditLog,
    assert_accessible,
    assert_keyboard_reaches_all,
    axe_violations,
    keyboard_walk,
    tab_to,
)
from tests.server.web_helpers import browser_login, build_fixture_day, served_ticket

TIMEOUT_MS = 10_000
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 360, "height": 740}
AUDIT = AuditLog()


@pytest.fixture(scope="module")
def hall(artifacts: pathlib.Path) -> Iterator[LiveServer]:
    with live_server() as h:
        build_fixture_day(h)
        yield h
    AUDIT.write(artifacts / "a11y-audit.json")


@pytest.fixture(scope="module")
def manager_session(browser: Any, hall: LiveServer) -> dict[str, Any]:
    """A manager logged in once through the form; each page test starts from its cookies (a login hashes the
    password: slow on purpose)."""
    ctx = browser.new_context(viewport=DESKTOP)
    try:
        page = ctx.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        browser_login(page, hall.url)
        state: dict[str, Any] = ctx.storage_state()
        return state
    finally:
        ctx.close()


@pytest.fixture
def manager_page(browser: Any, hall: LiveServer, manager_session: dict[str, Any]) -> Iterator[Any]:
    ctx = browser.new_context(viewport=DESKTOP, storage_state=manager_session)
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{hall.url}/web/dashboard")
    yield page
    ctx.close()


@pytest.fixture
def phone_page(browser: Any) -> Iterator[Any]:
    ctx = browser.new_context(viewport=PHONE, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    yield page
    ctx.close()


def issue(hall: LiveServer) -> dict[str, Any]:
    r = hall.post(hall.kiosk, "/api/tickets", matter="HJ01", **HJ01_PASSES)
    assert r.status_code == 201, r.text
    j: dict[str, Any] = r.json()
    assert hall.post(hall.kiosk, f"/api/tickets/{j['ticket']['id']}/printed").status_code == 200
    return j


def audited(page: Any, name: str) -> None:
    assert_accessible(page, name, AUDIT)


# ---- the checks themselves ---------------------------------------------------------------------------


def test_the_checks_find_what_they_look_for(browser: Any) -> None:
    """A page built to fail: faint text, an unlabelled input, a button Tab skips, a focus nobody sees."""
    ctx = browser.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    page.set_content(
        '<html lang="zh"><head><title>t</title><style>*:focus { outline: none; }</style></head><body><main>'
        '<p style="color:#bbb">看不清</p><input id="x"> <button id="ok">好</button>'
        '<button id="skipped" tabindex="-1">跳过</button></main></body></html>'
    )
    rules = {v["id"] for v in axe_violations(page)}
    assert {"color-contrast", "label"} <= rules, rules
    walk = keyboard_walk(page)
    assert [r["id"] for r in walk.reached] == ["x", "ok"]
    assert walk.missed == ["BUTTON#skipped 跳过"]
    assert len(walk.unseen_focus) == 2
    ctx.close()


# ---- login --------------------------------------------------------------------------------------------


def test_login_page_and_its_error(browser: Any, hall: LiveServer) -> None:
    ctx = browser.new_context(viewport=DESKTOP)
    page = ctx.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    page.goto(f"{hall.url}/web/login")
    audited(page, "login")
    assert_keyboard_reaches_all(page, "login")
    # Keyboard only: a wrong password shows the error, the right one reaches the dashboard.
    tries = (("wrong password", "/web/login?error=bad_login"), ("correct horse battery", ""))
    for password, landing in tries:
        tab_to(page, "#username")
        page.keyboard.type("boss")
        page.keyboard.press("Tab")
        page.keyboard.type(password)
        page.keyboard.press("Enter")
        page.wait_for_url(f"{hall.url}{landing or '/web/dashboard'}")
        if landing:
            assert page.is_visible("#error")
            audited(page, "login with an error")
            page.goto(f"{hall.url}/web/login")
    ctx.close()


# ---- dashboard ----------------------------------------------------------------------------------------


def test_dashboard_with_open_paused_closed_and_stale_windows(hall: LiveServer, manager_page: Any) -> None:
    page = manager_page
    second = hall.station("counter", "窗口2", window=2)
    hall.login_counter(second)
    assert hall.act(second, "open").status_code == 200
    assert hall.act(second, "pause", reason="会议").status_code == 200
    waiting = issue(hall)  # window 1 is open (the fixture day): it calls and serves this one
    assert hall.act(hall.counter, "call-next").json()["ticket"]["id"] == waiting["ticket"]["id"]
    assert hall.act(hall.counter, "start").status_code == 200
    hall.enroll("kiosk", "二楼取号机")
    r = hall.post(hall.kiosk, "/api/devices/health", device="printer", health="degraded", reason="纸将尽")
    assert r.status_code == 200, r.text
    page.reload()
    page.wait_for_selector("#conn.live")
    page.wait_for_selector("#win-1.open")
    page.wait_for_selector("#win-2.paused")
    page.wait_for_selector("#win-3.closed")
    page.wait_for_selector("#pending .card")
    page.wait_for_function("() => document.getElementById('devices').textContent.includes('纸将尽')")
    audited(page, "dashboard: open, paused and closed windows, a pending station, a device fault")
    walk = assert_keyboard_reaches_all(page, "dashboard")
    assert any(r["text"] == "批准" for r in walk.reached)
    # Stale: the server goes away; the page says its data is old, in colours that still pass.
    hall.stop()
    try:
        page.wait_for_selector("#conn.down")
        page.wait_for_selector("body.stale")
        assert "数据已过时" in page.text_content("#age")
        audited(page, "dashboard: stale data (connection lost)")
    finally:
        hall.start()
    page.wait_for_selector("#conn.live", timeout=20_000)
    page.wait_for_selector("body:not(.stale)")
    # The main task by keyboard: approve the pending station (Tab to its button, Enter).
    tab_to(page, "#pending button[data-approve]")
    page.keyboard.press("Enter")
    page.wait_for_function("() => !document.querySelector('#pending .card')")
    assert hall.count("SELECT COUNT(*) FROM stations WHERE state = 'pending'") == 0


# ---- statistics, cases, admin, audit ------------------------------------------------------------------


@pytest.mark.parametrize("by", ["matter", "window"])
def test_statistics_with_data(hall: LiveServer, manager_page: Any, by: str) -> None:
    page = manager_page
    page.goto(f"{hall.url}/web/stats?period=day&date=2026-11-23&by={by}")
    assert page.text_content("#total-tickets") != "0"
    audited(page, f"statistics by {by}")
    assert_keyboard_reaches_all(page, f"statistics by {by}")
    # The main task by keyboard: regroup by a different dimension and look.
    tab_to(page, "#stats-by")
    page.keyboard.press("ArrowDown")
    tab_to(page, "#stats-go")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/web/stats\?.*by=(?!" + by + r"\b)"))


def test_cases_page(hall: LiveServer, manager_page: Any) -> None:
    page = manager_page
    page.goto(f"{hall.url}/web/cases")
    assert page.locator("table.cases tbody tr").count() >= 2
    audited(page, "cases")
    assert_keyboard_reaches_all(page, "cases")
    # The main task by keyboard: record a call-back on the first case.
    tab_to(page, "table.cases tbody tr:first-child input[name=note]")
    page.keyboard.type("已电话回访")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert "已电话回访" in page.text_content("table.cases tbody tr:first-child")


def test_admin_page_and_its_error_page(hall: LiveServer, manager_page: Any) -> None:
    page = manager_page
    page.goto(f"{hall.url}/web/admin")
    audited(page, "admin")
    assert_keyboard_reaches_all(page, "admin")
    # The main task by keyboard: add a clerk; adding the same code again answers the error page.
    for attempt in range(2):
        tab_to(page, "#clerk-code")
        page.keyboard.type("c99")
        page.keyboard.press("Tab")
        page.keyboard.type("王五")
        page.keyboard.press("Tab")
        page.keyboard.type("135790")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        if attempt == 0:
            assert "王五" in page.text_content("table")
    assert page.is_visible("#error")
    audited(page, "admin: error page")
    assert_keyboard_reaches_all(page, "admin: error page")


def test_audit_page(hall: LiveServer, manager_page: Any) -> None:
    page = manager_page
    page.goto(f"{hall.url}/web/audit")
    audited(page, "audit log")
    assert_keyboard_reaches_all(page, "audit log")
    tab_to(page, "#audit-actor")
    page.keyboard.type("boss")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*actor=boss"))
    assert page.locator("table.audit tbody tr").count() >= 1


# ---- booking ------------------------------------------------------------------------------------------


def test_booking_by_keyboard_with_an_error_then_booked_and_cancelled(
    hall: LiveServer, phone_page: Any
) -> None:
    page = phone_page
    page.goto(f"{hall.url}/book")
    page.wait_for_selector("#slots button")
    audited(page, "booking")
    assert_keyboard_reaches_all(page, "booking")
    # No slot chosen: the page says so (an error a screen reader announces).
    tab_to(page, "#book")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('msg').textContent !== ''")
    audited(page, "booking with an error")
    # A slot by keyboard (Tab, Space), the ID number, Enter on 预约.
    # The first slot offered: the page offers no slot already over (the server would refuse it).
    tab_to(page, "#slots button:not([disabled])")
    page.keyboard.press("Space")
    tab_to(page, "#idno")
    page.keyboard.type("110101199003070011")
    tab_to(page, "#book")
    page.keyboard.press("Enter")
    page.wait_for_url(re.compile(r".*/book/[A-Z0-9]{8}$"))
    audited(page, "booking done")
    assert_keyboard_reaches_all(page, "booking done")
    tab_to(page, "#cancel")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('bstate').textContent === '已取消'")
    audited(page, "booking cancelled")


# ---- the phone page in each ticket state -------------------------------------------------------------


def _phone(page: Any, hall: LiveServer, token: str, state: str, lang: str = "") -> None:
    page.goto(f"{hall.url}/s/{token}{'?lang=' + lang if lang else ''}")
    page.wait_for_function("(s) => document.getElementById('state').textContent === s", arg=state)
    page.wait_for_selector("#conn:not(:empty)")


def test_phone_page_waiting_called_serving(hall: LiveServer, phone_page: Any) -> None:
    page = phone_page
    assert hall.act(hall.counter, "finish").status_code == 200  # the dashboard's ticket
    mine = issue(hall)
    _phone(page, hall, mine["token"], "等候中")
    audited(page, "phone: waiting")
    assert_keyboard_reaches_all(page, "phone: waiting")
    _phone(page, hall, mine["token"], "waiting", "en")
    audited(page, "phone: waiting (English)")
    assert hall.act(hall.counter, "call-next").json()["ticket"]["id"] == mine["ticket"]["id"]
    _phone(page, hall, mine["token"], "已叫号")
    assert page.is_visible("#turn")
    audited(page, "phone: called")
    assert hall.act(hall.counter, "start").status_code == 200
    _phone(page, hall, mine["token"], "办理中")
    audited(page, "phone: serving")
    assert hall.act(hall.counter, "finish").status_code == 200


def test_phone_page_done_rated_by_keyboard_then_call_back(hall: LiveServer, phone_page: Any) -> None:
    page = phone_page
    t = served_ticket(hall)
    _phone(page, hall, t["token"], "已办结")
    page.wait_for_selector("#rate:not([hidden])")
    audited(page, "phone: done, rating offered")
    assert_keyboard_reaches_all(page, "phone: done, rating offered")
    # The main task by keyboard: rate (Tab to the level, Space), then leave a number for the call-back.
    tab_to(page, "#score-1")
    page.keyboard.press("Space")
    page.wait_for_selector("#rated:not([hidden])")
    page.wait_for_selector("#contact:not([hidden])")
    audited(page, "phone: rated 非常不满意, call-back form")
    tab_to(page, "#phone")
    page.keyboard.type("13800000000")
    tab_to(page, "#consent")
    page.keyboard.press("Space")
    tab_to(page, "#send")
    page.keyboard.press("Enter")
    page.wait_for_function("() => document.getElementById('sent').textContent.includes('138')")
    audited(page, "phone: call-back number sent")


def test_phone_page_no_show_and_cancelled(hall: LiveServer, phone_page: Any) -> None:
    page = phone_page
    gone = issue(hall)
    assert hall.act(hall.counter, "call-next").json()["ticket"]["id"] == gone["ticket"]["id"]
    for _ in range(hall.config.no_show.max_recalls):
        hall.clock.advance(hall.config.no_show.min_recall_gap_s)
        assert hall.act(hall.counter, "recall").status_code == 200
    hall.clock.advance(hall.config.no_show.min_recall_gap_s)
    assert hall.act(hall.counter, "no-show").status_code == 200
    _phone(page, hall, gone["token"], "已过号")
    assert page.is_visible("#noshow")
    audited(page, "phone: no-show")
    left = issue(hall)
    r = hall.post(hall.counter, f"/api/tickets/{left['ticket']['id']}/cancel", reason="群众离开")
    assert r.status_code == 200, r.text
    _phone(page, hall, left["token"], "已取消")
    audited(page, "phone: cancelled")


def test_phone_page_expired_and_dashboard_all_closed(
    hall: LiveServer, phone_page: Any, manager_page: Any
) -> None:
    mine = issue(hall)
    hall.clock.set(dt.datetime(2026, 11, 23, 17, 40, tzinfo=MONDAY_9.tzinfo))
    for w in (1, 2):
        st = hall.counter if w == 1 else next(s for s in hall.stations if s.window == 2)
        hall.act(st, "resume")
        assert hall.act(st, "close").status_code == 200
    _phone(phone_page, hall, mine["token"], "已过期")
    assert phone_page.is_visible("#expired")
    audited(phone_page, "phone: expired")
    manager_page.reload()
    manager_page.wait_for_selector("#conn.live")
    manager_page.wait_for_selector("#win-1.closed")
    audited(manager_page, "dashboard: every window closed")


def test_phone_page_says_a_long_wait(phone_page: Any) -> None:
    """Issue 29's line: a range too wide to plan by reads "人多，预计较长" (every range, with a band of 0)."""
    config = dataclasses.replace(read_config(COUNTY), estimates=Estimates(wide_band_min=0))
    with live_server(config=config) as hall:
        hall.login_counter()
        assert hall.act(hall.counter, "open").status_code == 200
        mine = [issue(hall) for _ in range(4)][-1]
        for lang, text in (("", "人多，预计较长"), ("en", "Busy: expect a long wait")):
            phone_page.goto(f"{hall.url}/s/{mine['token']}{'?lang=' + lang if lang else ''}")
            phone_page.wait_for_function(
                "(t) => document.getElementById('estimate').textContent === t", arg=text
            )
            audited(phone_page, f"phone: waiting, a long wait ({lang or 'zh'})")
