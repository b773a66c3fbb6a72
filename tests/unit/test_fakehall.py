"""FakeHall behaves like the server: flows, idempotency, refusals, roles, feeds, enrollment."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from hallclient.api import EventFeed, HallApi
from hallclient.errors import AuthError, Refusal, ServerUnavailable
from hallclient.fake import FakeHall
from hallclient.types import ConnectionState, EventItem, Heartbeat, Issued, NotIssued, Role, StreamItem
from hallcore.clock import FakeClock
from hallcore.events import CaseChanged, RatingRecorded, TicketChanged, TicketIssued, WindowChanged
from tests.fakes.halls import MONDAY_9, small_hall

STAFF = {"S01": ("1234", "王芳"), "S02": ("4321", "李强")}


def make_hall() -> tuple[FakeHall, FakeClock]:
    clock = FakeClock(MONDAY_9)
    return FakeHall(small_hall(), clock, staff=STAFF, managers={"admin": "pw"}), clock


def as_api(hall: HallApi) -> HallApi:
    """FakeHall must satisfy the HallApi protocol (checked by mypy)."""
    return hall


async def take(feed: EventFeed, n: int) -> list[StreamItem]:
    out: list[StreamItem] = []
    async with asyncio.timeout(2):
        async for item in feed:
            out.append(item)
            if len(out) == n:
                break
    return out


@pytest.mark.asyncio
async def test_kiosk_to_rating_flow() -> None:
    hall, clock = make_hall()
    kiosk = as_api(hall.as_station(Role.KIOSK))
    counter = as_api(hall.as_station(Role.COUNTER, window=2))
    display = hall.as_station(Role.DISPLAY)
    feed = display.events()

    issued = await kiosk.issue_ticket("sb01")
    assert isinstance(issued, Issued)
    assert issued.ticket.label == "B001"
    assert issued.ticket.state == "pending_print"
    assert issued.ahead == 0
    assert issued.estimate.no_window_open  # no window open yet: say so, do not guess
    assert issued.status_url.endswith(issued.token)
    assert issued.printout("zh").hall == "小厅"

    printed = await kiosk.confirm_print(issued.ticket.id)
    assert printed.state == "waiting"
    status = await kiosk.status(issued.token)
    assert (status.label, status.state, status.ahead) == ("B001", "waiting", 0)

    session = await counter.counter_login("S01", "1234", 2)
    assert session.name == "王芳"
    opened = await counter.open_window(2)
    assert (opened.window.state, opened.window.staff) == ("open", "S01")
    (cand,) = await counter.candidates(2)
    assert cand.ticket.label == "B001"
    assert cand.reason  # the first candidate says why it goes first
    called = await counter.call_next(2)
    assert called.ticket is not None
    assert (called.ticket.label, called.ticket.state, called.window.current) == ("B001", "called", "B001")
    status = await kiosk.status(issued.token)
    assert (status.state, status.window) == ("called", 2)
    assert status.calls[-1].ticket.label == "B001"

    await counter.start_serving(2)
    clock.advance(300)
    done = await counter.finish(2)
    assert done.ticket is not None
    assert done.ticket.state == "done"
    rating = await counter.rate(issued.ticket.id, 5)
    assert (rating.rating.score, rating.rating.score_name, rating.case) == (5, "非常满意", None)

    items = await take(feed, 7)
    kinds = [
        (type(i.event).__name__, getattr(i.event, "action", "")) for i in items if isinstance(i, EventItem)
    ]
    assert kinds == [
        ("TicketIssued", ""),
        ("TicketChanged", "printed"),
        ("WindowChanged", "opened"),
        ("TicketChanged", "called"),
        ("TicketChanged", "serving"),
        ("TicketChanged", "finished"),
        ("RatingRecorded", ""),
    ]
    assert [i.seq for i in items] == list(range(1, 8))
    assert feed.last_seq == 7
    snap = await display.snapshot()
    assert snap.seq == 7
    assert snap.recent_calls[-1].ticket.label == "B001"
    await hall.aclose()


@pytest.mark.asyncio
async def test_a_repeated_request_id_issues_once() -> None:
    hall, _ = make_hall()
    first = await hall.issue_ticket("zh01", source="desk", request_id="r1")
    again = await hall.issue_ticket("zh01", source="desk", request_id="r1")
    other = await hall.issue_ticket("zh01", source="desk", request_id="r2")
    assert first == again
    assert isinstance(other, Issued)
    assert isinstance(first, Issued)
    assert other.ticket.label != first.ticket.label
    assert sum(isinstance(ev, TicketIssued) for _, ev in hall.event_log()) == 2
    # Request ids are per station: another station's "r1" is another command.
    desk = hall.as_station(Role.DESK)
    assert await desk.issue_ticket("zh01", request_id="r1") != first


@pytest.mark.asyncio
async def test_a_repeated_request_id_replays_the_refusal() -> None:
    hall, _ = make_hall()
    await hall.open_window(3)
    with pytest.raises(Refusal) as first:
        await hall.call_next(3, request_id="tap")
    assert (first.value.code, first.value.status) == ("nothing_waiting", 409)
    await hall.issue_ticket("zh01", source="desk")
    with pytest.raises(Refusal) as again:
        await hall.call_next(3, request_id="tap")
    assert again.value is first.value
    assert (await hall.call_next(3)).ticket is not None


@pytest.mark.asyncio
async def test_refusals_carry_the_engines_code_and_message() -> None:
    hall, _ = make_hall()
    with pytest.raises(Refusal) as unknown:
        await hall.issue_ticket("nope")
    assert (unknown.value.code, unknown.value.status) == ("unknown_matter", 404)
    assert "nope" in unknown.value.message
    with pytest.raises(Refusal) as closed:
        await hall.call_next(1)
    assert (closed.value.code, closed.value.status, closed.value.message) == (
        "window_closed",
        409,
        "1 号窗口未开启",
    )
    with pytest.raises(Refusal) as required:
        await hall.issue_ticket("hj01")  # a kiosk ticket of a matter with a checklist needs the pre-check
    assert (required.value.code, required.value.status) == ("precheck_required", 422)
    with pytest.raises(Refusal) as pause:
        await hall.pause_window(1, "午睡")
    assert pause.value.code in ("unknown_pause_reason", "bad_transition")


@pytest.mark.asyncio
async def test_failed_and_tolerated_precheck() -> None:
    hall, _ = make_hall()
    failed = await hall.issue_ticket(
        "hj01", answers={"resident": False}, present=frozenset({"idcard", "photo"})
    )
    assert isinstance(failed, NotIssued)
    assert [m.id for m in failed.precheck.missing] == ["resident"]
    tolerated = await hall.issue_ticket("hj01", answers={"resident": True}, present=frozenset({"idcard"}))
    assert isinstance(tolerated, Issued)
    assert tolerated.precheck is not None
    assert tolerated.precheck.outcome == "容缺"
    assert tolerated.ticket.missing == ("photo",)
    assert tolerated.precheck.due is not None


@pytest.mark.asyncio
async def test_bad_rating_opens_a_case_and_rating_twice_is_refused() -> None:
    hall, _ = make_hall()
    issued = await hall.issue_ticket("zh01", source="desk")
    assert isinstance(issued, Issued)
    with pytest.raises(Refusal) as early:
        await hall.rate(issued.ticket.id, 1)
    assert early.value.code == "not_served"
    await hall.open_window(3)
    await hall.call_next(3)
    await hall.start_serving(3)
    await hall.finish(3)
    with pytest.raises(Refusal) as bad:
        await hall.rate(issued.ticket.id, 6)
    assert (bad.value.code, bad.value.status) == ("bad_score", 422)
    r = await hall.rate(issued.ticket.label, 1)
    assert r.case is not None
    assert r.case.due is not None
    assert any(isinstance(e, CaseChanged) for _, e in hall.event_log())
    with pytest.raises(Refusal) as twice:
        await hall.rate(issued.ticket.id, 5)
    assert twice.value.code == "already_rated"
    assert sum(isinstance(e, RatingRecorded) for _, e in hall.event_log()) == 1


@pytest.mark.asyncio
async def test_roles_and_window_binding() -> None:
    hall, _ = make_hall()
    kiosk = hall.as_station(Role.KIOSK)
    counter = hall.as_station(Role.COUNTER, window=1)
    with pytest.raises(AuthError) as kiosk_calls:
        await kiosk.call_next(1)
    assert kiosk_calls.value.status == 403
    with pytest.raises(AuthError):
        await counter.open_window(2)
    with pytest.raises(AuthError):
        await counter.confirm_print("A001")
    with pytest.raises(AuthError) as pin:
        await counter.counter_login("S01", "0000", 1)
    assert pin.value.status == 401
    manager = hall.as_station(Role.MANAGER)
    assert (await manager.open_window(2)).window.state == "open"
    with pytest.raises(AuthError):
        await kiosk.stations()


@pytest.mark.asyncio
async def test_transfer_requeue_and_cancel() -> None:
    hall, clock = make_hall()
    a = await hall.issue_ticket("zh01", source="desk")
    b = await hall.issue_ticket("zh01", source="desk")
    assert isinstance(a, Issued)
    assert isinstance(b, Issued)
    await hall.open_window(3)
    await hall.call_next(3)
    moved = await hall.transfer(3, to_series="B", reason="社保业务")
    assert moved.ticket is not None
    assert (moved.ticket.series, moved.ticket.state, moved.ticket.label) == ("B", "waiting", "C001")
    await hall.call_next(3)  # C002 or C001 in B: the window serves both
    for _ in range(2):
        await hall.recall(3)
    gone = await hall.no_show(3)
    assert gone.ticket is not None
    assert gone.ticket.state == "no_show"
    back = await hall.requeue(gone.ticket.id)
    assert back.state == "waiting"
    cancelled = await hall.cancel_ticket(back.id, "不办了")
    assert cancelled.state == "cancelled"
    assert clock.now() == MONDAY_9


@pytest.mark.asyncio
async def test_bookings_and_check_in() -> None:
    hall, clock = make_hall()
    day = dt.date(2026, 11, 24)
    slots = await hall.slots("sb01", day)
    assert slots[0].remaining == 4
    booking = await hall.book("sb01", day, slots[0].start, "110101199001011234", name="张三")
    assert (await hall.slots("sb01", day))[0].remaining == 3
    clock.set(dt.datetime.combine(day, slots[0].start, MONDAY_9.tzinfo))
    checked = await hall.check_in(booking.code)
    assert isinstance(checked, Issued)
    assert checked.ticket.source == "booking"
    assert checked.ticket.holder_masked == "张*"
    other = await hall.book("sb01", day, slots[2].start, "110101199001011234")
    await hall.cancel_booking(other.code)
    with pytest.raises(Refusal) as twice:
        await hall.cancel_booking(other.code)
    assert twice.value.code == "booking_state"


@pytest.mark.asyncio
async def test_tick_voids_unconfirmed_prints() -> None:
    hall, clock = make_hall()
    issued = await hall.issue_ticket("sb01")
    assert isinstance(issued, Issued)
    clock.advance(hall.engine.config.kiosk.print_confirm_timeout_s + 1)
    events = hall.tick()
    assert [e.action for e in events if isinstance(e, TicketChanged)] == ["voided"]
    with pytest.raises(Refusal):
        await hall.confirm_print(issued.ticket.id)


@pytest.mark.asyncio
async def test_filtered_feed_heartbeat_and_data_age() -> None:
    hall, clock = make_hall()
    await hall.issue_ticket("zh01", source="desk")  # seq 1, series C: not for window 2
    feed = hall.events(window=2)
    assert feed.data_age_s() is None
    await hall.open_window(2)  # seq 2
    hall.heartbeat()
    items = await take(feed, 2)
    assert isinstance(items[0], EventItem)
    assert isinstance(items[0].event, WindowChanged)
    assert items[0].seq == 2
    assert items[1] == Heartbeat(2, MONDAY_9)
    clock.advance(7)
    assert feed.data_age_s() == 7
    await feed.aclose()
    assert feed.state is ConnectionState.CLOSED


@pytest.mark.asyncio
async def test_a_feed_resumes_after_since() -> None:
    hall, _ = make_hall()
    for _ in range(3):
        await hall.issue_ticket("zh01", source="desk")
    feed = hall.events(since=2)
    (item,) = await take(feed, 1)
    assert isinstance(item, EventItem)
    assert item.seq == 3
    await feed.aclose()


@pytest.mark.asyncio
async def test_offline_makes_calls_fail_and_feeds_leave_live() -> None:
    hall, _ = make_hall()
    feed = hall.events()
    changes: list[ConnectionState] = []
    remove = feed.add_state_listener(lambda s: changes.append(s.state))
    hall.go_offline()
    with pytest.raises(ServerUnavailable):
        await hall.health()
    hall.go_online()
    assert (await hall.health()).ok
    assert changes == [ConnectionState.RECONNECTING, ConnectionState.LIVE]
    remove()
    await hall.aclose()
    assert changes == [ConnectionState.RECONNECTING, ConnectionState.LIVE]


@pytest.mark.asyncio
async def test_device_health_change_is_an_event_once() -> None:
    hall, _ = make_hall()
    kiosk = hall.as_station(Role.KIOSK, station_id="k1")
    await kiosk.report_device_health("printer", "degraded", "paper low")
    await kiosk.report_device_health("printer", "degraded", "paper low")
    assert hall.seq == 1
    snap = await kiosk.snapshot()
    assert snap.devices[0].station == "k1"
    with pytest.raises(Refusal):
        await kiosk.report_device_health("printer", "on fire")


@pytest.mark.asyncio
async def test_enrollment_and_manager() -> None:
    hall, _ = make_hall()
    token = await hall.manager_login("admin", "pw")
    assert token
    with pytest.raises(AuthError):
        await hall.manager_login("admin", "nope")
    enr = await hall.enroll("一楼取号机", "kiosk")
    assert len(enr.code) == 6
    manager = hall.as_station(Role.MANAGER)
    assert (await hall.poll_enrollment(enr.station_id, enr.poll_secret)).state == "pending"
    assert (await manager.stations())[0].state == "pending"
    await manager.approve_station(enr.station_id)
    poll = await hall.poll_enrollment(enr.station_id, enr.poll_secret)
    assert poll.token
    assert (await hall.poll_enrollment(enr.station_id, enr.poll_secret)).token is None  # once only
    with pytest.raises(Refusal):
        await hall.poll_enrollment(enr.station_id, "wrong")
    info = await hall.hall_info()
    assert [m.code for m in info.matters] == ["hj01", "sb01", "zh01"]
    assert "休息" in info.pause_reasons
