"""`hallq demo` as a person runs it: the whole hall starts headless, the dashboard in a real browser shows
tickets issued and called within 30 s, and Ctrl-C stops every process (even when
the demo was started with SIGINT ignored, as `hallq demo &` in a script starts it)."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from hallq.demohall import MANAGER
from tests.e2e.support import midday_timezone
from tests.fakes.processes import interrupt_and_wait, processes_using, read_until, reap, sigint_ignored
from tests.fakes.shots import docs_dir
from tests.server.web_helpers import browser_login, needs_chromium, page_of

needs_chromium()
pytestmark = pytest.mark.slow


def test_demo_runs_the_whole_hall_and_stops_cleanly(tmp_path: Path, artifacts: Path, browser: Any) -> None:
    state = tmp_path / "demo"
    env = dict(os.environ)
    env.pop("DISPLAY", None)
    env.pop("WAYLAND_DISPLAY", None)
    # Ctrl-C must stop it even when its parent ignored SIGINT (it ran on before hallq/demo.py set it).
    proc = subprocess.Popen(
        sigint_ignored(
            [
                sys.executable,
                "-m",
                "hallq.cli",
                "demo",
                "--state",
                str(state),
                "--port",
                "0",
                # The demo hall stops issuing in the last minutes before its midnight: run it where it is day.
                "--timezone",
                midday_timezone(dt.datetime.now(dt.UTC)),
            ]
        ),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    try:
        url = read_until(proc, r"dashboard\s+(http://127\.0\.0\.1:\d+)/web/dashboard", 90).group(1)
        started = time.monotonic()
        with page_of(browser, 1280, 900) as page:
            browser_login(page, url, MANAGER)
            # A window of the grid holds a called or served ticket (e.g. "B003") within 30 s of start.
            page.wait_for_function(
                "() => [...document.querySelectorAll('#windows .current')]"
                ".some(e => /[A-Z]\\d{3}/.test(e.textContent))",
                timeout=30_000,
            )
            waited = time.monotonic() - started
            page.screenshot(path=str(artifacts / "demo-dashboard.png"), full_page=True)
            page.screenshot(path=str(docs_dir() / "demo-dashboard.png"), full_page=True)
            # 刷身份证取号: the crowd takes a share of its numbers with ID cards (laid on the demo kiosk's
            # emulated reader too); the statistics count them and their decades, never who they were.
            carded = 0
            for _ in range(60):  # a hang guard: a carded citizen comes every few seconds
                page.goto(f"{url}/web/stats")
                carded = int(page.inner_text("#identity-carded"))
                if carded > 0:
                    break
                page.wait_for_timeout(1000)
            assert carded > 0
            assert page.locator("table.age-decades tbody tr").count() > 0
            # Notices: some of the crowd opt in at the kiosk; the log adapter writes them, masked.
            server_log = state / "server.log"
            for _ in range(60):  # a hang guard: a notice is due within seconds of an opt-in
                if " notice " in server_log.read_text(encoding="utf-8", errors="replace"):
                    break
                page.wait_for_timeout(1000)
            notices = [
                line for line in server_log.read_text(encoding="utf-8").splitlines() if " notice " in line
            ]
            assert notices
            assert all("1390000" not in line and "139****" in line for line in notices), notices[:3]
            page.goto(f"{url}/web/dashboard")
            page.wait_for_function("() => Number(document.getElementById('notices-sent')?.textContent) > 0")
        assert waited < 30
        children = processes_using(state)
        # server, kiosk, two counters, display, agent
        assert len(children) >= 6, children
        interrupt_and_wait(proc, state, 30)
        out: Any = proc.stdout.read() if proc.stdout else ""
        assert "[demo] stopped" in out
    finally:
        reap(proc)
