"""HQP/1 codec: PROTOCOLS.md §2 vectors byte for byte, round trips, a decoder that survives a noisy line."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.base import ProtocolError
from drivers.codecs import hqp
from drivers.codecs.hqp import Cmd, Frame, FrameDecoder, LedText, RateResult
from drivers.protocols import KeyCode, KeyEvent


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def test_crc_check_value() -> None:
    assert hqp.crc16_modbus(b"123456789") == 0x4B37


def test_ping_vector() -> None:
    assert hqp.encode_frame(5, Cmd.PING, 2) == h("A5 5A 05 01 02 00 00 48 3C")


def test_led_text_vector() -> None:
    payload = hqp.encode_led_text(
        LedText("请A012号到5号窗口", area=0, color=hqp.Color.RED, effect=hqp.Effect.SCROLL_LEFT, speed=5)
    )
    assert hqp.encode_frame(5, Cmd.LED_TEXT, 1, payload) == h(
        "A5 5A 05 10 01 17 00 00 00 01 05 00 00 C7 EB 41 30 31 32 BA C5 B5 BD 35 BA C5 B4 B0 BF DA E4 F9"
    )


def test_led_text_vector_decodes() -> None:
    raw = h("A5 5A 05 10 01 17 00 00 00 01 05 00 00 C7 EB 41 30 31 32 BA C5 B5 BD 35 BA C5 B4 B0 BF DA E4 F9")
    (frame,) = FrameDecoder().feed(raw)
    assert (frame.addr, frame.cmd, frame.seq) == (5, Cmd.LED_TEXT, 1)
    assert hqp.parse_led_text(frame.payload).text == "请A012号到5号窗口"


def test_text_outside_gbk_is_replaced_not_fatal() -> None:
    # 堃 is GBK; an emoji or a CJK Extension B char is not.
    assert hqp.encode_board_text("张堃") == "张堃".encode("gbk")
    assert hqp.encode_board_text("A\U00020000号😀") == b"A?" + "号".encode("gbk") + b"?"
    assert hqp.encode_board_text("好", hqp.TextEncoding.UTF8) == "好".encode()


def test_payload_round_trips() -> None:
    assert hqp.parse_ping_reply(hqp.encode_ping_reply(hqp.PingInfo(2, 3, 1))) == hqp.PingInfo(2, 3, 1)
    assert hqp.parse_poll_reply(b"") is None
    key = KeyEvent(KeyCode.TRANSFER, "12")
    assert hqp.parse_poll_reply(hqp.encode_poll_reply(key)) == key
    assert hqp.encode_poll_reply(key) == h("20 05 31 32")
    rate = RateResult(5, "A012")
    assert hqp.parse_poll_reply(hqp.encode_poll_reply(rate)) == rate
    assert hqp.parse_led_clear(hqp.encode_led_clear(3)) == 3
    assert hqp.parse_led_bright(hqp.encode_led_bright(15)) == 15
    assert hqp.encode_kp_show("A012", 260) == b"A012\x04\x01"
    assert hqp.parse_kp_show(hqp.encode_kp_show("A012", 260)) == ("A012", 260)
    assert hqp.parse_rate_req(hqp.encode_rate_req("A012", 30)) == ("A012", 30)
    assert hqp.parse_nack(hqp.encode_nack(hqp.NackCode.BUSY)) == hqp.NackCode.BUSY
    login = hqp.parse_key(b"\x0812*3456")
    assert login == KeyEvent(KeyCode.LOGIN, "12*3456")
    assert isinstance(login.code, KeyCode)
    assert hqp.parse_key(b"\x7e") == KeyEvent(0x7E, "")


@pytest.mark.parametrize(
    ("fn", "arg"),
    [
        (hqp.encode_led_bright, 16),
        (hqp.encode_led_clear, 256),
    ],
)
def test_out_of_range_values_are_refused(fn: object, arg: int) -> None:
    with pytest.raises(ValueError, match="HQP/1"):
        fn(arg)  # type: ignore[operator]


def test_bad_payloads_raise_protocol_error() -> None:
    with pytest.raises(ProtocolError):
        hqp.parse_ping_reply(b"\x01")
    with pytest.raises(ProtocolError):
        hqp.parse_poll_reply(b"\x55")
    with pytest.raises(ProtocolError):
        hqp.parse_rate_res(b"\x09A1")
    with pytest.raises(ValueError, match="payload"):
        hqp.encode_frame(1, 1, 1, bytes(513))


frames_st = st.builds(
    Frame,
    addr=st.integers(0, 255),
    cmd=st.integers(0, 255),
    seq=st.integers(0, 255),
    payload=st.binary(max_size=hqp.MAX_PAYLOAD),
)


@given(frames_st)
def test_any_frame_round_trips(frame: Frame) -> None:
    assert FrameDecoder().feed(frame.encode()) == [frame]


@given(
    st.lists(st.tuples(frames_st, st.binary(max_size=40), st.booleans()), max_size=8),
    st.integers(1, 17),
    st.randoms(use_true_random=False),
)
def test_garbage_split_reads_and_bad_crcs_yield_exactly_the_valid_frames(
    items: list[tuple[Frame, bytes, bool]], chunk: int, rnd: random.Random
) -> None:
    stream = bytearray()
    expected: list[Frame] = []
    for frame, garbage, corrupt in items:
        # Garbage between frames, and sometimes a frame whose CRC is broken: both must vanish. The garbage
        # never contains a sync, so it cannot form a real frame by chance; the corrupted frame has one.
        stream += garbage.replace(b"\xa5", b"\x00")
        if corrupt:
            raw = bytearray(frame.encode())
            raw[-1] ^= 0xFF
            stream += raw
        else:
            stream += frame.encode()
            expected.append(frame)
    decoder = FrameDecoder()
    got: list[Frame] = []
    pos = 0
    while pos < len(stream):
        step = rnd.randint(1, chunk)
        got += decoder.feed(bytes(stream[pos : pos + step]))
        pos += step
    # A corrupted frame dropped one byte at a time may expose a payload that contains a valid frame; our
    # payloads are random, so we only demand that every valid frame comes out, in order.
    it = iter(got)
    assert all(any(g == e for g in it) for e in expected)
    if not any(c and hqp.SYNC in f.encode()[1:] for f, _, c in items):
        assert got == expected


def test_frames_with_bad_crc_between_valid_ones_are_dropped() -> None:
    good1 = hqp.encode_frame(1, Cmd.POLL, 7)
    good2 = hqp.encode_frame(2, Cmd.LED_TEXT, 8, hqp.encode_led_text(LedText("窗口")))
    bad = bytearray(hqp.encode_frame(3, Cmd.PING, 9))
    bad[-2] ^= 1
    huge_len = b"\xa5\x5a\x01\x01\x01\xff\xff"  # LEN 65535 > 512: rejected at once, not waited for
    stream = b"\x00\xa5\xff" + good1 + bytes(bad) + huge_len + b"\xa5" + good2 + b"\x5a\xa5"
    decoder = FrameDecoder()
    got: list[Frame] = []
    for i in range(len(stream)):
        got += decoder.feed(stream[i : i + 1])
    assert [(f.addr, f.seq) for f in got] == [(1, 7), (2, 8)]
    assert decoder.crc_errors == 1


def test_sync_inside_payload_does_not_hide_the_frame() -> None:
    inner = hqp.encode_frame(9, Cmd.BEEP, 1)
    # A false sync immediately before a real frame: its LEN points past the real frame, CRC fails, rescan.
    stream = b"\xa5\x5a\x01\x02\x03\x04\x00" + inner + bytes(8)
    assert FrameDecoder().feed(stream) == [Frame(9, Cmd.BEEP, 1)]
