"""The counter's pure state machine fed with a real hall server's replies and events: one request per tap,
retries with the same id (the server replays the first result), which actions are allowed when, what the
window strip says, late events of its own commands, and today's counts. (The flow tests that need no hall
are in tests/unit/test_counter_flow.py.)"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from counter.actions import Action
from counter.flow import CounterFlow
from counter.notices import render
from counter.rating import RatingPhase
from counter.settings import settings_from_config
from counter.texts import catalog
from hallclient.http import HttpHall
from hallclient.types import CounterSession, Issued, WindowResult
from hallcore.windowstrip import StripText
from tests.fakes.halls import small_hall
from tests.fakes.live_server import PIN, LiveServer, live_server


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"rid-{next(counter)}"


class Station:
    """The live hall as one station sees it, called synchronously: `hall("call_next", 1, request_id=…)`."""

    def __init__(self, live: LiveServer, token: str) -> None:
        self.live = live
        self.token = token

    def __call__(self, method: str, *args: Any, **kwargs: Any) -> Any:
        async def go() -> Any:
            async with HttpHall(self.live.url, self.token, retries=0) as api:
                return await getattr(api, method)(*args, **kwargs)

        return asyncio.run(go())


@pytest.fixture
def live(tmp_path: Any) -> Iterator[LiveServer]:
    with live_server(tmp_path, small_hall()) as server:
        yield server


@pytest.fixture
def flow(live: LiveServer) -> CounterFlow:
    cfg = live.config
    f = CounterFlow(settings_from_config(cfg, 1), live.clock, make_id=ids())
    f.set_connection("live")
    return f


@pytest.fixture
def hall(live: LiveServer) -> Station:
    return Station(live, live.counter.token)


def login_and_open(flow: CounterFlow, hall: Station) -> None:
    cmd = flow.begin(Action.LOGIN, {"staff": "c1", "pin": PIN})
    assert cmd is not None
    session = hall("counter_login", "c1", PIN, 1)
    assert isinstance(session, CounterSession)
    flow.succeeded(cmd, session)
    cmd = flow.begin(Action.OPEN)
    assert cmd is not None
    flow.succeeded(cmd, hall("open_window", 1, request_id=cmd.request_id))


def issue(hall: Station, n: int = 1) -> list[str]:
    out = []
    for _ in range(n):
        r = hall("issue_ticket", "hj01", answers={"resident": True}, present=frozenset({"idcard", "photo"}))
        assert isinstance(r, Issued)
        out.append(r.ticket.label)
    return out


def act(flow: CounterFlow, hall: Station, action: Action, method: str, *args: Any, **form: Any) -> None:
    cmd = flow.begin(action, form or None)
    assert cmd is not None
    flow.succeeded(cmd, hall(method, 1, *args, request_id=cmd.request_id))


def test_a_second_tap_while_in_flight_sends_nothing(flow: CounterFlow, hall: Station) -> None:
    login_and_open(flow, hall)
    issue(hall, 2)
    first = flow.begin(Action.CALL_NEXT)
    assert first is not None
    assert flow.begin(Action.CALL_NEXT) is None
    assert flow.notice is not None
    assert flow.notice.key == "msg.busy"
    assert flow.advance() is None  # the keypad too


def test_unreachable_keeps_the_id_and_the_retry_reuses_it(
    flow: CounterFlow, hall: Station, live: LiveServer
) -> None:
    login_and_open(flow, hall)
    issue(hall, 2)
    cmd = flow.begin(Action.CALL_NEXT)
    assert cmd is not None
    flow.unreachable(cmd)
    assert flow.begin(Action.RECALL) is None  # nothing else goes out before it
    again = flow.retry()
    assert again is not None
    assert again.request_id == cmd.request_id
    # The server applied the first attempt; the retry with the same id replays it: one ticket called.
    r1 = hall("call_next", 1, request_id=cmd.request_id)
    r2 = hall("call_next", 1, request_id=again.request_id)
    assert r1 == r2
    assert live.count("SELECT COUNT(*) FROM tickets WHERE state = 'called'") == 1
    flow.succeeded(again, r2)
    assert flow.unsent is None
    assert flow.held_state == "called"
    assert flow.notice is not None
    assert render(flow.notice, catalog()) == "“叫号”已重发成功"


def test_allowed_actions_follow_the_window(flow: CounterFlow, hall: Station, live: LiveServer) -> None:
    assert flow.allowed(Action.LOGIN)
    assert not flow.allowed(Action.CALL_NEXT)
    login_and_open(flow, hall)
    issue(hall)
    assert flow.allowed(Action.CALL_NEXT)
    assert not flow.allowed(Action.RECALL)
    act(flow, hall, Action.CALL_NEXT, "call_next")
    assert flow.allowed(Action.RECALL)
    assert not flow.allowed(Action.NO_SHOW)  # recalls first (max_recalls = 2)
    assert not flow.allowed(Action.PAUSE)
    assert not flow.allowed(Action.LOGOUT)
    for _ in range(2):
        live.clock.advance(live.config.no_show.min_recall_gap_s)  # people need time to walk to the window
        act(flow, hall, Action.RECALL, "recall")
    assert flow.allowed(Action.NO_SHOW)
    flow.set_connection("reconnecting")
    assert not flow.allowed(Action.NO_SHOW)
    assert flow.begin(Action.NO_SHOW) is None


def test_strip_per_state(flow: CounterFlow, hall: Station) -> None:
    assert flow.strip() == StripText("本窗口暂停服务", "red")  # closed until the window opens
    login_and_open(flow, hall)
    assert flow.strip() == StripText("欢迎光临", "green")
    (a1,) = issue(hall)
    act(flow, hall, Action.CALL_NEXT, "call_next")
    assert flow.strip() == StripText(f"请{a1}号到1号窗口", "red")
    assert flow.keypad_display() == (a1, 0)
    act(flow, hall, Action.START, "start_serving")
    assert flow.strip() == StripText(f"{a1} 户口迁移", "green")
    act(flow, hall, Action.FINISH, "finish")
    assert flow.ratings.take_request() is not None
    assert flow.rating is not None
    assert flow.rating.phase is RatingPhase.ASKING
    cmd = flow.begin(Action.PAUSE, {"reason": "会议"})
    assert cmd is not None
    flow.succeeded(cmd, hall("pause_window", 1, "会议", request_id=cmd.request_id))
    assert flow.strip() == StripText("暂停服务 会议", "amber")


def test_own_event_arriving_after_the_reply_does_not_go_back(
    flow: CounterFlow, hall: Station, live: LiveServer
) -> None:
    login_and_open(flow, hall)
    issue(hall)
    seen = live.last_seq()
    act(flow, hall, Action.CALL_NEXT, "call_next")
    act(flow, hall, Action.START, "start_serving")
    for _seq, ev in live.event_log(after=seen):  # the "called" event comes late, after the start's reply
        flow.on_event(ev)
    assert flow.held_state == "serving"
    assert flow.counts.called == 1


def test_keypad_next_advances_call_start_finish(flow: CounterFlow, hall: Station) -> None:
    login_and_open(flow, hall)
    issue(hall, 2)
    cmd = flow.advance()
    assert cmd is not None
    assert cmd.action is Action.CALL_NEXT
    flow.succeeded(cmd, hall("call_next", 1, request_id=cmd.request_id))
    cmd = flow.advance()
    assert cmd is not None
    assert cmd.action is Action.START
    flow.succeeded(cmd, hall("start_serving", 1, request_id=cmd.request_id))
    cmd = flow.advance()
    assert cmd is not None
    assert (cmd.action, cmd.then) == (Action.FINISH, (Action.CALL_NEXT,))
    flow.succeeded(cmd, hall("finish", 1, request_id=cmd.request_id))
    nxt = flow.follow_up(Action.CALL_NEXT, ())
    assert nxt is not None
    assert nxt.request_id != cmd.request_id


def test_form_arguments_are_checked_before_sending(flow: CounterFlow, hall: Station) -> None:
    login_and_open(flow, hall)
    issue(hall)
    assert flow.begin(Action.CALL_SPECIFIC, {"ticket": "A001", "reason": " "}) is None
    assert flow.notice is not None
    assert flow.notice.key == "msg.reason_required"
    act(flow, hall, Action.CALL_NEXT, "call_next")
    assert flow.begin(Action.TRANSFER, {"to_series": "B", "to_window": 3}) is None
    assert flow.begin(Action.TRANSFER, {}) is None
    assert flow.begin(Action.TRANSFER, {"to_window": 3}) is not None


def test_counts_are_today_and_this_window_only(flow: CounterFlow, hall: Station, live: LiveServer) -> None:
    login_and_open(flow, hall)
    issue(hall, 2)
    for action in ("call_next", "recall", "start_serving", "finish"):
        live.clock.advance(live.config.no_show.min_recall_gap_s if action == "recall" else 0)
        assert isinstance(hall(action, 1), WindowResult)
    events = live.event_log()
    for _seq, ev in events:
        flow.on_event(ev)
    assert (flow.counts.called, flow.counts.finished) == (1, 1)
    live.clock.advance(24 * 3600)
    flow.on_event(events[-1][1])  # yesterday's "finished" does not count today
    assert flow.counts.finished == 1
