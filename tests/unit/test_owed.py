"""The 容缺 register's rules (hallcore/owed.py): where an entry stands on a day, and the period's tally."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from hallcore.configload import parse_config
from hallcore.owed import OwedState, entry_state, item_names, tally
from tests.unit.test_config import small_hall

DUE = dt.date(2026, 12, 21)
BEFORE, AFTER = DUE - dt.timedelta(days=1), DUE + dt.timedelta(days=1)


def test_an_entry_is_open_until_its_due_day_then_overdue() -> None:
    assert entry_state(DUE, [None, None], BEFORE) is OwedState.OPEN
    assert entry_state(DUE, [None, BEFORE], DUE) is OwedState.OPEN  # the due day itself is still in time
    assert entry_state(DUE, [None, BEFORE], AFTER) is OwedState.OVERDUE


def test_the_last_item_supplied_decides_on_time_or_late() -> None:
    assert entry_state(DUE, [BEFORE, DUE], AFTER) is OwedState.ON_TIME
    assert entry_state(DUE, [BEFORE, AFTER], AFTER) is OwedState.LATE
    # However late the report is drawn, an entry closed in time stays on time.
    assert entry_state(DUE, [DUE], DUE + dt.timedelta(days=400)) is OwedState.ON_TIME


def test_items_are_named_as_the_ticket_printed_them() -> None:
    data = small_hall()
    pre = data["matters"][0]["precheck"]
    pre["materials"] = [{"id": "photo", "name": "相片回执", "tolerable": True}]
    pre["questions"] = [{"id": "paid", "text": "已缴费？", "fail_reason": "未缴费", "tolerable": True}]
    matter = parse_config(data, "hall.toml").matters[0]
    # A material by its name, a tolerable question by its fail reason (as the ticket prints them).
    assert item_names(matter, ["photo", "paid"]) == ["相片回执", "未缴费"]
    assert item_names(matter, ["gone"]) == ["gone"]  # an id the matter no longer has stays readable
    assert item_names(None, ["photo"]) == ["photo"]


days = st.one_of(
    st.none(), st.dates(min_value=BEFORE - dt.timedelta(days=30), max_value=AFTER + dt.timedelta(30))
)


@given(st.lists(days, min_size=1, max_size=4), st.dates(min_value=BEFORE, max_value=AFTER + dt.timedelta(60)))
def test_entry_state_is_the_definition(supplied: list[dt.date | None], today: dt.date) -> None:
    state = entry_state(DUE, supplied, today)
    if None in supplied:
        assert state is (OwedState.OVERDUE if today > DUE else OwedState.OPEN)
    else:
        done = [d for d in supplied if d is not None]
        assert state is (OwedState.ON_TIME if all(d <= DUE for d in done) else OwedState.LATE)


@given(st.lists(st.sampled_from(list(OwedState))))
def test_the_tally_counts_every_entry_once(states: list[OwedState]) -> None:
    t = tally(states)
    assert t.opened == len(states) == t.on_time + t.late + t.never + t.open
    assert t.never == states.count(OwedState.OVERDUE)
    assert t.as_dict()["late"] == states.count(OwedState.LATE)
