"""Emulated serial buses: HQP/1 strips, hall boards, keypads and rating pads, and vendor 485 keypads.

The device logic (`HqpBusEmulator`, `Vendor485Emulator`) is separate from the byte pipe
(`drivers.emulators.pipes`): a pty whose slave path the bus opens, or a TCP listener for `socket://`.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from drivers.base import ProtocolError
from drivers.codecs import hqp, vendor485
from drivers.codecs.hqp import Cmd, DeviceType, Frame, LedText, NackCode, RateResult
from drivers.emulators.pipes import PipedEmulator, PtyPipe, TcpPipe
from drivers.keys import KeyEvent

__all__ = [
    "EmulatedKeypad",
    "EmulatedRatingPad",
    "EmulatedStrip",
    "EmulatedVendorKeypad",
    "HqpBusEmulator",
    "PtyPipe",
    "TcpPipe",
    "Vendor485Emulator",
]

log = logging.getLogger(__name__)


# --- HQP/1 devices ----------------------------------------------------------------------------------------


@dataclass
class EmulatedDevice:
    address: int
    device_type: DeviceType
    firmware: int = 1
    caps: int = 0
    log: list[Frame] = field(default_factory=list)

    def handle(self, frame: Frame) -> bytes | None:
        """The reply payload for `frame` (None = NACK UNKNOWN_CMD)."""
        if frame.cmd == Cmd.PING:
            return hqp.encode_ping_reply(hqp.PingInfo(self.device_type, self.firmware, self.caps))
        return None


@dataclass
class EmulatedStrip(EmulatedDevice):
    """A window strip or hall board: what each area shows, and the brightness."""

    device_type: DeviceType = DeviceType.STRIP
    areas: dict[int, LedText] = field(default_factory=dict)
    level: int = 15

    def text(self, area: int = 0) -> str:
        shown = self.areas.get(area)
        return shown.text if shown is not None else ""

    def render(self) -> str:
        """What a person in the hall would read, one line per area."""
        if not self.areas:
            return f"[{self.address}] (blank, brightness {self.level})"
        lines = []
        for area, t in sorted(self.areas.items()):
            color = hqp.Color(t.color).name.lower() if t.color in hqp.Color._value2member_map_ else t.color
            effect = (
                hqp.Effect(t.effect).name.lower() if t.effect in hqp.Effect._value2member_map_ else t.effect
            )
            lines.append(f"[{self.address}:{area}] {t.text} ({color}, {effect}, brightness {self.level})")
        return "\n".join(lines)

    def handle(self, frame: Frame) -> bytes | None:
        if frame.cmd == Cmd.LED_TEXT:
            t = hqp.parse_led_text(frame.payload)
            self.areas[t.area] = t
            return b""
        if frame.cmd == Cmd.LED_CLEAR:
            self.areas.pop(hqp.parse_led_clear(frame.payload), None)
            return b""
        if frame.cmd == Cmd.LED_BRIGHT:
            self.level = hqp.parse_led_bright(frame.payload)
            return b""
        return super().handle(frame)


@dataclass
class _Polled(EmulatedDevice):
    """Event queue with PROTOCOLS.md §2's rule: the oldest event stays until a POLL with a different SEQ."""

    events: deque[hqp.Event] = field(default_factory=deque)
    carried_by: int | None = None
    delivered: list[hqp.Event] = field(default_factory=list)

    def queue_event(self, event: hqp.Event) -> None:
        self.events.append(event)

    def poll(self, seq: int) -> bytes:
        if self.events and self.carried_by is not None and seq != self.carried_by:
            self.delivered.append(self.events.popleft())
            self.carried_by = None
        if not self.events:
            return hqp.encode_poll_reply(None)
        self.carried_by = seq
        return hqp.encode_poll_reply(self.events[0])

    def handle(self, frame: Frame) -> bytes | None:
        if frame.cmd == Cmd.POLL:
            return self.poll(frame.seq)
        return super().handle(frame)


