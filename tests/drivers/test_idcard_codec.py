"""The SAM frame codec and the 居民身份证 text block: every vector of PROTOCOLS.md §6 byte for byte both
ways (tests/drivers/vectors, copied from the brief), a stream cut anywhere with garbage between frames, round
trips, and the checks a bad card must fail."""

from __future__ import annotations

import dataclasses
import datetime as dt
import random
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.base import ProtocolError
from drivers.codecs import idcard as c
from drivers.codecs.idcard import FrameDecoder, Outcome, Reply, SamResult, TextFields
from hallcore import idnumber

VECTORS = Path(__file__).parent / "vectors"
COMMANDS = {
    "reset_sam": c.RESET_SAM,
    "sam_status": c.SAM_STATUS,
    "find": c.FIND_CARD,
    "select": c.SELECT_CARD,
    "read_text_photo": c.READ_TEXT_PHOTO,
}
REPLIES = {
    "find ok": c.reply(SamResult.CARD_FOUND, bytes(4)),
    "find no card": c.reply(SamResult.NO_CARD),
    "select ok": c.reply(SamResult.OK, bytes(8)),
    "select fail": c.reply(SamResult.SELECT_FAILED),
    "sam ok": c.reply(SamResult.OK),
    "read fail": c.reply(SamResult.READ_FAILED),
}


def vector_lines() -> list[tuple[str, str, bytes]]:
    out = []
    for line in (VECTORS / "idcard-commands.txt").read_text("utf-8").splitlines():
        head, _, hexes = line.partition(":")
        kind, _, name = head.partition(" ")
        out.append((kind, name, bytes.fromhex(hexes)))
    return out


def read_reply(n: int = 1) -> bytes:
    name = "idcard-read-reply.hex" if n == 1 else "idcard-read-reply-2.hex"
    return bytes.fromhex((VECTORS / name).read_text("ascii"))


def test_the_vector_file_is_fully_covered() -> None:
    lines = vector_lines()
    assert {name for kind, name, _ in lines if kind == "cmd"} == set(COMMANDS)
    assert {name for kind, name, _ in lines if kind == "reply"} == set(REPLIES)


@pytest.mark.parametrize(("kind", "name", "raw"), vector_lines(), ids=lambda v: str(v)[:20])
def test_short_vectors_both_ways(kind: str, name: str, raw: bytes) -> None:
    [body] = FrameDecoder().feed(raw)
    if kind == "cmd":
        assert COMMANDS[name].encode() == raw
        assert c.parse_command(body) == COMMANDS[name]
    else:
        assert REPLIES[name].encode() == raw
        assert c.parse_reply(body) == REPLIES[name]


def test_read_replies_both_ways() -> None:
    for n in (1, 2):
        raw = read_reply(n)
        assert len(raw) == 1295
        [body] = FrameDecoder().feed(raw)
        reply = c.parse_reply(body)
        assert reply.result is SamResult.OK
        assert reply.encode() == raw
        text = c.text_of_read(reply.data)
        # Re-built from the fields as parsed (address included): the same 256 bytes, so the emulator's cards
        # built from JSON speak exactly what a card holds.
        assert c.join_text(c.split_text(text)) == text
        assert c.reply(SamResult.OK, c.read_reply_data(text, reply.data[4 + 256 :])).encode() == raw


