"""`hallq devices`: list, test and emulate devices, build the voice pack, run the device agent.

Exit codes: 0 done (the device answered and is ready), 1 the device is unavailable or not ready (the message
says why and what to check), 2 a usage or configuration error. Never a traceback for a device problem.
The work lives in `drivers.tools`; this module parses arguments and prints.
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import datetime as dt
import importlib
import logging
import pathlib
import sys
from collections.abc import Callable, Sequence

from drivers import tools, tools_idcard
from drivers.bus import HqpBusMaster
from drivers.codecs.hqp import MAX_ADDRESS
from drivers.factory import PRINTER_TYPES, ConfigurationError
from drivers.protocols import DeviceUnavailable, DriverError, PrinterNotReady, ProtocolError, VoiceError
from drivers.voice import ensure_pack
from hallcore.config import Device, HallConfig, Station
from hallq import devices_emulate

OK, UNAVAILABLE, USAGE = 0, 1, 2

USAGE_TEXT = """\
usage: hallq devices COMMAND [OPTIONS]

commands:
  list          serial ports, USB printers (VID:PID) and input devices on this machine
  print-test    print a sample ticket        --url URL [--device TYPE] [--width 58|80]
  status        a printer's status           --url URL [--device TYPE]
  led-show      show text on an LED strip    --url URL --address N TEXT
  ping          ask an HQP/1 device what it is   --url URL --address N
  read-id       read one 居民身份证 (masked)    --url URL [--baud 115200] [--wait S]
  emulate       run emulated devices         printer [--port 9101] | bus [--port 9200] | idcard [--port 9301]
  voice-pack    build the espeak-ng fallback voice pack   --out DIR
  serve         run the device agent (hallq.agent)

Printer, bus and reader commands also take --config FILE --station ID to use a station's devices.
hallq devices COMMAND --help for a command's options. Exit codes: 0 ok, 1 device unavailable, 2 usage,
3 (read-id) a card that fails its check or is not a 居民身份证.
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
        "read-id": _read_id,
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
    from hallcore.configload import ConfigError
    from hallfiles.config import read_config

    try:
        config = read_config(args.config)
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
    print("Serial ports (LED/keypad buses, serial printers, ID card readers):")
    ports = tools.list_serial_ports()
    for port in ports:
        extra = ", ".join(x for x in (port.description, f"USB {port.usb_id}" if port.usb_id else "") if x)
        print(f"  {port.device}" + (f"  ({extra})" if extra else ""))
    if not ports:
        print("  none found")
    print("USB printers:")
    _list_usb(
        tools.list_usb_printers,
        "printer",
        "none found (network printers are not listed: use their IP with tcp://HOST:9100)",
    )
    print("ID card readers:")
    _list_usb(tools_idcard.list_usb_readers, "id_reader", "no USB reader with a known id")
    serial_hint = ", ".join(p.device for p in ports) or "none here"
    print(f"  on a serial port: any of the serial ports above ({serial_hint}); try one with")
    print("    hallq devices read-id --url PORT   (most readers run at 115200 baud)")
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


def _list_usb(
    lister: Callable[[], Sequence[tools.UsbPrinterInfo | tools_idcard.UsbReaderInfo]], slot: str, none: str
) -> None:
    try:
        found = lister()
    except tools.UsbUnavailableError as e:
        print(f"  cannot list: {e}")
        return
    for d in found:
        print(f"  {d.vendor:04x}:{d.product:04x}  {d.description}, {d.where}")
        print(f"    [stations.{slot}] {d.config}")
    if not found:
        print(f"  {none}")


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
            device = dataclasses.replace(device, width_mm=args.width)
        return device, config
    if args.url is None:
        raise _UsageError("give the printer with --url (or --config FILE --station ID)")
    device = tools.printer_device(
        args.url, args.device, width_mm=args.width or 80, timeout_s=args.timeout, baud=args.baud
    )
    return device, None


