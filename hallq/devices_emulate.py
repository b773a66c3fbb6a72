"""`hallq devices emulate`: emulated printers, HQP/1 buses and ID card readers in the foreground, printing
what the devices show as it changes and taking typed commands, until Ctrl-C or SIGTERM."""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import pathlib
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from types import FrameType
from typing import Any

from drivers.emulators import console
from drivers.emulators.idcard import IdCardEmulatorRunner

OK = 0


def add_commands(sub: Any) -> None:
    """The `emulate printer|bus|idcard` subcommands and their options."""
    p = sub.add_parser("printer", help="ESC/POS ticket printers on TCP ports or a pty")
    p.add_argument("--port", default="9101", help="TCP port, or a range like 9101-9103 (0 = any free port)")
    p.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    p.add_argument("--pty", action="store_true", help="a serial printer on a pty instead of TCP")
    p.add_argument("--width", type=int, choices=(58, 80), default=80)
    p.add_argument("--state", default="ready", help="initial state: ready, near_end, paper_out, ...")
    p.add_argument("--png", type=pathlib.Path, metavar="DIR", help="also save each ticket as a PNG in DIR")
    b = sub.add_parser("bus", help="an HQP/1 bus with LED strips, keypads and rating pads")
    b.add_argument("--port", type=int, default=9200, help="TCP port (default 9200; 0 = any free port)")
    b.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    b.add_argument("--pty", action="store_true", help="a pty (a serial adapter) instead of TCP")
    b.add_argument("--link", type=pathlib.Path, help="with --pty: a stable symlink to the pty")
    b.add_argument("--strips", default="", help="LED strip addresses, e.g. 1-28")
    b.add_argument("--boards", default="", help="hall board addresses, e.g. 200")
    b.add_argument("--keypads", default="", help="call keypad addresses, e.g. 61-88")
    b.add_argument("--pads", default="", help="rating pad addresses, e.g. 121-148")
    r = sub.add_parser("idcard", help="an ID card reader (SAM) on a TCP port or a pty")
    r.add_argument("--port", type=int, default=9301, help="TCP port (default 9301; 0 = any free port)")
    r.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    r.add_argument("--pty", action="store_true", help="a reader on a serial port (a pty) instead of TCP")
    r.add_argument("--link", type=pathlib.Path, help="with --pty: a stable symlink to the pty")
    r.add_argument(
        "--card",
        type=pathlib.Path,
        action="append",
        default=[],
        metavar="FILE",
        help="more cards from a JSON file (text fields as on the card); may be repeated",
    )
    r.add_argument("--radio-delay", type=int, default=0, metavar="MS", help="time to read a card (default 0)")
    r.add_argument("--baud", type=int, default=None, help="pace replies as a serial line at this rate would")
    r.add_argument("--place", type=int, default=None, metavar="N", help="start with card N on the reader")


def run(args: argparse.Namespace) -> int:
    """Run the emulator `args.what` in the foreground; 0 once stopped by Ctrl-C or SIGTERM."""
    if args.what == "printer":
        printers = console.PrinterEmulators(
            ports=console.parse_ports(args.port),
            pty=args.pty,
            width_mm=args.width,
            state=args.state,
            host=args.host,
            png_dir=args.png,
        )
        with printers:
            for line in printers.describe():
                print(line)
            _foreground(
                lambda: _show_tickets(printers),
                printers.command,
                "type a state and Enter to change it (ready near_end paper_out cover_open cutter_jam offline "
                "silent; N STATE for printer N); Ctrl-C stops",
            )
        return OK
    if args.what == "idcard":
        return _idcard(args)
    runner = console.BusEmulatorRunner(
        strips=console.parse_addresses(args.strips),
        boards=console.parse_addresses(args.boards),
        keypads=console.parse_addresses(args.keypads),
        pads=console.parse_addresses(args.pads),
        port=args.port,
        pty=args.pty,
        link=args.link,
        host=args.host,
    )
    with runner:
        runner.changes()  # everything starts blank: print only what the hall changes from now on
        print(runner.describe())

        def tick() -> None:
            for line in runner.changes():
                print(f"{_now()} {line}")

        _foreground(
            tick, runner.command, "type: press ADDR KEY [DIGITS] | rate ADDR SCORE | show; Ctrl-C stops"
        )
    return OK


def _idcard(args: argparse.Namespace) -> int:
    reader = IdCardEmulatorRunner(
        card_files=args.card,
        port=args.port,
        pty=args.pty,
        link=args.link,
        host=args.host,
        radio_delay_ms=args.radio_delay,
        baud=args.baud,
    )
    with reader:
        print(reader.describe())
        if args.place is not None:
            print(reader.command(f"place {args.place}"))

        def tick() -> None:
            for line in reader.changes():
                print(f"{_now()} {line}")

        reader.changes()  # what happened before the hint is shown above
        _foreground(
            tick,
            reader.command,
            "type: place [N] | lift | fail [N] | garbage | delay MS | cards; Ctrl-C stops",
        )
    return OK


def _show_tickets(printers: console.PrinterEmulators) -> None:
    for url, ticket, png in printers.new_tickets():
        print(f"--- {_now()} ticket on {url}" + (f" (PNG {png})" if png else "") + " ---")
        print(ticket.text)
        print("--- cut ---")


def _now() -> str:
    return dt.datetime.now().astimezone().strftime("%H:%M:%S")


def _foreground(
    tick: Callable[[], None], command: Callable[[str], str], hint: str, period_s: float = 0.1
) -> None:
    """Call `tick` every `period_s` and `command` for each line typed, until Ctrl-C or SIGTERM.

    The `hint` (which ends "Ctrl-C stops") is printed only once the SIGTERM handler is in place: a
    supervisor that reads it and stops us at once must find us ready to stop cleanly.
    """
    stop = threading.Event()
    with _on_sigterm(stop):
        stdin = sys.stdin if sys.stdin is not None and not sys.stdin.closed else None
        try:
            print(hint, flush=True)
            while not stop.is_set():
                tick()
                sys.stdout.flush()
                if stdin is None:
                    stop.wait(period_s)
                    continue
                ready, _, _ = select.select([stdin], [], [], period_s)
                if ready:
                    line = stdin.readline()
                    if not line:
                        stdin = None  # EOF (stdin is /dev/null or closed): keep running until a signal
                        continue
                    reply = command(line.strip())
                    if reply:
                        print(reply)
            tick()
        except KeyboardInterrupt:
            pass
    print("stopped")


@contextlib.contextmanager
def _on_sigterm(stop: threading.Event) -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def handler(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)