@dataclass
class EmulatedKeypad(_Polled):
    device_type: DeviceType = DeviceType.KEYPAD
    ticket: str = ""
    waiting: int = 0
    beeps: int = 0

    def press(self, code: int, digits: str = "") -> None:
        self.queue_event(KeyEvent(code, digits))

    def render(self) -> str:
        return f"[{self.address}] {self.ticket or '---'} waiting {self.waiting}"

    def handle(self, frame: Frame) -> bytes | None:
        if frame.cmd == Cmd.KP_SHOW:
            self.ticket, self.waiting = hqp.parse_kp_show(frame.payload)
            return b""
        if frame.cmd == Cmd.BEEP:
            self.beeps += 1
            return b""
        return super().handle(frame)


@dataclass
class EmulatedRatingPad(_Polled):
    device_type: DeviceType = DeviceType.RATING_PAD
    pending: str | None = None
    deadline: float | None = None
    requests: list[tuple[str, int]] = field(default_factory=list)
    monotonic: Callable[[], float] = time.monotonic

    def press(self, score: int) -> None:
        """The citizen presses a key (1..5) for the pending request."""
        if self.pending is None:
            raise ProtocolError(f"rating pad {self.address} has no pending request")
        self.queue_event(RateResult(score, self.pending))
        self.pending = self.deadline = None

    def time_out(self) -> None:
        """Nobody pressed: report score 0 now instead of waiting for the pad's timer."""
        if self.pending is not None:
            self.queue_event(RateResult(0, self.pending))
            self.pending = self.deadline = None

    def poll(self, seq: int) -> bytes:
        if self.deadline is not None and self.monotonic() >= self.deadline:
            self.time_out()
        return super().poll(seq)

    def handle(self, frame: Frame) -> bytes | None:
        if frame.cmd == Cmd.RATE_REQ:
            ticket, timeout_s = hqp.parse_rate_req(frame.payload)
            self.requests.append((ticket, timeout_s))
            self.pending, self.deadline = ticket, self.monotonic() + timeout_s
            return b""
        return super().handle(frame)


_D = TypeVar("_D", bound=EmulatedDevice)


