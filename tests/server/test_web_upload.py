"""好差评 upload against a fake provincial platform on 127.0.0.1 (tests/fakes/province.py) that verifies the
HQ1-HMAC-SHA256 signature, fails and recovers: nothing lost, nothing accepted twice, field names mapped, the
state on the dashboard, and a restart in between."""

from __future__ import annotations

import dataclasses
import pathlib
from typing import Any

import httpx

from hallcore.config import HallConfig, Upload
from hallfiles.config import read_config
from tests.fakes.live_server import COUNTY, MANAGER, LiveServer, live_server, wait_for
from tests.fakes.province import APP_KEY, SECRET, FakeProvince, fake_province
from tests.server.web_helpers import (
    SCORES,
    browser_login,
    build_fixture_day,
    csrf_of,
    http_login,
    page_of,
    served_ticket,
)

FIELD_MAP = {
    "evaluateLevel": "score",
    "taskCode": "matter_code",
    "ticketNo": "ticket_id",
    "windowNo": "window",
    "channel": "channel",
    "evaluateType": "kind",
    "visitTime": "callback_at",
    "rectification": "rectification",
    "raterView": "rater_view",
}


def upload_config(tmp_path: pathlib.Path, url: str, **upload: object) -> HallConfig:
    """The county hall uploading to `url`, signed with the test appKey and secret (a 0600 file)."""
    secret = tmp_path / "hcp.secret"
    secret.write_bytes(SECRET + b"\n")
    secret.chmod(0o600)
    cfg = read_config(COUNTY)
    up = Upload(
        enabled=True,
        endpoint=url,
        field_map=FIELD_MAP,
        retry_max_s=1,
        retry_first_s=0.2,
        app_key=APP_KEY,
        secret_file=str(secret),
    )
    return dataclasses.replace(cfg, upload=dataclasses.replace(up, **upload))  # type: ignore[arg-type]


def test_ratings_reach_the_platform_after_it_recovers(tmp_path: pathlib.Path) -> None:
    hall: LiveServer
    platform: FakeProvince
    with fake_province() as platform:
        platform.mode = "down"
        with live_server(tmp_path, upload_config(tmp_path, platform.url)) as hall:
            platform.clock = hall.clock.now  # the signature's timestamp is the hall's (fake) clock
            build_fixture_day(hall)
            wait_for(lambda: platform.answers.count(503) >= 2, 15, "the uploader to try and fail")
            c = http_login(hall.url)
            try:
                # The uploader counts what waits at each try: under load its first tries can come while the
                # fixture is still rating (7 of 10 seen once), so the dashboard is read until a try saw all.
                dashboard: dict[str, Any] = {}

                def all_seen() -> bool:
                    dashboard.update(c.get("/web/api/dashboard").json()["upload"])
                    return bool(dashboard["pending"] == len(SCORES))

                wait_for(all_seen, 15, "the uploader to count every rating")
                up = dashboard
            finally:
                c.close()
            assert up["enabled"]
            assert up["failures"] >= 1
            assert up["pending"] == len(SCORES)
            assert "503" in up["last_error"]
            assert hall.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == len(SCORES)
            # A restart while the platform is down loses nothing.
            hall.stop()
            hall.start()
            platform.mode = "ok"
            wait_for(
                lambda: hall.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == 0, 20, "upload"
            )
    assert platform.bad_signatures == []
    assert len(platform.accepted) == len(SCORES)
    assert sorted(b["evaluateLevel"] for b in platform.accepted) == sorted(SCORES)
    assert {b["taskCode"] for b in platform.accepted} <= {"HJ01", "HJ02"}
    assert {b["channel"] for b in platform.accepted} == {"评价器"}
    assert len(set(platform.keys)) == len(SCORES)  # one idempotency key per rating
    assert all(k.startswith("jinzhai:2026-11-23/") for k in platform.keys)
    assert [b["idempotencyKey"] for b in platform.accepted] == platform.keys  # the key is in the body too
    # In the order they were rated (the oldest is retried first).
    assert [b["evaluateLevel"] for b in platform.accepted] == list(SCORES)


def _dashboard_upload(c: httpx.Client) -> dict[str, Any]:
    up: dict[str, Any] = c.get("/web/api/dashboard").json()["upload"]
    return up