def test_vector_cards_parse_into_typed_records() -> None:
    one = c.parse_read_reply(c.parse_reply(FrameDecoder().feed(read_reply(1))[0]))
    assert isinstance(one, c.IdCard)
    assert (one.name, one.sex, one.nation_code, one.nation) == ("张三", c.Sex.MALE, "01", "汉族")
    assert one.birth_date == dt.date(1955, 3, 15)
    assert one.id_number == "341524195503151231"
    assert one.authority == "金寨县公安局"
    assert (one.valid_from, one.valid_to, one.long_term) == (dt.date(2015, 6, 1), None, True)
    assert one.check_ok
    assert one.birth_matches
    assert one.sex_matches
    assert one.number_ok
    assert not one.expired(dt.date(2099, 1, 1))
    assert one.problems(dt.date(2099, 1, 1)) == []
    two = c.parse_read_reply(c.parse_reply(FrameDecoder().feed(read_reply(2))[0]))
    assert isinstance(two, c.IdCard)
    assert (two.name, two.sex, two.nation) == ("王堃喆", c.Sex.FEMALE, "藏族")
    assert (two.birth_date, two.valid_to, two.long_term) == (dt.date(1998, 7, 11), dt.date(2028, 8, 1), False)
    assert two.number_ok
    assert not two.expired(dt.date(2028, 8, 1))
    assert two.expired(dt.date(2028, 8, 2))
    assert two.problems(dt.date(2028, 8, 2)) == ["证件已过有效期 the card has expired"]


def test_address_and_photo_never_reach_the_record() -> None:
    card = c.parse_read_reply(c.parse_reply(FrameDecoder().feed(read_reply(1))[0]))
    values = [str(getattr(card, f.name)) for f in dataclasses.fields(card)]
    assert not any("金寨县梅山镇" in v or "红军路" in v for v in values)
    assert "address" not in {f.name for f in dataclasses.fields(card)}
    assert "photo" not in " ".join(f.name for f in dataclasses.fields(card))
    # The repr (what a careless log line would show) masks the name and the number.
    assert repr(card) == "IdCard(name='张*', id_number='…1231', check_ok=True, birth_matches=True)"
    assert "341524195503151231" not in f"{card}"


def test_every_result_code_has_a_typed_outcome() -> None:
    for result in SamResult:
        r = c.reply(result)
        assert r.result is result
        assert r.outcome is not Outcome.UNKNOWN
        assert r.describe()
    assert c.reply(SamResult.READ_FAILED).outcome is Outcome.CARD_FAULT
    assert c.reply(SamResult.NO_CARD).outcome is Outcome.NO_CARD
    assert c.reply(SamResult.SAM_SELF_TEST_FAILED).outcome is Outcome.SAM_FAULT
    assert c.reply(SamResult.BAD_CHECK).outcome is Outcome.COMMAND_FAULT
    odd = Reply(0x12, 0x34, 0x56)
    assert odd.result is None
    assert odd.outcome is Outcome.UNKNOWN
    assert "12 34 56" in odd.describe()


