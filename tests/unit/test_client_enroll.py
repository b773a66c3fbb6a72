"""First start: enroll, poll until approved (bounded), keep the token in a 0600 file, reuse it next time."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from hallclient.enroll import ensure_token, forget_token, load_credentials, load_token, save_token
from hallclient.errors import EnrollmentError
from hallclient.fake import FakeHall
from hallclient.types import Role
from hallcore.clock import FakeClock
from tests.fakes.halls import MONDAY_9, small_hall


class Sleeper:
    """Stands in for asyncio.sleep: records delays, advances a virtual time, runs a hook per poll."""

    def __init__(self) -> None:
        self.now = 0.0
        self.delays: list[float] = []
        self.hook: object = None

    def clock(self) -> float:
        return self.now

    async def sleep(self, s: float) -> None:
        self.delays.append(s)
        self.now += s
        if callable(self.hook):
            await self.hook()


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.mark.asyncio
async def test_enroll_wait_for_approval_then_reuse_the_token(tmp_path: Path) -> None:
    hall = FakeHall(small_hall(), FakeClock(MONDAY_9))
    manager = hall.as_station(Role.MANAGER)
    path = tmp_path / "station" / "credentials.json"
    sl = Sleeper()
    codes: list[str] = []

    async def approve_on_third_poll() -> None:
        if len(sl.delays) == 3:
            (st,) = await manager.stations()
            await manager.approve_station(st.station_id)

    sl.hook = approve_on_third_poll
    token = await ensure_token(
        hall, path, name="一楼取号机", role="kiosk", on_code=codes.append, sleep=sl.sleep, clock=sl.clock
    )
    assert token
    assert len(codes) == 1
    assert sl.delays == [2.0, 3.0, 4.5]  # backoff between polls
    assert mode(path) == 0o600
    assert load_token(path) == token
    assert json.loads(path.read_text())["state"] == "approved"

    # Next start: the stored token, no enrollment.
    assert await ensure_token(hall, path, name="x", role="kiosk", sleep=sl.sleep) == token
    assert len(await manager.stations()) == 1


@pytest.mark.asyncio
async def test_a_restart_while_pending_resumes_the_same_enrollment(tmp_path: Path) -> None:
    hall = FakeHall(small_hall(), FakeClock(MONDAY_9))
    manager = hall.as_station(Role.MANAGER)
    path = tmp_path / "cred.json"
    sl = Sleeper()
    with pytest.raises(EnrollmentError, match="not approved within 5 s"):
        await ensure_token(hall, path, name="k", role="kiosk", timeout_s=5, sleep=sl.sleep, clock=sl.clock)
    pending = load_credentials(path)
    assert pending is not None
    assert pending.token is None
    assert mode(path) == 0o600
    (st,) = await manager.stations()
    await manager.approve_station(st.station_id)
    codes: list[str] = []
    token = await ensure_token(hall, path, name="k", role="kiosk", on_code=codes.append, sleep=sl.sleep)
    assert codes == [pending.code]
    assert len(await manager.stations()) == 1
    assert load_token(path) == token


@pytest.mark.asyncio
async def test_revoked_while_pending(tmp_path: Path) -> None:
    hall = FakeHall(small_hall(), FakeClock(MONDAY_9))
    manager = hall.as_station(Role.MANAGER)
    path = tmp_path / "cred.json"
    sl = Sleeper()

    async def revoke() -> None:
        (st,) = await manager.stations()
        await manager.revoke_station(st.station_id)

    sl.hook = revoke
    with pytest.raises(EnrollmentError, match="revoked"):
        await ensure_token(hall, path, name="k", role="kiosk", sleep=sl.sleep, clock=sl.clock)
    assert not path.exists()


@pytest.mark.asyncio
async def test_server_unreachable_while_polling_is_waited_out(tmp_path: Path) -> None:
    hall = FakeHall(small_hall(), FakeClock(MONDAY_9))
    manager = hall.as_station(Role.MANAGER)
    path = tmp_path / "cred.json"
    sl = Sleeper()

    async def outage() -> None:
        if len(sl.delays) == 1:
            hall.go_offline()
        elif len(sl.delays) == 3:
            hall.go_online()
            (st,) = await manager.stations()
            await manager.approve_station(st.station_id)

    sl.hook = outage
    assert await ensure_token(hall, path, name="k", role="kiosk", sleep=sl.sleep, clock=sl.clock)


def test_save_load_forget(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text("{}")
    path.chmod(0o644)
    save_token(path, "t1", station_id="s1", server="http://h")
    assert mode(path) == 0o600
    cred = load_credentials(path)
    assert cred is not None
    assert (cred.token, cred.station_id, cred.server) == ("t1", "s1", "http://h")
    forget_token(path)
    forget_token(path)
    assert load_token(path) is None
    path.write_text("not json")
    assert load_credentials(path) is None