def test_a_refused_row_is_set_aside_and_retried_from_the_dashboard(tmp_path: pathlib.Path) -> None:
    """Throttled, then timing out, then one row refused for good: the others go on; the dead letter is retried
    from the dashboard once the platform is fixed; a 差评 case's 整改 result goes up when it closes."""
    hall: LiveServer
    platform: FakeProvince
    with fake_province() as platform:
        platform.mode = "throttle"
        cfg = upload_config(tmp_path, platform.url, timeout_s=1.0)
        with live_server(tmp_path, cfg) as hall:
            platform.clock = hall.clock.now
            day = build_fixture_day(hall)
            keys = [f"jinzhai:{t}" for t in day.ticket_ids[: len(SCORES)]]
            wait_for(lambda: platform.answers.count(429) >= 2, 15, "the uploader to be throttled")
            assert platform.accepted == []
            assert "429" in hall.query("SELECT last_error FROM outbox ORDER BY id LIMIT 1")[0][0]
            # The platform now takes the first row but answers too late: a timeout, tried again later.
            platform.refuse = {keys[2]}
            platform.hold_s = 2.5
            platform.late = 1
            platform.mode = "ok"
            pending = "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL AND dead_at IS NULL"
            wait_for(lambda: hall.count(pending) == 0, 20, "the rows after the refused one")
            assert platform.keys == [k for k in keys if k != keys[2]]  # in order, the refused one left out
            assert platform.repeats == [keys[0]]  # the timed-out row came again, and was not counted again
            first = hall.query("SELECT attempts FROM outbox ORDER BY id LIMIT 1")[0][0]
            assert first >= 4  # two 429s (at least), the timeout, then the 200
            dead = hall.query("SELECT id, key, last_error FROM outbox WHERE dead_at IS NOT NULL")
            assert [(k, "HTTP 422" in e) for _i, k, e in dead] == [(keys[2], True)]
            c = http_login(hall.url)
            try:
                assert _dashboard_upload(c)["dead"] == 1
                rows = c.get("/web/api/outbox", params={"state": "dead"}).json()["rows"]
                assert [(r["id"], r["key"], r["kind"]) for r in rows] == [(dead[0][0], keys[2], "rating")]
                assert "事项编码不存在" in rows[0]["last_error"]
                sent_rows = c.get("/web/api/outbox", params={"state": "sent"}).json()
                assert sent_rows["state"] == "sent"
                assert sorted(r["key"] for r in sent_rows["rows"]) == sorted(k for k in keys if k != keys[2])
                assert c.get("/web/api/outbox", params={"state": "lost"}).status_code == 422
                csrf = {"X-CSRF-Token": csrf_of(c)}
                assert c.post(f"/web/api/outbox/{dead[0][0]}/retry").status_code == 403  # no CSRF token
                # The platform is fixed; the manager retries the row from the dashboard.
                platform.refuse.clear()
                r = c.post(f"/web/api/outbox/{dead[0][0]}/retry", headers=csrf)
                assert r.status_code == 200, r.text
                marked = f"SELECT COUNT(*) FROM outbox WHERE id = {dead[0][0]} AND sent_at IS NOT NULL"
                wait_for(lambda: hall.count(marked) == 1, 15, "the retried row sent")
                assert keys[2] in platform.keys
                sent = c.post(f"/web/api/outbox/{dead[0][0]}/discard", headers=csrf)
                assert sent.status_code == 409  # sent already: nothing to discard
                # 差评 follow-up: call back, fix, close; the 整改 result goes to the platform on close.
                case_id = "C-" + day.ticket_ids[SCORES.index(1)]
                csrf_cases = csrf_of(c, "/web/cases")
                for action, note in (
                    ("callback", "已电话回访"),
                    ("resolve", "增开周一上午窗口"),
                    ("close", "群众表示认可"),
                ):
                    r = c.post(
                        f"/web/cases/{case_id}/step",
                        data={"csrf": csrf_cases, "action": action, "note": note},
                    )
                    assert r.status_code == 303, r.text
                wait_for(lambda: f"jinzhai:{case_id}:close1" in platform.keys, 15, "the follow-up report")
            finally:
                c.close()
            audit = hall.query("SELECT actor, action, target FROM audit WHERE action LIKE 'outbox_%'")
            assert audit == [(f"manager:{MANAGER[0]}", "outbox_retry", str(dead[0][0]))]
    assert platform.bad_signatures == []
    follow = platform.accepted[-1]
    assert follow["evaluateType"] == "followup"
    assert (follow["rectification"], follow["raterView"], follow["evaluateLevel"]) == (
        "增开周一上午窗口",
        "群众表示认可",
        1,
    )
    assert follow["visitTime"]


def test_dead_letters_on_the_dashboard_page(tmp_path: pathlib.Path, browser: Any) -> None:
    """In a real browser (Debian chromium, the module's `browser`): the dashboard lists the dead letters;
    重试 sends one again once the platform takes it, 作废 (after the confirmation) ends the other; both
    audited."""
    hall: LiveServer
    with fake_province() as platform, live_server(tmp_path, upload_config(tmp_path, platform.url)) as hall:
        platform.clock = hall.clock.now
        hall.login_counter()
        assert hall.act(hall.counter, "open").status_code == 200
        tickets = [served_ticket(hall)["ticket"]["id"] for _ in range(3)]
        keys = [f"jinzhai:{t}" for t in tickets]
        platform.refuse = {keys[0], keys[1]}
        for t in tickets:
            assert hall.post(hall.counter, f"/api/tickets/{t}/rating", score=4).status_code == 200
        dead = "SELECT id FROM outbox WHERE dead_at IS NOT NULL AND discarded_at IS NULL ORDER BY id"
        wait_for(lambda: len(hall.query(dead)) == 2 and keys[2] in platform.keys, 20, "two dead letters")
        first, second = (i for (i,) in hall.query(dead))
        with page_of(browser) as page:
            browser_login(page, hall.url)
            page.wait_for_selector(f"#dead-{first}", timeout=8000)
            assert "事项编码不存在" in page.text_content(f"#dead-{first}")
            assert page.text_content("#upload-dead") == "2"
            platform.refuse = {keys[1]}  # the platform now takes the first
            page.click(f"#dead-{first} [data-outbox=retry]")
            page.wait_for_selector(f"#dead-{first}", state="detached", timeout=8000)
            page.once("dialog", lambda d: d.accept())
            page.click(f"#dead-{second} [data-outbox=discard]")
            page.wait_for_selector(f"#dead-{second}", state="detached", timeout=8000)
        sent = f"SELECT COUNT(*) FROM outbox WHERE id = {first} AND sent_at IS NOT NULL"
        wait_for(lambda: hall.count(sent) == 1, 15, "the retried row sent")
        assert (
            hall.count(f"SELECT COUNT(*) FROM outbox WHERE id = {second} AND discarded_at IS NOT NULL") == 1
        )
        assert platform.keys == [keys[2], keys[0]]
        audit = hall.query("SELECT action, target FROM audit WHERE action LIKE 'outbox_%' ORDER BY id")
        assert audit == [("outbox_retry", str(first)), ("outbox_discard", str(second))]
