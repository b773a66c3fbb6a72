"""The common vendor RS-485 call keypad framing (PROTOCOLS.md §3). Pure: no I/O.

Frame: ``FF 68 L L 68 ADDR FUNC DATA… CS 16``; L counts ADDR + FUNC + DATA and is sent twice;
CS = (ADDR + FUNC + sum(DATA)) mod 256.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from drivers.codecs.resync import ResyncDecoder
from drivers.keys import KeyCode, KeyEvent

log = logging.getLogger(__name__)

PREAMBLE = 0xFF
START = 0x68
END = 0x16
FUNC_DISPLAY = 0x02
FUNC_BEEP = 0x03
BLANK = 0x0A  # a display digit that shows nothing
OVERHEAD = 7  # FF 68 L L 68 … CS 16

# The host acts on the last DATA byte (PROTOCOLS.md §3, read from a production system's source).
_LAST_BYTE_KEYS: dict[int, KeyCode] = {
    0x0C: KeyCode.NEXT,
    0x0D: KeyCode.RECALL,
    0x0B: KeyCode.RATE,
    0x12: KeyCode.PAUSE,
    0x13: KeyCode.TRANSFER,
}
# 0F = confirm; the byte before it says what is confirmed.
_CONFIRM_KEYS: dict[int, KeyCode] = {
    0x06: KeyCode.NO_SHOW,  # 弃号
    0x00: KeyCode.HOLD,  # 挂起
    0x03: KeyCode.CALL_BACK,  # 回呼
}
_CONFIRM = 0x0F
_CANCEL = 0x0E


@dataclass(frozen=True, slots=True)
class VendorFrame:
    addr: int
    func: int
    data: bytes = b""
    raw: bytes = b""  # the bytes exactly as received, for the echo ACK

    def encode(self) -> bytes:
        return encode_frame(self.addr, self.func, self.data)


def checksum(addr: int, func: int, data: bytes) -> int:
    return (addr + func + sum(data)) & 0xFF


def encode_frame(addr: int, func: int, data: bytes = b"") -> bytes:
    if not (0 <= addr <= 0xFF and 0 <= func <= 0xFF):
        raise ValueError(f"vendor 485 address and function are bytes, got {addr}, {func}")
    length = 2 + len(data)
    if length > 0xFF:
        raise ValueError(f"vendor 485 frame data too long ({len(data)} bytes)")
    return (
        bytes([PREAMBLE, START, length, length, START, addr, func])
        + data
        + bytes([checksum(addr, func, data), END])
    )


def _three_digits(value: str) -> bytes:
    return bytes(int(c) for c in value)


def encode_display(addr: int, *, waiting: int | None = None, ticket: str | None = None) -> bytes:
    """Show the waiting count (first three digits) and the ticket's last three digits; `None` leaves that half
    blank. Counts above 999 show 999: the display has three digits."""
    head = bytes([BLANK] * 3) if waiting is None else _three_digits(f"{max(0, min(waiting, 999)):03d}")
    if ticket is None:
        tail = bytes([BLANK] * 3)
    else:
        digits = "".join(c for c in ticket if c.isdigit())[-3:]
        tail = _three_digits(digits.rjust(3, "0")) if digits else bytes([BLANK] * 3)
    return encode_frame(addr, FUNC_DISPLAY, head + tail)


def encode_beep(addr: int) -> bytes:
    return encode_frame(addr, FUNC_BEEP)


def key_event(frame: VendorFrame) -> KeyEvent | None:
    """Map a keypad frame to the HQP/1 key codes; None for what the host does not act on (cancel, unknown)."""
    if not frame.data:
        return None
    last = frame.data[-1]
    if last in _LAST_BYTE_KEYS:
        code = _LAST_BYTE_KEYS[last]
        # Digits typed before the function key (e.g. the target window of a transfer).
        digits = "".join(str(b) for b in frame.data[:-1] if b <= 9)
        return KeyEvent(code, digits)
    if last == _CONFIRM and len(frame.data) >= 2 and frame.data[-2] in _CONFIRM_KEYS:
        return KeyEvent(_CONFIRM_KEYS[frame.data[-2]], "")
    if last != _CANCEL:
        log.info("vendor 485 keypad %d sent unmapped key data %s", frame.addr, frame.data.hex(" "))
    return None


class VendorDecoder(ResyncDecoder):
    """Streaming decoder with resync. FUNC is never checked (keypads use several). The original host ignored
    CS; hallq checks it, logs a mismatch and drops the frame, because on a noisy bus a corrupted frame read as
    "call next" calls a citizen nobody is waiting for, while a dropped one is simply not echoed, so the
    keypad sends it again."""

    def __init__(self) -> None:
        super().__init__()
        self.checksum_errors = 0

    def feed(self, data: bytes) -> list[VendorFrame]:
        self._buf += data
        buf = self._buf
        frames: list[VendorFrame] = []
        while True:
            # The FF preamble is optional on receive: a line turnaround can swallow the first byte.
            start = buf.find(START)
            if start < 0:
                self._drop(len(buf) - (1 if buf[-1:] == bytes([PREAMBLE]) else 0))
                break
            pre = 1 if start and buf[start - 1] == PREAMBLE else 0
            self._drop(start - pre)
            s = pre  # index of the first 68
            if len(buf) < s + 4:
                break
            length = buf[s + 1]
            if buf[s + 2] != length or buf[s + 3] != START or length < 2:
                self._drop(s + 1)
                continue
            end = s + 4 + length + 2  # one past the end byte
            if len(buf) < end:
                break
            addr, func = buf[s + 4], buf[s + 5]
            payload = bytes(buf[s + 6 : s + 4 + length])
            expected = checksum(addr, func, payload)
            if buf[end - 1] != END or buf[end - 2] != expected:
                if buf[end - 1] == END:
                    self.checksum_errors += 1
                    log.warning(
                        "vendor 485 frame from address %d has checksum %02X, expected %02X; dropped",
                        addr,
                        buf[end - 2],
                        expected,
                    )
                self._drop(s + 1)
                continue
            frames.append(VendorFrame(addr, func, payload, bytes(buf[:end])))
            del buf[:end]
        return frames
