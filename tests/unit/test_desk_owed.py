"""The desk's 容缺 lookup (counter/desk/owed.py): the number typed picks its entries, one lookup or supply at
a time, and what the staff are told after each step."""

from __future__ import annotations

import datetime as dt

from counter.desk.owed import OwedLookup
from counter.notices import render
from counter.texts import catalog
from hallclient.types import OwedItemView, OwedView, Supplied


def entry(
    label: str, ticket: str, *supplied: str | None, state: str = "open", name: str = "待补齐"
) -> OwedView:
    items = tuple(
        OwedItemView(f"i{n}", f"材料{n}", at, "staff:c1" if at else "") for n, at in enumerate(supplied)
    )
    return OwedView(
        ticket, label, "SB02", "社会保障卡申领", "李*", "", dt.date(2026, 12, 21), True, state, name, 3, items
    )


def test_the_number_typed_picks_its_entries_whatever_the_case() -> None:
    o = OwedLookup()
    assert o.find("  b012 ") == "B012"
    assert o.find("B012") is None  # one lookup at a time
    o.found([entry("B012", "2026-11-23/B012", None), entry("B013", "2026-11-23/B013", None)])
    assert [e.ticket for e in o.entries] == ["2026-11-23/B012"]
    assert (o.busy, o.notice) == (False, None)
    assert o.find("") is None


def test_a_number_that_owes_nothing_says_so() -> None:
    o = OwedLookup()
    o.find("A001")
    o.found([])
    assert o.notice is not None
    assert render(o.notice, catalog("zh")) == "号码 A001 没有待补的容缺材料"


def test_after_a_supply_the_entry_is_replaced_and_the_staff_told_what_was_recorded() -> None:
    o = OwedLookup()
    o.find("B012")
    o.found([entry("B012", "t1", None, None)])
    assert o.begin_supply()
    assert not o.begin_supply()  # one at a time
    o.supplied(Supplied(entry("B012", "t1", "2026-12-01T10:00:00+08:00", None), ("i0",)))
    assert o.entries[0].items[0].supplied_at is not None
    assert o.notice is not None
    assert render(o.notice, catalog("zh")) == "B012 已登记补齐：材料0"
    assert o.begin_supply()
    done = entry(
        "B012",
        "t1",
        "2026-12-01T10:00:00+08:00",
        "2026-12-02T10:00:00+08:00",
        state="on_time",
        name="按期补齐",
    )
    o.supplied(Supplied(done, ("i1",)))
    assert render(o.notice, catalog("zh")) == "B012 已登记补齐：材料1；所欠材料已全部补齐（按期补齐）"
    o.failed("这张号票没有容缺待补材料", "owes nothing")
    assert (o.busy, render(o.notice, catalog("en"))) == (False, "owes nothing")
