"""The web pages in a real browser (Playwright driving Debian's chromium) against a real server: the dashboard
changes live, the statistics page shows the hand-worked figures, a 差评 case is followed up and closed, the
phone page updates live and alerts, a booking made on the page checks in. Screenshots go to artifacts/ and
docs/screenshots/. The browser is the module's one Chromium (`browser`, tests/server/conftest.py)."""

from __future__ import annotations

import datetime as dt
import pathlib
import shutil
from typing import Any

from tests.fakes.live_server import HJ01_PASSES, MONDAY_9, LiveServer
from tests.fakes.shots import docs_dir
from tests.server.web_helpers import (
    Expected,
    browser_login,
    build_fixture_day,
    needs_chromium,
    owed_ticket,
    supply_all,
)

needs_chromium()

TIMEOUT_MS = 5000


def shot(page: Any, artifacts: pathlib.Path, name: str) -> None:
    path = artifacts / f"web-{name}.png"
    page.screenshot(path=str(path), full_page=True)
    shutil.copy(path, docs_dir() / path.name)


def issue(hall: LiveServer, **extra: Any) -> dict[str, Any]:
    r = hall.post(
        hall.kiosk,
        "/api/tickets",
        matter="HJ01",
        **HJ01_PASSES,
        **extra,
    )
    assert r.status_code == 201, r.text
    j: dict[str, Any] = r.json()
    assert hall.post(hall.kiosk, f"/api/tickets/{j['ticket']['id']}/printed").status_code == 200
    return j


def test_dashboard_changes_live_on_call_and_pause(
    hall: LiveServer, browser: Any, artifacts: pathlib.Path
) -> None:
    hall.login_counter()
    hall.act(hall.counter, "open")
    tickets = [issue(hall) for _ in range(3)]
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    browser_login(page, hall.url)
    page.wait_for_selector("#conn.live", timeout=TIMEOUT_MS)
    page.wait_for_selector("#win-1.open", timeout=TIMEOUT_MS)
    marker = page.evaluate("() => (window.__noReload = 1)")
    assert marker == 1
    r = hall.act(hall.counter, "call-next")
    label = r.json()["ticket"]["label"]
    assert label == tickets[0]["ticket"]["label"]
    page.wait_for_function(
        "l => document.querySelector('#win-1 .current')?.textContent.includes(l)",
        arg=label,
        timeout=TIMEOUT_MS,
    )
    page.wait_for_function(
        "() => document.querySelector('#series-A .waiting')?.textContent === '2'", timeout=TIMEOUT_MS
    )
    hall.act(hall.counter, "start")
    hall.act(hall.counter, "finish")
    hall.act(hall.counter, "pause", reason="会议")
    page.wait_for_selector("#win-1.paused", timeout=TIMEOUT_MS)
    assert "会议" in page.text_content("#win-1")
    # The same page all along: the live updates did not reload it.
    assert page.evaluate("() => window.__noReload") == 1
    hall.act(hall.counter, "resume")
    hall.act(hall.counter, "call-next")
    hall.station("display", "大厅屏-2")
    hall.enroll("kiosk", "二楼取号机")
    r = hall.post(hall.kiosk, "/api/devices/health", device="printer", health="degraded", reason="纸将尽")
    assert r.status_code == 200, r.text
    page.wait_for_function(
        "() => document.getElementById('devices').textContent.includes('纸将尽')", timeout=TIMEOUT_MS
    )
    page.wait_for_selector("#win-1.open", timeout=TIMEOUT_MS)
    page.reload()
    page.wait_for_selector("#conn.live", timeout=TIMEOUT_MS)
    shot(page, artifacts, "dashboard")
    page.close()


