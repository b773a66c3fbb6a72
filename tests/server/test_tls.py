"""TLS on the hall LAN (issue 24): `hallq admin tls init|renew|show`, `hallq server --tls-dir`, and a station
that pins the hall CA at enrollment and afterwards talks to no other server: a certificate of another CA, an
expired one or one for another name is refused before anything is sent; a renewed one (same CA) is taken; a
station enrolled before TLS pins on its first contact, or enrolls again when the hall says so; a second server
with its own CA that answers mDNS for the hall is refused while the real one keeps working."""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import json
import logging
import re
import stat
import uuid
from collections.abc import Coroutine, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from cryptography import x509

from hallclient.enroll import ensure_token, load_credentials, load_pin, pinned_fingerprint, save_token
from hallclient.errors import ServerUnavailable, ServerUntrusted
from hallclient.http import HttpHall
from hallclient.link import Link, TrustPolicy, Where, locate
from hallclient.stream import EventStream
from hallclient.trust import Pin
from hallclient.types import ConnectionState, StateChange
from hallcore.clock import FakeClock
from hallcore.config import Tls
from hallcore.fingerprint import ca_fingerprint, short_fingerprint
from hallfiles.config import read_config as read_hall_config
from hallq.serverproc import server_command, start_server
from hallserver import admin, tls
from hallserver.discovery import Advertiser, MdnsSettings
from hallserver.tls import TlsFiles
from tests.fakes.live_server import COUNTY, MANAGER, MONDAY_9, LiveServer, live_server, make_tls, seeded_db

LOOPBACK = ["127.0.0.1"]
NOW = dt.datetime.now(dt.UTC)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def reissue(
    files: TlsFiles, now: dt.datetime, days: int, *names: str, addresses: tuple[str, ...] = ()
) -> None:
    """A new server certificate from the same CA (what `hallq admin tls renew` does), for these names."""
    config = dataclasses.replace(
        read_hall_config(COUNTY), tls=Tls(names=names, addresses=addresses, server_days=days)
    )
    tls.renew(files, config, now)


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[LiveServer]:
    """A TLS hall with its own CA (the tests renew its certificate) and no stations yet."""
    with live_server(tmp_path, stations=False, tls=make_tls(tmp_path / "tls")) as server:
        yield server


async def enrolled(hall: LiveServer, path: Path, role: str = "kiosk") -> str:
    """A station enrolls over TLS as the apps do (locate, then ensure_token) and the manager approves it."""
    link = await locate(path, Where("", "", hall.url), TrustPolicy())
    assert link.pin is not None
    codes: list[str] = []

    async def approve(_s: float) -> None:
        hall.approve_code(codes[-1])

    async with HttpHall(link.url, verify=link.context(), retries=0) as api:
        return await ensure_token(
            api, path, name=f"{role}-tls", role=role, on_code=codes.append, sleep=approve
        )


# ---- hallq admin tls ------------------------------------------------------------------------------------


def test_admin_tls_init_renew_show(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    folder = tmp_path / "tls"
    config = tmp_path / "hall.toml"
    text = COUNTY.read_text("utf-8").replace('addresses = ["10.0.0.2"]', 'addresses = ["192.168.10.2"]', 1)
    config.write_text(text, "utf-8")
    assert (
        admin.main(["--config", str(config), "tls", "init", "--dir", str(folder), "--address", "10.0.0.9"])
        == 0
    )
    out = capsys.readouterr().out
    files = TlsFiles(folder)
    fp = ca_fingerprint(files.ca_pem())
    assert f"CA fingerprint {short_fingerprint(fp)}" in out
    assert (mode(files.ca_key), mode(files.key), mode(folder)) == (0o600, 0o600, 0o700)
    cert = x509.load_pem_x509_certificate(files.cert.read_bytes())
    san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(n.value) for n in san} == {"hallq-server", "192.168.10.2", "10.0.0.9"}
    # The chain: the server certificate, then the CA a client needs to build it.
    assert files.cert.read_text("ascii").count("BEGIN CERTIFICATE") == 2

    # A second init would replace the CA every station pinned: refused, nothing changed.
    assert admin.main(["--config", str(config), "tls", "init", "--dir", str(folder)]) == 1
    assert "already holds a hall CA" in capsys.readouterr().err
    assert ca_fingerprint(files.ca_pem()) == fp

    old = files.cert.read_bytes()
    assert admin.main(["--config", str(config), "tls", "renew", "--dir", str(folder)]) == 0
    assert files.cert.read_bytes() != old
    assert ca_fingerprint(files.ca_pem()) == fp  # same CA: stations keep their pin
    assert admin.main(["tls", "show", "--dir", str(folder)]) == 0
    out = capsys.readouterr().out
    assert f"fingerprint {short_fingerprint(fp)}" in out
    assert "hallq-server, 192.168.10.2" in out


