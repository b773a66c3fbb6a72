"""First start against a real hall server: enroll, poll until a manager approves (bounded, with backoff), keep
the token in a 0600 file, reuse it next time; resume a pending enrollment after a restart; give up when the
station is revoked; wait out a server that is down while polling."""

from __future__ import annotations

import json
import stat
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

import pytest

from hallclient.enroll import ensure_token, load_credentials, load_token
from hallclient.errors import EnrollmentError
from hallclient.http import HttpHall
from tests.fakes.live_server import LiveServer, live_server


class Sleeper:
    """Stands in for asyncio.sleep: records delays, advances a virtual time, runs a hook per poll."""

    def __init__(self) -> None:
        self.now = 0.0
        self.delays: list[float] = []
        self.hook: Callable[[], Awaitable[None]] | None = None

    def clock(self) -> float:
        return self.now

    async def sleep(self, s: float) -> None:
        self.delays.append(s)
        self.now += s
        if self.hook is not None:
            await self.hook()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def hall(tmp_path: Path) -> Iterator[LiveServer]:
    with live_server(tmp_path, stations=False) as server:
        yield server


def station_ids(hall: LiveServer) -> list[str]:
    r = hall.http.get("/api/stations", headers=hall.manager_headers())
    assert r.status_code == 200, r.text
    return [s["station_id"] for s in r.json()]


def manager_does(hall: LiveServer, action: str) -> None:
    (sid,) = station_ids(hall)
    r = hall.http.post(f"/api/stations/{sid}/{action}", json={}, headers=hall.manager_headers())
    assert r.status_code == 200, r.text


@pytest.mark.asyncio
async def test_enroll_wait_for_approval_then_reuse_the_token(hall: LiveServer, tmp_path: Path) -> None:
    path = tmp_path / "station" / "credentials.json"
    sl = Sleeper()
    codes: list[str] = []

    async def approve_on_third_poll() -> None:
        if len(sl.delays) == 3:
            manager_does(hall, "approve")

    sl.hook = approve_on_third_poll
    async with HttpHall(hall.url, retries=0) as api:
        token = await ensure_token(
            api, path, name="一楼取号机", role="kiosk", on_code=codes.append, sleep=sl.sleep, clock=sl.clock
        )
        assert token
        assert len(codes) == 1
        assert sl.delays == [2.0, 3.0, 4.5]  # backoff between polls
        assert mode(path) == 0o600
        assert load_token(path) == token
        assert json.loads(path.read_text())["state"] == "approved"
        # Next start: the stored token, no enrollment.
        assert await ensure_token(api, path, name="x", role="kiosk", sleep=sl.sleep) == token
    assert len(station_ids(hall)) == 1
    r = hall.http.get("/api/hall", headers={"Authorization": f"Bearer {token}"})
    assert r.status_code == 200  # the token works


@pytest.mark.asyncio
async def test_a_restart_while_pending_resumes_the_same_enrollment(hall: LiveServer, tmp_path: Path) -> None:
    path = tmp_path / "cred.json"
    sl = Sleeper()
    async with HttpHall(hall.url, retries=0) as api:
        with pytest.raises(EnrollmentError, match="not approved within 5 s"):
            await ensure_token(api, path, name="k", role="kiosk", timeout_s=5, sleep=sl.sleep, clock=sl.clock)
        pending = load_credentials(path)
        assert pending is not None
        assert pending.token is None
        assert mode(path) == 0o600
        manager_does(hall, "approve")
        codes: list[str] = []
        token = await ensure_token(api, path, name="k", role="kiosk", on_code=codes.append, sleep=sl.sleep)
    assert codes == [pending.code]
    assert len(station_ids(hall)) == 1
    assert load_token(path) == token


@pytest.mark.asyncio
async def test_revoked_while_pending(hall: LiveServer, tmp_path: Path) -> None:
    path = tmp_path / "cred.json"
    sl = Sleeper()

    async def revoke() -> None:
        manager_does(hall, "revoke")

    sl.hook = revoke
    async with HttpHall(hall.url, retries=0) as api:
        with pytest.raises(EnrollmentError, match="revoked"):
            await ensure_token(api, path, name="k", role="kiosk", sleep=sl.sleep, clock=sl.clock)
    assert not path.exists()


@pytest.mark.asyncio
async def test_server_unreachable_while_polling_is_waited_out(hall: LiveServer, tmp_path: Path) -> None:
    path = tmp_path / "cred.json"
    sl = Sleeper()

    async def outage() -> None:
        if len(sl.delays) == 1:
            hall.stop()
        elif len(sl.delays) == 3:
            hall.start()
            manager_does(hall, "approve")

    sl.hook = outage
    async with HttpHall(hall.url, retries=0) as api:
        assert await ensure_token(api, path, name="k", role="kiosk", sleep=sl.sleep, clock=sl.clock)
