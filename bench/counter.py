"""Keypad "next" to the window strip: the call keypad's key frame → the LED strip frame with the new number.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/counter.py   (writes bench/results/counter.json)

A real hall server (tests/fakes/live_server.py: uvicorn on 127.0.0.1, SQLite in tmp, durability "full"), the
counter app as wired by `counter.app.assemble` (window offscreen, qasync loop) with an HqpCallKeypad and an
HqpLedBoard on one emulated HQP/1 bus over a pty. Each round: the emulated keypad queues a NEXT key event
(t0); the bus master polls it, the app sends call-next, the reply comes, the app sends the strip text; the
emulated strip records when it received the LED_TEXT frame with "请A0xx号到1号窗口" (t1). The ticket is then
started and finished through the app (not timed) so the window is idle for the next round. The measure
includes the poll interval (the keypad is polled, it cannot send by itself), the HTTP round trip with a
durable commit, and the display worker's frame.
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))


from bench.common import figure, p95_ms, publish
from counter.actions import Action
from counter.app import assemble
from counter.texts import catalog
from drivers.codecs.hqp import Cmd, Frame
from drivers.emulators.bus import HqpBusEmulator
from drivers.factory import build_station
from drivers.protocols import KeyCode
from hallclient.http import HttpHall
from hallcore.config import Device, Station, StationRole
from hallui.runner import run_on_qt
from tests.fakes.live_server import PIN, LiveServer, live_server

CALLS = 200
TARGET_MS = 150.0
LED, KEYPAD = 1, 61


async def until(cond: object, timeout: float = 10.0) -> None:
    assert callable(cond)
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark step timed out")
        await asyncio.sleep(0.001)


async def run(live: LiveServer) -> dict[str, list[float]]:
    loop = asyncio.get_running_loop()
    loop.set_default_executor(ThreadPoolExecutor(4))
    emu = HqpBusEmulator.pty().start()
    strip = emu.add_strip(LED)
    emu.add_keypad(KEYPAD)
    frames: list[tuple[float, str]] = []
    handle = strip.handle

    def recording(frame: Frame) -> bytes | None:
        out = handle(frame)
        if frame.cmd == Cmd.LED_TEXT:
            frames.append((time.perf_counter(), strip.text()))
        return out

    strip.handle = recording  # type: ignore[method-assign]
    desk = live.station("desk", "bench-desk", window=14)
    matter = next(m for m in live.config.matters if m.series == "A")
    labels = []
    for _ in range(CALLS):
        r = live.post(
            desk,
            "/api/tickets",
            matter=matter.code,
            answers={q.id: q.expected for q in matter.precheck.questions},
            present=[x.id for x in matter.precheck.materials],
        )
        assert r.status_code == 201, r.text
        labels.append(r.json()["ticket"]["label"])
    station = Station(
        id="counter-01",
        role=StationRole.COUNTER,
        window=1,
        led=Device(type="hqp", url=emu.url, address=LED),
        keypad=Device(type="hqp", url=emu.url, address=KEYPAD),
    )
    api = HttpHall(live.url, live.counter.token, clock=live.clock)
    app = assemble(live.config, station, api, live.clock, catalog(), build_station(station).start())
    app.window.show()
    await app.start()
    flow, ctl = app.flow, app.controller
    await until(lambda: flow.online)
    ctl.request(Action.LOGIN, {"staff": "c1", "pin": PIN})
    await until(lambda: flow.window_state == "open" and not flow.busy)
    await until(lambda: strip.text() == "欢迎光临")
    key_to_led: list[float] = []
    try:
        for label in labels:
            want = f"请{label}号到1号窗口"
            n = len(frames)
            sent = len(ctl.sent)
            t0 = time.perf_counter()
            emu.press(KEYPAD, KeyCode.NEXT)
            await until(lambda: any(text == want for _t, text in frames[n:]))  # noqa: B023
            t1 = next(t for t, text in frames[n:] if text == want)
            key_to_led.append((t1 - t0) * 1000)
            await until(lambda: not flow.busy and len(ctl.sent) > sent)  # noqa: B023
            for action in (Action.START, Action.FINISH):
                assert ctl.request(action), action
                await until(lambda: not flow.busy)
            await until(lambda: strip.text() == "欢迎光临")
    finally:
        await app.aclose()
        await api.aclose()
        emu.stop()
    return {"key_to_led": key_to_led}


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hallq-bench-counter-") as tmp, live_server(Path(tmp)) as live:
        out = run_on_qt(lambda: run(live))
    lat = out["key_to_led"]
    figures = [
        p95_ms(
            'keypad "next" frame → LED strip frame with the new number, p95',
            lat,
            TARGET_MS,
            f"over {len(lat)} calls, real server (durability full) and the emulated HQP/1 bus over a pty",
        ),
        figure('keypad "next" → LED strip frame, median', round(statistics.median(lat), 2), "ms"),
    ]
    publish("counter", figures, calls=len(lat))


if __name__ == "__main__":
    main()
