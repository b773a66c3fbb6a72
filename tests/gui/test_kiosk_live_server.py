"""The shared live-server helper works: stations with tokens, a kiosk ticket, stop and start on one port."""

from __future__ import annotations

import pathlib

import httpx

from tests.fakes.live_server import live_server


def test_live_server_stations_issue_and_restart(tmp_path: pathlib.Path) -> None:
    with live_server(tmp_path, tls=True) as hall:
        assert {hall.kiosk.role, hall.counter.role, hall.display.role} == {"kiosk", "counter", "display"}
        r = hall.post(
            hall.kiosk, "/api/tickets", matter="SB03", answers={}, present=["idcard", "transfer_form"]
        )
        assert r.status_code in (200, 201), r.text
        hall.login_counter()
        assert hall.act(hall.counter, "open").status_code == 200
        port = hall.port
        hall.stop()
        try:
            httpx.get(f"{hall.url}/api/health", timeout=1, verify=hall.ssl or True)
            raise AssertionError("server still answers")
        except httpx.ConnectError:
            pass
        hall.start()
        assert hall.port == port
        assert hall.http.get("/api/health").json()["ok"] is True
        assert hall.count("SELECT COUNT(*) FROM stations WHERE state = 'approved'") >= 3
