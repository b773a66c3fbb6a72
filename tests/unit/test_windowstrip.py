"""The window strip's text, once (hallcore.windowstrip): a test per window state, and the counter app and the
device agent fed the same hall events show the same strip at every step."""

from __future__ import annotations

import dataclasses

import pytest

from counter.flow import CounterFlow
from counter.settings import settings_from_config
from hallclient.types import EventItem
from hallcore.clock import FakeClock
from hallcore.config import Device, Led, Station, StationRole, Window
from hallcore.events import Event, TicketChanged, TicketView, WindowChanged, WindowView
from hallcore.windowstrip import StripText, agent_windows, call_text, window_strip
from hallq.agent import StripFlow
from tests.fakes.halls import MONDAY_9, small_hall, ticket_view

LED = Led()


@pytest.mark.parametrize(
    ("state", "held", "held_state", "reason", "want"),
    [
        ("closed", "", "", "", StripText("本窗口暂停服务", "red")),
        ("open", "", "", "", StripText("欢迎光临", "green")),
        ("open", "A012", "called", "", StripText("请A012号到5号窗口", "red")),
        ("open", "A012", "serving", "", StripText("A012 户口迁移", "green")),
        ("paused", "", "", "会议", StripText("暂停服务 会议", "amber")),
        ("paused", "", "", "", StripText("暂停服务", "amber")),
    ],
    ids=["closed", "open-free", "called", "serving", "paused", "paused-no-reason"],
)
def test_a_strip_per_window_state(
    state: str, held: str, held_state: str, reason: str, want: StripText
) -> None:
    got = window_strip(
        LED, 5, state, held=held, held_state=held_state, matter="户口迁移", pause_reason=reason
    )
    assert got == want


def test_the_halls_own_texts_are_used() -> None:
    led = Led(welcome="您好", calling="{number} 请到 {window} 号", paused="暂停 {reason}", closed="")
    assert window_strip(led, 3, "open") == StripText("您好", "green")
    assert window_strip(led, 3, "open", held="B001", held_state="called") == StripText(
        "B001 请到 3 号", "red"
    )
    assert window_strip(led, 3, "closed") == StripText("", "red")  # a hall that wants its strips dark
    assert call_text(led, "B001", 3) == "B001 请到 3 号"


def _view(state: str, current: str = "", current_state: str = "", reason: str = "") -> WindowView:
    return WindowView(
        1, "1号窗口", state, "", ("A",), pause_reason=reason, current=current, current_state=current_state
    )


def _ticket(state: str) -> TicketView:
    return ticket_view("A012", state, window=1)


def test_the_counter_and_the_agent_show_the_same_strip_for_the_same_events() -> None:
    config = small_hall()
    counter = CounterFlow(settings_from_config(config, 1), FakeClock(MONDAY_9))
    agent = StripFlow(config.led, [1])
    steps: list[tuple[Event, StripText]] = [
        (WindowChanged(MONDAY_9, "opened", _view("open")), StripText("欢迎光临", "green")),
        (
            TicketChanged(MONDAY_9, "called", _ticket("called"), _view("open", "A012", "called"), {}),
            StripText("请A012号到1号窗口", "red"),
        ),
        (
            TicketChanged(MONDAY_9, "serving", _ticket("serving"), _view("open", "A012", "serving"), {}),
            StripText("A012 户口迁移", "green"),
        ),
        (
            TicketChanged(MONDAY_9, "finished", _ticket("finished"), _view("open"), {}),
            StripText("欢迎光临", "green"),
        ),
        (
            WindowChanged(MONDAY_9, "paused", _view("paused", reason="会议")),
            StripText("暂停服务 会议", "amber"),
        ),
        (WindowChanged(MONDAY_9, "closed", _view("closed")), StripText("本窗口暂停服务", "red")),
    ]
    assert counter.strip() == agent.strip(1) == StripText("本窗口暂停服务", "red")  # nothing known yet
    for seq, (event, want) in enumerate(steps, 1):
        counter.on_event(event)
        assert agent.apply(EventItem(seq, event)) == {1}
        assert counter.strip() == want, event
        assert agent.strip(1) == want, event


def test_an_agent_drives_the_strips_of_its_zone_that_no_counter_drives() -> None:
    base = small_hall()
    dept = base.windows[0].department
    windows = tuple(
        Window(n, f"{n}号窗口", dept, ("A",), led_address=n, zone="f1" if n <= 3 else "f2")
        for n in range(1, 6)
    )
    counter = Station("counter-2", StationRole.COUNTER, window=2, led=Device("hqp", url="loop://", address=2))
    agent = Station("agent-1", StationRole.AGENT, zone="f1", led=Device("hqp", url="loop://"))
    config = dataclasses.replace(base, windows=windows, stations=(counter, agent))
    assert agent_windows(config, agent) == {1: 1, 3: 3}
    assert agent_windows(config, agent, all_windows=True) == {1: 1, 2: 2, 3: 3}
    everywhere = dataclasses.replace(agent, zone="")
    assert agent_windows(config, everywhere) == {1: 1, 3: 3, 4: 4, 5: 5}
    no_address = dataclasses.replace(config, windows=(*windows, Window(6, "6号窗口", dept, ("A",))))
    assert 6 not in agent_windows(no_address, everywhere)
