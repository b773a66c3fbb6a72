"""`hallq sim --central`: simulated hall days replayed into a real centre through the shipping protocol,
several halls per process; every event arrives once, each hall's figures are its simulation's, and halls
replaying the same simulation show the same figures under their own ids."""

from __future__ import annotations

import json
import pathlib
import subprocess
import sys
from contextlib import closing

from hallcentral.devcluster import Cluster
from tests.central.support import ADMIN, ROOT, centre
from tests.fakes.live_server import COUNTY


def test_sim_replays_halls_into_a_centre(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    with centre(cluster, tmp_path) as c:
        c.add_users()
        args = ["--halls", "3", "--days", "2", "--distinct", "2", "--arrivals", "20", "--batch", "97"]
        args += ["--approve-with", str(c.config), "--region", "county-a1", "--concurrency", "2", "--json"]
        r = subprocess.run(
            [sys.executable, "-m", "hallq.cli", "sim", "--config", str(COUNTY), "--central", c.url, *args],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=ROOT,
            check=False,
        )
        assert r.returncode == 0, r.stderr
        figures = json.loads(r.stdout.splitlines()[-1])
        assert figures["refusals"] == {}
        halls = c.sql("SELECT hall_id, state, region_id, acked_seq, hall_seq FROM halls ORDER BY hall_id")
        assert [h[:3] for h in halls] == [(f"sim-00{i}", "approved", "county-a1") for i in (1, 2, 3)]
        assert all(acked == seq > 0 for *_x, acked, seq in halls)
        assert sum(h[3] for h in halls) == figures["events"] == c.sql("SELECT count(*) FROM events")[0][0]
        assert c.sql("SELECT count(*) FROM tickets")[0][0] == figures["tickets"] > 0
        # Every hall sent its profile with its first batch.
        assert c.sql("SELECT count(*) FROM hall_profiles") == [(3,)]
        with closing(c.login(ADMIN)) as boss:
            span = {"period": "custom", "day": "2026-11-23", "end": "2026-11-24", "by": "matter"}
            got = {
                h: boss.get(f"/api/halls/{h}/stats", params=span).json()["total"]
                for h in ("sim-001", "sim-003")
            }
        # sim-001 and sim-003 replay the same simulation under their own ids and keys.
        assert got["sim-001"]["tickets"] == got["sim-003"]["tickets"] > 0
        assert got["sim-001"]["wait_p90"] == got["sim-003"]["wait_p90"]
        assert got["sim-001"]["rated"] > 0