def _where(device: Device) -> str:
    return device.url or f"usb {device.usb_vendor or 0:04x}:{device.usb_product or 0:04x}"


def _printer_command(argv: list[str], name: str, description: str) -> tuple[Device, HallConfig | None]:
    """A printer subcommand's arguments read, its logging set, and the printer it names."""
    parser = _parser(name, description)
    _printer_args(parser)
    args = parser.parse_args(argv)
    _logging(args.verbose)
    return _printer_device(args)


def _print_test(argv: list[str]) -> int:
    device, config = _printer_command(
        argv, "print-test", "Print a sample ticket and report whether the printer confirmed it."
    )
    ticket = tools.sample_ticket()
    if config is not None:
        ticket = tools.sample_ticket(config.hall.name, config.hall.public_base_url)
    status = tools.print_test(device, ticket)
    where = _where(device)
    print(f"{where}: printed a {device.width_mm} mm test ticket ({ticket.number}); the printer confirmed it")
    for line in tools.describe_status(status):
        print(f"  {line}")
    return OK


def _status(argv: list[str]) -> int:
    device, _ = _printer_command(
        argv, "status", "Ask a printer for its status (DLE EOT 1-4); silence is 'unavailable'."
    )
    status = tools.printer_status(device)
    headline, detail = tools.describe_status(status)
    print(f"{_where(device)}: {headline}")
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


# --- ID card readers -------------------------------------------------------------------------------------


def _read_id(argv: list[str]) -> int:
    parser = _parser("read-id", "Read one 居民身份证 and show it masked (never the full number or address).")
    parser.add_argument("--url", help="/dev/ttyUSB0, /dev/ttyACM0, socket://HOST:PORT or usb://0400:c35a")
    parser.add_argument("--baud", type=int, default=115200, help="serial readers (default 115200)")
    parser.add_argument("--wait", type=float, default=10.0, help="seconds to wait for a card (default 10)")
    parser.add_argument("--timeout", type=float, default=1.0, help="reply deadline in seconds (default 1)")
    _add_station(parser)
    args = parser.parse_args(argv)
    _logging(args.verbose)
    found = _station(args)
    if found is not None:
        if args.url is not None:
            raise _UsageError("give either --url or --config/--station, not both")
        device = found[1].id_reader
        if device is None:
            raise ConfigurationError(f"station {found[1].id} has no id_reader")
    elif args.url is None:
        raise _UsageError("give the reader with --url (or --config FILE --station ID)")
    else:
        device = tools_idcard.reader_device(args.url, baud=args.baud, timeout_s=args.timeout)
    where, event = tools_idcard.read_card(device, wait_s=args.wait)
    lines, code = tools_idcard.describe_read(event, dt.datetime.now().astimezone().date(), args.wait)
    print(f"{where}: {lines[0]}")
    for line in lines[1:]:
        print(f"  {line}")
    return code


# --- emulators ----------------------------------------------------------------------------------------------


def _emulate(argv: list[str]) -> int:
    parser = _parser("emulate", "Run emulated devices in the foreground until Ctrl-C (or SIGTERM).")
    devices_emulate.add_commands(parser.add_subparsers(dest="what", required=True, parser_class=_Parser))
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s"
    )
    return devices_emulate.run(args)


# --- voice and agent ----------------------------------------------------------------------------------------


def _voice_pack(argv: list[str]) -> int:
    parser = _parser("voice-pack", "Generate the espeak-ng fallback voice pack (kept when already complete).")
    parser.add_argument("--out", type=pathlib.Path, required=True, metavar="DIR", help="the pack's folder")
    parser.add_argument(
        "--regenerate", action="store_true", help="generate every segment again, replacing recordings in DIR"
    )
    args = parser.parse_args(argv)
    _logging(args.verbose)
    result = ensure_pack(args.out, regenerate=args.regenerate)
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
