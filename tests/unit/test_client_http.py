"""HttpHall over httpx.MockTransport: every reply type parsed, errors mapped, retries keep the request id."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
import pytest_asyncio

from hallclient.errors import AuthError, BadReply, DiskFull, Refusal, ServerUnavailable
from hallclient.http import HttpHall
from hallclient.types import (
    EnrollState,
    Issued,
    NotIssued,
    Slot,
)
from hallcore import replies
from hallcore.codec import encode
from hallcore.config import MatterKind
from hallcore.estimates import WaitEstimate
from hallcore.events import TicketChanged, WindowView
from hallcore.precheck import MissingItem, MissingKind, PrecheckOutcome, PrecheckResult
from hallcore.printout import NoticePrint, TicketPrint
from hallcore.replybuilders import hall_view
from tests.fakes.halls import MONDAY_9, small_hall, ticket_view

TICKET = ticket_view("A012", "pending_print")
WINDOW = WindowView(number=1, name="户籍窗口", state="open", zone="", series=("A",), staff="S01")

Handler = Callable[[httpx.Request], httpx.Response]


class Server:
    """Routes (method, path) to a reply; records every request it saw."""

    def __init__(self) -> None:
        self.routes: dict[tuple[str, str], Handler] = {}
        self.seen: list[httpx.Request] = []

    def reply(self, method: str, path: str, status: int, body: Any = None) -> None:
        self.routes[(method, path)] = lambda _r: httpx.Response(status, json=body)

    def handle(self, request: httpx.Request) -> httpx.Response:
        self.seen.append(request)
        route = self.routes.get((request.method, request.url.raw_path.decode().split("?")[0]))
        if route is None:
            return httpx.Response(
                404, json={"error": "no_route", "message": "没有", "message_en": "no route"}
            )
        return route(request)

    def body(self, i: int = -1) -> dict[str, Any]:
        data = json.loads(self.seen[i].content)
        assert isinstance(data, dict)
        return data


@pytest.fixture
def server() -> Server:
    return Server()


@pytest.fixture
def delays() -> list[float]:
    return []


@pytest_asyncio.fixture
async def hall(server: Server, delays: list[float]) -> AsyncIterator[HttpHall]:
    async def no_sleep(s: float) -> None:
        delays.append(s)

    client = HttpHall(
        "http://hall.test",
        "tok-1",
        transport=httpx.MockTransport(server.handle),
        retries=2,
        backoff_s=0.1,
        sleep=no_sleep,
    )
    yield client
    await client.aclose()


PHOTO = MissingItem("photo", MissingKind.MATERIAL, "照片", "photo", "照相馆", "", True)
TOLERATED = PrecheckResult(PrecheckOutcome.TOLERATED, (PHOTO,), dt.date(2026, 12, 21), "hj01")
PRINTED = TicketPrint(
    "小厅", "A012", "户口迁移", 3, (5, 20), "2026-11-23 09:00", "https://hall.example/s/st-abc"
)
ISSUED_REPLY = replies.Issued(
    ticket=TICKET,
    token="st-abc",
    status_url="https://hall.example/s/st-abc",
    ahead=3,
    estimate=WaitEstimate(5, 20, 12, False),
    precheck=TOLERATED,
    print={"zh": PRINTED},
)
ISSUED = encode(ISSUED_REPLY)


@pytest.mark.asyncio
async def test_issue_ticket_parses_issued_and_sends_a_request_id(server: Server, hall: HttpHall) -> None:
    server.reply("POST", "/api/tickets", 201, ISSUED)
    out = await hall.issue_ticket("hj01", answers={"resident": True}, present=frozenset({"idcard", "form"}))
    assert out == ISSUED_REPLY  # the reply is the server's dataclass, read back with the same codec
    assert isinstance(out, Issued)
    assert out.precheck is not None
    assert out.precheck.missing[0].kind is MissingKind.MATERIAL
    assert out.precheck.due == dt.date(2026, 12, 21)
    assert out.printout("en") == PRINTED  # a language the hall does not print falls back to Chinese
    body = server.body()
    assert body["matter"] == "hj01"
    assert body["answers"] == {"resident": True}
    assert body["present"] == ["form", "idcard"]
    uuid.UUID(body["request_id"])
    assert server.seen[0].headers["authorization"] == "Bearer tok-1"


@pytest.mark.asyncio
async def test_failed_precheck_is_not_issued(server: Server, hall: HttpHall) -> None:
    failed = dataclasses.replace(TOLERATED, outcome=PrecheckOutcome.FAIL, due=None)
    notice = NoticePrint("小厅", "户口迁移", "2026-11-23", ())
    server.reply("POST", "/api/tickets", 200, encode(replies.NotIssued(failed, {"zh": notice})))
    out = await hall.issue_ticket("hj01", answers={"resident": False})
    assert isinstance(out, NotIssued)
    assert not out.precheck.issues_ticket
    assert [m.text for m in out.precheck.missing] == ["照片"]
    assert out.printout("zh") == notice


@pytest.mark.asyncio
async def test_ticket_ids_stay_one_path_segment(server: Server, hall: HttpHall) -> None:
    server.reply("POST", "/api/tickets/2026-11-23%2FA012/printed", 200, {"ticket": encode(TICKET)})
    assert await hall.confirm_print(TICKET.id) == TICKET


@pytest.mark.parametrize(
    ("call", "path", "extra"),
    [
        (lambda h: h.open_window(1), "open", {}),
        (lambda h: h.close_window(1), "close", {}),
        (lambda h: h.pause_window(1, "休息"), "pause", {"reason": "休息"}),
        (lambda h: h.resume_window(1), "resume", {}),
        (lambda h: h.call_next(1), "call-next", {}),
        (lambda h: h.call_specific(1, "A012", "老人"), "call", {"ticket": "A012", "reason": "老人"}),
        (lambda h: h.recall(1), "recall", {}),
        (lambda h: h.start_serving(1), "start", {}),
        (lambda h: h.finish(1), "finish", {}),
        (lambda h: h.no_show(1), "no-show", {}),
        (lambda h: h.transfer(1, to_series="B"), "transfer", {"to_series": "B", "reason": ""}),
        (lambda h: h.transfer(1, to_window=3, reason="r"), "transfer", {"to_window": 3, "reason": "r"}),
        (lambda h: h.take_over(1, 2), "takeover", {"partner": 2}),
        (lambda h: h.end_take_over(1, 2), "end-takeover", {"partner": 2}),
    ],
)
@pytest.mark.asyncio
async def test_window_actions(
    server: Server, hall: HttpHall, call: Callable[[HttpHall], Any], path: str, extra: dict[str, Any]
) -> None:
    server.reply("POST", f"/api/windows/1/{path}", 200, {"window": encode(WINDOW), "ticket": None})
    out = await call(hall)
    assert out.window == WINDOW
    assert out.ticket is None
    body = server.body()
    assert {k: v for k, v in body.items() if k != "request_id"} == extra


@pytest.mark.asyncio
async def test_call_next_with_ticket(server: Server, hall: HttpHall) -> None:
    called = {**encode(TICKET), "state": "called", "window": 1, "call_reason": "按顺序（户籍）"}
    server.reply("POST", "/api/windows/1/call-next", 200, {"window": encode(WINDOW), "ticket": called})
    out = await hall.call_next(1)
    assert out.ticket is not None
    assert out.ticket.state == "called"
    assert out.ticket.call_reason == "按顺序（户籍）"


CALL = TicketChanged(MONDAY_9, "called", dataclasses.replace(TICKET, state="called", window=1), WINDOW, {})


@pytest.mark.asyncio
async def test_reads(server: Server, hall: HttpHall) -> None:
    cand = replies.Candidate(
        TICKET, "优先: 老年人（提前 20 分钟）", "priority: elderly (20 min head start)", 31.5, 20
    )
    server.reply("GET", "/api/windows/1/candidates", 200, [encode(cand)])
    server.reply("GET", "/api/windows", 200, [encode(WINDOW)])
    status = replies.TicketStatus(
        "A012", "hj01", "户口迁移", "", "waiting", MONDAY_9, 2, WaitEstimate(1, 9, 4), None, "", "", (), None,
        (CALL,),
    )  # fmt: skip
    server.reply("GET", "/api/status/st-abc", 200, encode(status))
    server.reply("GET", "/api/booking/slots", 200, [{"start": "09:00", "end": "09:30", "remaining": 4}])
    health = replies.Health(True, "small", 42, "ok", "full", 3, 0, 0.0)
    server.reply("GET", "/api/health", 200, encode(health))
    assert await hall.candidates(1) == [cand]
    assert await hall.windows() == [WINDOW]
    assert await hall.status("st-abc") == status
    assert await hall.slots("hj01", dt.date(2026, 11, 24)) == [Slot(dt.time(9), dt.time(9, 30), 4)]
    assert server.seen[-1].url.params["day"] == "2026-11-24"
    got = await hall.health()
    assert (got.ok, got.seq, got.uptime_s) == (True, 42, 3.0)  # an integer where a float is due is fine


@pytest.mark.asyncio
async def test_rating_bookings_and_devices(server: Server, hall: HttpHall) -> None:
    rated = replies.Rated(
        replies.RatingView(TICKET.id, "A012", 2, "不满意", 1),
        replies.CaseView("C-x", dt.date(2026, 11, 30), "open"),
    )
    server.reply("POST", "/api/tickets/A012/rating", 200, encode(rated))
    made = replies.BookingMade(
        "K7Q2", dt.date(2026, 11, 24), dt.time(9), dt.time(9, 30), "hj01", "户口迁移", "张*"
    )
    server.reply("POST", "/api/bookings", 201, encode(made))
    server.reply("POST", "/api/bookings/K7Q2/cancel", 200, {"code": "K7Q2", "state": "cancelled"})
    server.reply("POST", "/api/bookings/K7Q2/checkin", 201, ISSUED)
    server.reply("POST", "/api/devices/health", 200, {"changed": True})
    assert await hall.rate("A012", 2) == rated
    assert (
        await hall.book("hj01", dt.date(2026, 11, 24), dt.time(9), "110101199001011237", name="张三") == made
    )
    assert server.body()["slot"] == "09:00"
    await hall.cancel_booking("K7Q2")
    assert isinstance(await hall.check_in("K7Q2"), Issued)
    await hall.report_device_health("printer", "degraded", "paper low")
    assert server.body()["health"] == "degraded"


@pytest.mark.asyncio
async def test_hall_snapshot_and_stations(server: Server, hall: HttpHall) -> None:
    view = hall_view(small_hall())
    server.reply("GET", "/api/hall", 200, {**encode(view), "future_field": 1})  # newer servers may add fields
    snap = replies.HallSnapshot(
        7, MONDAY_9, (WINDOW,), {"A": 3}, (CALL,), (replies.DeviceInfo("k1", "printer", "ok"),)
    )
    server.reply("GET", "/api/snapshot", 200, encode(snap))
    server.reply("POST", "/api/enroll", 201, {"station_id": "s1", "code": "123456", "poll_secret": "p"})
    server.reply("GET", "/api/enroll/s1", 200, {"state": "approved", "token": "t-new"})
    server.reply("POST", "/api/manager/login", 200, {"token": "m-tok", "expires_at": MONDAY_9.isoformat()})
    server.reply("POST", "/api/counter/login", 200, {"staff": "S01", "name": "王芳", "window": 1})
    server.reply("POST", "/api/counter/logout", 200, {})
    station = replies.StationInfo("s1", "一楼取号机", "kiosk", "pending", "123456", None, "", MONDAY_9)
    server.reply("GET", "/api/stations", 200, [encode(station)])
    approved = dataclasses.replace(station, state="approved")
    server.reply("POST", "/api/stations/s1/approve", 200, encode(approved))
    server.reply(
        "POST", "/api/stations/s1/revoke", 200, encode(dataclasses.replace(station, state="revoked"))
    )

    info = await hall.hall_info()
    assert info == view
    assert info.matters[0].precheck.questions[0].id == view.matters[0].precheck.questions[0].id
    assert {m.kind for m in info.matters} <= set(MatterKind)
    assert await hall.snapshot() == snap
    enr = await hall.enroll("一楼取号机", "kiosk")
    assert enr.code == "123456"
    assert server.body() == {
        "name": "一楼取号机",
        "role": "kiosk",
    }  # no request id: the server forbids extras
    poll = await hall.poll_enrollment("s1", "p")
    assert (poll.state, poll.token) == (EnrollState.APPROVED, "t-new")
    assert server.seen[-1].url.params["poll_secret"] == "p"
    assert await hall.manager_login("admin", "pw") == "m-tok"
    assert (await hall.counter_login("S01", "1234", 1)).name == "王芳"
    await hall.counter_logout()
    assert await hall.stations() == [station]
    assert await hall.approve_station("s1") == approved
    assert (await hall.revoke_station("s1")).state == "revoked"


@pytest.mark.parametrize(
    ("status", "cls"),
    [
        (400, Refusal),
        (404, Refusal),
        (409, Refusal),
        (413, Refusal),
        (422, Refusal),
        (401, AuthError),
        (403, AuthError),
        (507, DiskFull),
    ],
)
@pytest.mark.asyncio
async def test_error_bodies_map_to_typed_errors(
    server: Server, hall: HttpHall, status: int, cls: type[Exception]
) -> None:
    body = {"error": "window_closed", "message": "1 号窗口未开启", "message_en": "closed", "detail": {"w": 1}}
    server.reply("POST", "/api/windows/1/call-next", status, body)
    with pytest.raises(cls) as info:
        await hall.call_next(1)
    err = info.value
    assert isinstance(err, Refusal | AuthError | DiskFull)
    assert (err.code, err.message, err.message_en, dict(err.detail), err.status) == (
        "window_closed",
        "1 号窗口未开启",
        "closed",
        {"w": 1},
        status,
    )
    assert len(server.seen) == 1  # refusals are answers: never retried


@pytest.mark.asyncio
async def test_error_without_a_body_still_has_a_code(server: Server, hall: HttpHall) -> None:
    server.routes[("POST", "/api/tickets")] = lambda _r: httpx.Response(413, content=b"too big")
    with pytest.raises(Refusal) as info:
        await hall.issue_ticket("hj01")
    assert (info.value.code, info.value.status) == ("http_413", 413)


@pytest.mark.parametrize("status", [500, 502, 503])
@pytest.mark.asyncio
async def test_5xx_is_server_unavailable(server: Server, hall: HttpHall, status: int) -> None:
    server.reply("GET", "/api/health", status, {"error": "oops"})
    with pytest.raises(ServerUnavailable) as info:
        await hall.health()
    assert info.value.status == status
    # A proxy's 502/503 may pass: retried. A 500 is the server's own answer: not repeated.
    assert len(server.seen) == (1 if status == 500 else 3)


@pytest.mark.asyncio
async def test_a_timeout_is_retried_with_the_same_request_id(
    server: Server, hall: HttpHall, delays: list[float]
) -> None:
    attempts: list[str] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        attempts.append(json.loads(request.content)["request_id"])
        if len(attempts) == 1:
            raise httpx.ReadTimeout("timed out", request=request)  # the server may have applied it
        if len(attempts) == 2:
            raise httpx.ConnectError("refused", request=request)
        return httpx.Response(201, json=ISSUED)

    server.routes[("POST", "/api/tickets")] = flaky
    out = await hall.issue_ticket("sb01")
    assert isinstance(out, Issued)
    assert len(attempts) == 3
    assert len(set(attempts)) == 1
    assert delays == [0.1, 0.2]


@pytest.mark.asyncio
async def test_retries_are_bounded_and_keep_the_callers_request_id(server: Server, hall: HttpHall) -> None:
    def down(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectTimeout("no route", request=request)

    server.routes[("POST", "/api/windows/1/call-next")] = down
    with pytest.raises(ServerUnavailable) as info:
        await hall.call_next(1, request_id="tap-1")
    assert info.value.request_id == "tap-1"
    assert len(server.seen) == 3
    assert {json.loads(r.content)["request_id"] for r in server.seen} == {"tap-1"}


@pytest.mark.asyncio
async def test_each_call_gets_its_own_request_id(server: Server, hall: HttpHall) -> None:
    server.reply("POST", "/api/windows/1/recall", 200, {"window": encode(WINDOW), "ticket": None})
    await hall.recall(1)
    await hall.recall(1)
    assert server.body(0)["request_id"] != server.body(1)["request_id"]


@pytest.mark.asyncio
async def test_unreadable_replies_are_bad_reply(server: Server, hall: HttpHall) -> None:
    server.routes[("GET", "/api/health")] = lambda _r: httpx.Response(200, content=b"<html>")
    with pytest.raises(BadReply):
        await hall.health()
    server.reply("GET", "/api/windows", 200, [{"number": 1}])
    with pytest.raises(BadReply, match="missing field 'name'"):
        await hall.windows()
    server.reply("POST", "/api/tickets", 201, {**ISSUED, "ahead": "three"})
    with pytest.raises(BadReply, match="ahead"):
        await hall.issue_ticket("sb01")


@pytest.mark.asyncio
async def test_set_token_and_no_token(server: Server, hall: HttpHall) -> None:
    server.reply("GET", "/api/health", 200, encode(replies.Health(True, "small", 0, "ok", "full", 0, 0, 0)))
    hall.set_token(None)
    await hall.health()
    assert "authorization" not in server.seen[-1].headers
    hall.set_token("t2")
    await hall.health()
    assert server.seen[-1].headers["authorization"] == "Bearer t2"
