"""ID card readers' SAM frames and the 居民身份证 text block (PROTOCOLS.md §6). Pure: no I/O.

Frame: ``AA AA AA 96 69 | LEN u16 BE | body | check``; LEN counts the bytes after it, check included; the
check is the XOR of the two LEN bytes and the body (not the preamble). Command body ``CMD PARA [data]``,
reply body ``SW1 SW2 SW3 [data]`` where SW3 is the SAM's result. The read reply carries the 256-byte text
block (`drivers.codecs.idcard_text`) and the 1,024-byte photo: the photo (encrypted, for the vendor's
decoder) and the address are dropped here, so nothing above this module can keep or forward them.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from drivers.base import ProtocolError

# The text block lives in idcard_text; its names are re-exported here, the codec's one entry point.
from drivers.codecs.idcard_text import (
    CARD_KIND_MARKS,
    LAYOUT,
    LONG_TERM,
    NATIONS,
    TEXT_LEN,
    IdCard,
    Sex,
    TextFields,
    UnsupportedCard,
    card_of_fields,
    join_text,
    parse_text,
    split_text,
)
from drivers.codecs.resync import ResyncDecoder

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2
MIN_LENGTH = 3  # the shortest frame after LEN: a command's CMD PARA + check
# The longest reply a SAM sends is text + photo + fingerprints (2,321 bytes); anything longer is a false
# preamble in garbage, and waiting for 64 KiB that never come would stall the line.
MAX_LENGTH = 4096
PHOTO_LEN = 1024


def check_byte(length_and_body: bytes | bytearray) -> int:
    out = 0
    for b in length_and_body:
        out ^= b
    return out


def encode_frame(body: bytes) -> bytes:
    """The frame around `body`: preamble, LEN, body, check."""
    if len(body) + 1 > MAX_LENGTH:
        raise ValueError(f"a SAM frame body is at most {MAX_LENGTH - 1} bytes, not {len(body)}")
    head = struct.pack(">H", len(body) + 1) + body
    return PREAMBLE + head + bytes([check_byte(head)])


@dataclass(frozen=True, slots=True)
class Command:
    cmd: int
    para: int
    data: bytes = b""

    def encode(self) -> bytes:
        return encode_frame(bytes([self.cmd, self.para]) + self.data)


RESET_SAM = Command(0x10, 0xFF)
SAM_STATUS = Command(0x11, 0xFF)
FIND_CARD = Command(0x20, 0x01)
SELECT_CARD = Command(0x20, 0x02)
READ_TEXT_PHOTO = Command(0x30, 0x01)
COMMAND_NAMES = {
    RESET_SAM: "reset SAM",
    SAM_STATUS: "SAM status",
    FIND_CARD: "find card",
    SELECT_CARD: "select card",
    READ_TEXT_PHOTO: "read text and photo",
}


class SamResult(IntEnum):
    """SW3, the SAM's result code (PROTOCOLS.md §6)."""

    OK = 0x90
    NO_SUCH_ITEM = 0x91
    CARD_FOUND = 0x9F
    NO_CARD = 0x80
    SELECT_FAILED = 0x81
    READ_FAILED = 0x41
    CARD_TYPE_UNKNOWN = 0x40
    BAD_CHECK = 0x10
    BAD_LENGTH = 0x11
    BAD_COMMAND = 0x21
    NOT_PERMITTED = 0x23
    UNKNOWN_ERROR = 0x24
    CARD_AUTH_FAILED = 0x31
    SAM_AUTH_FAILED = 0x32
    VERIFY_FAILED = 0x33
    BAD_INFO_LENGTH = 0x3F
    RANDOM_FAILED = 0x47
    SAM_SELF_TEST_FAILED = 0x60
    SAM_NOT_AUTHORISED = 0x66


class Outcome(StrEnum):
    """What a result means for the reader loop."""

    OK = "ok"  # 90, and 9F to a find
    NO_CARD = "no card"
    CARD_FAULT = "card fault"  # this card, this placement: ask the citizen to lift it and place it again
    SAM_FAULT = "SAM fault"  # the reader itself: unavailable until the SAM answers status OK again
    COMMAND_FAULT = "command fault"  # the SAM refused our frame (a garbled line, or a bug): ask again
    UNKNOWN = "unknown result"


