"""Shared by the web tests and bench/web.py: logging a manager in (HTTP and browser), Chromium flags, and the
hand-worked fixture day whose figures the statistics tests check."""

from __future__ import annotations

import contextlib
import datetime as dt
import pathlib
import re
import ssl
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import httpx
import pytest

from tests.fakes.live_server import HJ01_PASSES, MANAGER, MONDAY_9, LiveServer, Station

#: Debian's chromium, kept off the internet (PITFALLS.md).
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@contextlib.contextmanager
def chromium_browser() -> Iterator[Any]:
    """A headless Debian Chromium (Playwright), closed afterwards whatever happened."""
    from playwright import sync_api as playwright

    with playwright.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def page_of(browser: Any, width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A page in its own context (no cookies shared with another test) of `browser`, closed afterwards."""
    page = browser.new_page(viewport={"width": width, "height": height})
    try:
        yield page
    finally:
        page.close()  # and its context, which `new_page` made for it


@contextlib.contextmanager
def chromium_page(width: int = 1280, height: int = 900) -> Iterator[Any]:
    """A page of a headless Debian Chromium (Playwright), the browser closed afterwards whatever happened."""
    with chromium_browser() as browser, page_of(browser, width, height) as page:
        yield page


def http_login(url: str, verify: ssl.SSLContext | bool = True) -> httpx.Client:
    """An httpx client holding a manager's session cookie, as a browser would after the login form (over
    TLS: `verify`, the hall CA the browser installed)."""
    c = httpx.Client(base_url=url, timeout=10, verify=verify)
    r = c.get("/web/login")
    token = re.search(r'name="csrf" value="([^"]+)"', r.text)
    assert token is not None
    r = c.post("/web/login", data={"csrf": token.group(1), "username": MANAGER[0], "password": MANAGER[1]})
    assert r.status_code == 303, r.text
    assert r.headers["location"] == "/web/dashboard", r.text
    return c


def csrf_of(c: httpx.Client, path: str = "/web/dashboard") -> str:
    m = re.search(r'<meta name="csrf" content="([^"]+)"', c.get(path).text)
    assert m is not None
    return m.group(1)


def browser_login(
    page: Any,
    url: str,
    user: tuple[str, str] = MANAGER,
    *,
    form: str = "/web/login",
    landing: str = "/web/dashboard",
) -> None:
    """Log `user` in through the login form in a real browser page; returns once on the landing page (a hall's
    dashboard, or the centre's overview with form="/login", landing="/overview")."""
    page.goto(f"{url}{form}")
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.click("#login")
    page.wait_for_url(f"{url}{landing}")


# ---- the hand-worked fixture day ------------------------------------------------------------------------

#: Twelve tickets, all taken at 09:00 and called one by one at 09:00 + wait (window 1, series A, target
#: 20 min), each served for exactly one minute.
WAITS_MIN = (2, 4, 6, 8, 10, 12, 14, 16, 18, 22, 26, 30)
#: Ratings of the first ten served tickets; the last two are not rated.
SCORES = (5, 5, 5, 4, 4, 3, 3, 2, 1, 5)


@dataclass(frozen=True)
class Expected:
    """The figures worked out by hand from WAITS_MIN and SCORES (docs/web.md definitions)."""

    tickets: int = 12
    # (2+4+…+18) + 22 + 26 + 30 = 90 + 78 = 168; 168 / 12 = 14.0
    wait_mean: str = "14.0"
    # nearest rank ⌈0.5·12⌉ = 6th wait = 12; ⌈0.9·12⌉ = 11th = 26
    wait_p50: str = "12.0"
    wait_p90: str = "26.0"
    wait_max: str = "30.0"
    # 9 of 12 called within 20 minutes
    within: str = "75.0%"
    handle: str = "1.0"
    rated: int = 10
    # 5,5,5,4,4,3,3,5 are 满意 or better: 8 of 10
    satisfaction: str = "80.0%"
    # 10 rated of 12 served
    participation: str = "83.3%"
    # kiosk pre-checks: ten pass, two 容缺 (HJ02 without the marriage certificate), two fail (not in person)
    precheck_pass: int = 10
    precheck_tolerated: int = 2
    precheck_fail: int = 2
    # the two that failed were agents without the papers: 2 of 14 pre-checks are 代办
    precheck_agent: int = 2
    agent_share: str = "14.3%"
    # the two 容缺 tickets each open a register entry, not due yet on the day
    register_opened: int = 2
    register_open: int = 2
    cases: int = 2  # the ratings 2 and 1

    def xlsx_waits(self) -> tuple[float, ...]:
        """The waits as the XLSX export's numbers, in the order of `WAIT_COLUMNS`."""
        return (
            self.tickets,
            *(float(v) for v in (self.wait_mean, self.wait_p50, self.wait_p90, self.wait_max)),
        )


#: The export columns `Expected.xlsx_waits` gives: tickets, then the mean, P50, P90 and longest wait.
WAIT_COLUMNS = ("取号数", "平均等候(分)", "P50等候(分)", "P90等候(分)", "最长等候(分)")


@dataclass
class FixtureDay:
    tokens: list[str] = field(default_factory=list)
    ticket_ids: list[str] = field(default_factory=list)
    labels: list[str] = field(default_factory=list)


HJ01_ALL = {"matter": "HJ01", **HJ01_PASSES}
HJ02_TOLERATED = {"matter": "HJ02", "present": ["birth_cert", "hukou", "idcard"]}


def build_fixture_day(hall: LiveServer) -> FixtureDay:
    """Issue, call, serve and rate the fixture day through the real API with the hall's fake clock."""
    assert hall.clock.now() == MONDAY_9
    day = FixtureDay()
    hall.login_counter()
    assert hall.act(hall.counter, "open").status_code == 200
    for i in range(12):
        body: dict[str, Any] = dict(HJ02_TOLERATED if i in (3, 7) else HJ01_ALL)
        r = hall.post(hall.kiosk, "/api/tickets", **body)
        assert r.status_code == 201, r.text
        j = r.json()
        assert j["precheck"]["outcome"] == ("容缺" if i in (3, 7) else "通过"), j["precheck"]
        day.tokens.append(j["token"])
        day.ticket_ids.append(j["ticket"]["id"])
        day.labels.append(j["ticket"]["label"])
        assert hall.post(hall.kiosk, f"/api/tickets/{j['ticket']['id']}/printed").status_code == 200
    for _ in range(2):
        r = hall.post(
            hall.kiosk,
            "/api/tickets",
            matter="HJ01",
            answers={"in_person": False, "agent_docs": False},
            present=[],
        )
        assert r.status_code == 200, r.text
        assert r.json()["ticket"] is None, r.text
    for i, wait in enumerate(WAITS_MIN):
        hall.clock.set(MONDAY_9 + dt.timedelta(minutes=wait))
        r = hall.act(hall.counter, "call-next")
        assert r.status_code == 200, r.text
        assert r.json()["ticket"]["label"] == day.labels[i], r.text
        assert hall.act(hall.counter, "start").status_code == 200
        hall.clock.advance(60)
        assert hall.act(hall.counter, "finish").status_code == 200
        if i < len(SCORES):
            r = hall.post(hall.counter, f"/api/tickets/{day.ticket_ids[i]}/rating", score=SCORES[i])
            assert r.status_code == 200, r.text
    return day


def owed_ticket(hall: LiveServer) -> tuple[Station, dict[str, Any]]:
    """A 容缺 ticket issued at a new desk on Monday: its 数码相片回执 owed by Monday 2026-12-21 (the desk, and
    the issue reply, with the holder 欧阳娜娜 whom no page may name)."""
    desk = hall.station("desk", "desk-1")
    r = hall.post(desk, "/api/tickets", matter="SB02", present=["idcard"], holder_name="欧阳娜娜")
    assert r.status_code == 201, r.text
    j: dict[str, Any] = r.json()
    assert j["precheck"]["due"] == "2026-12-21"
    return desk, j


def supply_all(hall: LiveServer, desk: Station, ticket_id: str) -> None:
    """Every item the ticket owes supplied, at the desk."""
    supplied = hall.http.post(
        f"/api/tickets/{ticket_id}/supplied",
        json={"request_id": "owed-1", "items": None},
        headers=desk.headers,
    )
    assert supplied.status_code == 200, supplied.text


def served_ticket(hall: LiveServer) -> dict[str, Any]:
    """A ticket issued, called, served and finished at the counter's open window, not rated: its issue
    reply (the counter logged in and its window open already)."""
    r = hall.post(hall.kiosk, "/api/tickets", matter="HJ01", **HJ01_PASSES)
    assert r.status_code == 201, r.text
    j: dict[str, Any] = r.json()
    assert hall.post(hall.kiosk, f"/api/tickets/{j['ticket']['id']}/printed").status_code == 200
    called = hall.act(hall.counter, "call-next")
    assert called.json()["ticket"]["id"] == j["ticket"]["id"], called.text
    assert hall.act(hall.counter, "start").status_code == 200
    hall.clock.advance(120)
    assert hall.act(hall.counter, "finish").status_code == 200
    return j


def needs_chromium(*, module: bool = True) -> Any:
    """Playwright's sync API, or a skip when it or Debian's chromium is missing: at the top of a browser test
    module (the whole module is skipped) or in a fixture (`module=False`: the tests that take it)."""
    api = pytest.importorskip("playwright.sync_api")
    if not pathlib.Path(CHROMIUM).exists():
        pytest.skip(
            "Debian's chromium is not installed (apt-get install chromium)", allow_module_level=module
        )
    return api


def _one_browser() -> Iterator[Any]:
    needs_chromium(module=False)
    with chromium_browser() as b:
        yield b


#: The one headless Chromium of a tier that runs browser tests only (tests/web): tests take contexts or pages
#: from it and close them. Only there: while Playwright's sync API is open it holds a running asyncio loop, so
#: an asyncio test or another `chromium_page()` run meanwhile would fail ("Sync API inside the asyncio loop").
session_browser = pytest.fixture(scope="session", name="browser")(_one_browser)
#: The same for one test module, in tiers that mix browser tests with asyncio ones (tests/server).
module_browser = pytest.fixture(scope="module", name="browser")(_one_browser)
