"""`hallq devices`: list, test and emulate devices, build the voice pack, run the device agent.

Exit codes: 0 done (the device answered and is ready), 1 the device is unavailable or not ready (the message
says why and what to check), 2 a usage or configuration error. Never a traceback for a device problem.
The work lives in `drivers.tools`; this module parses arguments and prints.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import importlib
import logging
import pathlib
import select
import signal
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from types import FrameType

from drivers import tools
from drivers.base import DeviceUnavailable, DriverError, ProtocolError
from drivers.bus import HqpBusMaster
from drivers.codecs.hqp import MAX_ADDRESS
from drivers.emulators import console
from drivers.factory import ConfigurationError
from drivers.printer import PRINTER_TYPES, PrinterNotReady
from drivers.voice import VoiceError
from hallcore.config import Device, HallConfig, Station

OK, UNAVAILABLE, USAGE = 0, 1, 2

USAGE_TEXT = """\
usage: hallq devices COMMAND [OPTIONS]

commands:
  list          serial ports, USB printers (VID:PID) and input devices on this machine
  print-test    print a sample ticket        --url URL [--device TYPE] [--width 58|80]
  status        a printer's status           --url URL [--device TYPE]
  led-show      show text on an LED strip    --url URL --address N TEXT
  ping          ask an HQP/1 device what it is   --url URL --address N
  emulate       run emulated devices         printer [--port 9101] [--pty] | bus [--port 9200] [--pty] ...
  voice-pack    build the espeak-ng fallback voice pack   --out DIR
  serve         run the device agent (hallq.agent)