def test_statistics_page_shows_the_hand_worked_day(
    hall: LiveServer, browser: Any, artifacts: pathlib.Path
) -> None:
    build_fixture_day(hall)
    want = Expected()
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    browser_login(page, hall.url)
    page.goto(f"{hall.url}/web/stats?period=day&date=2026-11-23&by=matter")
    got = {
        k: page.text_content(f"#{k}")
        for k in (
            "total-tickets",
            "total-wait-mean",
            "total-wait-p50",
            "total-wait-p90",
            "total-wait-max",
            "total-satisfaction",
            "total-participation",
            "precheck-pass",
            "precheck-tolerated",
            "precheck-fail",
            "precheck-agent",
            "precheck-agent-share",
            "register-opened",
            "register-open",
            "register-never",
        )
    }
    assert got == {
        "total-tickets": str(want.tickets),
        "total-wait-mean": want.wait_mean,
        "total-wait-p50": want.wait_p50,
        "total-wait-p90": want.wait_p90,
        "total-wait-max": want.wait_max,
        "total-satisfaction": want.satisfaction,
        "total-participation": want.participation,
        "precheck-pass": str(want.precheck_pass),
        "precheck-tolerated": str(want.precheck_tolerated),
        "precheck-fail": str(want.precheck_fail),
        "precheck-agent": str(want.precheck_agent),
        "precheck-agent-share": want.agent_share,
        "register-opened": str(want.register_opened),
        "register-open": str(want.register_open),
        "register-never": "0",
    }
    assert page.locator("svg.chart").count() >= 5
    shot(page, artifacts, "statistics")
    page.close()


def test_dashboard_lists_overdue_rongque_with_the_masked_name(
    hall: LiveServer, browser: Any, artifacts: pathlib.Path
) -> None:
    """A 容缺 ticket whose items are still owed the working day after its due day shows on the dashboard:
    number, masked name, matter, what is owed; supplied, it leaves the list."""
    desk, j = owed_ticket(hall)
    hall.clock.set(dt.datetime(2026, 12, 22, 9, 0, tzinfo=MONDAY_9.tzinfo))
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    browser_login(page, hall.url)
    row = page.wait_for_selector("#owed tr.owed", timeout=TIMEOUT_MS)
    cells = [c.text_content() for c in row.query_selector_all("td")]
    assert cells == [j["ticket"]["label"], "欧***", "社会保障卡申领", "数码相片回执", "2026-12-21", "1"]
    assert "欧阳娜娜" not in page.content()
    shot(page, artifacts, "dashboard-owed")
    supply_all(hall, desk, j["ticket"]["id"])
    page.reload()
    page.wait_for_selector("#owed p.muted", timeout=TIMEOUT_MS)
    assert page.locator("#owed tr.owed").count() == 0
    page.close()


def test_dashboard_warns_that_the_calendar_runs_out(
    hall: LiveServer, browser: Any, artifacts: pathlib.Path
) -> None:
    """The county hall knows 2026 only. On 14 December the dashboard warns that 2027 is not loaded, and a
    容缺 ticket whose 20 working days reach into 2027 is printed and counted as an estimate, not a date."""
    desk = hall.station("desk", "desk-1")
    hall.clock.set(dt.datetime(2026, 12, 14, 9, 0, tzinfo=MONDAY_9.tzinfo))
    r = hall.post(desk, "/api/tickets", matter="SB02", present=["idcard"], holder_name="欧阳娜娜")
    assert r.status_code == 201, r.text
    j = r.json()
    assert j["precheck"]["due_estimated"] is True
    assert j["print"]["zh"]["tolerance_due"] == "约 20 个工作日（日历待更新）"
    status = hall.http.get(f"/web/api/status/{j['token']}").json()
    assert (status["due_text"], status["due_text_en"]) == (
        "约 20 个工作日（日历待更新）",
        "about 20 working days (calendar to be updated)",
    )
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    browser_login(page, hall.url)
    warning = page.wait_for_selector("#calendar-warning", timeout=TIMEOUT_MS)
    text = warning.text_content() or ""
    assert "日历只到 2026-12-31" in text
    assert "2027 年的节假日和调休安排尚未载入" in text
    assert "hallq admin calendar import" in text
    estimated = page.wait_for_selector("#calendar-estimated", timeout=TIMEOUT_MS)
    assert "1 个容缺补齐期限" in (estimated.text_content() or "")
    shot(page, artifacts, "dashboard-calendar")
    page.close()
    phone = browser.new_page(viewport={"width": 360, "height": 740})
    phone.goto(f"{hall.url}/s/{j['token']}")
    phone.wait_for_function("() => !document.getElementById('missing').hidden", timeout=TIMEOUT_MS)
    assert "请于 约 20 个工作日（日历待更新） 前补交" in (phone.text_content("#missing") or "")
    phone.close()