class HqpBusEmulator(PipedEmulator):
    """Any number of HQP/1 devices behind one pipe. Use `pty()` or `tcp()` to build one, then `start()`."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.RLock()
        self.devices: dict[int, EmulatedDevice] = {}
        self._decoder = hqp.FrameDecoder()
        self._drop: dict[int | None, int] = {}
        self._duplicate: dict[int | None, int] = {}
        self.frames_seen = 0

    # devices

    def add_strip(self, address: int, *, hall_board: bool = False) -> EmulatedStrip:
        kind = DeviceType.HALL_BOARD if hall_board else DeviceType.STRIP
        return self._add(EmulatedStrip(address, kind))

    def add_keypad(self, address: int) -> EmulatedKeypad:
        return self._add(EmulatedKeypad(address))

    def add_rating_pad(
        self, address: int, monotonic: Callable[[], float] = time.monotonic
    ) -> EmulatedRatingPad:
        return self._add(EmulatedRatingPad(address, monotonic=monotonic))

    def _add(self, device: _D) -> _D:
        with self._lock:
            if device.address in self.devices:
                raise ValueError(f"address {device.address} is already on the emulated bus")
            self.devices[device.address] = device
        return device

    def press(self, address: int, code: int, digits: str = "") -> None:
        with self._lock:
            device = self.devices[address]
            assert isinstance(device, EmulatedKeypad)
            device.press(code, digits)

    def rate(self, address: int, score: int) -> None:
        with self._lock:
            device = self.devices[address]
            assert isinstance(device, EmulatedRatingPad)
            device.press(score)

    @property
    def lock(self) -> threading.RLock:
        """Held while frames are answered: take it to change several things between two frames."""
        return self._lock

    def drop_next_reply(self, count: int = 1, address: int | None = None) -> None:
        """The next `count` replies (of `address`, or any) are computed, state changes and all, but never
        sent: a reply lost on the wire."""
        with self._lock:
            self._drop[address] = self._drop.get(address, 0) + count

    def duplicate_next_reply(self, count: int = 1, address: int | None = None) -> None:
        """The next `count` replies are sent twice, as a late copy of a retried reply would arrive."""
        with self._lock:
            self._duplicate[address] = self._duplicate.get(address, 0) + count

    @staticmethod
    def _take(counters: dict[int | None, int], address: int) -> bool:
        for key in (address, None):
            if counters.get(key, 0) > 0:
                counters[key] -= 1
                return True
        return False

    def render(self) -> str:
        with self._lock:
            return "\n".join(
                d.render()
                for _, d in sorted(self.devices.items())
                if isinstance(d, EmulatedStrip | EmulatedKeypad)
            )

    # wire

    def _on_bytes(self, data: bytes) -> None:
        replies = bytearray()
        with self._lock:
            for frame in self._decoder.feed(data):
                self.frames_seen += 1
                replies += self._answer(frame)
        if replies:
            self.pipe.send(bytes(replies))

    def _answer(self, frame: Frame) -> bytes:
        if frame.is_reply:
            return b""
        targets = (
            list(self.devices.values()) if frame.addr == hqp.BROADCAST else [self.devices.get(frame.addr)]
        )
        reply = b""
        for device in targets:
            if device is None:
                continue  # nobody at that address: silence, as on a real bus
            device.log.append(frame)
            try:
                payload = device.handle(frame)
                cmd = frame.cmd | hqp.REPLY_BIT
                if payload is None:
                    payload, cmd = hqp.encode_nack(NackCode.UNKNOWN_CMD), Cmd.NACK
            except (ProtocolError, ValueError):
                payload, cmd = hqp.encode_nack(NackCode.BAD_PAYLOAD), Cmd.NACK
            reply = hqp.encode_frame(frame.addr, cmd, frame.seq, payload)
        if frame.addr == hqp.BROADCAST:
            return b""
        if not reply:
            return b""
        if self._take(self._drop, frame.addr):
            return b""
        if self._take(self._duplicate, frame.addr):
            return reply + reply
        return reply


# --- vendor 485 keypads -----------------------------------------------------------------------------------


@dataclass
class EmulatedVendorKeypad:
    address: int
    digits: bytes = bytes([vendor485.BLANK] * 6)
    beeps: int = 0
    unacked: list[bytes] = field(default_factory=list)  # frames sent and not yet echoed back

    def render(self) -> str:
        def show(ds: bytes) -> str:
            return "".join(" " if d == vendor485.BLANK else str(d) for d in ds)

        return f"[{self.address}] waiting {show(self.digits[:3])} ticket {show(self.digits[3:])}"


class Vendor485Emulator(PipedEmulator):
    """Vendor 485 keypads behind one pipe: `press` sends a key frame to the host; echoes count as ACKs."""

    def __init__(self) -> None:
        super().__init__()
        self._lock = threading.RLock()
        self.keypads: dict[int, EmulatedVendorKeypad] = {}
        self._decoder = vendor485.VendorDecoder()
        self.received: list[bytes] = []

    def add_keypad(self, address: int) -> EmulatedVendorKeypad:
        with self._lock:
            return self.keypads.setdefault(address, EmulatedVendorKeypad(address))

    def press(self, address: int, *data: int, func: int = 0x01) -> bytes:
        """Send the frame a keypad sends for a key (e.g. `press(1, 0x0C)` = call next); returns its bytes."""
        raw = vendor485.encode_frame(address, func, bytes(data))
        with self._lock:
            self.keypads[address].unacked.append(raw)
        self.pipe.send(raw)
        return raw

    def send_raw(self, data: bytes) -> None:
        self.pipe.send(data)

    def _on_bytes(self, data: bytes) -> None:
        with self._lock:
            for frame in self._decoder.feed(data):
                self.received.append(frame.raw)
                keypad = self.keypads.get(frame.addr)
                if keypad is None:
                    continue
                if frame.raw in keypad.unacked:
                    keypad.unacked.remove(frame.raw)
                elif frame.func == vendor485.FUNC_DISPLAY and len(frame.data) == 6:
                    keypad.digits = frame.data
                elif frame.func == vendor485.FUNC_BEEP:
                    keypad.beeps += 1
