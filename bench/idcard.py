"""ID card reader (issues 17, 27): a card placed on the reader → its record delivered to a subscriber, and
→ the kiosk's greeting drawn (刷身份证取号; target p95 < 400 ms at radio delay 0).

Run: .venv/bin/python -m bench.idcard [--quick]   (writes bench/results/idcard.json)

The emulated reader runs in its own process pinned to core 1 and answers over a pty, its replies paced at
115,200 baud (8N1: 10 bits a byte), as a real serial reader's would be; the driver (`SamIdCardReader` as the
factory builds it, polling every 100 ms) runs in this process pinned to core 0. Each round the emulator lays
a card on the reader and notes the time (CLOCK_MONOTONIC, shared by both processes), and the subscriber notes
when the record arrives; then the card is lifted, the driver sees the reader empty, and the next placement
comes after a random pause, so placements fall anywhere in the poll period. Rounds run with a radio delay of
0 (the SAM answers a read at once) and of 400 ms (a slow card read, as real readers take 0.3-1.2 s).

The latency is: waiting for the next poll (0-100 ms) + find and select (a few bytes each way) + the radio
delay + the 1,295-byte read reply on the wire (112.4 ms at 115,200 baud) + parsing. The wire time is reported
separately, computed and as the emulator paced it.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import queue
import random
import statistics
import sys
import tempfile
import time
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import figure, pct, publish
from drivers.codecs import idcard as c
from drivers.codecs.idcard import Command
from drivers.emulators.idcard import EmulatedCard, SamReaderEmulator
from drivers.factory import build_id_reader
from drivers.idcard import READ_REPLY_LEN, SamIdCardReader
from drivers.idcard_events import CardEvent, CardRead
from hallcore.config import Device

BAUD = 115_200
POLL_S = 0.1
PLACEMENTS = 200
DRIVER_CORE, EMULATOR_CORE = 0, 1
WIRE_MS = READ_REPLY_LEN * 10 / BAUD * 1000
_FOUND = c.reply(c.SamResult.CARD_FOUND, bytes(4)).encode()


class _TimedReader(SamReaderEmulator):
    """The emulator, noting when a `find` first reports the card of this placement."""

    found_at: float | None = None

    def answer(self, command: Command) -> tuple[bytes, EmulatedCard | None]:
        out, card = super().answer(command)
        if command == c.FIND_CARD and self.found_at is None and out == _FOUND:
            self.found_at = time.monotonic()
        return out, card


def _emulator(conn: Connection, link: str, radio_delay_s: float) -> None:
    """The reader's process: serve the pty and obey (command, arg) messages from the bench."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {EMULATOR_CORE})
    emu = _TimedReader.pty(link=Path(link))
    emu.baud = BAUD
    emu.radio_delay_s = radio_delay_s
    with emu:
        conn.send(("ready", emu.url))
        while True:
            what, arg = conn.recv()
            if what == "place":
                emu.found_at = None
                emu.place(int(arg))
                conn.send(("placed", time.monotonic()))
            elif what == "lift":
                emu.lift()
                conn.send(("lifted", emu.counts[c.FIND_CARD]))
            elif what == "finds":
                conn.send(("finds", emu.counts[c.FIND_CARD]))
            elif what == "found_at":
                conn.send(("found_at", emu.found_at))
            elif what == "wire":
                conn.send(("wire", list(emu.reply_wire_s)))
            else:
                conn.send(("stopped", None))
                return


def _ask(conn: Connection, what: str, arg: object = None) -> Any:
    conn.send((what, arg))
    _reply, value = conn.recv()
    return value