_RESULTS: dict[SamResult, tuple[Outcome, str]] = {
    SamResult.OK: (Outcome.OK, "成功 ok"),
    SamResult.CARD_FOUND: (Outcome.OK, "找到卡 card found"),
    SamResult.NO_CARD: (Outcome.NO_CARD, "无卡 no card found"),
    SamResult.NO_SUCH_ITEM: (Outcome.CARD_FAULT, "卡中无此项内容 no such item on the card"),
    SamResult.SELECT_FAILED: (Outcome.CARD_FAULT, "选卡失败 select failed"),
    SamResult.READ_FAILED: (Outcome.CARD_FAULT, "读卡失败 read failed"),
    SamResult.CARD_TYPE_UNKNOWN: (Outcome.CARD_FAULT, "无法识别的卡类型 card type not recognised"),
    SamResult.CARD_AUTH_FAILED: (Outcome.CARD_FAULT, "卡认证SAM失败 card-SAM authentication failed"),
    SamResult.SAM_AUTH_FAILED: (Outcome.CARD_FAULT, "SAM认证卡失败 SAM-card authentication failed"),
    SamResult.VERIFY_FAILED: (Outcome.CARD_FAULT, "信息验证失败 verification failed"),
    SamResult.BAD_INFO_LENGTH: (Outcome.CARD_FAULT, "信息长度错误 bad information length"),
    SamResult.RANDOM_FAILED: (Outcome.CARD_FAULT, "取随机数失败 random number failed"),
    SamResult.BAD_CHECK: (Outcome.COMMAND_FAULT, "命令校验和错 bad check byte in the command"),
    SamResult.BAD_LENGTH: (Outcome.COMMAND_FAULT, "命令长度错 bad command length"),
    SamResult.BAD_COMMAND: (Outcome.COMMAND_FAULT, "命令错误 bad command"),
    SamResult.NOT_PERMITTED: (Outcome.COMMAND_FAULT, "越权操作 operation not permitted"),
    SamResult.UNKNOWN_ERROR: (Outcome.SAM_FAULT, "无法识别的错误 unknown SAM error"),
    SamResult.SAM_SELF_TEST_FAILED: (Outcome.SAM_FAULT, "SAM自检失败 SAM self-test failed"),
    SamResult.SAM_NOT_AUTHORISED: (Outcome.SAM_FAULT, "SAM未经授权 SAM not authorised"),
}


@dataclass(frozen=True, slots=True)
class Reply:
    sw1: int
    sw2: int
    sw3: int
    data: bytes = b""

    def encode(self) -> bytes:
        return encode_frame(bytes([self.sw1, self.sw2, self.sw3]) + self.data)

    @property
    def result(self) -> SamResult | None:
        return SamResult(self.sw3) if self.sw3 in SamResult._value2member_map_ else None

    @property
    def outcome(self) -> Outcome:
        result = self.result
        return Outcome.UNKNOWN if result is None else _RESULTS[result][0]

    @property
    def status_hex(self) -> str:
        return f"{self.sw1:02X} {self.sw2:02X} {self.sw3:02X}"

    def describe(self) -> str:
        """The result in hall words; an unknown one with its three status bytes, for the log."""
        result = self.result
        if result is None:
            return f"未知结果 unknown result (SW {self.status_hex})"
        return _RESULTS[result][1]


def reply(result: SamResult, data: bytes = b"") -> Reply:
    return Reply(0x00, 0x00, result, data)


