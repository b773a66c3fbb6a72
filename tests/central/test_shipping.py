"""A real hall server ships to a real centre: enrollment shown on the hall dashboard, approval, a busy
morning shipped, and the centre's counts for the day equal to the hall's own statistics."""

from __future__ import annotations

import pathlib
from contextlib import closing

from hallcentral.devcluster import Cluster
from tests.central.support import (
    ADMIN,
    busy_morning,
    centre,
    centre_figures,
    hall_config,
    hall_figures,
    ship_state,
    wait_for,
)
from tests.fakes.live_server import MONDAY_9, live_server
from tests.server.web_helpers import http_login


def test_hall_enrolls_ships_and_counts_match(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    with (
        centre(cluster, tmp_path) as c,
        live_server(tmp_path, hall_config(c.url, "hall-a", "甲市一县政务服务大厅")) as hall,
    ):
        c.add_users()
        wait_for(lambda: ship_state(hall)["state"] == "pending", what="the hall's enrollment")
        code = ship_state(hall)["code"]
        # The hall dashboard shows the code the centre's operator compares before approving.
        with closing(http_login(hall.url)) as boss:
            central = boss.get("/web/api/dashboard").json()["central"]
        assert (central["state"], central["code"]) == ("pending", code)
        assert c.sql("SELECT code, state FROM halls WHERE hall_id = 'hall-a'") == [(code, "pending")]
        c.approve("hall-a", "county-a1")
        busy_morning(hall, MONDAY_9, n=10)
        wait_for(lambda: c.acked("hall-a") == hall.hall.store.seq, what="the centre to catch up")
        wait_for(lambda: ship_state(hall)["backlog"] == 0, what="the hall to see its ack")
        with closing(c.login(ADMIN)) as client:
            assert centre_figures(c, client, "hall-a", MONDAY_9.date()) == hall_figures(
                hall.db, hall.config, MONDAY_9.date()
            )
            over = client.get("/api/overview").json()["halls"]
        assert [h["hall_id"] for h in over] == ["hall-a"]
        row = over[0]
        assert row["waiting"] == hall.count("SELECT count(*) FROM tickets WHERE state = 'waiting'") == 2
        assert (row["open_windows"], row["offline"], row["backlog"]) == (1, False, 0)
        assert row["longest_wait_min"] is not None
        assert row["longest_wait_min"] > 0
