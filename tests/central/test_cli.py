"""`hallq central` as documented in docs/central.md: --check-config, hall list, revoke and rekey."""

from __future__ import annotations

import pathlib
import subprocess
import sys
from contextlib import closing

from hallcentral.devcluster import Cluster
from tests.central.support import ROOT, SimHall, centre


def test_check_config_good_and_bad(tmp_path: pathlib.Path) -> None:
    example = ROOT / "config" / "central.toml"
    r = subprocess.run(
        [sys.executable, "-m", "hallq.cli", "central", "--config", str(example), "--check-config"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == 0, r.stderr
    assert "OK (7 regions)" in r.stdout
    bad = tmp_path / "bad.toml"
    bad.write_text(
        'name = "x"\n[database]\ndsn = "x"\nporl_max = 3\n'
        '[[regions]]\nid = "a"\nname = "A"\nlevel = "planet"\n'
        '[[regions]]\nid = "b"\nname = "B"\nlevel = "city"\nparent = "nowhere"\n',
        "utf-8",
    )
    r = subprocess.run(
        [sys.executable, "-m", "hallq.cli", "central", "--config", str(bad), "--check-config"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert r.returncode == 2
    for key in ("database.porl_max", "regions[0].level", "regions[1].parent"):
        assert key in r.stderr, r.stderr
    assert "pool_max" in r.stderr  # did you mean


def test_hall_list_revoke_and_rekey(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    with centre(cluster, tmp_path) as c:
        h = SimHall(c.url, "hall-x", "某县大厅")
        code = h.enroll()
        r = c.cli("hall", "approve", "hall-x", "--region", "county-a1")
        assert r.returncode == 0, r.stderr
        assert c.cli("hall", "approve", "hall-x", "--region", "county-a1").returncode == 2  # not pending now
        h.ship(h.issue(1))
        listed = c.cli("hall", "list")
        assert listed.returncode == 0
        assert f"hall-x 某县大厅 approved {code} county-a1 1" in listed.stdout
        # Revoked: its batches are refused with the reason.
        assert c.cli("hall", "revoke", "hall-x").returncode == 0
        refused = h._post("/api/v1/batches", {"format": 1, "hall": "hall-x", "events": []})
        assert (refused.status_code, refused.json()["error"]) == (403, "revoked")
        # It lost its key: rekey lets a new key enroll, pending approval again, the cursor kept.
        assert c.cli("hall", "rekey", "hall-x").returncode == 0
        fresh = SimHall(c.url, "hall-x", "某县大厅")
        new_code = fresh.enroll()
        assert new_code != code
        assert c.sql("SELECT state, code, acked_seq FROM halls WHERE hall_id = 'hall-x'") == [
            ("pending", new_code, 1)
        ]
        c.approve("hall-x", "county-a1")
        fresh.seq = 1
        fresh.numbers = 1
        fresh.ship(fresh.issue(2))
        assert c.acked("hall-x") == 2
        # The old key is no longer the hall's.
        refused = h._post("/api/v1/batches", {"format": 1, "hall": "hall-x", "events": []})
        assert (refused.status_code, refused.json()["error"]) == (401, "bad_signature")
        actions = [a for (a,) in c.sql("SELECT action FROM audit WHERE target = 'hall-x' ORDER BY id")]
        assert actions == [
            "hall_enroll",
            "hall_approve",
            "hall_revoke",
            "hall_rekey",
            "hall_reenroll",
            "hall_approve",
        ]
        assert c.cli("hall", "revoke", "no-such-hall").returncode == 2
        # Users: the password on stdin (never on the command line), a policy on its length, a real login.
        r = c.cli("user", "add", "cli-user", "--region", "city-b", stdin="short\n")
        assert r.returncode == 2
        assert "at least 10" in r.stderr
        r = c.cli("user", "add", "cli-user", "--region", "city-b", stdin="a long password\n")
        assert r.returncode == 0, r.stderr
        assert (
            c.cli("user", "add", "x", "--region", "no-such-region", stdin="a long password\n").returncode == 2
        )
        with closing(c.login(("cli-user", "a long password"))) as client:
            assert client.get("/api/overview").json()["region"] == "city-b"
