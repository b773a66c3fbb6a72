"""Kiosk: final tap → ticket bytes complete at the emulated printer, with a real local hall server.

The kiosk app runs in this process (offscreen Qt on qasync), the hall server in a thread (uvicorn, SQLite
in a temp dir, durability from the county config), the ESC/POS emulator on TCP in a thread. For each ticket
the benchmark walks to the confirm screen, clicks "取号", and measures until the emulator has cut the
ticket (the printer's status check, the issue over HTTP, the print with its GS r 1 completion answer;
the print confirmation that follows is not in the figure). Target: p95 < 300 ms.

    .venv/bin/python -m bench.kiosk [--tickets 200]
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.common import figure, pct, write  # noqa: E402


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tickets", type=int, default=200)
    args = parser.parse_args(argv)

    import qasync
    from PySide6.QtWidgets import QApplication, QPushButton

    from drivers.emulators.escpos_stream import EmulatedPrinter, _Paper
    from drivers.emulators.printer import TcpPrinterEmulator
    from drivers.printer import EscposPrinter
    from drivers.transport import SocketTransport
    from hallclient.http import HttpHall
    from kiosk.app import assemble
    from kiosk.flow import Screen
    from kiosk.texts import catalog
    from tests.fakes.live_server import live_server

    class TimedPrinter(EmulatedPrinter):
        """Records when each ticket was cut (the emulator's thread, the same process clock)."""

        def __init__(self) -> None:
            super().__init__()
            self.cut_at: list[float] = []

        def add_ticket(self, paper: _Paper) -> None:
            super().add_ticket(paper)
            self.cut_at.append(time.perf_counter())

    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    latencies: list[float] = []
    matter = "HJ01"

    with tempfile.TemporaryDirectory() as tmp, live_server(Path(tmp)) as hall:
        printer_model = TimedPrinter()
        with TcpPrinterEmulator(printer_model) as emu:
            printer = EscposPrinter(
                None,
                reopen=lambda: SocketTransport.connect(emu.host, emu.port, timeout=1.0, write_timeout=2.0),
            )
            api = HttpHall(hall.url, hall.kiosk.token, clock=hall.clock)
            cfg = hall.config
            app = assemble(cfg, api, printer, hall.clock, catalog(), tick_ms=3_600_000)
            view = app.view
            view.resize(1080, 1920)
            view.show()
            app.show()
            m = cfg.matter_by_code[matter]

            async def run() -> None:
                app.controller.start()
                while app.controller.printer_state is None:
                    await asyncio.sleep(0.01)
                now = app.controller.now()
                for i in range(args.tickets):
                    f = app.flow
                    f.home(now)
                    f.start(now)
                    f.choose_matter(matter, now)
                    for _ in m.precheck.questions:
                        f.answer(True, now)
                    for mat in m.precheck.materials:
                        f.toggle_material(mat.id, now)
                    f.materials_done(now)
                    app.render()
                    b = view.findChild(QPushButton, "confirmNormal")
                    assert b is not None
                    t0 = time.perf_counter()
                    b.click()
                    while len(printer_model.cut_at) <= i:
                        await asyncio.sleep(0)
                    latencies.append(printer_model.cut_at[i] - t0)
                    while app.flow.screen is not Screen.TICKET:
                        await asyncio.sleep(0.001)
                await app.aclose()
                await api.aclose()

            loop.run_until_complete(run())
            loop.run_until_complete(loop.shutdown_default_executor())
            printer.close()
            waiting = hall.count("SELECT COUNT(*) FROM tickets WHERE state = 'waiting'")
            durability = cfg.server.durability.value

    ms = [x * 1000 for x in latencies]
    p50, p95, p99 = pct(ms, 50), pct(ms, 95), pct(ms, 99)
    figures: list[dict[str, Any]] = [
        figure("tap → ticket cut at the printer, p50", round(p50, 1), "ms", note=f"{len(ms)} tickets"),
        figure("tap → ticket cut at the printer, p95", round(p95, 1), "ms", "< 300 ms", p95 < 300),
        figure("tap → ticket cut at the printer, p99", round(p99, 1), "ms"),
        figure("tap → ticket cut at the printer, max", round(max(ms), 1), "ms"),
        figure(
            "tickets confirmed (waiting) after the run", waiting, "tickets", str(len(ms)), waiting == len(ms)
        ),
    ]
    out = write(
        "kiosk",
        figures,
        tickets=len(ms),
        mean_ms=round(statistics.fmean(ms), 1),
        durability=durability,
        note="kiosk app in-process on qasync (offscreen), real hall server in a thread, TCP ESC/POS emulator",
    )
    for f_ in figures:
        print(f"{f_['name']}: {f_['value']} {f_['unit']}")
    print(f"written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
