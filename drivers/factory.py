"""Build a station's devices from its config: the right driver per `Device.type`, one bus master per port.

Every entry point (kiosk, counter and desk, display, the device agent, `hallq devices`) builds its devices
here, and apps see them only through the roles of `drivers.protocols`. Building opens nothing: printers
connect on first use, buses, scanners and readers open on their own threads after `start()` and keep
retrying in the background, so an unplugged device never stops an app from starting — it shows as
unavailable until it answers. Bad combinations (a keypad of type "escpos-usb", two drivers on one bus
address, one port used with two framings) fail at build time with a `ConfigurationError`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Self

from drivers.base import DriverError
from drivers.bus import HqpBusMaster, HqpCallKeypad, HqpLedBoard, HqpRatingPad, Vendor485Keypad
from drivers.codecs.hqp import MAX_ADDRESS
from drivers.idcard import LinkOpener
from drivers.printer import build_printer
from drivers.protocols import (
    Announcer,
    CallKeypad,
    IdCardReader,
    LedBoard,
    PromptPlayer,
    RatingPad,
    Scanner,
    Speaker,
    TicketPrinter,
    VoiceError,
    VoicePlayer,
)
from drivers.registry import BusRegistry, ConfigurationError
from hallcore.clock import Clock
from hallcore.config import Device, HallConfig, Station, StationRole, Voice
from hallcore.devicetypes import DEVICE_TYPES_BY_SLOT, WHY_NOT_IN_SLOT
from hallcore.windowstrip import agent_windows

log = logging.getLogger(__name__)

# One table of what fits each slot, shared with the config check (hallcore.configcheck).
SLOT_TYPES: dict[str, tuple[str, ...]] = DEVICE_TYPES_BY_SLOT
DEVICE_TYPES = tuple(dict.fromkeys(t for types in SLOT_TYPES.values() for t in types))
PRINTER_TYPES = SLOT_TYPES["printer"]


@dataclass
class StationDevices:
    """The devices of one station, built from its config. `start()` them, `close()` them (or use `with`)."""

    station_id: str
    printer: TicketPrinter | None = None
    # The station's own `led`: a counter's window strip, a display's hall board.
    led: LedBoard | None = None
    keypad: CallKeypad | None = None
    rating_pad: RatingPad | None = None
    scanner: Scanner | None = None
    id_reader: IdCardReader | None = None
    # Window strips by window number: a counter's own, or an agent's (its `led` names the bus, the windows'
    # `led_address` values the strips).
    boards: dict[int, LedBoard] = field(default_factory=dict)
    # An agent's hall boards on the same bus (its `led.address`, and any given to `AgentOptions`).
    hall_boards: list[LedBoard] = field(default_factory=list)
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


@dataclass(frozen=True, slots=True)
class AgentOptions:
    """What `hallq devices serve` may narrow or add for a device agent's bus."""

    windows: Collection[int] | None = None  # only these windows' strips (None: every one it drives)
    all_windows: bool = False  # also the strips of windows whose counter drives its own
    hall_boards: Sequence[int] = ()  # hall board addresses on the bus, besides the agent's `led.address`


def _check_type(who: str, slot: str, device: Device) -> None:
    allowed = SLOT_TYPES[slot]
    if device.type in allowed:
        return
    why = WHY_NOT_IN_SLOT.get((slot, device.type))
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


def _on_hqp(slot: str, device: Device, registry: BusRegistry, who: str) -> tuple[HqpBusMaster, int] | None:
    """The HQP/1 bus of `device` in `slot` and its address (claimed for `who`); None for a fake."""
    _check_type(who, slot, device)
    if device.type == "fake":
        return None
    address = _address(who, device)
    return registry.hqp(device.url, baud=device.baud, address=address, user=who), address


def build_led(device: Device, registry: BusRegistry, *, who: str = "led") -> LedBoard:
    on = _on_hqp("led", device, registry, who)
    if on is None:
        from drivers.fakes_bus import FakeLedBoard

        return FakeLedBoard()
    return HqpLedBoard(*on)


def build_keypad(device: Device, registry: BusRegistry, *, who: str = "keypad") -> CallKeypad:
    if device.type == "vendor485":
        address = _address(who, device)
        return Vendor485Keypad(
            registry.vendor485(device.url, baud=device.baud, address=address, user=who), address
        )
    on = _on_hqp("keypad", device, registry, who)
    if on is None:
        from drivers.fakes_bus import FakeCallKeypad

        return FakeCallKeypad()
    return HqpCallKeypad(*on)


def build_rating_pad(device: Device, registry: BusRegistry, *, who: str = "rating pad") -> RatingPad:
    on = _on_hqp("rating_pad", device, registry, who)
    if on is None:
        from drivers.fakes_bus import FakeRatingPad

        return FakeRatingPad()
    return HqpRatingPad(*on)


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
        # Endpoints the config leaves out keep the transport's defaults (the usual OUT 0x02, IN 0x81).
        given = {"out_ep": device.usb_out_ep, "in_ep": device.usb_in_ep}
        endpoints = {key: value for key, value in given.items() if value is not None}
        opener = usb_opener(device.usb_vendor, device.usb_product, backend=usb_backend, **endpoints)
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