class FrameDecoder(ResyncDecoder):
    """Streaming decoder: feed what the link returned, get the bodies of the complete valid frames so far.

    Readers send garbage at power-up and the preamble may occur inside a photo, so after an impossible LEN
    or a bad check only the first byte of the false preamble is dropped and the scan goes on: a real frame
    that started inside the rejected bytes is still found.
    """

    def __init__(self) -> None:
        super().__init__()
        self.bad_checks = 0

    @property
    def pending(self) -> int:
        """Bytes held while waiting for the rest of a frame (or of a preamble)."""
        return len(self._buf)

    def wanted(self) -> int:
        """The fewest bytes that can complete the frame being received: a reader asks the link for exactly
        these, so it never waits for bytes that are not coming and never reads past the frame's end."""
        buf = self._buf
        if len(buf) >= HEADER_LEN and buf.startswith(PREAMBLE):
            length = int.from_bytes(buf[len(PREAMBLE) : HEADER_LEN], "big")
            return max(1, HEADER_LEN + length - len(buf))
        return max(1, HEADER_LEN + MIN_LENGTH - len(buf))

    def feed(self, data: bytes) -> list[bytes]:
        self._buf += data
        bodies: list[bytes] = []
        buf = self._buf
        while self._skip_to(PREAMBLE):
            if len(buf) < HEADER_LEN:
                break
            (length,) = struct.unpack_from(">H", buf, len(PREAMBLE))
            if not MIN_LENGTH <= length <= MAX_LENGTH:
                self._drop(1)
                continue
            total = HEADER_LEN + length
            if len(buf) < total:
                break
            if check_byte(buf[len(PREAMBLE) : total - 1]) != buf[total - 1]:
                self.bad_checks += 1
                self._drop(1)
                continue
            bodies.append(bytes(buf[HEADER_LEN : total - 1]))
            del buf[:total]
        return bodies


def parse_reply(body: bytes) -> Reply:
    if len(body) < 3:
        raise ProtocolError(f"a SAM reply has SW1 SW2 SW3; got {body.hex(' ')}")
    return Reply(body[0], body[1], body[2], body[3:])


def parse_command(body: bytes) -> Command:
    if len(body) < 2:
        raise ProtocolError(f"a SAM command has CMD PARA; got {body.hex(' ')}")
    return Command(body[0], body[1], body[2:])


def read_reply_data(text: bytes, photo: bytes) -> bytes:
    """The data of a read reply: text length, photo length (u16 BE each), text, photo."""
    return struct.pack(">HH", len(text), len(photo)) + text + photo


def text_of_read(data: bytes) -> bytes:
    """The 256-byte text block of a read reply's data; the photo is dropped."""
    if len(data) < 4:
        raise ProtocolError(f"a read reply's data starts with two lengths; got {len(data)} bytes")
    text_len, photo_len = struct.unpack_from(">HH", data)
    if len(data) != 4 + text_len + photo_len:
        raise ProtocolError(
            f"read reply of {len(data)} data bytes does not match its lengths (text {text_len}, "
            f"photo {photo_len})"
        )
    if text_len != TEXT_LEN:
        raise ProtocolError(f"a text block of {text_len} bytes; the 居民身份证 layout has {TEXT_LEN}")
    return data[4 : 4 + TEXT_LEN]


def parse_read_reply(reply_: Reply) -> IdCard | UnsupportedCard:
    """The card in a successful read reply (photo and address dropped); ProtocolError for a broken one."""
    if reply_.result is not SamResult.OK:
        raise ProtocolError(f"not a successful read: {reply_.describe()}")
    return parse_text(text_of_read(reply_.data))


__all__ = [
    "CARD_KIND_MARKS",
    "COMMAND_NAMES",
    "FIND_CARD",
    "LAYOUT",
    "LONG_TERM",
    "NATIONS",
    "PHOTO_LEN",
    "PREAMBLE",
    "READ_TEXT_PHOTO",
    "RESET_SAM",
    "SAM_STATUS",
    "SELECT_CARD",
    "TEXT_LEN",
    "Command",
    "FrameDecoder",
    "IdCard",
    "Outcome",
    "Reply",
    "SamResult",
    "Sex",
    "TextFields",
    "UnsupportedCard",
    "card_of_fields",
    "check_byte",
    "encode_frame",
    "join_text",
    "parse_command",
    "parse_read_reply",
    "parse_reply",
    "parse_text",
    "read_reply_data",
    "reply",
    "split_text",
    "text_of_read",
]
