"""HQP/1, hallq's serial framing for LED strips, call keypads and rating pads (PROTOCOLS.md §2). Pure: no I/O.

Frame: ``A5 5A | ADDR | CMD | SEQ | LEN u16le | PAYLOAD | CRC u16le``, CRC-16/MODBUS over ADDR..PAYLOAD.
"""

from __future__ import annotations

import logging
import struct
from dataclasses import dataclass
from enum import IntEnum

from drivers.base import ProtocolError
from drivers.codecs.resync import ResyncDecoder
from drivers.keys import KeyCode, KeyEvent

log = logging.getLogger(__name__)

SYNC = b"\xa5\x5a"
HEADER_LEN = 7  # sync 2 + addr + cmd + seq + len 2
MAX_PAYLOAD = 512
REPLY_BIT = 0x80
BROADCAST = 0
MAX_ADDRESS = 247  # Modbus-style address range; 248-255 are reserved


class Cmd(IntEnum):
    PING = 0x01
    POLL = 0x02
    LED_TEXT = 0x10
    LED_CLEAR = 0x11
    LED_BRIGHT = 0x12
    KEY = 0x20
    KP_SHOW = 0x21
    BEEP = 0x22
    RATE_REQ = 0x30
    RATE_RES = 0x31
    NACK = 0x7F


class NackCode(IntEnum):
    """Why a device refuses a request. hallq's own numbering: PROTOCOLS.md only fixes the one-byte field."""

    UNKNOWN_CMD = 0x01
    BAD_PAYLOAD = 0x02
    BUSY = 0x03
    UNSUPPORTED = 0x04


class DeviceType(IntEnum):
    STRIP = 1
    KEYPAD = 2
    RATING_PAD = 3
    HALL_BOARD = 4


class Color(IntEnum):
    RED = 0
    GREEN = 1
    AMBER = 2


class Effect(IntEnum):
    STATIC = 0
    SCROLL_LEFT = 1
    FLASH = 2


class TextEncoding(IntEnum):
    GBK = 0
    UTF8 = 1


@dataclass(frozen=True, slots=True)
class Frame:
    addr: int
    cmd: int
    seq: int
    payload: bytes = b""

    @property
    def is_reply(self) -> bool:
        return bool(self.cmd & REPLY_BIT)

    @property
    def is_nack(self) -> bool:
        return self.cmd == Cmd.NACK

    def encode(self) -> bytes:
        return encode_frame(self.addr, self.cmd, self.seq, self.payload)


@dataclass(frozen=True, slots=True)
class RateResult:
    """A rating pad's answer: score 1..5 (5 = 非常满意), or 0 when the citizen did not press in time."""

    score: int
    ticket: str


Event = KeyEvent | RateResult


@dataclass(frozen=True, slots=True)
class PingInfo:
    device_type: int
    firmware: int
    caps: int


@dataclass(frozen=True, slots=True)
class LedText:
    text: str
    area: int = 0
    color: int = Color.RED
    effect: int = Effect.STATIC
    speed: int = 5
    hold_s: int = 0
    enc: int = TextEncoding.GBK


def crc16_modbus(data: bytes, crc: int = 0xFFFF) -> int:
    """CRC-16/MODBUS (reflected poly 0xA001, init 0xFFFF), bitwise: frames are short and the line slow."""
    for byte in data:
        crc ^= byte
        for _ in range(8):
            crc = (crc >> 1) ^ 0xA001 if crc & 1 else crc >> 1
    return crc


def _u8(name: str, value: int) -> int:
    if not 0 <= value <= 0xFF:
        raise ValueError(f"HQP/1 {name} must be 0..255, got {value}")
    return value


def encode_frame(addr: int, cmd: int, seq: int, payload: bytes = b"") -> bytes:
    """One complete frame, sync to CRC."""
    if len(payload) > MAX_PAYLOAD:
        raise ValueError(f"HQP/1 payload is at most {MAX_PAYLOAD} bytes, got {len(payload)}")
    body = struct.pack("<BBBH", _u8("addr", addr), _u8("cmd", cmd), _u8("seq", seq), len(payload)) + payload
    return SYNC + body + struct.pack("<H", crc16_modbus(body))


