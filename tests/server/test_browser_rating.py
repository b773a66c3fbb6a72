"""扫码评价 in a real browser (Playwright driving Debian's chromium) against a real server: the phone page of
a ticket finished without a rating offers the five levels once; it is not offered after a pad rating; a 差评
from the phone opens the same case as a pad rating (and the call-back form); the offer ends after
`rating.phone_window_min`. The ratings reach the outbox with the channel 扫码."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.fakes.live_server import LiveServer, live_server
from tests.server.web_helpers import needs_chromium, served_ticket

needs_chromium()

TIMEOUT_MS = 8000


@pytest.fixture(scope="module")
def hall() -> Iterator[LiveServer]:
    with live_server() as h:
        h.login_counter()
        assert h.act(h.counter, "open").status_code == 200
        yield h


def rate_by_phone(hall: LiveServer, token: str, score: int) -> httpx.Response:
    return httpx.post(f"{hall.url}/web/api/status/{token}/rating", json={"score": score}, timeout=30)


def open_phone_page(page: Any, hall: LiveServer, token: str) -> None:
    page.goto(f"{hall.url}/s/{token}")
    page.wait_for_function(
        "() => document.getElementById('state').textContent === '已办结'", timeout=TIMEOUT_MS
    )


def test_phone_rating_is_offered_once(hall: LiveServer, page: Any) -> None:
    t = served_ticket(hall)
    open_phone_page(page, hall, t["token"])
    page.wait_for_selector("#rate:not([hidden])", timeout=TIMEOUT_MS)
    assert [page.text_content(f"#score-{n}") for n in (5, 4, 3, 2, 1)] == [
        "非常满意",
        "满意",
        "基本满意",
        "不满意",
        "非常不满意",
    ]
    page.click("#score-4")
    page.wait_for_selector("#rated:not([hidden])", timeout=TIMEOUT_MS)
    assert page.text_content("#rated") == "感谢您的评价！"
    page.reload()
    open_phone_page(page, hall, t["token"])
    assert page.is_hidden("#rate")  # once only: not offered again
    again = rate_by_phone(hall, t["token"], 1)
    assert again.status_code == 409
    assert again.json()["error"] == "already_rated"
    tid = t["ticket"]["id"]
    assert hall.query("SELECT score, source, window, staff FROM ratings WHERE ticket = ?", (tid,)) == [
        (4, "phone", 1, "c1")
    ]
    (body,) = hall.query("SELECT body FROM outbox WHERE key = ?", (f"jinzhai:{tid}",))[0]
    item = json.loads(body)
    assert (item["channel"], item["score"], item["clerk"], item["window"]) == ("扫码", 4, "c1", 1)


def test_not_offered_after_a_pad_rating(hall: LiveServer, page: Any) -> None:
    t = served_ticket(hall)
    r = hall.post(hall.counter, f"/api/tickets/{t['ticket']['id']}/rating", score=5)
    assert r.status_code == 200, r.text
    open_phone_page(page, hall, t["token"])
    assert page.is_hidden("#rate")
    assert rate_by_phone(hall, t["token"], 2).json()["error"] == "already_rated"
    assert hall.count("SELECT COUNT(*) FROM ratings WHERE ticket = ?", (t["ticket"]["id"],)) == 1


def test_a_bad_phone_rating_opens_a_case(hall: LiveServer, page: Any) -> None:
    t = served_ticket(hall)
    open_phone_page(page, hall, t["token"])
    page.wait_for_selector("#rate:not([hidden])", timeout=TIMEOUT_MS)
    assert page.is_hidden("#contact")
    page.click("#score-1")
    page.wait_for_selector("#contact:not([hidden])", timeout=TIMEOUT_MS)  # the call-back form, as after a pad
    tid = t["ticket"]["id"]
    assert hall.query("SELECT id, score, window, staff, state FROM cases WHERE ticket = ?", (tid,)) == [
        (f"C-{tid}", 1, 1, "c1", "open")
    ]


def test_the_offer_ends_after_the_window(hall: LiveServer, page: Any) -> None:
    t = served_ticket(hall)
    minutes = hall.config.rating.phone_window_min
    hall.clock.advance(minutes * 60 + 1)
    open_phone_page(page, hall, t["token"])
    assert page.is_hidden("#rate")
    late = rate_by_phone(hall, t["token"], 5)
    assert late.status_code == 409
    assert late.json()["error"] == "rating_closed"
    assert rate_by_phone(hall, "x" * 20, 5).status_code == 404
    bad = httpx.post(f"{hall.url}/web/api/status/{t['token']}/rating", json={"score": "5"}, timeout=30)
    assert bad.status_code == 422
