"""What `hallq devices` does, as functions: find devices, test a printer or a bus device, run emulators.
The CLI in `hallq/devices.py` only parses arguments and prints.

Every function bounds its waits and reports problems as `DriverError`s whose messages say what to check,
so an installer with a laptop and a USB adapter never sees a traceback.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from drivers.base import DeviceUnavailable, DriverError, ProtocolError
from drivers.bus import HqpBusMaster, HqpLedBoard
from drivers.codecs import hqp
from drivers.codecs.escpos import PrinterStatus
from drivers.codecs.hqp import Color, DeviceType, Effect, NackCode, PingInfo
from drivers.factory import PRINTER_TYPES, ConfigurationError, build_printer
from drivers.printer import parse_network_url
from drivers.printing import TicketPrint
from hallcore.config import Device

# --- finding devices ----------------------------------------------------------------------------------------

# USB ids of ticket printers halls buy; most show no printer class, so they are recognised by id.
KNOWN_PRINTERS: dict[tuple[int, int], str] = {
    (0x0416, 0x5011): "58 mm POS printer (Winbond chip, the most common)",
    (0x0483, 0x5720): "POS printer (STM32 chip)",
    (0x0483, 0x070B): "POS printer (STM32 chip)",
    (0x0FE6, 0x811E): "POS printer (ICS chip; Xprinter, Gprinter)",
    (0x1FC9, 0x2016): "POS printer (NXP chip)",
    (0x28E9, 0x0289): "POS printer (GD32 chip)",
    (0x04B8, 0x0202): "Epson TM series",
    (0x0519, 0x0001): "Star Micronics TSP series",
    (0x1504, 0x0006): "Bixolon SRP series",
}
USB_PRINTER_CLASS = 7


@dataclass(frozen=True, slots=True)
class SerialPortInfo:
    device: str
    description: str
    usb_id: str  # "1a86:7523" or ""


@dataclass(frozen=True, slots=True)
class UsbPrinterInfo:
    vendor: int
    product: int
    description: str
    where: str  # "bus 1 address 4"

    @property
    def config(self) -> str:
        return f'type = "escpos-usb", usb_vendor = 0x{self.vendor:04x}, usb_product = 0x{self.product:04x}'


class UsbUnavailableError(DriverError):
    """USB devices cannot be listed here (no libusb, no pyusb, no permission)."""


def list_serial_ports() -> list[SerialPortInfo]:
    """Serial ports the system knows (USB adapters, built-in UARTs), by pyserial."""
    from serial.tools import list_ports

    out = []
    for port in sorted(list_ports.comports(), key=lambda p: p.device):
        usb_id = f"{port.vid:04x}:{port.pid:04x}" if port.vid is not None and port.pid is not None else ""
        desc = port.description if port.description and port.description != "n/a" else ""
        out.append(SerialPortInfo(port.device, desc, usb_id))
    return out


def usb_devices() -> list[Any]:
    """Every USB device pyusb sees; `UsbUnavailableError` says what is missing."""
    try:
        import usb.core
    except ImportError as e:
        raise UsbUnavailableError(f"pyusb is not installed ({e}); reinstall hallq") from e
    try:
        return list(usb.core.find(find_all=True))
    except usb.core.NoBackendError as e:
        raise UsbUnavailableError(
            "libusb-1.0 is not installed, so USB devices cannot be listed or used; "
            "install it (Debian: apt-get install libusb-1.0-0)"
        ) from e
    except (usb.core.USBError, OSError) as e:
        raise UsbUnavailableError(
            f"USB devices cannot be listed ({e}); check permissions on /dev/bus/usb"
        ) from e


def list_usb_printers() -> list[UsbPrinterInfo]:
    """USB devices that are printers by class or a known id; `UsbUnavailableError` says what is missing."""
    devices = usb_devices()
    out = []
    for dev in devices:
        ids = (int(dev.idVendor), int(dev.idProduct))
        known = KNOWN_PRINTERS.get(ids)
        if known is None and not _has_printer_class(dev):
            continue
        out.append(
            UsbPrinterInfo(
                ids[0], ids[1], known or "USB printer class", f"bus {dev.bus} address {dev.address}"
            )
        )
    return out


def _has_printer_class(dev: object) -> bool:
    try:
        if getattr(dev, "bDeviceClass", 0) == USB_PRINTER_CLASS:
            return True
        return any(
            intf.bInterfaceClass == USB_PRINTER_CLASS
            for cfg in dev  # type: ignore[attr-defined]
            for intf in cfg
        )
    except Exception:  # descriptors we may not read (permissions, a device going away): not a printer to us
        return False


def list_input_devices() -> list[tuple[str, str]]:
    """(path, name) of evdev input devices; scanners show up as keyboards."""
    import evdev

    out = []
    for path in evdev.list_devices():
        try:
            device = evdev.InputDevice(path)
        except OSError:
            continue
        out.append((path, str(device.name)))
        device.close()
    return out


# --- printers -----------------------------------------------------------------------------------------------

_USB_ID = re.compile(r"^(?:usb://)?([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$")


def infer_printer_type(url: str) -> str:
    """`tcp://`/`socket://`/`host:port` → network, `usb://0416:5011`/`0416:5011` → USB, else a serial port."""
    if _USB_ID.match(url):
        return "escpos-usb"
    if url.startswith(("tcp://", "socket://")):
        return "escpos-network"
    if url.startswith("/") or "://" in url:
        return "escpos-serial"
    if ":" in url:
        return "escpos-network"
    raise ConfigurationError(
        f"cannot tell what kind of printer {url!r} is; use tcp://HOST:9100, /dev/ttyUSB0 or usb://0416:5011"
    )


def printer_device(
    url: str, device_type: str | None = None, *, width_mm: int = 80, timeout_s: float = 1.0, baud: int = 9600
) -> Device:
    """The `Device` config for a printer given on the command line."""
    kind = device_type or infer_printer_type(url)
    if kind not in PRINTER_TYPES:
        raise ConfigurationError(f"{kind!r} is not a printer type; use one of {', '.join(PRINTER_TYPES)}")
    if kind == "escpos-usb":
        m = _USB_ID.match(url)
        if m is None:
            raise ConfigurationError(f"a USB printer is given as VENDOR:PRODUCT, e.g. 0416:5011, not {url!r}")
        return Device(
            kind,
            url=url,
            usb_vendor=int(m[1], 16),
            usb_product=int(m[2], 16),
            width_mm=width_mm,
            timeout_s=timeout_s,
        )
    if kind == "escpos-network":
        parse_network_url(url)  # a bad URL is a usage error, reported before anything is opened
    elif kind == "escpos-serial" and not url:
        raise ConfigurationError("a serial printer needs --url, e.g. /dev/ttyUSB0")
    return Device(kind, url=url, width_mm=width_mm, timeout_s=timeout_s, baud=baud)


def sample_ticket(hall: str = "", base_url: str = "http://127.0.0.1:8700") -> TicketPrint:
    """A test ticket that shows what installers must check: the number in large type, full-width punctuation
    （：。）, GBK-only name characters (喆 堃) and the QR code."""
    now = dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M")
    return TicketPrint(
        hall=hall or "hallq 打印测试 Print test",
        number="A001",
        matter="测试：喆 堃 镕（全角标点）。",
        people_ahead=3,
        estimate_min=(5, 15),
        issued=now,
        status_url=base_url.rstrip("/") + "/t/print-test",
        tolerance_items=("这是一张测试票，不是有效的排队号。",),
    )


def print_test(device: Device, ticket: TicketPrint | None = None) -> PrinterStatus:
    """Print a sample ticket and return the status after it; raises `PrinterNotReady`/`DeviceUnavailable`."""
    printer = build_printer(device)
    try:
        printer.print_ticket(ticket or sample_ticket())
        return printer.status()
    finally:
        printer.close()


def printer_status(device: Device) -> PrinterStatus:
    printer = build_printer(device)
    try:
        return printer.status()
    finally:
        printer.close()


def describe_status(status: PrinterStatus) -> list[str]:
    """The status in hall words: the headline first, then each sensor."""
    state = status.state()
    headline = state.reason or "就绪 ready"
    if status.printable and status.paper_near_end:
        headline += " — still prints; change the roll soon"
    online = "yes" if status.online else "no"
    cover = "open" if status.cover_open else "closed"
    paper = "out" if status.paper_out else "near end" if status.paper_near_end else "ok"
    cutter = "error" if status.cutter_error else "ok"
    return [headline, f"online: {online}   cover: {cover}   paper: {paper}   cutter: {cutter}"]


# --- HQP/1 bus devices --------------------------------------------------------------------------------------

DEVICE_KINDS = {
    DeviceType.STRIP: "LED strip",
    DeviceType.KEYPAD: "call keypad",
    DeviceType.RATING_PAD: "rating pad",
    DeviceType.HALL_BOARD: "hall board",
}
COLORS = {c.name.lower(): c for c in Color}
EFFECTS = {"static": Effect.STATIC, "scroll": Effect.SCROLL_LEFT, "flash": Effect.FLASH}


NACK_MEANINGS = {
    NackCode.UNKNOWN_CMD: "unknown command",
    NackCode.BAD_PAYLOAD: "bad payload",
    NackCode.BUSY: "busy",
    NackCode.UNSUPPORTED: "unsupported",
}


def explain(error: DriverError) -> str:
    """An error message with NACK codes spelled out (`NACK code 2 = bad payload`)."""

    def meaning(m: re.Match[str]) -> str:
        code = int(m[1])
        known = NACK_MEANINGS.get(NackCode(code)) if code in NackCode._value2member_map_ else None
        return f"{m[0]} = {known or 'unknown code'}"

    text = str(error)
    return re.sub(r"NACK code (\d+)", meaning, text) if isinstance(error, ProtocolError) else text


def open_bus(url: str, *, baud: int = 9600, timeout_s: float = 0.2) -> HqpBusMaster:
    """A started HQP/1 master for a one-off command. The reply deadline is longer than the protocol's 50 ms:
    an installer's laptop may reach the bus through an RS-485-to-Ethernet box."""
    if not url:
        raise ConfigurationError("give the bus with --url, e.g. /dev/ttyUSB0 or socket://192.168.1.60:4001")
    return HqpBusMaster(url, baud=baud, reply_timeout_s=timeout_s).start()


