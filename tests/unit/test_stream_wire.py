"""The stream path's WebSocket wire format (hallserver/stream/wire.py) against RFC 6455, and the hub's fan-out
order with thousands of phones (the phone lane keeps every subscriber's frames in seq order)."""

from __future__ import annotations

import asyncio
import os
import struct

import pytest
from websockets.frames import Close, Frame, Opcode
from websockets.streams import StreamReader

from hallcore.config import HallConfig
from hallserver.eventlog import EventRecord, StreamFilter, make_filter
from hallserver.stream import wire
from hallserver.stream.hub import HEARTBEAT, Hub

KEY = "dGhlIHNhbXBsZSBub25jZQ=="  # RFC 6455 §1.3


def request(**headers: str) -> bytes:
    base = {
        "host": "127.0.0.1:8700",
        "upgrade": "websocket",
        "connection": "Upgrade",
        "sec-websocket-key": KEY,
        "sec-websocket-version": "13",
    }
    base.update({k.replace("_", "-"): v for k, v in headers.items()})
    lines = ["GET /events?since=5&window=3&since=7 HTTP/1.1"] + [f"{k}: {v}" for k, v in base.items() if v]
    return "\r\n".join(lines).encode()


def test_handshake_reply_is_the_rfc_example() -> None:
    assert wire.accept_key(KEY) == "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="
    reply = wire.switching_protocols(KEY)
    assert reply.startswith(b"HTTP/1.1 101 Switching Protocols\r\n")
    assert b"Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n" in reply
    assert reply.endswith(b"\r\n\r\n")
    assert b"Extensions" not in reply  # a compression offer is declined by not answering it


def test_request_is_parsed_and_checked() -> None:
    req = wire.parse_request(request(connection="keep-alive, Upgrade", upgrade="WebSocket"))
    assert req.path == "/events"
    assert req.query == {"since": "7", "window": "3"}  # the last of a repeated name
    assert req.header("host") == "127.0.0.1:8700"
    both = wire.parse_request(request() + b"\r\ncookie: a=1\r\ncookie: b=2")
    assert both.header("cookie") == "a=1; b=2"
    for bad, status in (
        (request(upgrade=""), 400),
        (request(connection="keep-alive"), 400),
        (request(sec_websocket_version="8"), 426),
        (request(sec_websocket_key="not base64!"), 400),
        (request(sec_websocket_key="c2hvcnQ="), 400),
        (request().replace(b"GET ", b"POST ", 1), 405),
        (b"GET /events\r\nhost: x", 400),
    ):
        with pytest.raises(wire.HandshakeError) as err:
            wire.parse_request(bad)
        assert err.value.status == status
    refusal = wire.http_refusal(426, "only 13")
    assert refusal.startswith(b"HTTP/1.1 426 ")
    assert b"Sec-WebSocket-Version: 13\r\n" in refusal


def parse_server_frame(data: bytes) -> Frame:
    """Read a server frame with the websockets library's own parser (unmasked, as a client reads it)."""
    reader = StreamReader()
    reader.feed_data(data)
    reader.feed_eof()
    gen = Frame.parse(reader.read_exact, mask=False)
    try:
        next(gen)
    except StopIteration as done:
        frame: Frame = done.value
        return frame
    raise AssertionError("incomplete frame")


@pytest.mark.parametrize("size", [0, 1, 125, 126, 65535, 65536, 70000])
def test_text_frames_of_every_length_encoding(size: int) -> None:
    text = ("号" * size)[:size] if size < 1000 else "x" * size
    frame = parse_server_frame(wire.text_frame(text))
    assert frame.opcode is Opcode.TEXT
    assert frame.fin
    assert bytes(frame.data).decode() == text


def test_close_frame_reason_is_cut_on_a_character_boundary() -> None:
    frame = parse_server_frame(wire.close_frame(4008, "慢" * 60))
    close = Close.parse(frame.data)
    assert close.code == 4008
    assert len(frame.data) <= 125
    assert set(close.reason) == {"慢"}


def client_frame(opcode: int, payload: bytes, *, fin: bool = True, mask: bool = True) -> bytes:
    """A client frame built by hand (the library refuses to build the broken ones tested below)."""
    n = len(payload)
    if n < 126:
        head = bytes([(0x80 if fin else 0) | opcode, (0x80 if mask else 0) | n])
    elif n < 65536:
        head = bytes([(0x80 if fin else 0) | opcode, (0x80 if mask else 0) | 126]) + struct.pack("!H", n)
    else:
        head = bytes([(0x80 if fin else 0) | opcode, (0x80 if mask else 0) | 127]) + struct.pack("!Q", n)
    if not mask:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