class FrameDecoder(ResyncDecoder):
    """Streaming decoder: feed whatever the port returned, get the complete valid frames found so far.

    There is no end byte and no stuffing, so `A5 5A` may occur inside a payload; after a bad CRC or an
    impossible LEN we drop only the first byte of the false sync and rescan, so a real frame that started
    inside the rejected bytes is still found.
    """

    def __init__(self) -> None:
        super().__init__()
        self.crc_errors = 0

    def feed(self, data: bytes) -> list[Frame]:
        self._buf += data
        frames: list[Frame] = []
        buf = self._buf
        while self._skip_to(SYNC):
            if len(buf) < HEADER_LEN:
                break
            (length,) = struct.unpack_from("<H", buf, 5)
            if length > MAX_PAYLOAD:
                self._drop(1)
                continue
            total = HEADER_LEN + length + 2
            if len(buf) < total:
                break
            body = bytes(buf[2 : HEADER_LEN + length])
            (crc,) = struct.unpack_from("<H", buf, HEADER_LEN + length)
            if crc16_modbus(body) != crc:
                self.crc_errors += 1
                self._drop(1)
                continue
            frames.append(Frame(body[0], body[1], body[2], body[5:]))
            del buf[:total]
        return frames


# --- payloads ----------------------------------------------------------------------------------------------


def encode_board_text(text: str, enc: int = TextEncoding.GBK, *, replacement: str = "?") -> bytes:
    """Text as a board expects it. Characters outside GBK become `replacement` rather than failing the call:
    a window must still show the ticket number if a name has a rare character."""
    if enc == TextEncoding.UTF8:
        return text.encode("utf-8")
    if enc != TextEncoding.GBK:
        raise ValueError(f"unknown HQP/1 text encoding {enc}")
    out = bytearray()
    for ch in text:
        try:
            out += ch.encode("gbk")
        except UnicodeEncodeError:
            out += replacement.encode("gbk")
    return bytes(out)


def decode_board_text(data: bytes, enc: int) -> str:
    return data.decode("utf-8" if enc == TextEncoding.UTF8 else "gbk", errors="replace")


def encode_ping_reply(info: PingInfo) -> bytes:
    return bytes([_u8("type", info.device_type), _u8("fw", info.firmware), _u8("caps", info.caps)])


def parse_ping_reply(payload: bytes) -> PingInfo:
    if len(payload) != 3:
        raise ProtocolError(f"HQP/1 PING reply needs 3 bytes (type, fw, caps), got {payload.hex(' ')}")
    return PingInfo(payload[0], payload[1], payload[2])


def _ascii(name: str, text: str) -> bytes:
    try:
        return text.encode("ascii")
    except UnicodeEncodeError:
        raise ValueError(f"HQP/1 {name} must be ASCII, got {text!r}") from None


def encode_key(event: KeyEvent) -> bytes:
    return bytes([_u8("key code", event.code)]) + _ascii("key digits", event.digits)


def parse_key(payload: bytes) -> KeyEvent:
    if not payload:
        raise ProtocolError("HQP/1 KEY event without a key code")
    code = payload[0]
    known = code in KeyCode._value2member_map_
    return KeyEvent(KeyCode(code) if known else code, payload[1:].decode("ascii", errors="replace"))


def encode_rate_res(result: RateResult) -> bytes:
    if not 0 <= result.score <= 5:
        raise ValueError(f"HQP/1 rating score must be 0..5, got {result.score}")
    return bytes([result.score]) + _ascii("ticket", result.ticket)


def parse_rate_res(payload: bytes) -> RateResult:
    if not payload or payload[0] > 5:
        raise ProtocolError(f"HQP/1 RATE_RES needs a score 0..5, got {payload.hex(' ')}")
    return RateResult(payload[0], payload[1:].decode("ascii", errors="replace"))