def test_bad_rating_case_is_followed_up_and_closed(
    hall: LiveServer, browser: Any, artifacts: pathlib.Path
) -> None:
    day = build_fixture_day(hall)
    label = day.labels[8]  # rated 1 (非常不满意)
    page = browser.new_page(viewport={"width": 1280, "height": 800})
    browser_login(page, hall.url)
    page.goto(f"{hall.url}/web/cases")
    row = page.locator(f"#case-{label}")
    assert "非常不满意" in row.text_content()
    for action, note in (
        ("callback", "已电话回访，致歉"),
        ("resolve", "已解释所需材料"),
        ("close", "群众表示认可"),
    ):
        row = page.locator(f"#case-{label}")
        row.locator("select[name=action]").select_option(action)
        row.locator("input[name=note]").fill(note)
        row.locator("button").click()
        page.wait_for_load_state()
    row = page.locator(f"#case-{label}")
    assert row.locator(".state").text_content() == "closed"
    assert "群众表示认可" in row.text_content()
    shot(page, artifacts, "cases")
    page.close()


def test_phone_page_updates_live_and_alerts(hall: LiveServer, browser: Any, artifacts: pathlib.Path) -> None:
    hall.login_counter()
    hall.act(hall.counter, "open")
    first = issue(hall)
    mine = issue(hall)
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    # Record vibration calls (headless chromium has no vibrator).
    ctx.add_init_script(
        "window.__vibrations = []; navigator.vibrate = (p) => { window.__vibrations.push(p); return true; };"
    )
    page = ctx.new_page()
    page.goto(f"{hall.url}/s/{mine['token']}")
    page.wait_for_function("() => document.getElementById('ahead').textContent === '1'", timeout=TIMEOUT_MS)
    assert page.text_content("#label") == mine["ticket"]["label"]
    hall.act(hall.counter, "call-next")  # the first ticket: one fewer ahead, live
    page.wait_for_function("() => document.getElementById('ahead').textContent === '0'", timeout=TIMEOUT_MS)
    # The calls list may come one status read later than the count (a read can see the engine after the call
    # and the hall's recent calls before it): wait for it rather than read it at once.
    page.wait_for_function(
        "(label) => document.getElementById('calls').textContent.includes(label)",
        arg=first["ticket"]["label"],
        timeout=TIMEOUT_MS,
    )
    # A priority arrival makes the line longer: the page says why.
    desk = hall.station("desk", "desk")
    hall.clock.advance(60)
    assert hall.post(desk, "/api/tickets", matter="HJ01", priority="elderly").status_code == 201
    page.wait_for_function("() => document.getElementById('ahead').textContent === '1'", timeout=8000)
    assert "优先" in page.text_content("#why")
    assert page.evaluate("() => document.documentElement.scrollWidth") <= 360
    shot(page, artifacts, "phone")
    hall.act(hall.counter, "start")
    hall.act(hall.counter, "finish")
    hall.act(hall.counter, "call", ticket=mine["ticket"]["label"], reason="test: call this one")
    page.wait_for_selector("#turn:not([hidden])", timeout=TIMEOUT_MS)
    assert page.text_content("#turn").startswith("轮到您了 → 1 号窗口")
    assert page.evaluate("() => window.__vibrations.length") >= 1
    shot(page, artifacts, "phone-turn")
    page.goto(f"{hall.url}/s/{mine['token']}?lang=en")
    page.wait_for_selector("#turn:not([hidden])", timeout=TIMEOUT_MS)
    assert page.text_content("#turn").startswith("Your turn → window 1")
    ctx.close()


def test_phone_page_after_closing_waits_while_the_window_is_open_then_says_expired(
    hall: LiveServer, browser: Any, artifacts: pathlib.Path
) -> None:
    """延时服务: at 17:40, after the county hall closes at 17:30, a ticket of an open window's series still
    waits; when that window closes the ticket expires and the phone page says why."""
    hall.login_counter()
    assert hall.act(hall.counter, "open").status_code == 200  # window 1: 户政 (A)
    mine = issue(hall)
    desk = hall.station("desk", "desk-1")
    other = hall.post(desk, "/api/tickets", matter="SB02", present=["idcard"])  # 社保: no window open
    assert other.status_code == 201, other.text
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.goto(f"{hall.url}/s/{mine['token']}")
    page.wait_for_function(
        "() => document.getElementById('state').textContent === '等候中'", timeout=TIMEOUT_MS
    )
    hall.clock.set(dt.datetime(2026, 11, 23, 17, 40, tzinfo=MONDAY_9.tzinfo))

    def status(token: str) -> str:
        state: str = hall.http.get(f"/web/api/status/{token}").json()["state"]
        return state

    # The server's tick after closing expires what no open window serves; that shows the tick ran.
    page.wait_for_function(
        "t => fetch('/web/api/status/' + t).then(r => r.json()).then(j => j.state === 'expired')",
        arg=other.json()["token"],
        timeout=TIMEOUT_MS,
    )
    assert status(mine["token"]) == "waiting"
    assert page.text_content("#state") == "等候中"
    assert hall.act(hall.counter, "close").status_code == 200
    page.wait_for_function("() => !document.getElementById('expired').hidden", timeout=TIMEOUT_MS)
    assert page.text_content("#state") == "已过期"
    assert "今日服务已结束" in (page.text_content("#expired") or "")
    assert status(mine["token"]) == "expired"
    shot(page, artifacts, "phone-expired")
    ctx.close()


