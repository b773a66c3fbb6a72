"""Build a station's devices from its config: the right driver per `Device.type`, one bus master per port.

A station's strip, keypad and rating pad usually hang on one RS-485 line, so they share one `HqpBusMaster`
(one port, one request on the wire at a time); a `BusRegistry` owns the buses by URL and closes them.
Building opens nothing: printers connect on first use, buses and scanners open on their own threads after
`start()` and keep retrying in the background, so an unplugged device never stops an app from starting —
it shows as unavailable until it answers. Bad combinations (a keypad of type "escpos-usb", two drivers on
one bus address, one port used with two framings) fail at build time with a `ConfigurationError`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Self

from drivers.base import DriverError
from drivers.bus import HqpBusMaster, HqpCallKeypad, HqpLedBoard, HqpRatingPad, Vendor485Bus, Vendor485Keypad
from drivers.codecs.hqp import MAX_ADDRESS
from drivers.idcard import LinkOpener
from drivers.printer import PRINTER_TYPES, build_printer
from drivers.protocols import CallKeypad, IdCardReader, LedBoard, RatingPad, Scanner, TicketPrinter
from hallcore.config import Device, HallConfig, Station, StationRole

log = logging.getLogger(__name__)

DEVICE_TYPES = (
    "escpos-usb",
    "escpos-serial",
    "escpos-network",
    "hqp",
    "vendor485",
    "evdev",
    "idcard-serial",
    "idcard-usb",
    "fake",
)
SLOT_TYPES: dict[str, tuple[str, ...]] = {
    "printer": PRINTER_TYPES,
    "led": ("hqp", "fake"),
    "keypad": ("hqp", "vendor485", "fake"),
    "rating_pad": ("hqp", "fake"),
    "scanner": ("evdev", "fake"),
    "id_reader": ("idcard-serial", "idcard-usb", "fake"),
}
# Why a type is refused in a slot, when it is not obvious.
_WHY_NOT: dict[tuple[str, str], str] = {
    ("led", "vendor485"): 'the vendor 485 framing has keypads only; drive strips with HQP/1 (type = "hqp")',
    ("rating_pad", "vendor485"): (
        'vendor 485 rating pads report over the network, not this bus; serial pads use HQP/1 (type = "hqp")'
    ),
}


class ConfigurationError(DriverError):
    """A device config that cannot work (wrong type for the role, missing address, a port used twice)."""


def _port_key(url: str) -> str:
    """One key per physical port: `/dev/serial/by-id/…` links and `/dev/ttyUSB0` name the same adapter."""
    url = url.strip()
    if url.startswith("/") and Path(url).exists():
        return str(Path(url).resolve())
    return url


@dataclass
class _Bus:
    kind: str  # "hqp" | "vendor485"
    url: str
    baud: int
    bus: HqpBusMaster | Vendor485Bus
    users: dict[int, str] = field(default_factory=dict)  # address -> who uses it


class BusRegistry:
    """The serial buses of one process, one per port, shared by every device on it. Thread-safe.

    Buses are started by `start()` (or at once when created after it) and closed by `close()`, after the
    drivers on them. `reply_timeout_s` is HQP/1's per-frame deadline (PROTOCOLS.md §2: 50 ms); raise it for
    RS-485-to-Ethernet boxes on a slow network.
    """

    def __init__(self, *, reply_timeout_s: float = 0.05, tries: int = 3) -> None:
        self._reply_timeout_s = reply_timeout_s
        self._tries = tries
        self._lock = threading.Lock()
        self._buses: dict[str, _Bus] = {}
        self._started = False
        self._closed = False

    def hqp(self, url: str, *, baud: int = 9600, address: int | None = None, user: str = "") -> HqpBusMaster:
        """The HQP/1 master of `url`, created on first use; `address` is claimed for `user` if given."""
        entry = self._get("hqp", url, baud, address, user)
        assert isinstance(entry.bus, HqpBusMaster)
        return entry.bus

    def vendor485(
        self, url: str, *, baud: int = 9600, address: int | None = None, user: str = ""
    ) -> Vendor485Bus:
        entry = self._get("vendor485", url, baud, address, user)
        assert isinstance(entry.bus, Vendor485Bus)
        return entry.bus

    @property
    def urls(self) -> list[str]:
        with self._lock:
            return [b.url for b in self._buses.values()]

    def start(self) -> Self:
        with self._lock:
            self._started = True
            buses = [b.bus for b in self._buses.values()]
        for bus in buses:
            bus.start()
        return self

    def close(self) -> None:
        """Stop every bus thread and close every port; safe to call twice."""
        with self._lock:
            self._closed = True
            buses, self._buses = list(self._buses.values()), {}
        for entry in buses:
            entry.bus.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, kind: str, url: str, baud: int, address: int | None, user: str) -> _Bus:
        if not url:
            raise ConfigurationError(f"{user or kind}: a {kind} device needs url (e.g. '/dev/ttyUSB0')")
        if address is not None and not 1 <= address <= MAX_ADDRESS:
            raise ConfigurationError(f"{user or kind}: address {address} is outside 1..{MAX_ADDRESS}")
        key = _port_key(url)
        with self._lock:
            if self._closed:
                raise ConfigurationError(f"{user or kind}: the bus registry is closed")
            entry = self._buses.get(key)
            if entry is None:
                bus: HqpBusMaster | Vendor485Bus
                if kind == "hqp":
                    bus = HqpBusMaster(
                        url, baud=baud, reply_timeout_s=self._reply_timeout_s, tries=self._tries
                    )
                else:
                    bus = Vendor485Bus(url, baud=baud)
                entry = self._buses[key] = _Bus(kind, url, baud, bus)
                start = self._started
            else:
                start = False
                if entry.kind != kind:
                    raise ConfigurationError(
                        f"{user}: {url} is already a {entry.kind} bus ({', '.join(entry.users.values())}); "
                        "one port speaks one framing"
                    )
                if entry.baud != baud:
                    raise ConfigurationError(
                        f"{user}: {url} is already used at {entry.baud} baud, not {baud}; "
                        "every device on one bus runs at the same rate"
                    )
            if address is not None:
                other = entry.users.get(address)
                if other is not None:
                    raise ConfigurationError(
                        f"{user}: address {address} on {url} is already used by {other}; "
                        "give each device on a bus its own address"
                    )
                entry.users[address] = user or f"address {address}"
        if start:
            entry.bus.start()
        return entry


@dataclass
class StationDevices:
    """The devices of one station, built from its config. `start()` them, `close()` them (or use `with`)."""

    station_id: str
    printer: TicketPrinter | None = None
    led: LedBoard | None = None
    keypad: CallKeypad | None = None
    rating_pad: RatingPad | None = None
    scanner: Scanner | None = None
    id_reader: IdCardReader | None = None
    # An agent's strips, by window number (its `led` device names the bus, the windows the addresses).
    boards: dict[int, LedBoard] = field(default_factory=dict)
    registry: BusRegistry | None = None
    owns_registry: bool = False
    _closers: list[Callable[[], None]] = field(default_factory=list, repr=False)
    _starters: list[Callable[[], object]] = field(default_factory=list, repr=False)

    def start(self) -> Self:
        """Start bus, scanner and reader threads; they open their ports in the background and never raise."""
        if self.registry is not None:
            self.registry.start()
        for start in self._starters:
            start()
        return self

    def close(self) -> None:
        """Close the drivers, then (if this station owns it) the bus registry; safe to call twice."""
        closers, self._closers = self._closers, []
        for close in reversed(closers):
            try:
                close()
            except Exception:  # one device failing to close must not leave the others open
                log.exception("%s: closing a device failed", self.station_id)
        if self.owns_registry and self.registry is not None:
            self.registry.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_type(who: str, slot: str, device: Device) -> None:
    allowed = SLOT_TYPES[slot]
    if device.type in allowed:
        return
    why = _WHY_NOT.get((slot, device.type))
    if device.type not in DEVICE_TYPES:
        why = f"unknown device type; use one of {', '.join(DEVICE_TYPES)}"
    raise ConfigurationError(
        f"{who}: type {device.type!r} cannot be a {slot.replace('_', ' ')}; "
        + (why or f"use one of {', '.join(allowed)}")
    )


def _address(who: str, device: Device) -> int:
    if device.address is None:
        raise ConfigurationError(f"{who}: a {device.type} device needs address (1..{MAX_ADDRESS})")
    return device.address


def build_led(device: Device, registry: BusRegistry, *, who: str = "led") -> LedBoard:
    _check_type(who, "led", device)
    if device.type == "fake":
        from drivers.fakes_bus import FakeLedBoard

        return FakeLedBoard()
    address = _address(who, device)
    return HqpLedBoard(registry.hqp(device.url, baud=device.baud, address=address, user=who), address)


def build_keypad(device: Device, registry: BusRegistry, *, who: str = "keypad") -> CallKeypad:
    _check_type(who, "keypad", device)
    if device.type == "fake":
        from drivers.fakes_bus import FakeCallKeypad

        return FakeCallKeypad()
    address = _address(who, device)
    if device.type == "vendor485":
        bus = registry.vendor485(device.url, baud=device.baud, address=address, user=who)
        return Vendor485Keypad(bus, address)
    return HqpCallKeypad(registry.hqp(device.url, baud=device.baud, address=address, user=who), address)


def build_rating_pad(device: Device, registry: BusRegistry, *, who: str = "rating pad") -> RatingPad:
    _check_type(who, "rating_pad", device)
    if device.type == "fake":
        from drivers.fakes_bus import FakeRatingPad

        return FakeRatingPad()
    address = _address(who, device)
    return HqpRatingPad(registry.hqp(device.url, baud=device.baud, address=address, user=who), address)


def build_scanner(device: Device, *, who: str = "scanner") -> Scanner:
    _check_type(who, "scanner", device)
    if device.type == "fake":
        from drivers.fakes_bus import FakeScanner

        return FakeScanner()
    if not device.path:
        raise ConfigurationError(
            f"{who}: an evdev scanner needs path (a /dev/input path or part of its name)"
        )
    from drivers.scanner import EvdevScanner

    return EvdevScanner.for_device(device.path)


def id_reader_link(
    device: Device, *, who: str = "id_reader", usb_backend: Any = None
) -> tuple[LinkOpener, str, float]:
    """How to reach an `idcard-serial` or `idcard-usb` reader: its link opener, where it is (for messages)
    and the seconds a byte takes on its wire (0 for USB)."""
    from drivers.idcard import BITS_PER_BYTE, serial_opener, usb_opener

    if device.type == "idcard-usb":
        if device.usb_vendor is None or device.usb_product is None:
            raise ConfigurationError(f"{who}: an idcard-usb reader needs usb_vendor and usb_product")
        opener = usb_opener(
            device.usb_vendor,
            device.usb_product,
            out_ep=0x02 if device.usb_out_ep is None else device.usb_out_ep,
            in_ep=0x81 if device.usb_in_ep is None else device.usb_in_ep,
            backend=usb_backend,
        )
        return opener, f"usb {device.usb_vendor:04x}:{device.usb_product:04x}", 0.0
    if not device.url:
        raise ConfigurationError(
            f"{who}: an idcard-serial reader needs url (e.g. '/dev/ttyUSB0', '/dev/ttyACM0')"
        )
    return serial_opener(device.url, baud=device.baud), device.url, BITS_PER_BYTE / device.baud


def build_id_reader(device: Device, *, who: str = "id_reader", usb_backend: Any = None) -> IdCardReader:
    """A 居民身份证 reader; `usb_backend` is pyusb's for `idcard-usb` (None: libusb-1.0; tests pass an
    emulated device's). Started by `start()` (the station's), it opens the link in the background."""
    _check_type(who, "id_reader", device)
    if device.type == "fake":
        from drivers.fakes_bus import FakeIdCardReader

        return FakeIdCardReader()
    from drivers.idcard import SamIdCardReader

    opener, where, seconds_per_byte = id_reader_link(device, who=who, usb_backend=usb_backend)
    return SamIdCardReader(
        opener,
        name=f"ID card reader {where}",
        poll_s=device.poll_s,
        reply_timeout_s=device.timeout_s,
        seconds_per_byte=seconds_per_byte,
    )


def build_station(
    station: Station,
    *,
    config: HallConfig | None = None,
    registry: BusRegistry | None = None,
) -> StationDevices:
    """Every device of `station`. Pass a shared `registry` when one process drives several stations (it then
    outlives them); otherwise the station owns a registry of its own. `config` gives an agent the windows'
    LED addresses when its `led` device names a bus without an address."""
    owns = registry is None
    reg = BusRegistry() if registry is None else registry
    out = StationDevices(station.id, registry=reg, owns_registry=owns)
    try:
        _build_into(out, station, config, reg)
    except BaseException:
        out.close()
        raise
    return out


def _build_into(out: StationDevices, station: Station, config: HallConfig | None, reg: BusRegistry) -> None:
    sid = station.id
    if station.printer is not None:
        _check_type(f"{sid}.printer", "printer", station.printer)
        printer = build_printer(station.printer)
        out.printer = printer
        out._closers.append(printer.close)
    if station.led is not None:
        led = station.led
        if led.address is None and led.type == "hqp" and station.role is StationRole.AGENT:
            _check_type(f"{sid}.led", "led", led)
            if config is None:
                raise ConfigurationError(
                    f"{sid}.led: an agent's bus has no address of its own; pass the hall config so the "
                    "windows' led_address values can be used"
                )
            for window in config.windows:
                if window.led_address is None or _has_own_led(config, window.number, sid):
                    continue
                board = build_led(
                    Device("hqp", url=led.url, address=window.led_address, baud=led.baud),
                    reg,
                    who=f"{sid}.led (window {window.number})",
                )
                out.boards[window.number] = board
                out._closers.append(_closer(board))
        else:
            board = build_led(led, reg, who=f"{sid}.led")
            out.led = board
            if station.window is not None:
                out.boards[station.window] = board
            out._closers.append(_closer(board))
    if station.keypad is not None:
        keypad = build_keypad(station.keypad, reg, who=f"{sid}.keypad")
        out.keypad = keypad
        out._closers.append(_closer(keypad))
    if station.rating_pad is not None:
        pad = build_rating_pad(station.rating_pad, reg, who=f"{sid}.rating_pad")
        out.rating_pad = pad
        out._closers.append(_closer(pad))
    if station.scanner is not None:
        scanner = build_scanner(station.scanner, who=f"{sid}.scanner")
        out.scanner = scanner
        start = getattr(scanner, "start", None)
        if callable(start):
            out._starters.append(start)
        out._closers.append(scanner.close)
    if station.id_reader is not None:
        reader = build_id_reader(station.id_reader, who=f"{sid}.id_reader")
        out.id_reader = reader
        start = getattr(reader, "start", None)
        if callable(start):
            out._starters.append(start)
        out._closers.append(reader.close)


def _has_own_led(config: HallConfig, window: int, agent_id: str) -> bool:
    """A counter station that drives its window's strip itself (the agent leaves that strip alone)."""
    return any(
        s.id != agent_id and s.window == window and s.led is not None and s.role is not StationRole.AGENT
        for s in config.stations
    )


def _closer(device: object) -> Callable[[], None]:
    close = getattr(device, "close", None)
    if callable(close):
        return close  # type: ignore[no-any-return]
    return lambda: None


def build_station_by_id(
    config: HallConfig, station_id: str, *, registry: BusRegistry | None = None
) -> StationDevices:
    """`build_station` for the station `station_id` of `config`."""
    station = config.station_by_id.get(station_id)
    if station is None:
        known = ", ".join(s.id for s in config.stations) or "none"
        raise ConfigurationError(f"no station {station_id!r} in the hall config (stations: {known})")
    return build_station(station, config=config, registry=registry)


__all__ = [
    "DEVICE_TYPES",
    "BusRegistry",
    "ConfigurationError",
    "StationDevices",
    "build_id_reader",
    "build_keypad",
    "build_led",
    "build_printer",
    "build_rating_pad",
    "build_scanner",
    "build_station",
    "build_station_by_id",
    "id_reader_link",
]
