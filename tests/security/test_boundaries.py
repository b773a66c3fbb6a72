"""Boundaries (issue 16, "Boundaries and inputs"): the headers every answer carries, pages without inline
script, the login page's fixed messages, forwarding headers only from a configured proxy, the Origin of a
browser's WebSocket.

Findings: no CSP, frame or nosniff headers; `/web/login?error=` showed any text (a phishing page on the hall's
own address); `X-Forwarded-For` was believed from any local process (uvicorn's default), so a forged header
bought a fresh login allowance per made-up address; `/web/events` accepted any Origin (that one was closed on
main before this issue, by the stream path's Origin check: tested here as an attack all the same).
"""

from __future__ import annotations

import asyncio
import json
import pathlib
import re
from collections.abc import Iterator

import httpx
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import InvalidStatus
from websockets.typing import Origin

from hallcore.config import Durability, HallConfig
from hallserver.service import Settings
from tests.fakes.live_server import MANAGER, seeded_db
from tests.security.conftest import NEIGHBOUR, client_from, rows
from tests.server.conftest import Running, start_server
from tests.server.web_helpers import http_login

FREE = 5  # free login attempts per (account, address): hallserver/throttle.py PAIR


def check_headers(r: httpx.Response) -> None:
    h = r.headers
    csp = h.get("content-security-policy", "")
    assert "frame-ancestors 'none'" in csp, (r.url, csp)
    assert "script-src 'self'" in csp, (r.url, csp)
    assert "unsafe-inline" not in csp, (r.url, csp)
    assert h.get("x-content-type-options") == "nosniff", r.url
    assert h.get("x-frame-options") == "DENY", r.url
    assert h.get("referrer-policy") in ("same-origin", "no-referrer"), r.url


def pages(server: Running) -> dict[str, httpx.Response]:
    """Every kind of page and answer: manager pages, public pages, JSON, errors, the hot path."""
    desk = server.station("desk", window=None)
    r = server.issue(desk)
    assert r.status_code == 201, r.text
    status_token = r.json()["token"]
    out: dict[str, httpx.Response] = {}
    web = http_login(server.url)
    try:
        for path in ("/web/dashboard", "/web/admin", "/web/cases", "/web/stats"):
            out[path] = web.get(path)
    finally:
        web.close()
    for path in (
        "/web/login",
        "/book",
        f"/s/{status_token}",
        "/api/health",
        "/nowhere",
        "/web/static/style.css",
    ):
        out[path] = server.http.get(path)
    out["401"] = server.http.get("/api/stations")
    out["snapshot (hot path)"] = server.http.get("/api/snapshot", headers=desk.headers)
    return out


def test_every_answer_carries_the_security_headers(server: Running) -> None:
    got = pages(server)
    assert got["/nowhere"].status_code == 404
    assert got["401"].status_code == 401
    assert got["snapshot (hot path)"].status_code == 200
    for r in got.values():
        check_headers(r)
    # A 429 of the public limits, answered before the app, carries them too.
    with client_from(server, NEIGHBOUR) as neighbour:
        bad = {"username": "nobody", "password": "x"}
        replies = [neighbour.post("/api/manager/login", json=bad) for _ in range(15)]
    refused = [r for r in replies if r.status_code == 429]
    assert refused
    for r in refused:
        check_headers(r)


def test_no_page_runs_inline_script_or_style(server: Running) -> None:
    for name, r in pages(server).items():
        if "text/html" not in r.headers.get("content-type", ""):
            continue
        html = r.text
        scripts = re.findall(r"<script\b[^>]*>", html, re.I)
        assert all("src=" in s for s in scripts), (name, scripts)
        assert not re.search(r"\son[a-z]+\s*=", html, re.I), name
        assert not re.search(r"\sstyle\s*=", html, re.I), name
        assert "javascript:" not in html.lower(), name


def test_the_login_page_shows_only_its_own_messages(server: Running) -> None:
    for made_up in ("请拨打 110-1234567 领取补贴", "<script>alert(1)</script>", "bad_login<b>x</b>"):
        r = server.http.get("/web/login", params={"error": made_up})
        assert r.status_code == 200
        assert 'id="error"' not in r.text, made_up
        assert made_up not in r.text
        assert "领取补贴" not in r.text
    r = server.http.get("/web/login", params={"error": "bad_login"})
    assert re.search(r'id="error">[^<]*用户名或密码错误', r.text), r.text
    # A failed login lands on the page with a code, never with text.
    c = httpx.Client(base_url=server.url, timeout=30)
    try:
        page = c.get("/web/login").text
        token = re.search(r'name="csrf" value="([^"]+)"', page)
        assert token is not None
        r = c.post("/web/login", data={"csrf": token.group(1), "username": MANAGER[0], "password": "nope"})
        assert r.status_code == 303
        assert r.headers["location"] == "/web/login?error=bad_login"
    finally:
        c.close()


