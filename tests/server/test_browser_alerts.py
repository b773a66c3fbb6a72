"""The dashboard's alerts in a real browser (Playwright driving Debian's chromium) against a real server
(issue 22, hallcore/alerts.py): each appears when its condition holds and clears when it no longer does — a
series past its target wait (with the Erlang C advice beside it), a window paused past `alerts.pause_min`, a
device down, 容缺 owed past its due day, a 差评 case past its deadline. The browser is the module's one
Chromium (`browser`, tests/server/conftest.py)."""

from __future__ import annotations

import datetime as dt
import pathlib
import shutil
from typing import Any

from tests.fakes.live_server import HJ01_PASSES, MONDAY_9, LiveServer
from tests.fakes.shots import docs_dir
from tests.server.web_helpers import browser_login, needs_chromium, owed_ticket, supply_all

needs_chromium()

#: A hang guard for a loaded 2-core machine; the conditions are what the tests check.
TIMEOUT_MS = 15000


def dashboard(hall: LiveServer, browser: Any) -> Any:
    """The dashboard, logged in and drawn once from /web/api/dashboard (the series table is there)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    browser_login(page, hall.url)
    page.wait_for_selector("#conn.live", timeout=TIMEOUT_MS)
    page.wait_for_selector("#series-A", timeout=TIMEOUT_MS)
    return page


def alert(kind: str, key: str = "") -> str:
    return f'#alerts .alert[data-kind="{kind}"]' + (f'[data-key="{key}"]' if key else "")


def gone(page: Any, selector: str) -> None:
    page.wait_for_selector(selector, state="detached", timeout=TIMEOUT_MS)


def issue_a(hall: LiveServer) -> None:
    r = hall.post(hall.kiosk, "/api/tickets", matter="HJ01", **HJ01_PASSES)
    assert r.status_code == 201, r.text
    assert hall.post(hall.kiosk, f"/api/tickets/{r.json()['ticket']['id']}/printed").status_code == 200


def test_wait_alert_with_erlang_advice_appears_and_clears(
    hall: LiveServer, browser: Any, artifacts: pathlib.Path
) -> None:
    for _ in range(3):
        issue_a(hall)
    target = hall.config.series_by_prefix["A"].target_wait_min
    hall.clock.advance((target + 1) * 60)
    page = dashboard(hall, browser)
    box = page.wait_for_selector(alert("wait", "A"), timeout=TIMEOUT_MS)
    text = box.text_content() or ""
    assert f"最长已等 {target + 1} 分钟，超过目标 {target} 分钟" in text
    advice = box.query_selector(".advice")
    assert advice is not None
    assert "近 60 分钟到达 3 人" in (advice.text_content() or "")
    assert "Erlang C 建议开 1 个窗口（现开 0 个）" in (advice.text_content() or "")
    assert page.locator(alert("wait")).count() == 1  # the other series wait for nobody
    path = artifacts / "web-dashboard-alerts.png"
    page.screenshot(path=str(path), full_page=True)
    shutil.copy(path, docs_dir() / path.name)
    hall.login_counter()
    assert hall.act(hall.counter, "open").status_code == 200
    for _ in range(3):
        assert hall.act(hall.counter, "call-next").status_code == 200
        assert hall.act(hall.counter, "start").status_code == 200
        assert hall.act(hall.counter, "finish").status_code == 200
    gone(page, alert("wait", "A"))  # nobody waits: the events re-read the dashboard
    page.close()


def test_long_pause_alert_appears_and_clears(hall: LiveServer, browser: Any) -> None:
    hall.login_counter()
    assert hall.act(hall.counter, "open").status_code == 200
    assert hall.act(hall.counter, "pause", reason="会议").status_code == 200
    limit = hall.config.alerts.pause_min
    hall.clock.advance(limit * 60)  # exactly the limit: not yet
    page = dashboard(hall, browser)
    page.wait_for_selector("#win-1.paused", timeout=TIMEOUT_MS)
    assert page.locator(alert("paused")).count() == 0
    hall.clock.advance(60)
    page.reload()  # the page re-reads every 30 s; a pause grows without events
    page.wait_for_selector("#series-A", timeout=TIMEOUT_MS)
    box = page.wait_for_selector(alert("paused", "1"), timeout=TIMEOUT_MS)
    assert f"暂停已 {limit + 1} 分钟（会议），超过 {limit} 分钟" in (box.text_content() or "")
    assert hall.act(hall.counter, "resume").status_code == 200
    gone(page, alert("paused", "1"))
    page.close()


def test_device_down_alert_appears_and_clears(hall: LiveServer, browser: Any) -> None:
    page = dashboard(hall, browser)
    assert page.locator(alert("device")).count() == 0
    r = hall.post(hall.kiosk, "/api/devices/health", device="printer", health="unavailable", reason="缺纸")
    assert r.status_code == 200, r.text
    box = page.wait_for_selector(alert("device"), timeout=TIMEOUT_MS)
    assert "printer" in (box.text_content() or "")
    assert "缺纸" in (box.text_content() or "")
    r = hall.post(hall.kiosk, "/api/devices/health", device="printer", health="ok")
    assert r.status_code == 200, r.text
    gone(page, alert("device"))
    page.close()


def test_overdue_rongque_alert_appears_and_clears(hall: LiveServer, browser: Any) -> None:
    desk, j = owed_ticket(hall)
    hall.clock.set(dt.datetime(2026, 12, 21, 17, 0, tzinfo=MONDAY_9.tzinfo))  # the due day itself: not yet
    page = dashboard(hall, browser)
    page.wait_for_selector("#owed p.muted", timeout=TIMEOUT_MS)
    assert page.locator(alert("owed")).count() == 0
    page.close()
    hall.clock.set(dt.datetime(2026, 12, 22, 9, 0, tzinfo=MONDAY_9.tzinfo))
    page = dashboard(hall, browser)
    box = page.wait_for_selector(alert("owed"), timeout=TIMEOUT_MS)
    assert f"容缺逾期未补齐 1 件（{j['ticket']['label']}）" in (box.text_content() or "")
    assert "欧阳娜娜" not in page.content()
    supply_all(hall, desk, j["ticket"]["id"])
    page.reload()
    page.wait_for_selector("#owed p.muted", timeout=TIMEOUT_MS)
    gone(page, alert("owed"))
    page.close()


def test_overdue_bad_rating_case_alert_appears_and_clears(hall: LiveServer, browser: Any) -> None:
    hall.login_counter()
    assert hall.act(hall.counter, "open").status_code == 200
    issue_a(hall)
    for action in ("call-next", "start"):
        assert hall.act(hall.counter, action).status_code == 200
    r = hall.act(hall.counter, "finish")
    t = r.json()["ticket"]
    rated = hall.post(hall.counter, f"/api/tickets/{t['id']}/rating", score=1)
    assert rated.status_code == 200, rated.text
    due = dt.date.fromisoformat(rated.json()["case"]["due"])
    hall.clock.set(dt.datetime.combine(due, dt.time(16), MONDAY_9.tzinfo))  # on the due day: not yet late
    page = dashboard(hall, browser)
    assert page.locator(alert("case")).count() == 0
    page.close()
    hall.clock.set(dt.datetime.combine(due + dt.timedelta(days=1), dt.time(9), MONDAY_9.tzinfo))
    page = dashboard(hall, browser)
    box = page.wait_for_selector(alert("case"), timeout=TIMEOUT_MS)
    assert f"差评整改超期 1 件：{t['label']}（{due.isoformat()} 到期）" in (box.text_content() or "")
    page.goto(f"{hall.url}/web/cases")
    for action, note in (("resolve", "已解释所需材料"), ("close", "群众表示认可")):
        row = page.locator(f"#case-{t['label']}")
        row.locator("select[name=action]").select_option(action)
        row.locator("input[name=note]").fill(note)
        row.locator("button").click()
        page.wait_for_load_state()
    page.goto(f"{hall.url}/web/dashboard")
    page.wait_for_selector("#series-A", timeout=TIMEOUT_MS)
    gone(page, alert("case"))
    page.close()
