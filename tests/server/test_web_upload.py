"""好差评 upload against a fake provincial platform on 127.0.0.1 (tests/fakes/province.py) that verifies the
HQ1-HMAC-SHA256 signature, fails and recovers: nothing lost, nothing accepted twice, field names mapped, the
state on the dashboard, and a restart in between."""

from __future__ import annotations

import dataclasses
import pathlib

from hallcore.config import HallConfig, Upload
from hallserver.configfile import read_config
from tests.fakes.live_server import COUNTY, LiveServer, live_server, wait_for
from tests.fakes.province import APP_KEY, SECRET, FakeProvince, fake_province
from tests.server.web_helpers import SCORES, build_fixture_day, http_login

FIELD_MAP = {
    "evaluateLevel": "score",
    "taskCode": "matter_code",
    "ticketNo": "ticket_id",
    "windowNo": "window",
    "channel": "channel",
}


def upload_config(tmp_path: pathlib.Path, url: str, **upload: object) -> HallConfig:
    """The county hall uploading to `url`, signed with the test appKey and secret (a 0600 file)."""
    secret = tmp_path / "hcp.secret"
    secret.write_bytes(SECRET + b"\n")
    secret.chmod(0o600)
    cfg = read_config(COUNTY)
    up = Upload(
        enabled=True,
        endpoint=url,
        field_map=FIELD_MAP,
        retry_max_s=1,
        retry_first_s=0.2,
        app_key=APP_KEY,
        secret_file=str(secret),
    )
    return dataclasses.replace(cfg, upload=dataclasses.replace(up, **upload))  # type: ignore[arg-type]


def test_ratings_reach_the_platform_after_it_recovers(tmp_path: pathlib.Path) -> None:
    hall: LiveServer
    platform: FakeProvince
    with fake_province() as platform:
        platform.mode = "down"
        with live_server(tmp_path, upload_config(tmp_path, platform.url)) as hall:
            platform.clock = hall.clock.now  # the signature's timestamp is the hall's (fake) clock
            build_fixture_day(hall)
            wait_for(lambda: platform.answers.count(503) >= 2, 15, "the uploader to try and fail")
            c = http_login(hall.url)
            try:
                up = c.get("/web/api/dashboard").json()["upload"]
            finally:
                c.close()
            assert up["enabled"]
            assert up["failures"] >= 1
            assert up["pending"] == len(SCORES)
            assert "503" in up["last_error"]
            assert hall.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == len(SCORES)
            # A restart while the platform is down loses nothing.
            hall.stop()
            hall.start()
            platform.mode = "ok"
            wait_for(
                lambda: hall.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == 0, 20, "upload"
            )
    assert platform.bad_signatures == []
    assert len(platform.accepted) == len(SCORES)
    assert sorted(b["evaluateLevel"] for b in platform.accepted) == sorted(SCORES)
    assert {b["taskCode"] for b in platform.accepted} <= {"HJ01", "HJ02"}
    assert {b["channel"] for b in platform.accepted} == {"评价器"}
    assert len(set(platform.keys)) == len(SCORES)  # one idempotency key per rating
    assert all(k.startswith("jinzhai:2026-11-23/") for k in platform.keys)
    assert [b["idempotencyKey"] for b in platform.accepted] == platform.keys  # the key is in the body too
    # In the order they were rated (the oldest is retried first).
    assert [b["evaluateLevel"] for b in platform.accepted] == list(SCORES)
