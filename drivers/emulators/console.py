"""Emulators for people: `hallq devices emulate printer|bus` runs these in the foreground, prints what the
devices show as it changes, and takes typed commands (a printer's state, a key press, a rating).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Self

from drivers.base import DeviceUnavailable, DriverError, ProtocolError
from drivers.codecs import hqp
from drivers.emulators.bus import (
    EmulatedKeypad,
    EmulatedRatingPad,
    EmulatedStrip,
    HqpBusEmulator,
)
from drivers.emulators.printer import (
    EmulatedPrinter,
    EmulatedState,
    PtyPrinterEmulator,
    RenderedTicket,
    TcpPrinterEmulator,
    render_png,
)
from drivers.emulators.running import Running, RunsOne
from drivers.factory import ConfigurationError
from drivers.keys import KeyCode
from hallcore import caseoutcome


def parse_addresses(text: str) -> list[int]:
    """`1-28`, `61,62,70-72` → addresses; each 1..247."""
    out: list[int] = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        lo, sep, hi = part.partition("-")
        try:
            first, last = int(lo), int(hi) if sep else int(lo)
        except ValueError:
            raise ConfigurationError(f"{part!r} is not an address or a range like 1-28") from None
        if not 1 <= first <= last <= hqp.MAX_ADDRESS:
            raise ConfigurationError(f"addresses {part!r} must be within 1..{hqp.MAX_ADDRESS}, low to high")
        out.extend(range(first, last + 1))
    return out


def parse_ports(text: str) -> list[int]:
    """`9101` or `9101-9103`; 0 asks the system for a free port."""
    lo, sep, hi = text.partition("-")
    try:
        first, last = int(lo), int(hi) if sep else int(lo)
    except ValueError:
        raise ConfigurationError(f"{text!r} is not a port or a range like 9101-9103") from None
    if not 0 <= first <= last < 65536 or (first == 0 and last != 0) or last - first > 63:
        raise ConfigurationError(f"ports {text!r}: give one port, 0, or a range of at most 64 ports")
    return list(range(first, last + 1))


class PrinterEmulators(Running):
    """One or more emulated printers (TCP ports or ptys) and the tickets each printed since last asked."""

    def __init__(
        self,
        *,
        ports: Iterable[int] = (9101,),
        pty: bool = False,
        width_mm: int = 80,
        state: str = "ready",
        host: str = "127.0.0.1",
        png_dir: Path | None = None,
    ) -> None:
        self.emulators: list[TcpPrinterEmulator | PtyPrinterEmulator] = []
        self._seen: list[int] = []
        self._width_mm = width_mm
        self._png_dir = png_dir
        self._printed = 0
        try:
            initial = EmulatedState(state)
        except ValueError:
            raise ConfigurationError(
                f"state {state!r} is not one of {', '.join(s.value for s in EmulatedState)}"
            ) from None
        try:
            for port in [0] if pty else ports:
                printer = EmulatedPrinter(width_mm=width_mm, state=initial)
                emu: TcpPrinterEmulator | PtyPrinterEmulator
                emu = (
                    PtyPrinterEmulator(printer) if pty else TcpPrinterEmulator(printer, host=host, port=port)
                )
                self.emulators.append(emu)
                self._seen.append(0)
        except OSError as e:
            self.stop()
            raise DeviceUnavailable(
                f"cannot listen on {host}:{port} ({e}); is another emulator running?"
            ) from e

    def start(self) -> Self:
        for emu in self.emulators:
            emu.start()
        return self

    def stop(self) -> None:
        for emu in self.emulators:
            emu.stop()

    @staticmethod
    def url_of(emu: TcpPrinterEmulator | PtyPrinterEmulator) -> str:
        return emu.url if isinstance(emu, TcpPrinterEmulator) else emu.path

    def describe(self) -> list[str]:
        lines = []
        for emu in self.emulators:
            url = self.url_of(emu)
            if isinstance(emu, TcpPrinterEmulator):
                config = f'type = "escpos-network", url = "socket://{emu.host}:{emu.port}"'
            else:
                config = f'type = "escpos-serial", url = "{url}"'
            lines.append(
                f"printer emulator ({self._width_mm} mm, {emu.printer.state.value}) on {url}\n"
                f"  [stations.printer] {config}, width_mm = {self._width_mm}"
            )
        return lines

    def new_tickets(self) -> Iterator[tuple[str, RenderedTicket, Path | None]]:
        """(url, ticket, png path) for each ticket printed since the last call."""
        for i, emu in enumerate(self.emulators):
            tickets = emu.tickets
            for ticket in tickets[self._seen[i] :]:
                self._printed += 1
                png = None
                if self._png_dir is not None:
                    self._png_dir.mkdir(parents=True, exist_ok=True)
                    png = self._png_dir / f"ticket-{self._printed:04d}.png"
                    try:
                        render_png(ticket, png, width_mm=self._width_mm)
                    except (OSError, ImportError) as e:
                        png = None
                        raise DriverError(f"cannot draw the ticket as PNG: {e}") from e
                yield self.url_of(emu), ticket, png
            self._seen[i] = len(tickets)

    def command(self, line: str) -> str:
        """`paper_out` (every printer) or `2 paper_out` (the second): change the scripted state."""
        words = line.split()
        if not words:
            return ""
        targets = self.emulators
        if len(words) == 2 and words[0].isdigit():
            index = int(words[0]) - 1
            if not 0 <= index < len(self.emulators):
                return f"no printer {words[0]}; there are {len(self.emulators)}"
            targets, words = [self.emulators[index]], words[1:]
        name = words[0].replace("-", "_")
        if len(words) != 1 or name not in EmulatedState._value2member_map_:
            return "type a state: " + " ".join(s.value for s in EmulatedState) + " (or N STATE for printer N)"
        for emu in targets:
            emu.set_state(name)
        return f"{', '.join(self.url_of(e) for e in targets)}: now {name}"


KEY_NAMES = {k.name.lower(): k for k in KeyCode}


class BusEmulatorRunner(RunsOne[HqpBusEmulator]):
    """An emulated HQP/1 bus for `hallq devices emulate bus`: devices by address, rendering of what changed,
    and typed commands that play the clerk and the citizen."""

    def __init__(
        self,
        *,
        strips: Iterable[int] = (),
        boards: Iterable[int] = (),
        keypads: Iterable[int] = (),
        pads: Iterable[int] = (),
        port: int = 9200,
        pty: bool = False,
        link: Path | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        self.emu = HqpBusEmulator.pty(link) if pty else HqpBusEmulator.tcp(host=host, port=port)
        groups = (
            ("strip", list(strips)),
            ("board", list(boards)),
            ("keypad", list(keypads)),
            ("pad", list(pads)),
        )
        self._counts: list[str] = []
        for kind, addresses in groups:
            for address in addresses:
                try:
                    if kind in ("strip", "board"):
                        self.emu.add_strip(address, hall_board=kind == "board")
                    elif kind == "keypad":
                        self.emu.add_keypad(address)
                    else:
                        self.emu.add_rating_pad(address)
                except ValueError as e:
                    raise ConfigurationError(str(e)) from None
            if addresses:
                label = {"strip": "strips", "board": "hall boards", "keypad": "keypads", "pad": "rating pads"}
                self._counts.append(f"{len(addresses)} {label[kind]} ({_ranges(addresses)})")
        if not self._counts:
            raise ConfigurationError("an empty bus: give --strips, --boards, --keypads and/or --pads")
        self._shown: dict[int, str] = {}
        self._lock = threading.Lock()

    def describe(self) -> str:
        return (
            f"HQP/1 bus emulator on {self.url}: {', '.join(self._counts)}\n"
            f'  [stations.led] type = "hqp", url = "{self.url}", address = N'
        )

    def render(self) -> dict[int, str]:
        """What each device shows now, one line per device (strip areas joined)."""
        out: dict[int, str] = {}
        with self.emu.lock:
            for address, device in sorted(self.emu.devices.items()):
                if isinstance(device, EmulatedStrip):
                    out[address] = device.render().replace("\n", "  ")
                elif isinstance(device, EmulatedKeypad):
                    beeps = f", beeped {device.beeps}x" if device.beeps else ""
                    out[address] = (
                        f"[{address}] keypad: {device.ticket or '---'}, {device.waiting} waiting{beeps}"
                    )
                elif isinstance(device, EmulatedRatingPad):
                    if device.pending is not None:
                        out[address] = f"[{address}] rating pad: asking {device.pending} to rate"
                    elif device.delivered or device.events:
                        last = (list(device.events) or device.delivered)[-1]
                        out[address] = f"[{address}] rating pad: idle (last: {last})"
                    else:
                        out[address] = f"[{address}] rating pad: idle"
        return out

    def changes(self) -> list[str]:
        """Lines of devices whose display changed since the last call (all of them the first time)."""
        now = self.render()
        with self._lock:
            changed = [line for address, line in now.items() if self._shown.get(address) != line]
            self._shown = now
        return changed

    def command(self, line: str) -> str:
        """`press 61 next`, `press 61 transfer 12`, `press 61 finish 受理` (or `2`, `accepted*12345`),
        `rate 121 5`, `show`."""
        words = line.split()
        if not words:
            return ""
        help_ = "commands: press ADDR KEY [DIGITS] (KEY: " + " ".join(KEY_NAMES) + "), rate ADDR 1-5, show"
        try:
            if words[0] == "show":
                return "\n".join(self.render().values())
            if words[0] == "press" and len(words) in (3, 4):
                address, key = int(words[1]), words[2].lower()
                code = KEY_NAMES[key] if key in KEY_NAMES else int(key, 16)
                digits = words[3] if len(words) == 4 else ""
                if code == KeyCode.FINISH:
                    digits = outcome_digits(digits)
                device = self.emu.devices.get(address)
                if not isinstance(device, EmulatedKeypad):
                    return f"no keypad at address {address}"
                self.emu.press(address, code, digits)
                return f"keypad {address}: pressed {key}{' ' + digits if digits else ''}"
            if words[0] == "rate" and len(words) == 3:
                address, score = int(words[1]), int(words[2])
                pad = self.emu.devices.get(address)
                if not isinstance(pad, EmulatedRatingPad):
                    return f"no rating pad at address {address}"
                if not 1 <= score <= 5:
                    return "a score is 1 (very unhappy) to 5 (非常满意)"
                if pad.pending is None:
                    return f"rating pad {address} has no pending request"
                self.emu.rate(address, score)
                return f"rating pad {address}: rated {score}"
        except (ValueError, ProtocolError):
            return help_
        return help_


def outcome_digits(word: str) -> str:
    """The finish key's digits for an outcome typed by name (`受理`, `accepted`, `不予受理2*123`): the name
    becomes its keypad digit (hallcore/caseoutcome.py); digits pass as they are."""
    head, star, case_no = word.partition("*")
    for name in sorted((*caseoutcome.DIGIT_OF, *caseoutcome.OUTCOME_EN.values()), key=len, reverse=True):
        if head.startswith(name):
            outcome = caseoutcome.parse(name)
            assert outcome is not None
            return caseoutcome.DIGIT_OF[outcome] + head[len(name) :] + star + case_no
    return word


def _ranges(addresses: list[int]) -> str:
    parts: list[str] = []
    start = prev = addresses[0]
    for a in [*addresses[1:], None]:
        if a is not None and a == prev + 1:
            prev = a
            continue
        parts.append(str(start) if start == prev else f"{start}-{prev}")
        if a is not None:
            start = prev = a
    return ",".join(parts)
