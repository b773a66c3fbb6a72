"""The screen every app shows while only a server with another hall CA answers (issue 24): "服务器证书不符，
请联系管理员", with the reason; it goes away when the station's own server answers, and the station takes
that one (hallui/trust.py over hallclient/link.py, real TLS servers on 127.0.0.1, mDNS pinned to loopback)."""

from __future__ import annotations

import asyncio
import dataclasses
import uuid
from pathlib import Path

from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot

from hallclient.enroll import save_pin
from hallserver.discovery import Advertiser, MdnsSettings
from hallui.trust import UntrustedScreen, find_hall_server
from tests.fakes.live_server import live_server, make_tls
from tests.gui.qtloop import complete, run_until


def shown() -> UntrustedScreen | None:
    for w in QApplication.topLevelWidgets():
        if isinstance(w, UntrustedScreen) and w.isVisible():
            return w
    return None


def test_the_untrusted_screen_until_the_stations_own_server_answers(
    tmp_path: Path, running: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    hall_id = f"gui-{uuid.uuid4().hex[:8]}"  # only this test's impostor answers mDNS for it
    (tmp_path / "real").mkdir()
    (tmp_path / "impostor").mkdir()
    with (
        live_server(tmp_path / "real", stations=False, tls=make_tls(tmp_path / "real-ca")) as real,
        live_server(tmp_path / "impostor", stations=False, tls=make_tls(tmp_path / "other-ca")) as impostor,
    ):
        assert real.pin is not None
        path = tmp_path / "kiosk-1.json"
        save_pin(path, real.url, real.pin)  # enrolled with the real server
        config = dataclasses.replace(
            real.config, hall=dataclasses.replace(real.config.hall, id=hall_id, public_base_url="")
        )
        ad = Advertiser(
            MdnsSettings(impostor.port, interfaces=("127.0.0.1",), instance=f"impostor {hall_id}", tls=True),
            hall_id,
        )
        ad.start()
        try:
            run_until(qtbot, ad.registered.is_set, 30)
            real.stop()
            finding = running.create_task(
                find_hall_server(path, config, "", full_screen=False, retry_s=0.2, interfaces=["127.0.0.1"])
            )
            run_until(qtbot, lambda: shown() is not None, 60)
            screen = shown()
            assert screen is not None
            assert screen.title.text() == "服务器证书不符，请联系管理员"
            assert f"127.0.0.1:{impostor.port}" in screen.reason.text()
            assert impostor.count("SELECT COUNT(*) FROM stations") == 0
            real.start()
            run_until(qtbot, finding.done, 60)
            link = finding.result()
            assert link.url == real.url
            assert link.pin == real.pin
            run_until(qtbot, lambda: shown() is None, 10)
        finally:
            complete(qtbot, running, ad.stop(), 30)