def failed_login_addresses(server: Running) -> list[str]:
    sql = "SELECT json_extract(detail, '$.ip') FROM audit WHERE action = 'login_failed' ORDER BY id"
    return [str(r[0]) for r in rows(server, sql)]


def test_a_forged_forwarded_for_header_buys_nothing(server: Running) -> None:
    with client_from(server, NEIGHBOUR) as neighbour:
        statuses = [
            neighbour.post(
                "/api/manager/login",
                json={"username": MANAGER[0], "password": f"guess {i}"},
                headers={"X-Forwarded-For": f"10.9.{i}.{i}", "X-Real-IP": f"10.8.{i}.{i}"},
            ).status_code
            for i in range(12)
        ]
    # One address, whatever it claims: its own allowance, then waits.
    assert statuses[:FREE] == [401] * FREE, statuses
    assert set(statuses[FREE:]) == {429}, statuses
    assert failed_login_addresses(server) == [NEIGHBOUR] * FREE


@pytest.fixture
def behind_proxy(tmp_path: pathlib.Path, county: HallConfig) -> Iterator[Running]:
    """A server that believes forwarding headers from 127.0.0.3 only (`--trusted-proxy 127.0.0.3`)."""
    settings = Settings(
        heartbeat_s=0.5,
        tick_s=3600,
        freeze_gc=False,
        durability=Durability.NORMAL,
        trusted_proxies=("127.0.0.3",),
    )
    with start_server(tmp_path, county, seeded_db(), settings) as (_st, running):
        yield running


def test_forwarding_headers_count_only_from_the_trusted_proxy(behind_proxy: Running) -> None:
    server = behind_proxy
    bad = {"username": MANAGER[0], "password": "wrong"}
    forged = {"X-Forwarded-For": "10.1.2.3"}
    with client_from(server, "127.0.0.3") as proxy, client_from(server, NEIGHBOUR) as neighbour:
        assert proxy.post("/api/manager/login", json=bad, headers=forged).status_code == 401
        # The proxy forwards a header it got from the client: the right-most address not a proxy counts.
        chained = {"X-Forwarded-For": "6.6.6.6, 10.4.5.6"}
        assert proxy.post("/api/manager/login", json=bad, headers=chained).status_code == 401
        assert neighbour.post("/api/manager/login", json=bad, headers=forged).status_code == 401
        # A broken header through the proxy: only the proxy itself is believed.
        broken = {"X-Forwarded-For": "not-an-address"}
        assert proxy.post("/api/manager/login", json=bad, headers=broken).status_code == 401
    assert failed_login_addresses(server) == ["10.1.2.3", "10.4.5.6", NEIGHBOUR, "127.0.0.3"]


def test_a_page_of_another_site_cannot_open_a_stream(server: Running) -> None:
    display = server.station("display")
    desk = server.station("desk")
    status_token = server.issue(desk).json()["token"]
    web = http_login(server.url)
    cookie = "; ".join(f"{k}={v}" for k, v in web.cookies.items())
    targets: tuple[tuple[str, dict[str, str]], ...] = (
        ("/web/events", {"Cookie": cookie}),  # the manager's cookie rides along from a foreign page
        ("/events", display.headers),
        (f"/events?token={status_token}", {}),
    )

    async def main() -> None:
        for path, headers in targets:
            for origin in ("http://evil.example", f"http://127.0.0.1:{server.port + 1}", "null"):
                with pytest.raises(InvalidStatus) as err:
                    async with connect(
                        f"{server.ws_url}{path}", additional_headers=headers, origin=Origin(origin)
                    ):
                        pass
                assert err.value.response.status_code == 403, (path, origin)
            # The hall's own page may.
            async with connect(
                f"{server.ws_url}{path}", additional_headers=headers, origin=Origin(server.url)
            ) as ws:
                first = json.loads(await asyncio.wait_for(ws.recv(), 20))
                assert first["kind"] in ("hello", "snapshot"), first

    try:
        asyncio.run(main())
    finally:
        web.close()