Printer and bus commands also take --config FILE --station ID to use a station's devices.
hallq devices COMMAND --help for a command's options. Exit codes: 0 ok, 1 device unavailable, 2 usage.
"""


class _Parser(argparse.ArgumentParser):
    """Reports bad arguments as exit code 2 through the return value, not SystemExit."""

    def error(self, message: str) -> None:  # type: ignore[override]
        self.print_usage(sys.stderr)
        raise _UsageError(f"{self.prog}: {message}")


class _UsageError(Exception):
    pass


def main(argv: list[str]) -> int:
    if not argv or argv[0] in ("-h", "--help", "help"):
        print(USAGE_TEXT, end="")
        return OK if argv else USAGE
    name, rest = argv[0], argv[1:]
    if name == "serve":
        return _serve(rest)
    commands: dict[str, Callable[[list[str]], int]] = {
        "list": _list,
        "print-test": _print_test,
        "status": _status,
        "led-show": _led_show,
        "ping": _ping,
        "emulate": _emulate,
        "voice-pack": _voice_pack,
    }
    command = commands.get(name)
    if command is None:
        print(f"hallq devices: unknown command {name!r}\n\n{USAGE_TEXT}", file=sys.stderr, end="")
        return USAGE
    try:
        return command(rest)
    except SystemExit as e:  # --help
        return e.code if isinstance(e.code, int) else OK
    except _UsageError as e:
        text = str(e)
        print(text if text.startswith("hallq devices") else f"hallq devices {name}: {text}", file=sys.stderr)
        return USAGE
    except ConfigurationError as e:
        print(f"hallq devices {name}: {e}", file=sys.stderr)
        return USAGE
    except (PrinterNotReady, DeviceUnavailable, ProtocolError, VoiceError) as e:
        print(f"hallq devices {name}: {_explain(e)}", file=sys.stderr)
        return UNAVAILABLE
    except DriverError as e:
        print(f"hallq devices {name}: {e}", file=sys.stderr)
        return UNAVAILABLE


def _explain(error: DriverError) -> str:
    text = tools.explain(error)
    if "No such file or directory" in text:
        text += "\n  `hallq devices list` shows this machine's serial ports"
    return text


def _parser(name: str, description: str) -> _Parser:
    parser = _Parser(prog=f"hallq devices {name}", description=description)
    parser.add_argument("-v", "--verbose", action="store_true", help="log what the drivers do")
    return parser


def _logging(verbose: bool) -> None:
    # Drivers log loss and recovery as warnings; a one-off command reports them itself, once.
    logging.basicConfig(level=logging.INFO if verbose else logging.ERROR, format="%(levelname)s %(message)s")


def _add_station(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", type=pathlib.Path, metavar="FILE", help="a hall's TOML file")
    parser.add_argument("--station", metavar="ID", help="use this station's device (with --config)")


def _station(args: argparse.Namespace) -> tuple[HallConfig, Station] | None:
    if args.config is None and args.station is None:
        return None
    if args.config is None or args.station is None:
        raise _UsageError("--config and --station go together")
    from hallcore.configload import ConfigError, load_config

    try:
        config = load_config(args.config)
    except ConfigError as e:
        issues = "\n  ".join(str(i) for i in e.issues)
        raise ConfigurationError(f"{args.config} is not a valid hall config:\n  {issues}") from None
    station = config.station_by_id.get(args.station)
    if station is None:
        known = ", ".join(s.id for s in config.stations) or "none"
        raise ConfigurationError(f"no station {args.station!r} in {args.config} (stations: {known})")
    return config, station


# --- list ---------------------------------------------------------------------------------------------------


def _list(argv: list[str]) -> int:
    parser = _parser("list", "List serial ports, USB printers and input devices (scanners).")
    args = parser.parse_args(argv)
    _logging(args.verbose)
    print("Serial ports (LED/keypad buses, serial printers):")
    ports = tools.list_serial_ports()
    for port in ports:
        extra = ", ".join(x for x in (port.description, f"USB {port.usb_id}" if port.usb_id else "") if x)
        print(f"  {port.device}" + (f"  ({extra})" if extra else ""))
    if not ports:
        print("  none found")
    print("USB printers:")
    try:
        printers = tools.list_usb_printers()
    except tools.UsbUnavailableError as e:
        print(f"  cannot list: {e}")
    else:
        for p in printers:
            print(f"  {p.vendor:04x}:{p.product:04x}  {p.description}, {p.where}")
            print(f"    [stations.printer] {p.config}")
        if not printers:
            print("  none found (network printers are not listed: use their IP with tcp://HOST:9100)")
    print("Input devices (barcode/QR scanners):")
    try:
        inputs = tools.list_input_devices()
    except (ImportError, OSError) as e:
        print(f"  cannot list: {e}")
    else:
        for path, name in inputs:
            print(f"  {path}  {name}")
        if not inputs:
            print("  none (no /dev/input devices visible here)")
    return OK


# --- printers -----------------------------------------------------------------------------------------------


def _printer_args(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--url", help="tcp://HOST:9100, /dev/ttyUSB0 (or any pyserial URL), usb://0416:5011")
    parser.add_argument(
        "--device", choices=PRINTER_TYPES, help="printer type (guessed from --url if omitted)"
    )
    parser.add_argument("--width", type=int, choices=(58, 80), default=None, help="paper width in mm")
    parser.add_argument("--baud", type=int, default=9600, help="serial printers (default 9600)")
    parser.add_argument("--timeout", type=float, default=1.0, help="reply deadline in seconds (default 1)")
    _add_station(parser)


def _printer_device(args: argparse.Namespace) -> tuple[Device, HallConfig | None]:
    found = _station(args)
    if found is not None:
        if args.url is not None:
            raise _UsageError("give either --url or --config/--station, not both")
        config, station = found
        if station.printer is None:
            raise ConfigurationError(f"station {station.id} has no printer")
        device = station.printer
        if args.width is not None:
            device = Device(**{**_fields(device), "width_mm": args.width})
        return device, config
    if args.url is None:
        raise _UsageError("give the printer with --url (or --config FILE --station ID)")
    device = tools.printer_device(
        args.url, args.device, width_mm=args.width or 80, timeout_s=args.timeout, baud=args.baud
    )
    return device, None


def _fields(device: Device) -> dict[str, object]:
    return {name: getattr(device, name) for name in Device.__dataclass_fields__}


def _print_test(argv: list[str]) -> int:
    parser = _parser("print-test", "Print a sample ticket and report whether the printer confirmed it.")
    _printer_args(parser)
    args = parser.parse_args(argv)
    _logging(args.verbose)
    device, config = _printer_device(args)
    ticket = tools.sample_ticket()
    if config is not None:
        ticket = tools.sample_ticket(config.hall.name, config.hall.public_base_url)
    where = device.url or f"usb {device.usb_vendor or 0:04x}:{device.usb_product or 0:04x}"
    status = tools.print_test(device, ticket)
    print(f"{where}: printed a {device.width_mm} mm test ticket ({ticket.number}); the printer confirmed it")
    for line in tools.describe_status(status):
        print(f"  {line}")
    return OK


def _status(argv: list[str]) -> int:
    parser = _parser("status", "Ask a printer for its status (DLE EOT 1-4); silence is 'unavailable'.")
    _printer_args(parser)
    args = parser.parse_args(argv)
    _logging(args.verbose)
    device, _ = _printer_device(args)
    status = tools.printer_status(device)
    where = device.url or f"usb {device.usb_vendor or 0:04x}:{device.usb_product or 0:04x}"
    headline, detail = tools.describe_status(status)
    print(f"{where}: {headline}")
    print(f"  {detail}")
    return OK if status.printable else UNAVAILABLE


# --- bus devices --------------------------------------------------------------------------------------------


def _bus_args(parser: argparse.ArgumentParser, *, address_required: bool) -> None:
    parser.add_argument("--url", help="the bus: /dev/ttyUSB0, a pty, socket://HOST:PORT")
    parser.add_argument("--address", type=int, required=False, help=f"device address 1..{MAX_ADDRESS}")
    parser.add_argument("--baud", type=int, default=9600, help="bus speed (default 9600)")
    parser.add_argument(
        "--timeout", type=float, default=0.2, help="reply deadline per try in s (default 0.2)"
    )
    _add_station(parser)
    parser.set_defaults(address_required=address_required)


def _bus_targets(args: argparse.Namespace, slots: Sequence[str]) -> list[tuple[str, str, int, int]]:
    """(label, url, baud, address) of each device to talk to."""
    found = _station(args)
    if found is None:
        if args.url is None or args.address is None:
            raise _UsageError("give the device with --url and --address (or --config FILE --station ID)")
        return [(f"address {args.address}", args.url, args.baud, args.address)]
    if args.url is not None:
        raise _UsageError("give either --url or --config/--station, not both")
    _, station = found
    targets = []
    for slot in slots:
        device: Device | None = getattr(station, slot)
        if device is None:
            continue
        if device.type != "hqp":
            print(
                f"{station.id}.{slot}: a {device.type} device; only HQP/1 devices answer this",
                file=sys.stderr,
            )
            continue
        address = args.address if args.address is not None else device.address
        if address is None:
            raise ConfigurationError(f"{station.id}.{slot} has no address; give one with --address")
        targets.append((f"{station.id}.{slot} address {address}", device.url, device.baud, address))
    if not targets:
        raise ConfigurationError(f"station {station.id} has no HQP/1 {' or '.join(slots)}")
    return targets


def _led_show(argv: list[str]) -> int:
    parser = _parser("led-show", "Show text on an HQP/1 LED strip or hall board.")
    _bus_args(parser, address_required=True)
    parser.add_argument("text", metavar="TEXT", help="what to show, e.g. 请A012号到5号窗口")
    parser.add_argument("--area", type=int, default=0, help="display area (0 = whole strip)")
    parser.add_argument("--color", choices=list(tools.COLORS), default="red")
    parser.add_argument("--effect", choices=list(tools.EFFECTS), default="static")
    args = parser.parse_args(argv)
    _logging(args.verbose)
    [(label, url, baud, address)] = _bus_targets(args, ["led"])
    with contextlib.closing(tools.open_bus(url, baud=baud, timeout_s=args.timeout)) as bus:
        tools.led_show(bus, address, args.text, area=args.area, color=args.color, effect=args.effect)
    print(f"{url} {label}: showing {args.text!r}")
    return OK


def _ping(argv: list[str]) -> int:
    parser = _parser("ping", "Ask HQP/1 devices what they are (PING: type, firmware, capabilities).")
    _bus_args(parser, address_required=True)
    args = parser.parse_args(argv)
    _logging(args.verbose)
    targets = _bus_targets(args, ["led", "keypad", "rating_pad"])
    code = OK
    buses: dict[tuple[str, int], HqpBusMaster] = {}
    with contextlib.ExitStack() as stack:
        for label, url, baud, address in targets:
            bus = buses.get((url, baud))
            if bus is None:
                bus = stack.enter_context(
                    contextlib.closing(tools.open_bus(url, baud=baud, timeout_s=args.timeout))
                )
                buses[(url, baud)] = bus
            try:
                info = tools.ping(bus, address)
            except (DeviceUnavailable, ProtocolError) as e:
                print(f"{url} {label}: {_explain(e)}", file=sys.stderr)
                code = UNAVAILABLE
                continue
            print(f"{url} {label}: {tools.describe_ping(info)}")
    return code


# --- emulators ----------------------------------------------------------------------------------------------


def _emulate(argv: list[str]) -> int:
    parser = _parser("emulate", "Run emulated devices in the foreground until Ctrl-C (or SIGTERM).")
    sub = parser.add_subparsers(dest="what", required=True, parser_class=_Parser)
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
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
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


# --- voice and agent ----------------------------------------------------------------------------------------


def _voice_pack(argv: list[str]) -> int:
    parser = _parser("voice-pack", "Generate the espeak-ng fallback voice pack (kept when already complete).")
    parser.add_argument("--out", type=pathlib.Path, required=True, metavar="DIR", help="the pack's folder")
    parser.add_argument(
        "--regenerate", action="store_true", help="generate every segment again, replacing recordings in DIR"
    )
    args = parser.parse_args(argv)
    _logging(args.verbose)
    result = tools.ensure_voice_pack(args.out, regenerate=args.regenerate)
    if result.already_complete:
        print(f"{args.out}: voice pack already complete")
    else:
        print(f"{args.out}: voice pack complete ({result.written} segments generated with espeak-ng)")
    return OK


def _serve(argv: list[str]) -> int:
    try:
        agent = importlib.import_module("hallq.agent")
    except ModuleNotFoundError as e:
        if e.name != "hallq.agent":
            raise
        print("hallq devices serve: the device agent (hallq.agent) is not in this build", file=sys.stderr)
        return USAGE
    return int(agent.main(argv))
