"""ID card readers' SAM frames and the 居民身份证 text block (PROTOCOLS.md §6). Pure: no I/O.

Frame: ``AA AA AA 96 69 | LEN u16 BE | body | check``; LEN counts the bytes after it, check included; the
check is the XOR of the two LEN bytes and the body (not the preamble). Command body ``CMD PARA [data]``,
reply body ``SW1 SW2 SW3 [data]`` where SW3 is the SAM's result. The read reply carries the 256-byte text
block and the 1,024-byte photo: the photo (encrypted, for the vendor's decoder) and the address are dropped
here, so nothing above this module can keep or forward them.
"""

from __future__ import annotations

import datetime as dt
import struct
from dataclasses import dataclass
from enum import IntEnum, StrEnum

from drivers.base import ProtocolError
from hallcore import idnumber

PREAMBLE = b"\xaa\xaa\xaa\x96\x69"
HEADER_LEN = len(PREAMBLE) + 2
MIN_LENGTH = 3  # the shortest frame after LEN: a command's CMD PARA + check
# The longest reply a SAM sends is text + photo + fingerprints (2,321 bytes); anything longer is a false
# preamble in garbage, and waiting for 64 KiB that never come would stall the line.
MAX_LENGTH = 4096
TEXT_LEN = 256
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


class FrameDecoder:
    """Streaming decoder: feed what the link returned, get the bodies of the complete valid frames so far.

    Readers send garbage at power-up and the preamble may occur inside a photo, so after an impossible LEN
    or a bad check only the first byte of the false preamble is dropped and the scan goes on: a real frame
    that started inside the rejected bytes is still found.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.dropped_bytes = 0
        self.bad_checks = 0

    def reset(self) -> None:
        self._buf.clear()

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
        while True:
            start = buf.find(PREAMBLE)
            if start < 0:
                keep = _partial_preamble(buf)
                self.dropped_bytes += len(buf) - keep
                del buf[: len(buf) - keep]
                return bodies
            if start:
                self.dropped_bytes += start
                del buf[:start]
            if len(buf) < HEADER_LEN:
                return bodies
            (length,) = struct.unpack_from(">H", buf, len(PREAMBLE))
            if not MIN_LENGTH <= length <= MAX_LENGTH:
                self.dropped_bytes += 1
                del buf[:1]
                continue
            total = HEADER_LEN + length
            if len(buf) < total:
                return bodies
            if check_byte(buf[len(PREAMBLE) : total - 1]) != buf[total - 1]:
                self.bad_checks += 1
                self.dropped_bytes += 1
                del buf[:1]
                continue
            bodies.append(bytes(buf[HEADER_LEN : total - 1]))
            del buf[:total]


def _partial_preamble(buf: bytearray) -> int:
    """How many trailing bytes of `buf` may be the start of a preamble split across reads."""
    for n in range(min(len(PREAMBLE) - 1, len(buf)), 0, -1):
        if buf[-n:] == PREAMBLE[:n]:
            return n
    return 0


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


# --- the text block ----------------------------------------------------------------------------------------

# (field, bytes) in card order; UTF-16LE, each padded with spaces to its size.
LAYOUT: tuple[tuple[str, int], ...] = (
    ("name", 30),
    ("sex", 2),
    ("nation", 4),
    ("birth", 16),
    ("address", 70),
    ("id_number", 36),
    ("authority", 30),
    ("valid_from", 16),
    ("valid_to", 16),
    ("reserved", 36),
)
LONG_TERM = "长期"
# Other card kinds keep a type mark where the resident card's reserved area is (its 125th character).
CARD_KIND_MARKS = {
    "J": "港澳台居民居住证",
    "I": "外国人永久居留身份证",
    "Y": "外国人永久居留身份证（2023版）",
}
_MARK_AT = 248


@dataclass(frozen=True, slots=True)
class TextFields:
    """The text block's fields as written on the card (padding removed), before any interpretation."""

    name: str = ""
    sex: str = ""
    nation: str = ""
    birth: str = ""
    address: str = ""
    id_number: str = ""
    authority: str = ""
    valid_from: str = ""
    valid_to: str = ""
    reserved: str = ""


