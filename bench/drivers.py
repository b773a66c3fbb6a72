"""The device layer's figures (issue 5): ticket -> ESC/POS bytes, HQP/1 round trips on the emulated bus, and
printer status / print latency against the emulator, each over TCP and a pty.

Run: .venv/bin/python bench/drivers.py   (writes bench/results/drivers.json)

The detailed benches stay: bench/drivers_printer.py (layout and print round trip, drivers_printer.json) and
bench/drivers_bus.py (key-press latency with 8 polled keypads, idle polling CPU, drivers_bus.json). The
emulators answer at once, so these are the drivers' own overhead: a real printer adds its print time
(1-3 s a ticket) and a 9600-baud line about 1 ms per 10 bytes each way.
"""

from __future__ import annotations

import os
import statistics
import sys
import tempfile
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import figure, pct, publish, time_ms
from bench.drivers_bus import TEXT
from bench.drivers_printer import NOTICE, TICKET
from drivers.bus import HqpBusMaster, HqpLedBoard
from drivers.emulators.bus import HqpBusEmulator
from drivers.emulators.printer import PtyPrinterEmulator, TcpPrinterEmulator
from drivers.printer import build_printer
from drivers.printing import notice_bytes, ticket_bytes
from hallcore.config import Device

ROUNDS = 300


def _ms(name: str, times: list[float], target: float | None = None, note: str = "") -> list[dict[str, Any]]:
    """Median against the target; p99 reported as measured (on a shared 2-core machine it holds the
    scheduler's preemptions of this process, not the code's cost)."""
    median, p99 = statistics.median(times), pct(times, 99)
    limit = f"< {target:g} ms" if target is not None else ""
    return [
        figure(
            f"{name}, median",
            round(median, 4),
            "ms",
            limit,
            None if target is None else median < target,
            note,
        ),
        figure(f"{name}, p99", round(p99, 4), "ms"),
    ]


def layout() -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    for width in (58, 80):
        times = time_ms(lambda w=width: ticket_bytes(TICKET, w), 3000)  # type: ignore[misc]
        out += _ms(
            f"ticket -> ESC/POS bytes {width} mm", times, 5.0, "heavy ticket: 容缺 items, long names, QR"
        )
        size = len(ticket_bytes(TICKET, width))
        out.append(figure(f"ticket size {width} mm (native QR)", size, "bytes", "< 2048", size < 2048))
        out.append(figure(f"notice size {width} mm (8 items)", len(notice_bytes(NOTICE, width)), "bytes"))
    return out


def printer(transport: str) -> list[dict[str, Any]]:
    emu = TcpPrinterEmulator() if transport == "tcp" else PtyPrinterEmulator()
    with emu:
        url = emu.url if isinstance(emu, TcpPrinterEmulator) else emu.path
        kind = "escpos-network" if transport == "tcp" else "escpos-serial"
        p = build_printer(Device(kind, url=url, timeout_s=1.0))
        try:
            p.status()  # connect outside the measurement
            status = time_ms(p.status, ROUNDS)
            prints = time_ms(lambda: p.print_ticket(TICKET), ROUNDS // 3)
        finally:
            p.close()
    return [
        *_ms(f"printer status (DLE EOT 1..4) over {transport}", status, 50.0, "4 real-time requests"),
        *_ms(f"print round trip over {transport}", prints, note="status, job, GS r 1, status"),
    ]


def bus(transport: str, tmp: Path) -> list[dict[str, Any]]:
    emu = HqpBusEmulator.pty(tmp / "ttyHQP") if transport == "pty" else HqpBusEmulator.tcp()
    with emu, HqpBusMaster(emu.url, reply_timeout_s=0.2) as master:
        emu.add_strip(5)
        board = HqpLedBoard(master, 5)
        board.ping()
        pings = time_ms(board.ping, ROUNDS)
        shows = time_ms(lambda: board.show(TEXT), ROUNDS)
        board.close()
    return [
        *_ms(f"HQP/1 PING round trip over {transport}", pings, 50.0, "protocol reply deadline 50 ms"),
        *_ms(f"HQP/1 LED_TEXT round trip over {transport}", shows, 50.0),
    ]


def main() -> None:
    figures = layout()
    for transport in ("tcp", "pty"):
        figures += printer(transport)
    with tempfile.TemporaryDirectory() as tmp:
        for transport in ("tcp", "pty"):
            figures += bus(transport, Path(tmp))
    load = ", ".join(f"{x:.2f}" for x in os.getloadavg())
    see_also = ["drivers_printer.json", "drivers_bus.json"]
    publish("drivers", figures, width=55, load_average=load, see_also=see_also)


if __name__ == "__main__":
    main()
