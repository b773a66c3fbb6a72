"""`./dev demo --central` as a person runs it: the demo hall and two simulated halls ship to a centre on a
throw-away PostgreSQL cluster; the overview in a real browser lists all three halls live; a city's user sees
only that city's hall; Ctrl-C stops every process and removes the cluster. (In the e2e tier beside the other
demo test: it starts the whole demo.)"""

from __future__ import annotations

import datetime as dt
import os
import re
import subprocess
import sys
import time
from contextlib import closing
from pathlib import Path
from typing import Any

import httpx
import pytest
from playwright import sync_api as playwright

from hallq.democentral import CENTRAL_ADMIN, CITY_USER, SIM_HALLS
from tests.e2e.support import midday_timezone
from tests.fakes.processes import interrupt_and_wait, read_until, reap, sigint_ignored
from tests.fakes.shots import docs_dir
from tests.server.web_helpers import browser_login, page_of

pytestmark = pytest.mark.slow


def _login(url: str, user: str, password: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=10)
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert token is not None
    r = c.post("/login", data={"csrf": token.group(1), "username": user, "password": password})
    assert r.status_code == 303, r.text
    return c


def test_demo_central_ships_three_halls_and_stops_cleanly(
    tmp_path: Path, artifacts: Path, browser: Any
) -> None:
    state = tmp_path / "demo"
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY")}
    proc = subprocess.Popen(
        sigint_ignored([sys.executable, "-m", "hallq.cli", "demo", "--central", "--state", str(state),
                        "--port", "0", "--timezone", midday_timezone(dt.datetime.now(dt.UTC))]),
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env,
    )  # fmt: skip
    try:
        cluster = Path(read_until(proc, r"PostgreSQL cluster in (\S+) on port", 60).group(1))
        assert cluster.is_dir()
        url = read_until(proc, r"centre\s+(http://127\.0\.0\.1:\d+)/overview", 150).group(1)
        halls = {"jinzhai", *(h for h, _n, _r in SIM_HALLS)}
        with closing(_login(url, *CENTRAL_ADMIN)) as admin:
            deadline = time.monotonic() + 60
            rows: list[dict[str, Any]] = []
            while time.monotonic() < deadline:
                rows = admin.get("/api/overview").json()["halls"]
                if {r["hall_id"] for r in rows if not r["offline"] and r["tickets_today"] > 0} == halls:
                    break
                time.sleep(0.5)
            else:
                raise AssertionError(f"not every hall shipped tickets within 60 s: {rows}")
        with closing(_login(url, CITY_USER[0], CENTRAL_ADMIN[1])) as city:
            assert [r["hall_id"] for r in city.get("/api/overview").json()["halls"]] == ["sim-feixi"]
        with page_of(browser, 1280, 600) as page:
            browser_login(page, url, CENTRAL_ADMIN, form="/login", landing="/overview")
            playwright.expect(page.locator("#conn")).to_have_text("实时")
            playwright.expect(page.locator("#halls tbody tr")).to_have_count(3)
            page.screenshot(path=str(artifacts / "central-overview.png"), full_page=True)
            page.screenshot(path=str(docs_dir() / "central-overview.png"), full_page=True)
        interrupt_and_wait(proc, state, 60)
        assert not cluster.exists()  # the throw-away cluster is removed
    finally:
        reap(proc)