def test_stream_in_every_split_with_garbage_between_frames() -> None:
    rng = random.Random(17)
    frames = [read_reply(1), REPLIES["find ok"].encode(), read_reply(2), REPLIES["find no card"].encode()]
    # Power-up garbage, a truncated false preamble, a frame with a bad check, a lone AA: all skipped.
    bad_check = bytearray(REPLIES["sam ok"].encode())
    bad_check[-1] ^= 0xFF
    garbage = [
        bytes(rng.randrange(256) for _ in range(37)),
        c.PREAMBLE[:4],
        bytes(bad_check),
        b"\xaa",
        c.PREAMBLE + b"\xff\xff",  # an impossible length
    ]
    stream = b"".join(g + f for g, f in zip(garbage, [*frames, b""], strict=True))
    want = [c.parse_reply(FrameDecoder().feed(f)[0]) for f in frames]
    splits: dict[str, list[int]] = {
        "1-byte": [1] * len(stream),
        "7-byte": [7] * (len(stream) // 7 + 1),
        "random": [rng.randrange(1, 300) for _ in range(len(stream))],
    }
    for name, sizes in splits.items():
        decoder = FrameDecoder()
        got: list[Reply] = []
        pos = 0
        for size in sizes:
            got += [c.parse_reply(b) for b in decoder.feed(stream[pos : pos + size])]
            pos += size
            if pos >= len(stream):
                break
        assert got == want, name
        assert decoder.bad_checks >= 1, name
        assert decoder.pending < len(c.PREAMBLE) + 2, name


def test_a_frame_hidden_behind_a_false_preamble_is_found() -> None:
    good = REPLIES["sam ok"].encode()
    # A false preamble whose length would swallow the real frame: its check fails, the real one is found.
    false = c.PREAMBLE + b"\x00\x10" + b"\x01\x02"
    assert [c.parse_reply(b) for b in FrameDecoder().feed(false + good + bytes(20))] == [REPLIES["sam ok"]]


def test_broken_bodies_and_blocks_are_protocol_errors() -> None:
    with pytest.raises(ProtocolError, match="SW1 SW2 SW3"):
        c.parse_reply(b"\x00\x00")
    with pytest.raises(ProtocolError, match="CMD PARA"):
        c.parse_command(b"\x20")
    with pytest.raises(ProtocolError, match="does not match its lengths"):
        c.text_of_read(c.read_reply_data(bytes(256), bytes(1024))[:-1])
    with pytest.raises(ProtocolError, match="text block of 200 bytes"):
        c.text_of_read(c.read_reply_data(bytes(200), b""))
    with pytest.raises(ProtocolError, match="not a successful read"):
        c.parse_read_reply(c.reply(SamResult.READ_FAILED))
    with pytest.raises(ProtocolError, match="256 bytes"):
        c.split_text(bytes(255))
    lone_surrogate = b"\x00\xd8" + " ".encode("utf-16-le") * 14 + c.join_text(TextFields())[30:]
    with pytest.raises(ProtocolError, match="text field name is not UTF-16"):
        c.split_text(lone_surrogate)
    with pytest.raises(ValueError, match="at most 15"):
        c.join_text(TextFields(name="张" * 16))


def fields(**kw: str) -> TextFields:
    base = {
        "name": "李四",
        "sex": "1",
        "nation": "01",
        "birth": "19900307",
        "address": "北京市东城区某街1号",
        "id_number": idnumber.complete("11010119900307123"),
        "authority": "北京市公安局东城分局",
        "valid_from": "20200101",
        "valid_to": "20400101",
    }
    return TextFields(**{**base, **kw})


def test_a_wrong_check_digit_is_reported() -> None:
    good = fields()
    assert idnumber.check_ok(good.id_number)
    number = good.id_number[:17] + ("0" if good.id_number[17] != "0" else "1")
    card = c.parse_text(c.join_text(fields(id_number=number)))
    assert isinstance(card, c.IdCard)
    assert not card.check_ok
    assert card.birth_matches  # only the check character is wrong
    assert not card.number_ok
    assert card.problems() == ["身份号码校验错误 the ID number fails its GB 11643 check"]


def test_a_birth_date_that_disagrees_with_the_number_is_reported() -> None:
    card = c.parse_text(c.join_text(fields(birth="19900308")))
    assert isinstance(card, c.IdCard)
    assert card.check_ok
    assert not card.birth_matches
    assert card.problems() == ["出生日期与身份号码不符 the birth date does not match the ID number"]
    nonsense = c.parse_text(c.join_text(fields(birth="19900231", valid_to="20401399")))
    assert isinstance(nonsense, c.IdCard)
    assert nonsense.birth_date is None
    assert not nonsense.birth_matches
    assert nonsense.valid_to is None
    assert not nonsense.long_term
    assert nonsense.expired(dt.date(2000, 1, 1))  # a validity that is not a date is not trusted


def test_sex_against_the_17th_digit_and_unknown_codes() -> None:
    woman = c.parse_text(c.join_text(fields(sex="2")))
    assert isinstance(woman, c.IdCard)
    assert woman.sex is c.Sex.FEMALE
    assert not woman.sex_matches  # ...123X: 3 is odd, a man's number
    unknown = c.parse_text(c.join_text(fields(sex="9", nation="77")))
    assert isinstance(unknown, c.IdCard)
    assert (unknown.sex, unknown.sex_matches, unknown.nation) == (c.Sex.UNKNOWN, False, "")


def test_other_card_kinds_are_refused_not_guessed() -> None:
    def with_mark(mark: str) -> c.IdCard | c.UnsupportedCard:
        return c.parse_text(c.join_text(fields(reserved=" " * 14 + mark)))

    hk = with_mark("J")
    assert hk == c.UnsupportedCard("港澳台居民居住证", "J")
    assert "不支持" in hk.describe()
    assert with_mark("I") == c.UnsupportedCard("外国人永久居留身份证", "I")
    odd = with_mark("Q")
    assert odd == c.UnsupportedCard("", "Q")
    assert "not recognised" in odd.describe()
    assert isinstance(c.parse_text(c.join_text(fields(reserved="X"))), c.UnsupportedCard)


def test_every_gb3304_code() -> None:
    assert len(c.NATIONS) == 58
    assert c.NATIONS["01"] == "汉族"
    assert c.NATIONS["56"] == "基诺族"
    assert c.NATIONS["29"] == "柯尔克孜族"


# --- round trips ------------------------------------------------------------------------------------------

bodies = st.binary(min_size=2, max_size=c.MAX_LENGTH - 1)


@given(body=bodies, junk=st.binary(max_size=40).filter(lambda j: 0xAA not in j))
def test_frames_round_trip(body: bytes, junk: bytes) -> None:
    frame = c.encode_frame(body)
    assert frame[:5] == c.PREAMBLE
    assert int.from_bytes(frame[5:7], "big") == len(body) + 1
    # Junk with no preamble byte in it (garbage that holds one is in the stream test above).
    assert FrameDecoder().feed(junk + frame) == [body]


@given(cmd=st.integers(0, 255), para=st.integers(0, 255), data=st.binary(max_size=64))
def test_commands_round_trip(cmd: int, para: int, data: bytes) -> None:
    command = c.Command(cmd, para, data)
    assert c.parse_command(FrameDecoder().feed(command.encode())[0]) == command


@given(
    sw=st.tuples(st.integers(0, 255), st.integers(0, 255), st.integers(0, 255)), data=st.binary(max_size=64)
)
def test_replies_round_trip(sw: tuple[int, int, int], data: bytes) -> None:
    reply = Reply(*sw, data)
    assert c.parse_reply(FrameDecoder().feed(reply.encode())[0]) == reply


def field_text(units: int) -> st.SearchStrategy[str]:
    # Any BMP text without trailing padding that fits the field (surrogates would not be text).
    alphabet = st.characters(exclude_categories=["Cs"], max_codepoint=0xFFFF)
    return st.text(alphabet, max_size=units).map(lambda s: s.rstrip(" \x00"))


text_fields = st.builds(
    TextFields,
    **{name: field_text(size // 2) for name, size in c.LAYOUT},
)


@given(f=text_fields)
def test_text_blocks_round_trip(f: TextFields) -> None:
    block = c.join_text(f)
    assert len(block) == 256
    assert c.split_text(block) == f
    assert c.join_text(c.split_text(block)) == block


@given(
    body=st.from_regex(
        r"[1-6][0-9]{5}(19[5-9][0-9]|20[01][0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}",
        fullmatch=True,
    ),
    name=field_text(15).filter(bool),
    nation=st.sampled_from(sorted(c.NATIONS)),
)
def test_good_cards_read_back_as_good(body: str, name: str, nation: str) -> None:
    number = idnumber.complete(body)
    sex = "1" if int(number[16]) % 2 else "2"
    card = c.parse_text(
        c.join_text(fields(name=name, id_number=number, birth=number[6:14], sex=sex, nation=nation))
    )
    assert isinstance(card, c.IdCard)
    assert card.number_ok
    assert card.nation == c.NATIONS[nation]
    assert card.birth_date == idnumber.birth_date(number)
