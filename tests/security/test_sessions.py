"""Sessions that expire and end (issue 16, "Sessions").

Findings: a cached manager session skipped `expires_at` and the manager's `active` flag, so it never expired
and survived deactivation.
"""

from __future__ import annotations

import asyncio

import httpx
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from hallserver import admin
from hallserver.auth import SESSION_HOURS
from tests.fakes.live_server import MANAGER
from tests.server.conftest import Running
from tests.server.web_helpers import csrf_of, http_login

DEPUTY = ("deputy", "river stone 42")


def login(server: Running, who: tuple[str, str] = MANAGER) -> dict[str, str]:
    r = server.http.post("/api/manager/login", json={"username": who[0], "password": who[1]})
    assert r.status_code == 200, r.text
    return {"Authorization": f"Bearer {r.json()['token']}"}


def test_a_session_expires_even_when_it_was_used_a_moment_ago(server: Running) -> None:
    h = login(server)
    web = http_login(server.url)
    try:
        assert server.http.get("/api/stations", headers=h).status_code == 200  # used: in every cache there is
        assert web.get("/web/dashboard").status_code == 200
        server.clock.advance(SESSION_HOURS * 3600 - 1)
        assert server.http.get("/api/stations", headers=h).status_code == 200
        server.clock.advance(2)
        r = server.http.get("/api/stations", headers=h)
        assert r.status_code == 401, r.text
        page = web.get("/web/dashboard")
        assert page.status_code == 303
        assert page.headers["location"] == "/web/login"
        assert web.get("/web/api/dashboard").status_code == 401
    finally:
        web.close()


async def next_close(ws: ClientConnection, timeout: float = 10.0) -> int | None:
    """Read until the server closes the stream (heartbeats keep coming until then); its close code, or None
    when it is still open after `timeout` seconds."""
    try:
        async with asyncio.timeout(timeout):
            while True:
                await ws.recv()
    except ConnectionClosed:
        return ws.close_code
    except TimeoutError:
        return None


def cookie_of(web: httpx.Client) -> str:
    return "; ".join(f"{k}={v}" for k, v in web.cookies.items())


def test_deactivating_a_manager_ends_their_sessions_and_streams_at_once(server: Running) -> None:
    admin.create_manager(server.db, *DEPUTY)
    boss = login(server)
    deputy = login(server, DEPUTY)
    deputy_web = httpx.Client(base_url=server.url, timeout=10)
    r = deputy_web.get("/web/login")
    csrf = r.text.split('name="csrf" value="')[1].split('"')[0]
    r = deputy_web.post("/web/login", data={"csrf": csrf, "username": DEPUTY[0], "password": DEPUTY[1]})
    assert r.status_code == 303, r.text
    own = Origin(server.url)
    assert server.http.get("/api/stations", headers=deputy).status_code == 200

    async def main() -> None:
        async with (
            connect(
                f"{server.ws_url}/web/events",
                additional_headers={"Cookie": cookie_of(deputy_web)},
                origin=own,
            ) as page,
            connect(f"{server.ws_url}/events?since=0", additional_headers=deputy) as api,
        ):
            r = await asyncio.to_thread(
                server.http.post, "/api/managers/deputy/active", json={"active": False}, headers=boss
            )
            assert r.status_code == 200, r.text
            assert r.json()["active"] is False
            assert await next_close(page) == 4401
            assert await next_close(api) == 4401

    try:
        asyncio.run(main())
        assert server.http.get("/api/stations", headers=deputy).status_code == 401
        assert deputy_web.get("/web/dashboard").status_code == 303
        r = server.http.post("/api/manager/login", json={"username": DEPUTY[0], "password": DEPUTY[1]})
        assert r.status_code == 401
        assert server.count("SELECT COUNT(*) FROM audit WHERE action = 'disable_manager'") == 1
    finally:
        deputy_web.close()


def test_deactivating_with_hallq_admin_ends_the_session_behind_the_servers_back(server: Running) -> None:
    admin.create_manager(server.db, *DEPUTY)
    deputy = login(server, DEPUTY)
    assert server.http.get("/api/stations", headers=deputy).status_code == 200

    async def main() -> None:
        async with connect(f"{server.ws_url}/events?since=0", additional_headers=deputy) as ws:
            ended = await asyncio.to_thread(admin.set_manager_active, server.db, "deputy", False)
            assert ended == 1
            # The next request fails at once; the open stream closes within a heartbeat (0.5 s here).
            r = await asyncio.to_thread(server.http.get, "/api/stations", headers=deputy)
            assert r.status_code == 401
            assert await next_close(ws) == 4401

    asyncio.run(main())


def test_logging_out_closes_the_pages_stream(server: Running) -> None:
    web = http_login(server.url)
    own = Origin(server.url)

    async def main() -> None:
        async with connect(
            f"{server.ws_url}/web/events", additional_headers={"Cookie": cookie_of(web)}, origin=own
        ) as ws:
            csrf = await asyncio.to_thread(csrf_of, web)
            r = await asyncio.to_thread(web.post, "/web/logout", data={"csrf": csrf})
            assert r.status_code == 303
            assert await next_close(ws) == 4401

    try:
        asyncio.run(main())
    finally:
        web.close()


def test_the_last_active_manager_cannot_be_deactivated(server: Running) -> None:
    boss = login(server)
    r = server.http.post(f"/api/managers/{MANAGER[0]}/active", json={"active": False}, headers=boss)
    assert r.status_code == 409, r.text
    assert r.json()["error"] == "last_manager"
    assert server.http.get("/api/managers", headers=boss).json()[0]["active"] is True