def split_text(block: bytes) -> TextFields:
    if len(block) != TEXT_LEN:
        raise ProtocolError(f"a text block has {TEXT_LEN} bytes, not {len(block)}")
    values: dict[str, str] = {}
    pos = 0
    for name, size in LAYOUT:
        raw = block[pos : pos + size]
        pos += size
        try:
            values[name] = raw.decode("utf-16-le").rstrip(" \x00")
        except UnicodeDecodeError as e:
            raise ProtocolError(f"text field {name} is not UTF-16 ({raw.hex(' ')}): {e.reason}") from None
    return TextFields(**values)


def join_text(fields: TextFields) -> bytes:
    """The 256-byte block of `fields` (what a card holds); ValueError when a field does not fit."""
    out = bytearray()
    for name, size in LAYOUT:
        value = getattr(fields, name).encode("utf-16-le")
        if len(value) > size:
            raise ValueError(
                f"{name} takes at most {size // 2} UTF-16 units; {getattr(fields, name)!r} is longer"
            )
        out += value + " ".encode("utf-16-le") * ((size - len(value)) // 2)
    return bytes(out)


class Sex(StrEnum):
    MALE = "男"
    FEMALE = "女"
    UNKNOWN = "未知"


# GB/T 3304 民族名称的罗马字母拼写法和代码: the 56 nationalities, 97 other, 98 foreign-born Chinese citizens.
NATIONS: dict[str, str] = {
    f"{i:02d}": name
    for i, name in enumerate(
        [
            *(
                "汉族",
                "蒙古族",
                "回族",
                "藏族",
                "维吾尔族",
                "苗族",
                "彝族",
                "壮族",
                "布依族",
                "朝鲜族",
                "满族",
            ),
            *(
                "侗族",
                "瑶族",
                "白族",
                "土家族",
                "哈尼族",
                "哈萨克族",
                "傣族",
                "黎族",
                "傈僳族",
                "佤族",
                "畲族",
            ),
            *("高山族", "拉祜族", "水族", "东乡族", "纳西族", "景颇族", "柯尔克孜族", "土族", "达斡尔族"),
            *(
                "仫佬族",
                "羌族",
                "布朗族",
                "撒拉族",
                "毛南族",
                "仡佬族",
                "锡伯族",
                "阿昌族",
                "普米族",
                "塔吉克族",
            ),
            *("怒族", "乌孜别克族", "俄罗斯族", "鄂温克族", "德昂族", "保安族", "裕固族", "京族", "塔塔尔族"),
            *("独龙族", "鄂伦春族", "赫哲族", "门巴族", "珞巴族", "基诺族"),
        ],
        start=1,
    )
} | {"97": "其他", "98": "外国血统中国籍人士"}


@dataclass(frozen=True, slots=True)
class IdCard:
    """A 居民身份证 as read (never the photo or the address). The checks are fields, so a caller reports a bad
    card instead of trusting it. The name and number are personal data: callers must not log them; the repr
    masks both."""

    name: str
    sex: Sex
    nation_code: str
    nation: str  # GB 3304 name; "" for a code outside the table
    birth_date: dt.date | None  # None when the field is not a real date
    id_number: str
    authority: str
    valid_from: dt.date | None
    valid_to: dt.date | None  # None with long_term (长期), or when the field is not a real date
    long_term: bool
    check_ok: bool  # GB 11643: well formed and the 18th character is the check character
    birth_matches: bool  # characters 7-14 equal the birth-date field
    sex_matches: bool  # the 17th digit is odd for men, even for women

    @classmethod
    def from_fields(cls, f: TextFields) -> IdCard:
        number = f.id_number.strip().upper()
        birth = idnumber.parse_yyyymmdd(f.birth)
        sex = {"1": Sex.MALE, "2": Sex.FEMALE}.get(f.sex, Sex.UNKNOWN)
        male = idnumber.is_male(number)
        long_term = f.valid_to == LONG_TERM
        return cls(
            name=f.name.strip(),
            sex=sex,
            nation_code=f.nation,
            nation=NATIONS.get(f.nation, ""),
            birth_date=birth,
            id_number=number,
            authority=f.authority.strip(),
            valid_from=idnumber.parse_yyyymmdd(f.valid_from),
            valid_to=None if long_term else idnumber.parse_yyyymmdd(f.valid_to),
            long_term=long_term,
            check_ok=idnumber.check_ok(number),
            birth_matches=birth is not None and idnumber.birth_date(number) == birth,
            sex_matches=male is not None and sex is not Sex.UNKNOWN and male == (sex is Sex.MALE),
        )

    @property
    def number_ok(self) -> bool:
        """The number passes every check a reader can make: check character, birth date and sex."""
        return self.check_ok and self.birth_matches and self.sex_matches

    @property
    def birth_year(self) -> int | None:
        return None if self.birth_date is None else self.birth_date.year

    def expired(self, today: dt.date) -> bool:
        """Past its 有效期限 (an expired card is still identity for a queue ticket: the hall decides)."""
        return not self.long_term and (self.valid_to is None or self.valid_to < today)

    def problems(self, today: dt.date | None = None) -> list[str]:
        """What is wrong with the card, in hall words; empty for a good card."""
        out = []
        if not self.check_ok:
            out.append("身份号码校验错误 the ID number fails its GB 11643 check")
        if not self.birth_matches:
            out.append("出生日期与身份号码不符 the birth date does not match the ID number")
        if not self.sex_matches:
            out.append("性别与身份号码不符 the sex does not match the ID number")
        if today is not None and self.expired(today):
            out.append("证件已过有效期 the card has expired")
        return out

    def __repr__(self) -> str:
        return (
            f"IdCard(name='{self.name[:1]}*', id_number='…{self.id_number[-4:]}', "
            f"check_ok={self.check_ok}, birth_matches={self.birth_matches})"
        )

    __str__ = __repr__


@dataclass(frozen=True, slots=True)
class UnsupportedCard:
    """A card whose reserved area is not blank: another card kind, recognised by its mark or not at all."""

    kind: str  # 港澳台居民居住证, …, or "" when the mark is not one hallq knows
    mark: str

    def describe(self) -> str:
        if self.kind:
            return f"{self.kind}: 暂不支持此类证件 this card kind is not supported here"
        return f"无法识别的证件 card kind not recognised (mark {self.mark!r}); nothing was read from it"


def card_of_fields(fields: TextFields) -> IdCard | UnsupportedCard:
    """The card the fields describe; a non-blank reserved area means another layout, which is not guessed."""
    if fields.reserved.strip(" \x00"):
        offset = sum(size for name, size in LAYOUT[:-1])
        index = (_MARK_AT - offset) // 2
        mark = fields.reserved[index : index + 1] if len(fields.reserved) > index else ""
        return UnsupportedCard(CARD_KIND_MARKS.get(mark, ""), mark)
    return IdCard.from_fields(fields)


def parse_text(block: bytes) -> IdCard | UnsupportedCard:
    """The 256-byte text block as a card; the address is dropped here."""
    return card_of_fields(split_text(block))


def parse_read_reply(reply_: Reply) -> IdCard | UnsupportedCard:
    """The card in a successful read reply (photo and address dropped); ProtocolError for a broken one."""
    if reply_.result is not SamResult.OK:
        raise ProtocolError(f"not a successful read: {reply_.describe()}")
    return parse_text(text_of_read(reply_.data))
