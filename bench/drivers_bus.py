"""HQP/1 bus cost: round trips and key-press latency on the emulated bus, codec cost, idle polling CPU.

Run: .venv/bin/python bench/drivers_bus.py   (writes bench/results/drivers_bus.json)

The emulator answers at once and a pty has no baud rate, so these are the driver's own overhead; a real
9600-baud line adds about 10 bits per byte each way (the "wire time" figures).
"""

from __future__ import annotations

import functools
import queue
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import below, pct, time_ms, write
from drivers.bus import HqpBusMaster, HqpCallKeypad, HqpLedBoard
from drivers.codecs import hqp
from drivers.codecs.hqp import Cmd, LedText
from drivers.emulators.bus import HqpBusEmulator
from drivers.protocols import KeyCode, KeyEvent

TEXT = "请A012号到12号窗口办理"


def main() -> None:
    figures: list[dict[str, object]] = []
    fig = functools.partial(below, figures, width=50)

    payload = hqp.encode_led_text(LedText(TEXT, effect=hqp.Effect.SCROLL_LEFT))
    frame = hqp.encode_frame(5, Cmd.LED_TEXT, 1, payload)
    rounds = 20000
    t0 = time.perf_counter()
    for _ in range(rounds):
        hqp.FrameDecoder().feed(hqp.encode_frame(5, Cmd.LED_TEXT, 1, payload))
    fig("LED_TEXT encode + decode (pure Python CRC)", (time.perf_counter() - t0) / rounds * 1e6, "us", 1000)
    ping = len(hqp.encode_frame(5, Cmd.PING, 1)) + len(
        hqp.encode_frame(5, Cmd.PING | 0x80, 1, b"\x01\x01\x00")
    )
    fig("PING round trip wire time at 9600 baud", ping * 10 / 9600 * 1000, "ms")
    fig("LED_TEXT round trip wire time at 9600 baud", (len(frame) + 9) * 10 / 9600 * 1000, "ms")

    with tempfile.TemporaryDirectory() as tmp:
        for transport in ("pty", "tcp"):
            emu = HqpBusEmulator.pty(Path(tmp) / "ttyHQP") if transport == "pty" else HqpBusEmulator.tcp()
            with emu, HqpBusMaster(emu.url, reply_timeout_s=0.2) as bus:
                emu.add_strip(5)
                board = HqpLedBoard(bus, 5)
                board.ping()
                pings = time_ms(board.ping, 500)
                shows = time_ms(lambda b=board: b.show(TEXT), 500)  # type: ignore[misc]
                fig(f"PING round trip over {transport}, median", statistics.median(pings), "ms", 50)
                fig(f"PING round trip over {transport}, p99", pct(pings, 99), "ms", 50)
                fig(f"LED_TEXT round trip over {transport}, median", statistics.median(shows), "ms", 50)
                fig(f"LED_TEXT round trip over {transport}, p99", pct(shows, 99), "ms", 50)

        # 8 polled keypads at the default 20 ms poll gap: key-press latency and the CPU idle polling costs.
        with (
            HqpBusEmulator.pty(Path(tmp) / "ttyKP") as emu,
            HqpBusMaster(emu.url, reply_timeout_s=0.2) as bus,
        ):
            events: queue.Queue[tuple[float, KeyEvent]] = queue.Queue()
            for addr in range(1, 9):
                emu.add_keypad(addr)
                HqpCallKeypad(bus, addr).subscribe(lambda e: events.put((time.perf_counter(), e)))
            latencies = []
            for i in range(100):
                t0 = time.perf_counter()
                emu.press(1 + i % 8, KeyCode.NEXT)
                got, _ = events.get(timeout=10)
                latencies.append((got - t0) * 1000)
            fig("key press to listener, 8 keypads, median", statistics.median(latencies), "ms", 300)
            fig("key press to listener, 8 keypads, p99", pct(latencies, 99), "ms", 300)
            wall, cpu = time.monotonic(), time.process_time()
            time.sleep(3.0)  # a benchmark, not a test: measure idle polling over a fixed span
            share = (time.process_time() - cpu) / (time.monotonic() - wall) * 100
            fig("idle polling of 8 keypads, CPU (driver + emulator)", share, "%", 25)

    print(f"wrote {write('drivers_bus', figures)}")


if __name__ == "__main__":
    main()
