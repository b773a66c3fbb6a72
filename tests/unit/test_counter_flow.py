"""The counter's pure state machine where no hall is needed: keypad keys, nothing before login, the desk's
matter search and request ids, the catalogue. The flow fed with a real server's replies and events is in
tests/server/test_counter_flow.py.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable

import pytest

from counter.actions import Action, Phase
from counter.desk.flow import DeskFlow
from counter.flow import CounterFlow
from counter.keymap import intent_for
from counter.settings import settings_from_config
from counter.texts import catalog
from drivers.protocols import KeyCode, KeyEvent
from hallcore.clock import FakeClock
from hallui.matters import search
from tests.fakes.halls import MONDAY_9, small_hall


def ids() -> Callable[[], str]:
    counter = itertools.count(1)
    return lambda: f"rid-{next(counter)}"


def make() -> CounterFlow:
    cfg = small_hall()
    return CounterFlow(settings_from_config(cfg, 1), FakeClock(MONDAY_9), make_id=ids())


def test_keypad_keys() -> None:
    flow = make()
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


@pytest.mark.parametrize("phase", [Phase.LOGIN, Phase.ENROLLING])
def test_nothing_but_login_before_login(phase: Phase) -> None:
    flow = make()
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