def test_reader_answers_control_frames_between_fragments_fed_byte_by_byte() -> None:
    stream = (
        client_frame(wire.OP_TEXT, b"hel", fin=False)
        + client_frame(wire.OP_PING, b"are you there")
        + client_frame(wire.OP_CONT, b"lo" * 10_000, fin=False)  # 16-bit length
        + client_frame(wire.OP_CONT, b"!")
        + client_frame(wire.OP_BINARY, os.urandom(wire.MAX_MESSAGE))  # 64-bit length, the largest allowed
        + client_frame(wire.OP_PONG, b"")
        + client_frame(wire.OP_CLOSE, struct.pack("!H", 1000) + "再见".encode())
    )
    reader = wire.FrameReader()
    got = [c for i in range(len(stream)) for c in reader.feed(stream[i : i + 1])]
    assert [(c.opcode, c.payload[:13]) for c in got[:2]] == [
        (wire.OP_PING, b"are you there"),
        (wire.OP_PONG, b""),
    ]
    assert got[2].opcode == wire.OP_CLOSE
    assert got[2].code == 1000
    # And all at once: the same.
    again = list(wire.FrameReader().feed(stream))
    assert [(c.opcode, c.payload, c.code) for c in again] == [(c.opcode, c.payload, c.code) for c in got]


@pytest.mark.parametrize(
    ("data", "code"),
    [
        (client_frame(wire.OP_TEXT, b"hi", mask=False), 1002),  # §5.1: client frames are masked
        (client_frame(wire.OP_PING, b"x" * 126), 1002),  # control frames carry at most 125 bytes
        (client_frame(wire.OP_CLOSE, b"x"), 1002),  # a one-byte close body
        (client_frame(wire.OP_CLOSE, struct.pack("!H", 1005)), 1002),  # a code never sent on the wire
        (client_frame(wire.OP_CLOSE, struct.pack("!H", 1000) + b"\xff"), 1007),
        (client_frame(wire.OP_CONT, b"x"), 1002),  # continuation with no message open
        (client_frame(wire.OP_TEXT, b"a", fin=False) + client_frame(wire.OP_TEXT, b"b"), 1002),
        (bytes([0x83, 0x80]) + b"\0\0\0\0", 1002),  # unknown opcode
        (bytes([0xC1, 0x80]) + b"\0\0\0\0", 1002),  # RSV1: no extension was agreed
        (client_frame(wire.OP_BINARY, b"x" * (wire.MAX_MESSAGE + 1)), 1009),
    ],
)
def test_reader_refuses_what_breaks_the_rules(data: bytes, code: int) -> None:
    with pytest.raises(wire.ProtocolError) as err:
        list(wire.FrameReader().feed(data))
    assert err.value.code == code


# ---- the hub: order and lane -------------------------------------------------------------------------------


class Sink:
    def __init__(self, flt: StreamFilter) -> None:
        self.filter = flt
        self.owner = ""
        self.got: list[int] = []

    def deliver(self, seq: int, frame: bytes) -> None:
        self.got.append(seq)

    def close(self, code: int, reason: str = "") -> None:
        raise AssertionError(f"closed {code} {reason}")


def record(seq: int, *, call: bool = False, ticket: str = "") -> EventRecord:
    return EventRecord(seq, "ticket_changed", f'{{"seq":{seq}}}', ticket=ticket, is_call=call, public=True)


def test_hub_serves_boards_at_once_and_phones_in_order_through_the_lane(county: HallConfig) -> None:
    async def main() -> None:
        hub = Hub(100, lane_budget_s=0.0)  # the smallest slice: every lane step yields to the loop
        board = Sink(make_filter(county))
        phones = [Sink(make_filter(county, ticket=f"t{i}", authenticated=False)) for i in range(500)]
        for s in (board, *phones):
            hub.subscribe(s)
        hub.publish([record(1, call=True, ticket="t1"), record(2, ticket="t7"), record(3, call=True)])
        hub.heartbeat("now")
        hub.publish([record(4, ticket="t7")])
        assert board.got == [1, 2, 3, HEARTBEAT, 4]  # boards: at once
        assert phones[7].got == []  # phones: after the loop has turned (the lane)
        assert hub.lane_backlog == 500 * 3 + 2
        late = Sink(make_filter(county, ticket="t7", authenticated=False))
        hub.subscribe(late)  # joins now: its catch-up covers up to seq 4, the lane must not send it more
        while hub.lane_backlog:
            await asyncio.sleep(0)
        assert phones[7].got == [1, 2, 3, HEARTBEAT, 4]
        assert phones[1].got == [1, 3, HEARTBEAT]
        assert phones[2].got == [1, 3, HEARTBEAT]
        assert late.got == []
        hub.unsubscribe(phones[7])
        hub.publish([record(5, ticket="t7")])
        await asyncio.sleep(0)
        assert phones[7].got[-1] == 4
        assert late.got == [5]
        assert hub.covers(0)
        assert [r.seq for r, _ in hub.after(2)] == [3, 4, 5]

    asyncio.run(main())


@pytest.fixture(scope="module")
def county() -> HallConfig:
    from hallfiles.config import read_config
    from tests.fakes.live_server import COUNTY

    return read_config(COUNTY)


def test_full_garbage_collections_wait_for_a_closed_hall_or_the_interval() -> None:
    from hallserver.service import full_collection_due

    six_h = 6 * 3600.0
    assert not full_collection_due(False, 3 * 3600, six_h)  # open: the stall would hit someone
    assert full_collection_due(True, 3600, six_h)  # closed for the night
    assert not full_collection_due(True, 1800, six_h)  # closed, but one ran half an hour ago
    assert full_collection_due(False, six_h, six_h)  # a hall open round the clock still gets one