def run(radio_delay_s: float, placements: int, tmp: Path) -> dict[str, list[float]]:
    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_emulator, args=(child, str(tmp / "ttyID"), radio_delay_s), daemon=True)
    proc.start()
    try:
        _ready, url = parent.recv()
        reader = build_id_reader(Device("idcard-serial", url=url, baud=BAUD, poll_s=POLL_S))
        assert isinstance(reader, SamIdCardReader)
        delivered: queue.Queue[tuple[float, CardEvent]] = queue.Queue()
        reader.subscribe(lambda event: delivered.put((time.monotonic(), event)))
        rng = random.Random(17)
        total, poll_wait, exchange = [], [], []
        with reader:
            deadline = time.monotonic() + 10
            while not reader.state().ok:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"the reader never came up: {reader.state().reason}")
                time.sleep(0.01)
            for i in range(placements):
                placed = _ask(parent, "place", i % 2)
                at, event = delivered.get(timeout=10)
                if not isinstance(event, CardRead):
                    raise RuntimeError(f"placement {i}: {event}")
                found = _ask(parent, "found_at")
                total.append((at - placed) * 1000)
                if found is not None:
                    poll_wait.append((found - placed) * 1000)
                    exchange.append((at - found) * 1000)
                finds = _ask(parent, "lift")
                while _ask(parent, "finds") < finds + 1:  # the driver has seen the empty reader
                    time.sleep(0.005)
                time.sleep(rng.uniform(0, POLL_S))  # the next card comes at any point of the poll period
        wire = _ask(parent, "wire")
        _ask(parent, "stop")
    finally:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
    return {"total": total, "poll_wait": poll_wait, "exchange": exchange, "wire": [w * 1000 for w in wire]}


def greeting(placements: int, tmp: Path) -> list[float]:
    """Card placed → the kiosk's greeting drawn (ms), radio delay 0: the kiosk app offscreen on qasync in
    this process with the reader `drivers.factory` builds from its station config (poll 100 ms), a real hall
    server over TLS in a thread of this process, the emulator in its own process on the other core."""
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    os.environ.setdefault("QT_API", "pyside6")
    import asyncio

    import qasync
    from PySide6.QtWidgets import QApplication

    from drivers.factory import build_station
    from drivers.fakes import FakeTicketPrinter
    from hallclient.http import HttpHall
    from hallcore.config import Station, StationRole
    from kiosk.app import assemble
    from kiosk.flow import Screen
    from kiosk.texts import catalog
    from tests.fakes.live_server import live_server

    ctx = mp.get_context("spawn")
    parent, child = ctx.Pipe()
    proc = ctx.Process(target=_emulator, args=(child, str(tmp / "ttyKiosk"), 0.0), daemon=True)
    proc.start()
    qapp = QApplication.instance() or QApplication(sys.argv[:1])
    loop = qasync.QEventLoop(qapp)
    asyncio.set_event_loop(loop)
    shown: list[float] = []
    out: list[float] = []
    try:
        _ready, url = parent.recv()
        station = Station(
            "bench-kiosk",
            StationRole.KIOSK,
            id_reader=Device("idcard-serial", url=url, baud=BAUD, poll_s=POLL_S),
        )
        with live_server(tmp, tls=True) as hall, build_station(station) as devices:
            api = HttpHall(hall.url, hall.kiosk.token, clock=hall.clock, verify=hall.ssl)
            printer = FakeTicketPrinter()  # nothing is printed: the greeting comes before any ticket
            app = assemble(
                hall.config, api, printer, hall.clock, catalog(), reader=devices.id_reader, tick_ms=3_600_000
            )
            app.view.resize(1080, 1920)
            app.view.show()
            app.show()

            waiting = [False]  # a card is on its way: the next greeting drawn is its own

            def drawn() -> None:  # connected after app.render: the greeting's widgets are built
                if waiting[0] and app.flow.screen is Screen.CARD:
                    waiting[0] = False
                    shown.append(time.monotonic())

            app.bridge.changed.connect(drawn)

            async def rounds() -> None:
                app.controller.start()
                rng = random.Random(17)
                while not (app.controller.reader_state is not None and app.controller.reader_state.ok):
                    await asyncio.sleep(0.01)
                for i in range(placements):
                    waiting[0] = True
                    placed = _ask(parent, "place", i % 2)
                    deadline = time.monotonic() + 10
                    while len(shown) <= i:
                        if time.monotonic() > deadline:
                            raise RuntimeError(f"placement {i}: no greeting ({app.flow.screen})")
                        await asyncio.sleep(0.001)
                    out.append((shown[i] - placed) * 1000)
                    await asyncio.sleep(0.05)  # the lookup's answer lands on the greeting
                    app.flow.home(app.controller.now())
                    app.render()
                    finds = _ask(parent, "lift")
                    while _ask(parent, "finds") < finds + 2:  # the driver has seen the empty reader
                        await asyncio.sleep(0.005)
                    await asyncio.sleep(rng.uniform(0, POLL_S))
                await app.aclose()
                await api.aclose()

            loop.run_until_complete(rounds())
            loop.run_until_complete(loop.shutdown_default_executor())
        _ask(parent, "stop")
        loop.close()  # joins qasync's executor threads: a QThread alive at exit aborts the interpreter
        asyncio.set_event_loop(None)
    finally:
        proc.join(timeout=10)
        if proc.is_alive():
            proc.kill()
    return out