def build_voice(
    voice: Voice, folder: Path, *, clock: Clock, cache_dir: Path, player: VoicePlayer | None = None
) -> tuple[Announcer | None, str]:
    """A display's voice: the pack in `folder` (its gaps filled with espeak-ng: minutes at most on a first
    start, so call this off the UI thread), the sound output (`aplay` or sox's `play`, unless `player` is
    given) and the announcement queue. `(None, why)` when it cannot speak: calls are then shown, not read."""
    from drivers.voice import AnnouncementQueue, AplayPlayer, VoicePack, ensure_pack

    try:
        ensure_pack(folder, voice.languages)
    except (VoiceError, OSError) as e:
        return None, f"cannot prepare the voice pack in {folder}: {e}"
    if player is None:
        try:
            player = AplayPlayer()
        except VoiceError as e:
            return None, str(e)
    return AnnouncementQueue.from_config(voice, VoicePack(folder), player, clock, cache_dir=cache_dir), ""


def build_speaker(
    station: Station, cache_dir: Path, *, recordings: Path | None = None, player: PromptPlayer | None = None
) -> tuple[Speaker | None, str]:
    """A kiosk's spoken guidance when its station has `voice = true`: the hall's recordings in `recordings`
    preferred, espeak-ng's renderings cached in `cache_dir`, at the station's `volume`. `(None, why)` when it
    cannot speak (off, or no sound output): the screens still show everything."""
    from drivers.voice import AplayPlayer, PromptSpeaker

    if not station.voice:
        return None, "spoken guidance is off for this station (voice = false)"
    if player is None:
        try:
            player = AplayPlayer()
        except VoiceError as e:
            return None, str(e)
    return PromptSpeaker(player, cache_dir, recordings=recordings, volume=station.volume), ""


def build_station(
    station: Station,
    *,
    config: HallConfig | None = None,
    registry: BusRegistry | None = None,
    agent: AgentOptions | None = None,
) -> StationDevices:
    """Every device of `station`. Pass a shared `registry` when one process drives several stations (it then
    outlives them); otherwise the station owns a registry of its own. An agent needs `config` (its windows'
    LED addresses); `agent` narrows or adds to the strips and boards it drives."""
    owns = registry is None
    reg = BusRegistry() if registry is None else registry
    out = StationDevices(station.id, registry=reg, owns_registry=owns)
    try:
        _build_into(out, station, config, reg, agent or AgentOptions())
    except BaseException:
        out.close()
        raise
    return out


def _build_into(
    out: StationDevices, station: Station, config: HallConfig | None, reg: BusRegistry, agent: AgentOptions
) -> None:
    sid = station.id
    if station.printer is not None:
        _check_type(f"{sid}.printer", "printer", station.printer)
        try:
            printer = build_printer(station.printer)
        except DriverError as e:  # a URL that names no printer: a config problem, said as one
            raise ConfigurationError(f"{sid}.printer: {e}") from e
        out.printer = printer
        out._closers.append(printer.close)
    if station.led is not None:
        if station.role is StationRole.AGENT:
            _build_agent_boards(out, station, station.led, config, reg, agent)
        else:
            board = build_led(station.led, reg, who=f"{sid}.led")
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
        _add_starter(out, scanner)
        out._closers.append(scanner.close)
    if station.id_reader is not None:
        reader = build_id_reader(station.id_reader, who=f"{sid}.id_reader")
        out.id_reader = reader
        _add_starter(out, reader)
        out._closers.append(reader.close)


def _build_agent_boards(
    out: StationDevices,
    station: Station,
    led: Device,
    config: HallConfig | None,
    reg: BusRegistry,
    agent: AgentOptions,
) -> None:
    """An agent's `led` names a bus: the strips of its windows (by their `led_address`) and hall boards."""
    who = f"{station.id}.led"
    _check_type(who, "led", led)
    if config is None:
        raise ConfigurationError(
            f"{who}: an agent drives the windows' strips by their led_address values; pass the hall config"
        )
    drive = agent_windows(config, station, all_windows=agent.all_windows)
    for number, address in drive.items():
        if agent.windows is None or number in agent.windows:
            board = build_led(replace(led, address=address), reg, who=f"{who} (window {number})")
            out.boards[number] = board
            out._closers.append(_closer(board))
    hall = ([] if led.address is None else [led.address]) + list(agent.hall_boards)
    for address in hall:
        board = build_led(replace(led, address=address), reg, who=f"{who} (hall board {address})")
        out.hall_boards.append(board)
        out._closers.append(_closer(board))


def _add_starter(out: StationDevices, device: object) -> None:
    start = getattr(device, "start", None)
    if callable(start):
        out._starters.append(start)


def _closer(device: object) -> Callable[[], None]:
    close = getattr(device, "close", None)
    if callable(close):
        return close  # type: ignore[no-any-return]
    return lambda: None


def build_station_by_id(
    config: HallConfig,
    station_id: str,
    *,
    registry: BusRegistry | None = None,
    agent: AgentOptions | None = None,
) -> StationDevices:
    """`build_station` for the station `station_id` of `config`."""
    station = config.station_by_id.get(station_id)
    if station is None:
        known = ", ".join(s.id for s in config.stations) or "none"
        raise ConfigurationError(f"no station {station_id!r} in the hall config (stations: {known})")
    return build_station(station, config=config, registry=registry, agent=agent)


__all__ = [
    "DEVICE_TYPES",
    "PRINTER_TYPES",
    "SLOT_TYPES",
    "AgentOptions",
    "BusRegistry",
    "ConfigurationError",
    "StationDevices",
    "build_id_reader",
    "build_keypad",
    "build_led",
    "build_printer",
    "build_rating_pad",
    "build_scanner",
    "build_speaker",
    "build_station",
    "build_station_by_id",
    "build_voice",
    "id_reader_link",
]