def test_config_refuses_bad_tls_names(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "hall.toml"
    text = COUNTY.read_text("utf-8").replace('names = ["hallq-server"]', 'names = ["bad name"]', 1)
    config.write_text(text.replace('addresses = ["10.0.0.2"]', 'addresses = ["300.1.1.1"]', 1), "utf-8")
    assert admin.main(["--config", str(config), "tls", "init", "--dir", str(tmp_path / "tls")]) == 1
    err = capsys.readouterr().err
    assert "tls.names[0]" in err
    assert "tls.addresses[0]" in err
    assert not (tmp_path / "tls").exists()


def test_server_refuses_a_missing_or_readable_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from hallserver.app import serve_main

    args = ["--config", str(COUNTY), "--db", str(tmp_path / "h.db"), "--port", "0", "--no-mdns"]
    assert serve_main([*args, "--tls-dir", str(tmp_path / "none")]) == 2
    assert "hallq admin tls init" in capsys.readouterr().err
    files = make_tls(tmp_path / "tls")
    files.key.chmod(0o644)
    assert serve_main([*args, "--tls-dir", str(files.dir)]) == 2
    assert "chmod 600" in capsys.readouterr().err


def test_hallq_server_serves_https_with_its_certificate(tmp_path: Path) -> None:
    files = make_tls(tmp_path / "tls")
    db = tmp_path / "hall.db"
    db.write_bytes(seeded_db().read_bytes())
    cmd = server_command(COUNTY, db, "--tls-dir", str(files.dir), "--fake-start", MONDAY_9.isoformat())
    proc, url = start_server(cmd, tmp_path / "server.log", 60)
    try:
        assert url.startswith("https://127.0.0.1:")
        pin = Pin.of(files.ca_pem())
        r = httpx.get(f"{url}/api/tls/ca", verify=pin.context(), timeout=10)
        assert r.status_code == 200
        assert ca_fingerprint(r.text) == pin.fingerprint
        with pytest.raises(httpx.ConnectError):  # the system's CAs do not know the hall's
            httpx.get(f"{url}/api/health", timeout=10)
        with pytest.raises(httpx.HTTPError):  # no plain HTTP on the TLS port
            httpx.get(url.replace("https:", "http:") + "/api/health", timeout=10)
    finally:
        proc.terminate()
        proc.wait(30)
        assert proc.stdout is not None
        proc.stdout.close()


def test_plain_server_has_no_ca_and_the_dashboard_says_so(tmp_path: Path) -> None:
    with live_server(tmp_path, stations=False) as plain:
        r = plain.http.get("/api/tls/ca")
        assert r.status_code == 404
        assert r.json()["error"] == "no_tls"
        assert "本服务器未启用 TLS" in dashboard_html(plain)


# ---- enrollment pins the hall CA ------------------------------------------------------------------------


@pytest.mark.asyncio
async def test_enrollment_pins_the_ca_and_shows_the_dashboards_fingerprint(
    hall: LiveServer, tmp_path: Path
) -> None:
    path = tmp_path / "kiosk.json"
    token = await enrolled(hall, path)
    cred = load_credentials(path)
    assert cred is not None
    assert cred.token == token
    assert cred.server == hall.url
    assert hall.pin is not None
    assert load_pin(path) == (hall.url, hall.pin)
    assert pinned_fingerprint(path) == hall.pin.short
    assert mode(path) == 0o600
    # The manager compares it with the dashboard's before approving.
    page = dashboard_html(hall)
    shown = re.search(r'id="tlsFingerprintShort">([0-9A-F-]+)<', page)
    assert shown is not None
    assert shown.group(1) == hall.pin.short
    # And the station works with it: a ticket over the pinned connection.
    async with HttpHall(hall.url, token, verify=hall.ssl, retries=0) as api:
        assert (await api.health()).ok


def dashboard_html(hall: LiveServer) -> str:
    c = hall.http
    login = c.get("/web/login").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', login)
    assert csrf is not None
    r = c.post("/web/login", data={"csrf": csrf.group(1), "username": MANAGER[0], "password": MANAGER[1]})
    assert r.status_code in (200, 303), r.text
    page = c.get("/web/dashboard")
    assert page.status_code == 200, page.text
    return page.text


@pytest.mark.asyncio
async def test_expired_or_wrong_name_certificates_are_refused(hall: LiveServer, tmp_path: Path) -> None:
    path = tmp_path / "counter.json"
    token = await enrolled(hall, path, "display")
    _server, pin = load_pin(path) or ("", None)
    assert pin is not None
    files = hall.tls
    assert files is not None
    wrong: list[tuple[str, dt.datetime, tuple[str, ...], tuple[str, ...]]] = [
        ("expired", NOW - dt.timedelta(days=60), ("localhost",), ("127.0.0.1",)),
        ("wrong name", NOW, ("elsewhere.example",), ("10.9.9.9",)),
    ]
    for what, when, names, addresses in wrong:
        hall.stop()
        reissue(files, when, 30, *names, addresses=addresses)
        hall.start()
        async with HttpHall(hall.url, token, verify=pin.context(), retries=2, backoff_s=0.01) as api:
            with pytest.raises(ServerUntrusted) as refused:
                await api.health()
        assert ("expired" if what == "expired" else "match") in refused.value.reason.lower(), what
        with pytest.raises(ServerUntrusted):
            await locate(path, Where("", "", hall.url), TrustPolicy())
        stream = EventStream(
            hall.url, token, clock=FakeClock(MONDAY_9), ssl_context=pin.context(), backoff_s=0.01
        )
        changes: list[StateChange] = []
        lost = asyncio.Event()

        def on_state(
            change: StateChange, changes: list[StateChange] = changes, lost: asyncio.Event = lost
        ) -> None:
            changes.append(change)
            lost.set()

        stream.add_state_listener(on_state)
        feed = asyncio.ensure_future(anext(stream, None))
        await asyncio.wait_for(lost.wait(), 20)
        assert changes[0].state is ConnectionState.RECONNECTING, what
        assert changes[0].reason.startswith("untrusted"), what
        await stream.aclose()
        assert await asyncio.wait_for(feed, 20) is None
    # Renewal with the same CA: the station works again with the pin it has.
    hall.stop()
    reissue(files, NOW, 30, "localhost", addresses=("127.0.0.1",))
    hall.start()
    assert (await locate(path, Where("", "", hall.url), TrustPolicy())).pin == pin
    async with HttpHall(hall.url, token, verify=pin.context(), retries=0) as api:
        assert (await api.health()).ok
    # The server never saw the refused connections as requests: nothing was sent over them.


# ---- a station enrolled before TLS ---------------------------------------------------------------------


@pytest.mark.asyncio
@pytest.mark.parametrize("pin_first", [True, False])
async def test_a_station_enrolled_before_tls_pins_on_first_contact(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, pin_first: bool
) -> None:
    files = make_tls(tmp_path / "tls")
    db_dir = tmp_path / "plain"
    db_dir.mkdir()
    path = tmp_path / "kiosk.json"
    with live_server(db_dir, stations=False) as plain:
        st = plain.station("kiosk", "kiosk-old")
        save_token(path, st.token, station_id=st.id, server=plain.url)
        db = plain.db
    # The hall turns TLS on: the same database, now over HTTPS.
    live = LiveServer(plain.config, db, FakeClock(MONDAY_9), plain.settings, tls=files)
    live.start()
    try:
        caplog.set_level(logging.WARNING, "hallclient.link")
        link = await locate(path, Where("", "", live.url), TrustPolicy(pin_on_first_contact=pin_first))
        assert link.pin is not None
        assert link.pin.fingerprint == ca_fingerprint(files.ca_pem())
        cred = load_credentials(path)
        if pin_first:
            assert "enrolled before TLS: pinned the hall CA" in caplog.text
            assert cred is not None
            assert cred.token == st.token
            async with HttpHall(link.url, cred.token, verify=link.context(), retries=0) as api:
                assert (await api.hall_info()).hall.id == plain.config.hall.id
        else:
            assert "requires enrolling again" in caplog.text
            assert cred is None  # the token is gone: the station enrolls again and shows its code
            assert load_pin(path) is not None  # with the CA it will show beside the code
    finally:
        live.stop()


@pytest.mark.asyncio
async def test_required_tls_refuses_plain_http_but_on_loopback(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    with pytest.raises(ServerUntrusted, match="requires TLS"):
        await locate(path, Where("", "", "http://192.0.2.7:8700"), TrustPolicy(required=True))
    link = await locate(path, Where("", "", "http://127.0.0.1:8700"), TrustPolicy(required=True))
    assert link.pin is None  # the demo's plain HTTP on this machine


# ---- a second server with another CA answers mDNS for the hall ----------------------------------------


@pytest.mark.asyncio
async def test_an_impostor_answering_mdns_is_refused_and_the_real_server_is_taken(
    hall: LiveServer, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "agent.json"
    token = await enrolled(hall, path, "display")
    hall_id = f"hall-{uuid.uuid4().hex[:8]}"  # only this test's servers answer for it
    real_port = hall.port
    (tmp_path / "impostor").mkdir()
    (tmp_path / "moved").mkdir()
    with live_server(tmp_path / "impostor", stations=False, tls=make_tls(tmp_path / "other")) as impostor:
        ads = [
            Advertiser(
                MdnsSettings(impostor.port, interfaces=("127.0.0.1",), instance=f"imp {hall_id}", tls=True),
                hall_id,
            )
        ]
        for ad in ads:
            ad.start()
        try:
            await wait(ads[0].registered.wait())
            caplog.set_level(logging.WARNING, "hallclient.link")
            hall.stop()  # our server is down: only the impostor answers
            where = Where(
                hall_id, f"https://127.0.0.1:{real_port}", interfaces=LOOPBACK, discover_s=3.0, probe_s=3.0
            )
            with pytest.raises(ServerUntrusted) as refused:
                await locate(path, dataclasses.replace(where, fallback=""), TrustPolicy())
            assert f"127.0.0.1:{impostor.port}" in refused.value.reason
            assert "refused https://127.0.0.1" in caplog.text
            assert impostor.count("SELECT COUNT(*) FROM stations") == 0
            # Our server is back on its address, which the station tries first: taken.
            hall.start()
            link = await locate(path, where, TrustPolicy())
            assert link.url == hall.url
            async with HttpHall(link.url, token, verify=link.context(), retries=0) as api:
                assert (await api.health()).ok
            # Our server moves to a new address that only mDNS knows: found there, the impostor still refused.
            hall.stop()
            assert hall.tls is not None
            with live_server(tmp_path / "moved", stations=False, tls=hall.tls) as moved:
                moved_ad = Advertiser(
                    MdnsSettings(moved.port, interfaces=("127.0.0.1",), instance=f"real {hall_id}", tls=True),
                    hall_id,
                )
                moved_ad.start()
                ads.append(moved_ad)
                await wait(moved_ad.registered.wait())
                link = await locate(path, dataclasses.replace(where, fallback=""), TrustPolicy())
                assert link.url == moved.url
                assert load_pin(path) == (moved.url, hall.pin)
        finally:
            for ad in ads:
                await ad.stop()
            if not hall.running:
                hall.start()


async def wait(aw: Coroutine[Any, Any, Any], timeout: float = 20.0) -> None:
    await asyncio.wait_for(aw, timeout)


@pytest.mark.asyncio
async def test_no_server_at_all_is_not_untrusted(tmp_path: Path) -> None:
    """A pinned station whose server does not answer yet (the box still booting) starts with it, as before
    TLS: the app shows its offline state and reconnects, with the pin on every connection. A station with no
    pin and no server is told the server is unavailable."""
    path = tmp_path / "s.json"
    pin = Pin.of(make_tls(tmp_path / "tls").ca_pem())
    from hallclient.enroll import save_pin

    save_pin(path, "https://127.0.0.1:9", pin)
    where = Where(f"hall-{uuid.uuid4().hex[:8]}", "", discover_s=0.3, probe_s=1.0)
    link = await locate(path, where, TrustPolicy())
    assert link == Link("https://127.0.0.1:9", pin)
    assert json.loads(path.read_text())["ca_pem"] == pin.ca_pem  # the pin stays
    with pytest.raises(ServerUnavailable) as gone:
        await locate(
            tmp_path / "new.json", dataclasses.replace(where, given="https://127.0.0.1:9"), TrustPolicy()
        )
    assert not isinstance(gone.value, ServerUntrusted)
