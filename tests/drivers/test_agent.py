"""The device agent against a real hall server and an emulated HQP/1 bus (pty) of 20 window strips and a hall
board, built by the device factory: strips follow calls, serving, pauses and closing; the bus is unplugged and
the server restarted."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
import pytest_asyncio

from drivers.emulators.bus import EmulatedStrip, HqpBusEmulator
from drivers.factory import AgentOptions, BusRegistry, build_station
from hallclient.http import HttpHall
from hallcore.config import Device, StationRole
from hallcore.windowstrip import agent_windows
from hallq.agent import Agent
from tests.fakes.live_server import PIN, LiveServer, Station, enrolling_many, live_server, passing

WINDOWS = range(1, 21)
HALL_BOARD = 90
REPLY_S = 0.25
CLOSED = "本窗口暂停服务"


@dataclass
class Rig:
    live: LiveServer
    emu: HqpBusEmulator
    strips: dict[int, EmulatedStrip]
    board: EmulatedStrip
    agent: Agent
    desk: Station
    counters: dict[int, Station]


async def until(cond: Callable[[], bool], what: str, timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not cond():
            await asyncio.sleep(0.01)


@pytest.fixture
def live(tmp_path: Path) -> Iterator[LiveServer]:
    # 3 stations of the fixture, the agent, the desk and 20 counters, all from 127.0.0.1.
    with live_server(tmp_path, settings=enrolling_many()) as hall:
        yield hall


@pytest_asyncio.fixture
async def rig(live: LiveServer, tmp_path: Path) -> AsyncIterator[Rig]:
    emu = HqpBusEmulator.pty(link=tmp_path / "ttyLED").start()
    strips = {n: emu.add_strip(live.config.window_by_number[n].led_address or 0) for n in WINDOWS}
    board = emu.add_strip(HALL_BOARD, hall_board=True)
    # Built as `hallq devices serve --bus PTY --all-windows --window 1..20 --hall-board 90` builds them.
    [agent_station] = [s for s in live.config.stations if s.role is StationRole.AGENT]
    agent_station = replace(agent_station, led=Device("hqp", url=emu.url))
    registry = BusRegistry(reply_timeout_s=REPLY_S, backoff_max_s=0.2)
    options = AgentOptions(windows=set(WINDOWS), all_windows=True, hall_boards=(HALL_BOARD,))
    devices = build_station(agent_station, config=live.config, registry=registry, agent=options).start()
    assert sorted(devices.boards) == list(WINDOWS)
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="led bus")
    api = HttpHall(live.url, live.station("agent", "agent-test").token, clock=live.clock)
    agent = Agent(
        live.config,
        api,
        live.clock,
        strips=devices.boards,
        hall_boards=devices.hall_boards,
        executor=executor,
        retry_s=0.05,
    )
    for sync in [*agent.strips.values(), *agent.hall_boards]:
        sync._retry_s, sync._retry_max_s = 0.05, 0.2  # a quick reconnect for the test
    task = asyncio.get_running_loop().create_task(agent.run())
    try:
        yield Rig(live, emu, strips, board, agent, live.station("desk", "desk-test"), {})
    finally:
        await agent.aclose()
        await asyncio.gather(task, return_exceptions=True)
        await api.aclose()
        devices.close()
        registry.close()
        executor.shutdown(wait=True)
        emu.stop()


def act(rig: Rig, window: int, action: str, **body: object) -> dict[str, object]:
    st = rig.counters.get(window)
    if st is None:
        st = rig.live.station("counter", f"counter-{window}-{uuid.uuid4().hex[:4]}", window=window)
        st.staff, st.pin = f"c{(window - 1) % 8 + 1}", PIN
        rig.live.login_counter(st)
        rig.counters[window] = st
    r = rig.live.act(st, action, **body)
    assert r.status_code == 200, r.text
    out: dict[str, object] = r.json()
    return out


def issue(rig: Rig, series: str) -> None:
    m = next(m for m in rig.live.config.matters if m.series == series)
    r = rig.live.post(rig.desk, "/api/tickets", source="desk", **passing(m))
    assert r.status_code == 201, r.text


def texts(rig: Rig) -> dict[int, str]:
    with rig.emu.lock:
        return {n: s.text() for n, s in rig.strips.items()}


def matter_name(rig: Rig, series: str) -> str:
    return next(m.name for m in rig.live.config.matters if m.series == series)


async def call(rig: Rig, window: int) -> str:
    reply = await asyncio.to_thread(act, rig, window, "call-next")
    ticket = reply["ticket"]
    assert isinstance(ticket, dict)
    return str(ticket["label"])


@pytest.mark.asyncio
async def test_the_agent_drives_20_window_strips_from_the_event_stream(rig: Rig) -> None:
    await until(lambda: rig.board.text(5) == "欢迎光临", "the hall board's welcome line")
    assert set(texts(rig).values()) == {CLOSED}  # every window closed: said so, never a dark strip
    for n in WINDOWS:
        await asyncio.to_thread(act, rig, n, "open")
    await until(lambda: set(texts(rig).values()) == {"欢迎光临"}, "welcome on 20 open windows")

    series = {n: rig.live.config.window_by_number[n].series[0] for n in WINDOWS}
    for n in WINDOWS:
        issue(rig, series[n])
    labels = {n: await call(rig, n) for n in WINDOWS}
    want = {n: f"请{labels[n]}号到{n}号窗口" for n in WINDOWS}
    await until(lambda: texts(rig) == want, "20 calls on 20 strips")

    for n in (3, 5, 6, 7):
        await asyncio.to_thread(act, rig, n, "start")
    for n in (5, 6, 7):
        await asyncio.to_thread(act, rig, n, "finish")
    await asyncio.to_thread(act, rig, 6, "pause", reason="休息")
    await asyncio.to_thread(act, rig, 7, "close")
    want |= {
        3: f"{labels[3]} {matter_name(rig, series[3])}",  # serving: the matter
        5: "欢迎光临",  # free again
        6: "暂停服务 休息",
        7: CLOSED,
    }
    await until(lambda: texts(rig) == want, "serving, free, paused and closed strips")

    # The hall board lists the last calls, newest first, under the hall's row count.
    rows = rig.live.config.led.hall_rows
    newest = [f"请{labels[n]}号到{n}号窗口" for n in (20, 19, 18, 17)][:rows]
    assert [rig.board.text(i + 1) for i in range(rows)] == newest
    assert rig.board.level == rig.agent.brightness()  # 09:00 in the hall: the 08:00 step


@pytest.mark.asyncio
async def test_strips_catch_up_after_the_bus_is_unplugged_and_the_server_restarts(rig: Rig) -> None:
    for n in (1, 2):
        await asyncio.to_thread(act, rig, n, "open")
        issue(rig, "A")
    first = await call(rig, 1)
    await until(lambda: texts(rig)[1] == f"请{first}号到1号窗口", "the first call")

    rig.emu.pty_pipe.unplug()  # the USB adapter is pulled
    second = await call(rig, 2)
    await until(lambda: not rig.agent.strips[2].state.ok, "the strip reported unavailable")
    assert texts(rig)[2] == "欢迎光临"  # the emulated strip never got the frame
    rig.emu.pty_pipe.plug()
    await until(lambda: texts(rig)[2] == f"请{second}号到2号窗口", "the call made while unplugged")

    await asyncio.to_thread(rig.live.stop)
    await asyncio.to_thread(rig.live.start)
    await asyncio.to_thread(act, rig, 1, "start")
    await asyncio.to_thread(act, rig, 1, "finish")
    await until(lambda: texts(rig)[1] == "欢迎光临", "an event after the server restart", 30)


def test_the_agent_drives_windows_without_a_strip_of_their_own(live_config_path: Path) -> None:
    from hallfiles.config import read_config

    config = read_config(live_config_path)
    agent = next(s for s in config.stations if s.role is StationRole.AGENT)
    drive = agent_windows(config, agent)
    own = {s.window for s in config.stations if s.led is not None and s.window is not None}
    assert own == {1, 5, 8, 15, 19, 23}
    assert set(drive) == {w.number for w in config.windows} - own
    assert drive[2] == 2  # window -> its led_address
    assert set(agent_windows(config, agent, all_windows=True)) == {w.number for w in config.windows}


@pytest.fixture
def live_config_path(repo_root: Path) -> Path:
    return repo_root / "config" / "county.toml"