def ping(bus: HqpBusMaster, address: int) -> PingInfo:
    """PING one address; raises `DeviceUnavailable` when it does not answer."""
    _check_address(address)
    reply = bus.request(address, hqp.Cmd.PING)
    if reply is None:
        raise DeviceUnavailable("address 0 is broadcast: nothing answers it")
    return hqp.parse_ping_reply(reply.payload)


def describe_ping(info: PingInfo) -> str:
    kind = (
        DEVICE_KINDS.get(DeviceType(info.device_type), "?")
        if info.device_type in DeviceType._value2member_map_
        else "?"
    )
    return f"{kind} (type {info.device_type}), firmware {info.firmware}, capabilities 0x{info.caps:02x}"


def led_show(
    bus: HqpBusMaster,
    address: int,
    text: str,
    *,
    area: int = 0,
    color: str = "red",
    effect: str = "static",
) -> None:
    _check_address(address)
    if color not in COLORS:
        raise ConfigurationError(f"colour {color!r} is not one of {', '.join(COLORS)}")
    if effect not in EFFECTS:
        raise ConfigurationError(f"effect {effect!r} is not one of {', '.join(EFFECTS)}")
    board = HqpLedBoard(bus, address)
    try:
        board.show(text, area=area, color=COLORS[color], effect=EFFECTS[effect])
    finally:
        board.close()


def _check_address(address: int) -> None:
    if not 1 <= address <= hqp.MAX_ADDRESS:
        raise ConfigurationError(f"address {address} is outside 1..{hqp.MAX_ADDRESS}")
