"""Call-next to the hall display: request sent → board updated (the view's `changed` signal with the new
number) and → hall LED board frame acknowledged by the (emulated) board, over 200 calls.

Run: QT_QPA_PLATFORM=offscreen .venv/bin/python bench/display.py   (writes bench/results/display.json)

A real hall server (tests/fakes/live_server.py: uvicorn on 127.0.0.1, SQLite in tmp, durability "full"), the
display app offscreen on its qasync loop with an HqpLedBoard on an emulated HQP/1 bus over a pty, and four
counters calling in turn. The clerk's request is sent from the display's own loop (httpx.AsyncClient), so
the figures include the display's event handling and the loop they share; the server runs in its own thread
on the same 2 cores. Voice is off (a fake player would only queue).
"""

from __future__ import annotations

import asyncio
import os
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import httpx

from bench.common import figure, p95_ms, publish
from display.app import assemble
from display.hallboard import Area, LedSync
from display.texts import catalog
from drivers.bus import HqpBusMaster, HqpLedBoard
from drivers.emulators.bus import HqpBusEmulator
from hallclient.http import HttpHall
from hallcore.windowstrip import call_text
from hallui.runner import run_on_qt
from tests.fakes.live_server import PIN, LiveServer, live_server

CALLS = 200
WINDOWS = (1, 2, 3, 4)  # the county hall's series-A windows
HALL_BOARD = 90
TARGET_BOARD_MS = 100.0


async def run(live: LiveServer, tmp: Path) -> dict[str, list[float]]:
    emu = HqpBusEmulator.pty(link=tmp / "ttyHALL").start()
    emu.add_strip(HALL_BOARD, hall_board=True)
    bus = HqpBusMaster(emu.url, reply_timeout_s=0.25).start()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hall board")
    board_at: dict[str, float] = {}
    led_at: dict[str, float] = {}

    def written(areas: Mapping[int, Area]) -> None:
        # The event may beat the HTTP reply: note when each row-1 text first showed, match it up later.
        row = areas.get(1)
        if row is not None and row.text and row.text not in led_at:
            led_at[row.text] = time.perf_counter()

    sync = LedSync(HqpLedBoard(bus, HALL_BOARD), executor=executor, name="hall board", on_written=written)
    app = assemble(live.config, live.clock, catalog(), hall_board=sync)
    view = app.view
    view.show()

    def changed() -> None:
        label = view.latest_number.text()
        if label and label not in board_at:
            board_at[label] = time.perf_counter()

    view.changed.connect(changed)
    api = HttpHall(live.url, live.display.token, clock=live.clock)
    runner = asyncio.get_running_loop().create_task(app.run(api))

    desk = live.station("desk", "bench-desk")
    counters = {}
    for w in WINDOWS:
        st = live.station("counter", f"bench-{w}", window=w)
        st.staff, st.pin = f"c{w}", PIN
        live.login_counter(st)
        assert live.act(st, "open").status_code == 200
        counters[w] = st
    matter = next(m for m in live.config.matters if m.series == "A" and not m.precheck.questions)
    body = {"matter": matter.code, "source": "desk", "present": [x.id for x in matter.precheck.materials]}
    for _ in range(CALLS):
        assert live.post(desk, "/api/tickets", **body).status_code == 201

    out: dict[str, list[float]] = {"board": [], "led": [], "reply": []}
    async with httpx.AsyncClient(base_url=live.url, timeout=10) as http:

        async def act(w: int, action: str) -> httpx.Response:
            st = counters[w]
            return await http.post(
                f"/api/windows/{w}/{action}", json={"request_id": uuid.uuid4().hex}, headers=st.headers
            )

        for i in range(CALLS):
            w = WINDOWS[i % len(WINDOWS)]
            if i >= len(WINDOWS):  # the window still holds its previous ticket: serve it (not timed)
                assert (await act(w, "start")).status_code == 200
                assert (await act(w, "finish")).status_code == 200
            t0 = time.perf_counter()
            r = await act(w, "call-next")
            t_reply = time.perf_counter()
            assert r.status_code == 200, r.text
            label = r.json()["ticket"]["label"]
            row = call_text(live.config.led, label, w)
            try:
                async with asyncio.timeout(10):
                    while label not in board_at or row not in led_at:
                        await asyncio.sleep(0.0005)
            except TimeoutError:
                raise RuntimeError(
                    f"call {i} ({label} at {w}): board {view.latest_number.text()!r}, LED {sync.shown}"
                ) from None
            out["reply"].append((t_reply - t0) * 1000)
            out["board"].append((board_at[label] - t0) * 1000)
            out["led"].append((led_at[row] - t0) * 1000)
    await app.aclose()
    await asyncio.gather(runner, return_exceptions=True)
    await api.aclose()
    bus.close()
    executor.shutdown(wait=True)
    emu.stop()
    return out


def main() -> None:
    with tempfile.TemporaryDirectory(prefix="hallq-bench-display-") as tmp, live_server(Path(tmp)) as live:
        out = run_on_qt(lambda: run(live, Path(tmp)))
    board, led, reply = out["board"], out["led"], out["reply"]
    figures = [
        p95_ms("call-next → board updated, p95", board, TARGET_BOARD_MS, f"over {len(board)} calls"),
        p95_ms("call-next → hall LED frame acknowledged, p95", led, context="emulated board over a pty"),
        p95_ms("call-next HTTP reply, p95", reply, context="durability full, this disk (fsync stalls)"),
        figure("call-next → board updated, median", round(statistics.median(board), 2), "ms"),
        figure("call-next → hall LED frame, median", round(statistics.median(led), 2), "ms"),
    ]
    publish("display", figures, calls=len(board))


if __name__ == "__main__":
    main()
