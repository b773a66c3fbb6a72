"""The counter's pure state machine, without Qt: one request per tap, retries with the same id, which actions
are allowed when, what the window strip says, keypad keys, today's counts, and the desk's request ids.

Replies and events come from a `FakeHall` on the real engine, so their shapes are the server's.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

import pytest

from counter.desk import DeskFlow, search
from counter.flow import Action, CounterFlow, Phase, RatingPhase, render, settings_from_config
from counter.keymap import intent_for
from counter.texts import catalog
from drivers.protocols import KeyCode, KeyEvent
from hallclient.fake import FakeHall
from hallclient.types import CounterSession, Issued, WindowResult
from hallcore.clock import FakeClock
from hallcore.config import HallConfig
from hallcore.windowstrip import StripText
from tests.fakes.halls import MONDAY_9, small_hall


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"rid-{next(counter)}"


def make(config: HallConfig | None = None) -> tuple[CounterFlow, FakeHall, FakeClock]:
    cfg = config or small_hall()
    clock = FakeClock(MONDAY_9)
    hall = FakeHall(cfg, clock, staff={"c1": ("1234", "张三")})
    flow = CounterFlow(settings_from_config(cfg, 1), clock, make_id=ids())
    flow.set_connection("live")
    return flow, hall, clock


T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def login_and_open(flow: CounterFlow, hall: FakeHall) -> None:
    cmd = flow.begin(Action.LOGIN, {"staff": "c1", "pin": "1234"})
    assert cmd is not None
    flow.succeeded(cmd, CounterSession("c1", "张三", 1))
    cmd = flow.begin(Action.OPEN)
    assert cmd is not None
    flow.succeeded(cmd, run(hall.open_window(1, request_id=cmd.request_id)))


def issue(hall: FakeHall, n: int = 1) -> list[str]:
    out = []
    for _ in range(n):
        r = run(
            hall.issue_ticket(
                "hj01", source="desk", answers={"resident": True}, present=frozenset({"idcard", "photo"})
            )
        )
        assert isinstance(r, Issued)
        out.append(r.ticket.label)
    return out


def test_a_second_tap_while_in_flight_sends_nothing() -> None:
    flow, hall, _ = make()
    login_and_open(flow, hall)
    issue(hall, 2)
    first = flow.begin(Action.CALL_NEXT)
    assert first is not None
    assert flow.begin(Action.CALL_NEXT) is None
    assert flow.notice is not None
    assert flow.notice.key == "msg.busy"
    assert flow.advance() is None  # the keypad too


def test_unreachable_keeps_the_id_and_the_retry_reuses_it() -> None:
    flow, hall, _ = make()
    login_and_open(flow, hall)
    issue(hall)
    cmd = flow.begin(Action.CALL_NEXT)
    assert cmd is not None
    flow.unreachable(cmd)
    assert flow.begin(Action.RECALL) is None  # nothing else goes out before it
    again = flow.retry()
    assert again is not None
    assert again.request_id == cmd.request_id
    # The server applied the first attempt; the retry with the same id replays it: one ticket called.
    r1 = run(hall.call_next(1, request_id=cmd.request_id))
    r2 = run(hall.call_next(1, request_id=again.request_id))
    assert r1 == r2
    flow.succeeded(again, r2)
    assert flow.unsent is None
    assert flow.held_state == "called"
    assert render(flow.notice, catalog()) == "“叫号”已重发成功"  # type: ignore[arg-type]


def test_allowed_actions_follow_the_window() -> None:
    flow, hall, _ = make()
    assert flow.allowed(Action.LOGIN)
    assert not flow.allowed(Action.CALL_NEXT)
    login_and_open(flow, hall)
    issue(hall)
    assert flow.allowed(Action.CALL_NEXT)
    assert not flow.allowed(Action.RECALL)
    cmd = flow.begin(Action.CALL_NEXT)
    assert cmd is not None
    flow.succeeded(cmd, run(hall.call_next(1, request_id=cmd.request_id)))
    assert flow.allowed(Action.RECALL)
    assert not flow.allowed(Action.NO_SHOW)  # recalls first (max_recalls = 2)
    assert not flow.allowed(Action.PAUSE)
    assert not flow.allowed(Action.LOGOUT)
    for _ in range(2):
        cmd = flow.begin(Action.RECALL)
        assert cmd is not None
        flow.succeeded(cmd, run(hall.recall(1, request_id=cmd.request_id)))
    assert flow.allowed(Action.NO_SHOW)
    flow.set_connection("reconnecting")
    assert not flow.allowed(Action.NO_SHOW)
    assert flow.begin(Action.NO_SHOW) is None


def test_strip_per_state() -> None:
    flow, hall, _ = make()
    assert flow.strip() == StripText("本窗口暂停服务", "red")  # closed until the window opens
    login_and_open(flow, hall)
    assert flow.strip() == StripText("欢迎光临", "green")
    (a1,) = issue(hall)
    cmd = flow.begin(Action.CALL_NEXT)
    assert cmd is not None
    flow.succeeded(cmd, run(hall.call_next(1, request_id=cmd.request_id)))
    assert flow.strip() == StripText(f"请{a1}号到1号窗口", "red")
    assert flow.keypad_display() == (a1, 0)
    cmd = flow.begin(Action.START)
    assert cmd is not None
    flow.succeeded(cmd, run(hall.start_serving(1, request_id=cmd.request_id)))
    assert flow.strip() == StripText(f"{a1} 户口迁移", "green")
    cmd = flow.begin(Action.FINISH)
    assert cmd is not None
    flow.succeeded(cmd, run(hall.finish(1, request_id=cmd.request_id)))
    assert flow.take_rating_request() is not None
    assert flow.rating is not None
    assert flow.rating.phase is RatingPhase.ASKING
    cmd = flow.begin(Action.PAUSE, {"reason": "会议"})
    assert cmd is not None
    flow.succeeded(cmd, run(hall.pause_window(1, "会议", request_id=cmd.request_id)))
    assert flow.strip() == StripText("暂停服务 会议", "amber")


def test_own_event_arriving_after_the_reply_does_not_go_back() -> None:
    flow, hall, _ = make()
    login_and_open(flow, hall)
    issue(hall)
    seen = len(hall.event_log())
    cmd = flow.begin(Action.CALL_NEXT)
    assert cmd is not None
    flow.succeeded(cmd, run(hall.call_next(1, request_id=cmd.request_id)))
    cmd = flow.begin(Action.START)
    assert cmd is not None
    flow.succeeded(cmd, run(hall.start_serving(1, request_id=cmd.request_id)))
    for _seq, ev in hall.event_log()[seen:]:  # the "called" event comes late, after the start's reply
        flow.on_event(ev)
    assert flow.held_state == "serving"
    assert flow.counts.called == 1


def test_keypad_keys() -> None:
    flow, _, _ = make()
    s = flow.settings
    assert intent_for(KeyEvent(KeyCode.NEXT, ""), s).advance
    assert intent_for(KeyEvent(KeyCode.LOGIN, "c1*1234"), s).args == {"staff": "c1", "pin": "1234"}
    assert intent_for(KeyEvent(KeyCode.LOGIN, "c1"), s).problem is not None
    assert intent_for(KeyEvent(KeyCode.TRANSFER, "3"), s).args == {"to_window": 3}
    assert intent_for(KeyEvent(KeyCode.TRANSFER, ""), s).problem is not None
    assert intent_for(KeyEvent(KeyCode.PAUSE, "2"), s).args == {"reason": s.pause_reasons[1]}
    assert intent_for(KeyEvent(KeyCode.PAUSE, ""), s).args == {"reason": s.pause_reasons[0]}
    assert intent_for(KeyEvent(KeyCode.CALL_BACK, ""), s).action is Action.RECALL
    assert intent_for(KeyEvent(0x7F, ""), s).problem is not None


def test_keypad_next_advances_call_start_finish() -> None:
    flow, hall, _ = make()
    login_and_open(flow, hall)
    issue(hall, 2)
    cmd = flow.advance()
    assert cmd is not None
    assert cmd.action is Action.CALL_NEXT
    flow.succeeded(cmd, run(hall.call_next(1, request_id=cmd.request_id)))
    cmd = flow.advance()
    assert cmd is not None
    assert cmd.action is Action.START
    flow.succeeded(cmd, run(hall.start_serving(1, request_id=cmd.request_id)))
    cmd = flow.advance()
    assert cmd is not None
    assert (cmd.action, cmd.then) == (Action.FINISH, (Action.CALL_NEXT,))
    flow.succeeded(cmd, run(hall.finish(1, request_id=cmd.request_id)))
    nxt = flow.follow_up(Action.CALL_NEXT, ())
    assert nxt is not None
    assert nxt.request_id != cmd.request_id


def test_form_arguments_are_checked_before_sending() -> None:
    flow, hall, _ = make()
    login_and_open(flow, hall)
    issue(hall)
    assert flow.begin(Action.CALL_SPECIFIC, {"ticket": "A001", "reason": " "}) is None
    assert flow.notice is not None
    assert flow.notice.key == "msg.reason_required"
    cmd = flow.begin(Action.CALL_NEXT)
    assert cmd is not None
    flow.succeeded(cmd, run(hall.call_next(1, request_id=cmd.request_id)))
    assert flow.begin(Action.TRANSFER, {"to_series": "B", "to_window": 3}) is None
    assert flow.begin(Action.TRANSFER, {}) is None
    assert flow.begin(Action.TRANSFER, {"to_window": 3}) is not None


def test_counts_are_today_and_this_window_only() -> None:
    flow, hall, clock = make()
    login_and_open(flow, hall)
    issue(hall, 2)
    for action in ("call_next", "recall", "start_serving", "finish"):
        result = run(getattr(hall, action)(1))
        assert isinstance(result, WindowResult)
    for _seq, ev in hall.event_log():
        flow.on_event(ev)
    assert (flow.counts.called, flow.counts.finished) == (1, 1)
    clock.advance(24 * 3600)
    flow.on_event(hall.event_log()[-1][1])  # yesterday's event does not count today
    assert flow.counts.finished == 1


@pytest.mark.parametrize("phase", [Phase.LOGIN, Phase.ENROLLING])
def test_nothing_but_login_before_login(phase: Phase) -> None:
    flow, _, _ = make()
    flow.phase = phase
    assert not any(flow.allowed(a) for a in Action if a is not Action.LOGIN)


def test_desk_search_and_same_request_id_after_no_answer() -> None:
    cfg = small_hall()
    assert [m.code for m in search(cfg.matters, "户口")] == ["hj01"]
    assert [m.code for m in search(cfg.matters, "SB01")] == ["sb01"]
    assert len(search(cfg.matters, "")) == len(cfg.matters)
    desk = DeskFlow(cfg, ids())
    desk.choose("hj01")
    desk.set_present("idcard", True)
    first = desk.begin_issue()
    assert first is not None
    assert desk.begin_issue() is None  # busy
    desk.unreachable(first)
    again = desk.begin_issue()
    assert again is not None
    assert again.request_id == first.request_id
    desk.unreachable(again)
    desk.set_present("photo", True)  # a different request: a new id
    other = desk.begin_issue()
    assert other is not None
    assert other.request_id != first.request_id


def test_catalogue_is_complete() -> None:
    assert catalog().problems() == []
    en = catalog("en")
    assert en.t("act.call_next") == "Call next F1"