def encode_poll_reply(event: Event | None) -> bytes:
    """A POLL reply carries one event with its CMD byte first, or nothing (an empty ACK)."""
    if event is None:
        return b""
    if isinstance(event, KeyEvent):
        return bytes([Cmd.KEY]) + encode_key(event)
    return bytes([Cmd.RATE_RES]) + encode_rate_res(event)


def parse_poll_reply(payload: bytes) -> Event | None:
    if not payload:
        return None
    if payload[0] == Cmd.KEY:
        return parse_key(payload[1:])
    if payload[0] == Cmd.RATE_RES:
        return parse_rate_res(payload[1:])
    raise ProtocolError(f"HQP/1 POLL reply with unknown event type {payload[0]:02X}")


def encode_led_text(t: LedText, *, replacement: str = "?") -> bytes:
    if not 1 <= t.speed <= 9:
        raise ValueError(f"HQP/1 LED speed must be 1..9, got {t.speed}")
    head = bytes(
        [_u8("area", t.area), _u8("color", t.color), _u8("effect", t.effect), t.speed, _u8("hold", t.hold_s)]
    )
    body = head + bytes([_u8("enc", t.enc)]) + encode_board_text(t.text, t.enc, replacement=replacement)
    if len(body) > MAX_PAYLOAD:
        raise ValueError(f"LED text too long for one HQP/1 frame ({len(body)} > {MAX_PAYLOAD} bytes)")
    return body


def parse_led_text(payload: bytes) -> LedText:
    if len(payload) < 6:
        raise ProtocolError(f"HQP/1 LED_TEXT needs 6 header bytes, got {payload.hex(' ')}")
    area, color, effect, speed, hold_s, enc = payload[:6]
    return LedText(decode_board_text(payload[6:], enc), area, color, effect, speed, hold_s, enc)


def encode_led_clear(area: int = 0) -> bytes:
    return bytes([_u8("area", area)])


def parse_led_clear(payload: bytes) -> int:
    if len(payload) != 1:
        raise ProtocolError(f"HQP/1 LED_CLEAR needs 1 byte (area), got {payload.hex(' ')}")
    return payload[0]


def encode_led_bright(level: int) -> bytes:
    if not 0 <= level <= 15:
        raise ValueError(f"HQP/1 brightness must be 0..15, got {level}")
    return bytes([level])


def parse_led_bright(payload: bytes) -> int:
    if len(payload) != 1 or payload[0] > 15:
        raise ProtocolError(f"HQP/1 LED_BRIGHT needs one byte 0..15, got {payload.hex(' ')}")
    return payload[0]


def encode_kp_show(ticket: str, waiting: int) -> bytes:
    # Counts above the u16 range are clamped: the keypad shows "many", not a wrapped small number.
    return _ascii("ticket", ticket) + struct.pack("<H", max(0, min(waiting, 0xFFFF)))


def parse_kp_show(payload: bytes) -> tuple[str, int]:
    if len(payload) < 2:
        raise ProtocolError(f"HQP/1 KP_SHOW needs a u16 waiting count, got {payload.hex(' ')}")
    (waiting,) = struct.unpack_from("<H", payload, len(payload) - 2)
    return payload[:-2].decode("ascii", errors="replace"), waiting


def encode_rate_req(ticket: str, timeout_s: int) -> bytes:
    return bytes([max(1, min(int(timeout_s), 255))]) + _ascii("ticket", ticket)


def parse_rate_req(payload: bytes) -> tuple[str, int]:
    if not payload:
        raise ProtocolError("HQP/1 RATE_REQ without a timeout byte")
    return payload[1:].decode("ascii", errors="replace"), payload[0]


def encode_nack(code: int) -> bytes:
    return bytes([_u8("nack code", code)])


def parse_nack(payload: bytes) -> int:
    if len(payload) != 1:
        raise ProtocolError(f"HQP/1 NACK needs one code byte, got {payload.hex(' ')}")
    return payload[0]