def percentiles(
    name: str, values: list[float], note: str, *, p95_below: float | None = None
) -> list[dict[str, Any]]:
    """The p50 and p95 figures of `values` (ms); `name` has a `{p}`; the p95 against `p95_below`, if any."""
    out = []
    for p in (50, 95):
        value = pct(values, p)
        judged = p == 95 and p95_below is not None
        target = f"< {p95_below:.0f} ms" if judged else ""
        ok = value < p95_below if judged and p95_below is not None else None
        out.append(figure(name.format(p=p), round(value, 1), "ms", target, ok, note=note))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--quick", action="store_true", help="40 placements per radio delay instead of 200")
    args = ap.parse_args()
    placements = 40 if args.quick else PLACEMENTS
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {DRIVER_CORE})
    load_before = os.getloadavg()
    figures: list[dict[str, Any]] = []
    wire_paced: list[float] = []
    with tempfile.TemporaryDirectory(prefix="hallq-bench-idcard-") as tmp:
        for radio_ms in (0, 400):
            out = run(radio_ms / 1000, placements, Path(tmp))
            lat = out["total"]
            wire_paced += out["wire"]
            cond = f"{BAUD:,} baud over a pty, radio delay {radio_ms} ms, poll {POLL_S * 1000:.0f} ms"
            note = (
                f"{len(lat)} placements; median {statistics.median(lat):.1f} ms, max {max(lat):.1f} ms; "
                f"of which waiting for the poll median {statistics.median(out['poll_wait']):.1f} ms and "
                f"find -> record delivered median {statistics.median(out['exchange']):.1f} ms "
                f"(the read reply alone is {WIRE_MS:.1f} ms on the wire)"
            )
            figures += percentiles(f"card placed → record delivered, p{{p}} ({cond})", lat, note)
            figures.append(
                figure(
                    f"find → record delivered, median ({cond})",
                    round(statistics.median(out["exchange"]), 1),
                    "ms",
                    note="find, select and read exchanges, the radio delay and parsing; no poll wait",
                )
            )
        greet = greeting(placements, Path(tmp))
    figures += percentiles(
        "card placed → greeting on the kiosk screen, p{p} (radio delay 0, poll 100 ms)",
        greet,
        f"{len(greet)} placements; median {statistics.median(greet):.1f} ms, max {max(greet):.1f} ms; kiosk "
        "app offscreen on qasync with the reader built by drivers.factory, hall server over TLS in a thread "
        "of the same process (core 0), emulator process on core 1; the greeting needs no server round trip "
        "(the lookup's bookings arrive after it)",
        p95_below=400,
    )
    figures.append(
        figure(
            f"read reply on the wire at {BAUD:,} baud, computed",
            round(WIRE_MS, 1),
            "ms",
            note=f"{READ_REPLY_LEN:,} bytes x 10 bits (8N1) / {BAUD:,} bit/s",
        )
    )
    figures.append(
        figure(
            "read reply on the wire, as the emulator paced it, median",
            round(statistics.median(wire_paced), 1),
            "ms",
            note=f"{len(wire_paced)} replies sent in 64-byte chunks at their due times",
        )
    )
    load_after = os.getloadavg()
    notes = (
        f"Driver (this process) pinned to core {DRIVER_CORE}, emulator process to core {EMULATOR_CORE} "
        "(sched_setaffinity, as taskset does); load average before "
        + " ".join(f"{x:.2f}" for x in load_before)
        + ", after "
        + " ".join(f"{x:.2f}" for x in load_after)
        + " (1, 5, 15 min) on the 2 cores, which other sessions share. A pty has no baud rate: the "
        "emulator paces its replies at 115,200 baud (the driver's own commands, three 10-byte frames a "
        "placement, 2.6 ms at that rate, are not paced). Issue 17 set no target for the read (report); "
        "expect p50 "
        "about the wire time + half a poll period + the radio delay."
    )
    command = "python -m bench.idcard" + (" --quick" if args.quick else "")
    publish(
        "idcard", figures, width=95, command=command, placements=placements, quick=args.quick, notes=notes
    )


if __name__ == "__main__":
    main()
