"""The server keeps the finished days' statistics roll-ups built by itself, so the first report after closing
does not fall back to the slow full-range query."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from hallserver.service import Settings
from tests.fakes.live_server import MONDAY_9, live_server, passing, wait_for


def test_yesterday_is_rolled_up_without_anyone_asking(tmp_path: Path) -> None:
    settings = Settings(heartbeat_s=0.5, tick_s=0.2, freeze_gc=False, rollup_interval_s=0.2)
    with live_server(tmp_path, settings=settings) as hall:
        m = hall.config.matter_by_code["SB01"]
        r = hall.post(hall.kiosk, "/api/tickets", **passing(m))
        assert r.status_code == 201, r.text
        assert hall.count("SELECT COUNT(*) FROM rollup_days") == 0  # today is never rolled up
        hall.clock.set(MONDAY_9 + dt.timedelta(days=1))
        wait_for(
            lambda: (
                hall.count("SELECT COUNT(*) FROM rollup_days WHERE day = '2026-11-23' AND state = 'ready'")
                == 1
            ),
            what="Monday's roll-up",
        )