def test_phone_page_explains_the_requeue_limit(
    hall: LiveServer, browser: Any, artifacts: pathlib.Path
) -> None:
    hall.login_counter()
    hall.act(hall.counter, "open")
    mine = issue(hall)
    tid = mine["ticket"]["id"]
    ctx = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True, has_touch=True)
    page = ctx.new_page()
    page.goto(f"{hall.url}/s/{mine['token']}")
    note = (
        "() => document.getElementById('noshow').hidden ? '' : document.getElementById('noshow').textContent"
    )
    limit = hall.config.no_show.max_requeues
    for back in range(limit + 1):
        assert hall.act(hall.counter, "call-next").status_code == 200
        for _ in range(hall.config.no_show.max_recalls):
            hall.clock.advance(hall.config.no_show.min_recall_gap_s)
            assert hall.act(hall.counter, "recall").status_code == 200
        hall.clock.advance(hall.config.no_show.min_recall_gap_s)
        assert hall.act(hall.counter, "no-show").status_code == 200
        if back < limit:
            page.wait_for_function(f"() => ({note})().includes('还可 {limit - back} 次')", timeout=TIMEOUT_MS)
            assert hall.post(hall.counter, f"/api/tickets/{tid}/requeue").status_code == 200
            page.wait_for_function("() => document.getElementById('noshow').hidden", timeout=TIMEOUT_MS)
    page.wait_for_function(f"() => ({note})().includes('请重新取号')", timeout=TIMEOUT_MS)
    assert page.text_content("#noshow") == f"您已过号重排 {limit} 次，这张票不能再排队，请重新取号。"
    refused = hall.post(hall.counter, f"/api/tickets/{tid}/requeue")
    assert refused.status_code == 409
    assert refused.json()["error"] == "requeue_limit"
    assert "请重新取号" in refused.json()["message"]
    shot(page, artifacts, "phone-requeue-limit")
    page.goto(f"{hall.url}/s/{mine['token']}?lang=en")
    page.wait_for_function(f"() => ({note})().includes('take a new ticket')", timeout=TIMEOUT_MS)
    ctx.close()


def test_booking_made_on_the_page_checks_in(hall: LiveServer, browser: Any, artifacts: pathlib.Path) -> None:
    ctx = browser.new_context(viewport={"width": 360, "height": 800}, is_mobile=True)
    page = ctx.new_page()
    page.goto(f"{hall.url}/book")
    page.select_option("#matter", "HJ01")
    page.select_option("#day", "2026-11-23")
    page.wait_for_selector("#slots button[data-start='09:30']", timeout=TIMEOUT_MS)
    before = page.text_content("#slots button[data-start='09:30']")
    page.click("#slots button[data-start='09:30']")
    page.fill("#idno", "110101199003070011")
    page.fill("#name", "张三")
    page.click("#book")
    page.wait_for_url("**/book/*", timeout=TIMEOUT_MS)
    code = page.text_content("#code")
    assert code
    assert len(code) == 8
    assert "张*" in page.content()
    assert "张三" not in page.content()
    shot(page, artifacts, "booking")
    page.goto(f"{hall.url}/book")
    page.select_option("#matter", "HJ01")
    page.select_option("#day", "2026-11-23")
    page.wait_for_selector("#slots button[data-start='09:30']", timeout=TIMEOUT_MS)
    after = page.text_content("#slots button[data-start='09:30']")
    assert before != after  # one place fewer
    # At the kiosk (API level): the code checks in and becomes a ticket.
    r = hall.post(
        hall.kiosk,
        f"/api/bookings/{code}/checkin",
        **HJ01_PASSES,
    )
    assert r.status_code == 201, r.text
    assert r.json()["ticket"]["source"] == "booking"
    ctx.close()
    _ = dt
