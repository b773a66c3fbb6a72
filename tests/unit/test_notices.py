"""The notice rules (hallcore/notices.py) and the [notify] checks: pure, time injected."""

from __future__ import annotations

import datetime as dt
import tomllib
from typing import Any

import pytest

from hallcore.calendar import HallCalendar
from hallcore.configload import ConfigError, parse_config
from hallcore.confignotify import NoticeRules, Notify
from hallcore.notices import (
    NoticeError,
    TicketFacts,
    booking_due,
    cap_refusal,
    in_quiet,
    mask_address,
    normalise_phone,
    render,
    send_after,
    ticket_due,
    ticket_needs_address,
)
from tests.fakes.halls import MONDAY_9, SHANGHAI
from tests.unit.test_config import COUNTY


@pytest.fixture(scope="module")
def cal() -> HallCalendar:
    return HallCalendar(parse_config(tomllib.loads(COUNTY.read_text(encoding="utf-8")), "county").hall)


def facts(**kw: Any) -> TicketFacts:
    base: dict[str, Any] = {"label": "A004", "state": "waiting", "ahead": 5, "minutes": 40, "window": None}
    return TicketFacts(**{**base, **kw})


def test_ahead_fires_at_n_or_under_m_minutes_once(cal: HallCalendar) -> None:
    cfg = Notify(enabled=True, rules=NoticeRules(ahead=3, within_min=15))
    assert ticket_due(cfg, cal, facts(), frozenset(), MONDAY_9) == []
    (due,) = ticket_due(cfg, cal, facts(ahead=3), frozenset(), MONDAY_9)
    assert due.kind == "ahead"
    assert due.params["ahead"] == "3"
    assert [d.kind for d in ticket_due(cfg, cal, facts(ahead=9, minutes=12), frozenset(), MONDAY_9)] == [
        "ahead"
    ]
    assert ticket_due(cfg, cal, facts(ahead=2), frozenset({"ahead"}), MONDAY_9) == []
    assert ticket_due(cfg, cal, facts(ahead=0), frozenset(), MONDAY_9) == []  # about to be called anyway


def test_called_names_the_window_and_owed_counts_working_days(cal: HallCalendar) -> None:
    cfg = Notify(enabled=True)
    (due,) = ticket_due(cfg, cal, facts(state="called", ahead=None, window=7), frozenset({"ahead"}), MONDAY_9)
    assert due.kind == "called"
    assert due.params["window"] == "7"
    # Due Monday 30th: from Monday 23rd that is 5 working days (too far); from Wednesday 25th, 3.
    owed = facts(state="done", ahead=None, owed_items=("户口簿",), owed_due=dt.date(2026, 11, 30))
    assert ticket_due(cfg, cal, owed, frozenset(), MONDAY_9) == []
    wed = MONDAY_9 + dt.timedelta(days=2)
    (due,) = ticket_due(cfg, cal, owed, frozenset(), wed)
    assert due.kind == "owed"
    assert due.params["items"] == "户口簿"
    assert (
        ticket_due(cfg, cal, owed, frozenset(), dt.datetime(2026, 12, 1, 9, tzinfo=SHANGHAI)) == []
    )  # past due


def test_the_number_is_kept_only_while_a_rule_needs_it() -> None:
    cfg = Notify(enabled=True)
    assert ticket_needs_address(cfg, facts(), frozenset())
    assert not ticket_needs_address(cfg, facts(state="done"), frozenset({"ahead"}))
    assert not ticket_needs_address(cfg, facts(state="called"), frozenset({"called"}))
    owed = facts(state="done", owed_items=("x",), owed_due=dt.date(2026, 11, 30))
    assert ticket_needs_address(cfg, owed, frozenset({"called"}))
    assert not ticket_needs_address(cfg, owed, frozenset({"owed"}))
    assert not ticket_needs_address(cfg, None, frozenset())


def test_quiet_hours_drop_queue_notices_and_hold_reminders(cal: HallCalendar) -> None:
    cfg = Notify(quiet_start=dt.time(21), quiet_end=dt.time(8))
    assert in_quiet(cfg, dt.time(22))
    assert in_quiet(cfg, dt.time(7, 59))
    assert not in_quiet(cfg, dt.time(8))
    late = dt.datetime(2026, 11, 23, 21, 30, tzinfo=SHANGHAI)
    assert send_after(cfg, cal, "ahead", late) is None
    assert send_after(cfg, cal, "owed", late) == dt.datetime(2026, 11, 24, 8, 0, tzinfo=cal.tz)
    early = dt.datetime(2026, 11, 24, 6, 0, tzinfo=SHANGHAI)
    assert send_after(cfg, cal, "booking", early) == dt.datetime(2026, 11, 24, 8, 0, tzinfo=cal.tz)
    assert send_after(cfg, cal, "called", MONDAY_9) == MONDAY_9


def test_booking_eve_and_caps(cal: HallCalendar) -> None:
    cfg = Notify(per_ticket=2, per_number_day=3)
    assert booking_due(cfg, cal, dt.date(2026, 11, 24), True, frozenset(), MONDAY_9)
    assert not booking_due(cfg, cal, dt.date(2026, 11, 25), True, frozenset(), MONDAY_9)
    assert not booking_due(cfg, cal, dt.date(2026, 11, 24), False, frozenset(), MONDAY_9)
    assert cap_refusal(cfg, 1, 2) == ""
    assert "ticket" in cap_refusal(cfg, 2, 0)
    assert "number" in cap_refusal(cfg, 0, 3)


def test_numbers_are_checked_and_masked_and_templates_render() -> None:
    assert normalise_phone("+86 138-1234-5678") == "13812345678"
    with pytest.raises(NoticeError):
        normalise_phone("12812345678")
    assert mask_address("sms", "13812345678") == "138****5678"
    assert mask_address("wechat", "oABCDEFGHIJKLMNOPQ") == "oABC***"
    cfg = Notify(templates={"en": {"called": "No. {number} to window {window}"}})
    assert render(cfg, "en", "called", {"number": "A1", "window": "3"}) == "No. A1 to window 3"
    assert "3号窗口" in render(cfg, "zh", "called", {"hall": "h", "number": "A1", "window": "3"})


def test_notify_config_errors_name_the_key() -> None:
    data = tomllib.loads(COUNTY.read_text(encoding="utf-8"))
    data["notify"] = {
        "enabled": True,
        "sms": "aliyun",
        "per_ticket": 0,
        "templates": {"zh": {"called": "{number} 到 {windw}"}, "fr": {}},
        "aliyun": {"templates": {"late": "SMS_1"}},
    }
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "hall.toml")
    keys = {i.key for i in caught.value.issues}
    assert {
        "notify.per_ticket",
        "notify.templates.zh.called",
        "notify.templates.fr",
        "notify.aliyun.templates.late",
        "notify.aliyun.access_key_id",
        "notify.aliyun.secret_file",
        "notify.aliyun.sign_name",
    } <= keys
