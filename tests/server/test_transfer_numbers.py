"""A transfer keeps the ticket's number (DESIGN.md §4), so after A001 moves to series B the hall holds two
"…001" tickets in series B: A001 and B001. Both must be stored: numbers are unique per day by label."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from hallcore.config import Matter
from tests.fakes.live_server import LiveServer, live_server, passing


def issue(hall: LiveServer, m: Matter) -> dict[str, Any]:
    r = hall.post(hall.kiosk, "/api/tickets", **passing(m))
    assert r.status_code == 201, r.text
    t: dict[str, Any] = r.json()["ticket"]
    assert hall.post(hall.kiosk, f"/api/tickets/{t['id']}/printed").status_code == 200
    return t


def test_transfer_into_a_series_that_already_has_that_number(tmp_path: Path) -> None:
    with live_server(tmp_path, counter_window=1) as hall:
        hall.login_counter()
        assert hall.act(hall.counter, "open").status_code == 200
        served_here = hall.config.window_by_number[1].series[0]
        a = issue(hall, next(m for m in hall.config.matters if m.series == served_here))
        b = issue(hall, next(m for m in hall.config.matters if m.series != served_here))
        assert a["label"][1:] == b["label"][1:] == "001"
        called = hall.act(hall.counter, "call-next")
        assert called.status_code == 200, called.text
        assert called.json()["ticket"]["label"] == a["label"]
        moved = hall.act(hall.counter, "transfer", to_series=b["series"])
        assert moved.status_code == 200, moved.text
        rows = hall.query("SELECT label, series, state FROM tickets ORDER BY label")
        assert rows == [(a["label"], b["series"], "waiting"), (b["label"], b["series"], "waiting")]
        # The hall keeps working after the transfer (no failed write batch left behind).
        assert hall.post(hall.kiosk, "/api/tickets", matter=b["matter"]).status_code in (201, 422)
        assert hall.query("SELECT COUNT(*) FROM tickets")[0][0] >= 2
