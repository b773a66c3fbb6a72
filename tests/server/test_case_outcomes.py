"""Case outcomes through the real server (issue 22): the finish with its outcome and 办件编号 stored on the
ticket, carried by the events (with the department) into the rating row and the 好差评 upload's data items;
a change within the limit updates the queued upload row and is audited; bad input is refused and changes
nothing. The browser is the module's one Chromium (`browser`, tests/server/conftest.py)."""

from __future__ import annotations

import json
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from hallcore.events import RatingRecorded, TicketChanged
from hallcore.provincial import platform_body
from tests.fakes.halls import two_departments
from tests.fakes.live_server import LiveServer, live_server
from tests.server.web_helpers import page_of


@pytest.fixture
def live(tmp_path: pathlib.Path) -> Iterator[LiveServer]:
    with live_server(tmp_path, two_departments(), counter_window=2) as server:
        server.login_counter()
        assert server.act(server.counter, "open").status_code == 200
        yield server


def serving(live: LiveServer) -> str:
    r = live.post(live.counter, "/api/tickets", matter="sb01")
    assert r.status_code == 201, r.text
    label = str(r.json()["ticket"]["label"])
    for action in ("call-next", "start"):
        assert live.act(live.counter, action).status_code == 200
    return label


def test_finish_with_outcome_and_case_number_reaches_events_rating_and_upload(live: LiveServer) -> None:
    label = serving(live)
    seq = live.last_seq()
    r = live.act(live.counter, "finish", outcome="受理", case_no="SB-2026-0042")
    assert r.status_code == 200, r.text
    t = r.json()["ticket"]
    assert (t["outcome"], t["case_no"], t["department"]) == ("受理", "SB-2026-0042", "hrss")
    assert live.query("SELECT outcome, outcome_reason, case_no FROM tickets WHERE label = ?", (label,)) == [
        ("受理", "", "SB-2026-0042")
    ]
    finished = [e for _s, e in live.event_log(seq) if isinstance(e, TicketChanged) and e.action == "finished"]
    assert [(e.ticket.outcome, e.ticket.case_no, e.ticket.department) for e in finished] == [
        ("受理", "SB-2026-0042", "hrss")
    ]
    tid = t["id"]
    r = live.post(live.counter, f"/api/tickets/{tid}/rating", score=4)
    assert r.status_code == 200, r.text
    rated = [e for _s, e in live.event_log(seq) if isinstance(e, RatingRecorded)]
    assert [(e.outcome, e.case_no, e.department) for e in rated] == [("受理", "SB-2026-0042", "hrss")]
    assert live.query("SELECT outcome, case_no, department FROM ratings WHERE ticket = ?", (tid,)) == [
        ("受理", "SB-2026-0042", "hrss")
    ]
    (body,) = live.query("SELECT body FROM outbox WHERE kind = 'rating'")
    item = json.loads(body[0])
    assert (item["case_no"], item["outcome"], item["department"]) == ("SB-2026-0042", "受理", "人社")
    # What the province gets under a field map (the example halls map case_no to projectNo).
    sent = platform_body(item, {"projectNo": "case_no", "handleResult": "outcome", "deptName": "department"})
    assert sent["projectNo"] == "SB-2026-0042"
    assert sent["handleResult"] == "受理"


def test_a_change_within_the_minute_updates_the_queued_upload_and_is_audited(live: LiveServer) -> None:
    serving(live)
    r = live.act(live.counter, "finish")  # a keypad without outcome digits: 办结
    assert r.status_code == 200, r.text
    tid = r.json()["ticket"]["id"]
    assert r.json()["ticket"]["outcome"] == "办结"
    assert live.post(live.counter, f"/api/tickets/{tid}/rating", score=5).status_code == 200
    live.clock.advance(40)
    reason = live.config.outcomes.refusal_reasons[1]
    r = live.act(live.counter, "outcome", ticket=tid, outcome="refused", reason=reason, case_no="77")
    assert r.status_code == 200, r.text
    assert (r.json()["ticket"]["outcome"], r.json()["ticket"]["outcome_reason"]) == ("不予受理", reason)
    rows = live.query("SELECT body FROM outbox WHERE kind = 'rating'")
    assert len(rows) == 1  # the queued row was updated, not a second report
    item = json.loads(rows[0][0])
    assert (item["outcome"], item["case_no"]) == ("不予受理", "77")
    assert live.query("SELECT outcome, case_no FROM ratings WHERE ticket = ?", (tid,)) == [("不予受理", "77")]
    audit = live.query("SELECT action, target, detail FROM audit WHERE action = 'outcome_changed'")
    assert [a[1] for a in audit] == [tid]
    assert json.loads(audit[0][2])["outcome"] == "不予受理"
    live.clock.advance(21)  # 61 s after the finish
    late = live.act(live.counter, "outcome", ticket=tid, outcome="咨询")
    assert late.status_code == 409, late.text
    assert late.json()["error"] == "outcome_closed"
    assert live.query("SELECT outcome FROM tickets WHERE id = ?", (tid,)) == [("不予受理",)]


@pytest.mark.parametrize(
    "body",
    [
        {"outcome": "完成"},
        {"outcome": "不予受理"},
        {"outcome": "不予受理", "reason": "不想办"},
        {"outcome": "办结", "case_no": "有空格 1"},
    ],
)
def test_bad_outcomes_are_422_and_the_case_stays_at_the_window(
    live: LiveServer, body: dict[str, str]
) -> None:
    label = serving(live)
    seq = live.last_seq()
    r = live.act(live.counter, "finish", **body)
    assert r.status_code == 422, r.text
    assert r.json()["error"] == "bad_outcome"
    assert live.ticket_state(label) == "serving"
    assert live.last_seq() == seq


def test_the_phone_page_tells_what_to_supply_after_a_correction(live: LiveServer, browser: Any) -> None:
    """补正 links to the 一次性告知: the ticket's phone page (its QR code) lists what to bring, once."""
    r = live.post(live.counter, "/api/tickets", matter="sb01")
    assert r.status_code == 201, r.text
    token = r.json()["token"]
    for action in ("call-next", "start"):
        assert live.act(live.counter, action).status_code == 200
    r = live.act(live.counter, "finish", outcome="补正", reason="户口本原件、近期免冠照片", case_no="SB-9")
    assert r.status_code == 200, r.text
    status = live.http.get(f"/api/status/{token}").json()
    assert (status["outcome"], status["outcome_reason"], status["case_no"]) == (
        "补正",
        "户口本原件、近期免冠照片",
        "SB-9",
    )
    with page_of(browser, 390, 844) as page:
        page.goto(f"{live.url}/s/{token}")
        note = page.wait_for_selector("#outcome:not([hidden])", timeout=15000)
        assert note.text_content() == "一次性告知：请补正：户口本原件、近期免冠照片（办件编号 SB-9）。"
