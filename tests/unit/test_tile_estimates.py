"""The wait a ticket taken now would be told, per series, in the hall's snapshot (`replybuilders.snapshot`),
and what the kiosk's home tiles make of it (`hallui.waits.TileEstimates`): the hall's own estimate when the
server sends one, else (an older server) the kiosk's last told wait scaled to the line."""

from __future__ import annotations

from hallcore import commands as c
from hallcore import replybuilders as build
from hallcore.engine import Engine
from hallcore.estimates import NO_WINDOW_OPEN, WaitEstimate
from hallui.waits import TileEstimates
from tests.fakes.halls import MONDAY_9
from tests.unit.test_estimates_history import b_hall, issue, ok


def test_the_snapshot_tells_each_series_the_wait_of_its_next_ticket() -> None:
    e = Engine(b_hall())
    ok(e, c.OpenWindow(2, "s2"), MONDAY_9)  # window 2 serves B only
    issue(e, "sb01", 6, MONDAY_9)
    snap = build.snapshot(e, 0, MONDAY_9, [], None)
    assert snap.waiting["B"] == 6
    assert snap.estimates["B"] == e.estimate_for("B", 6, MONDAY_9)
    point = snap.estimates["B"].point_min
    assert point is not None
    assert point > 0
    assert snap.estimates["A"] == NO_WINDOW_OPEN  # no window serves A now
    assert set(snap.estimates) == {s.prefix for s in b_hall().series}


def test_tiles_take_the_halls_estimate_and_leave_out_a_series_with_no_window() -> None:
    tiles = TileEstimates()
    tiles.told("B", WaitEstimate(10, 20, 15), ahead=5)
    assert tiles.hall_said({"B": WaitEstimate(30, 50, 40), "A": NO_WINDOW_OPEN})
    assert tiles.tiles({"A": 3, "B": 12}) == {"B": (30, 50)}
    assert not tiles.hall_said({"B": WaitEstimate(30, 50, 40), "A": NO_WINDOW_OPEN})  # unchanged


def test_from_a_server_without_estimates_tiles_scale_the_last_told_wait() -> None:
    tiles = TileEstimates()
    assert tiles.tiles({"B": 4}) == {}  # nothing told yet: no guess
    tiles.told("B", WaitEstimate(10, 20, 15), ahead=5)
    tiles.told("A", NO_WINDOW_OPEN, ahead=2)  # no range to scale
    assert not tiles.hall_said({})
    assert tiles.tiles({"A": 2, "B": 10}) == {"B": (20, 40)}
