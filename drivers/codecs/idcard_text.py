"""The 居民身份证 text block (PROTOCOLS.md §6), the 256 bytes a SAM reads from a card in clear. Pure: no I/O.

UTF-16LE fields, each padded with spaces to its size. `split_text`/`join_text` convert exactly (the emulator
builds its cards with `join_text`); `parse_text` interprets the fields as an `IdCard` whose GB 11643 check,
birth-date and sex cross-checks are fields, and drops the address. Other card kinds keep a mark in the
reserved area: they are an `UnsupportedCard`, never guessed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from drivers.base import ProtocolError
from hallcore import idnumber

TEXT_LEN = 256

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
