"""Vendor RS-485 keypad codec: PROTOCOLS.md §3 test vectors byte for byte, key mapping and resync."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.codecs import vendor485 as v
from drivers.protocols import KeyCode, KeyEvent


def h(text: str) -> bytes:
    return bytes.fromhex(text)


def test_display_ticket_vector() -> None:
    assert v.encode_display(1, ticket="012") == h("FF 68 08 08 68 01 02 0A 0A 0A 00 01 02 24 16")


def test_display_waiting_vector() -> None:
    assert v.encode_display(1, waiting=5) == h("FF 68 08 08 68 01 02 00 00 05 0A 0A 0A 26 16")


def test_beep_vector() -> None:
    assert v.encode_beep(3) == h("FF 68 02 02 68 03 03 06 16")


def test_display_uses_last_three_digits_and_caps_the_count() -> None:
    assert v.encode_display(1, waiting=1234, ticket="A1012") == v.encode_frame(
        1, 2, bytes([9, 9, 9, 0, 1, 2])
    )


def keypad(addr: int, *data: int, func: int = 0x01) -> v.VendorFrame:
    return v.VendorFrame(addr, func, bytes(data))


@pytest.mark.parametrize(
    ("data", "event"),
    [
        ((0x0C,), KeyEvent(KeyCode.NEXT)),
        ((0x0D,), KeyEvent(KeyCode.RECALL)),
        ((0x0B,), KeyEvent(KeyCode.RATE)),
        ((0x12,), KeyEvent(KeyCode.PAUSE)),
        ((0x01, 0x02, 0x13), KeyEvent(KeyCode.TRANSFER, "12")),
        ((0x06, 0x0F), KeyEvent(KeyCode.NO_SHOW)),
        ((0x00, 0x0F), KeyEvent(KeyCode.HOLD)),
        ((0x03, 0x0F), KeyEvent(KeyCode.CALL_BACK)),
        ((0x0E,), None),
        ((0x07, 0x0F), None),
        ((0x55,), None),
        ((), None),
    ],
)
def test_last_data_byte_maps_to_hqp_key_codes(data: tuple[int, ...], event: KeyEvent | None) -> None:
    assert v.key_event(keypad(4, *data)) == event


def test_any_func_is_accepted_and_raw_bytes_are_kept_for_the_echo() -> None:
    raw = v.encode_frame(7, 0x5A, b"\x0c")
    (frame,) = v.VendorDecoder().feed(raw)
    assert (frame.addr, frame.func, frame.data, frame.raw) == (7, 0x5A, b"\x0c", raw)


def test_frame_without_preamble_is_echoed_without_one() -> None:
    raw = v.encode_frame(2, 1, b"\x0d")[1:]
    (frame,) = v.VendorDecoder().feed(raw)
    assert frame.raw == raw


def test_bad_checksum_is_logged_and_dropped(caplog: pytest.LogCaptureFixture) -> None:
    bad = bytearray(v.encode_frame(2, 1, b"\x0c"))
    bad[-2] ^= 0x40
    good = v.encode_frame(3, 1, b"\x0d")
    decoder = v.VendorDecoder()
    frames = decoder.feed(b"\x00\x68\x16" + bytes(bad) + b"\xff\xff" + good)
    assert [(f.addr, f.data) for f in frames] == [(3, b"\x0d")]
    assert decoder.checksum_errors == 1
    assert "checksum" in caplog.text


frame_st = st.tuples(st.integers(0, 255), st.integers(0, 255), st.binary(max_size=20))


@given(st.lists(st.tuples(frame_st, st.binary(max_size=12)), max_size=6), st.integers(1, 9))
def test_garbage_and_split_reads_yield_the_frames(
    items: list[tuple[tuple[int, int, bytes], bytes]], chunk: int
) -> None:
    stream = bytearray()
    expected = []
    for (addr, func, data), garbage in items:
        # Garbage without the start byte cannot fake a frame, but may leave a stray preamble before one.
        stream += garbage.replace(b"\x68", b"")
        raw = v.encode_frame(addr, func, data)
        stream += raw
        expected.append((addr, func, data))
    decoder = v.VendorDecoder()
    got = []
    for i in range(0, len(stream), chunk):
        got += decoder.feed(bytes(stream[i : i + chunk]))
    assert [(f.addr, f.func, f.data) for f in got] == expected
