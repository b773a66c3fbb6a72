"""好差评 upload against a fake provincial platform on 127.0.0.1 that fails and recovers: nothing lost,
nothing sent twice under one key, field names mapped, the state on the dashboard, and a restart in between."""

from __future__ import annotations

import dataclasses
import http.server
import json
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from hallcore.config import Upload
from hallserver.configfile import read_config
from tests.fakes.live_server import COUNTY, LiveServer, live_server, wait_for
from tests.server.web_helpers import SCORES, build_fixture_day, http_login


class FakePlatform:
    """A provincial 好差评 endpoint: answers 503 while `down`, records what it accepted."""

    def __init__(self) -> None:
        self.down = True
        self.accepted: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self.refused = 0
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                if owner.down:
                    owner.refused += 1
                    self.send_response(503)
                    self.end_headers()
                    self.wfile.write(b"maintenance")
                    return
                owner.accepted.append(body)
                owner.keys.append(self.headers["Idempotency-Key"])
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b'{"code":0}')

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/evaluate"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


@pytest.fixture
def platform() -> Iterator[FakePlatform]:
    p = FakePlatform()
    try:
        yield p
    finally:
        p.close()


def test_ratings_reach_the_platform_after_it_recovers(platform: FakePlatform) -> None:
    cfg = read_config(COUNTY)
    field_map = {"evaluateLevel": "score", "matterCode": "matter", "caseNo": "ticket", "windowNo": "window"}
    cfg = dataclasses.replace(
        cfg, upload=Upload(enabled=True, endpoint=platform.url, field_map=field_map, retry_max_s=1)
    )
    hall: LiveServer
    with live_server(config=cfg) as hall:
        build_fixture_day(hall)
        wait_for(lambda: platform.refused >= 2, 15, "the uploader to try and fail")
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
        platform.down = False
        wait_for(lambda: hall.count("SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL") == 0, 20, "upload")
    assert len(platform.accepted) == len(SCORES)
    assert sorted(b["evaluateLevel"] for b in platform.accepted) == sorted(SCORES)
    assert {b["matterCode"] for b in platform.accepted} <= {"HJ01", "HJ02"}
    assert len(set(platform.keys)) == len(SCORES)  # one idempotency key per rating
    assert all(k.startswith("jinzhai:2026-11-23/") for k in platform.keys)
    # In the order they were rated (the oldest is retried first).
    assert [b["evaluateLevel"] for b in platform.accepted] == list(SCORES)
