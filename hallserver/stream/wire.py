"""The WebSocket wire format the stream path speaks (RFC 6455), without I/O: the opening handshake, server
frames encoded once for every subscriber, and a reader for what clients send (pings, pongs, close).

Only what a server that never receives data needs: no extensions (a client's offer of per-message
compression is declined by leaving it out of the reply, so every client gets the same bytes), no
subprotocols, no fragmentation on the way out. Client frames must be masked (RFC 6455 §5.1); their data
messages are read and dropped without unmasking, bounded by `MAX_MESSAGE`.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

#: Largest request head accepted (a browser's with cookies is well under this).
MAX_HEAD = 16 * 1024
#: Largest message a client may send (it has nothing to say but control frames).
MAX_MESSAGE = 64 * 1024

OP_CONT, OP_TEXT, OP_BINARY, OP_CLOSE, OP_PING, OP_PONG = 0x0, 0x1, 0x2, 0x8, 0x9, 0xA
_DATA_OPS = (OP_CONT, OP_TEXT, OP_BINARY)
_CONTROL_OPS = (OP_CLOSE, OP_PING, OP_PONG)

# Close codes (RFC 6455 §7.4.1); the 4xxx ones are the stream's own (docs/api.md).
NORMAL = 1000
GOING_AWAY = 1001
PROTOCOL_ERROR = 1002
TOO_BIG = 1009
SERVICE_RESTART = 1012
#: Codes a peer may put in a close frame (§7.4.1: 1004-1006 and 1015 are never sent; 3000-4999 are free).
_SENDABLE = frozenset({1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014})


class HandshakeError(ValueError):
    """The request is not a WebSocket opening handshake we can answer; `status` is the HTTP reply."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class ProtocolError(ValueError):
    """The client broke the framing rules; the connection is closed with `code`."""

    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code


@dataclass(frozen=True, slots=True)
class Request:
    """The parts of an opening handshake the stream needs."""

    path: str
    query: dict[str, str]  # last value wins for a repeated name
    headers: dict[str, str]  # names lower-case; repeated headers joined with ", " ("; " for cookie)
    key: str
    peer: str = ""  # the TCP peer's address (hallserver/proxies.py says whose address counts)

    def header(self, name: str) -> str:
        return self.headers.get(name, "")


def parse_request(head: bytes, peer: str = "") -> Request:
    """Parse and check `GET /path?query HTTP/1.1` + headers (without the blank line); `peer` is the TCP peer's
    address."""
    try:
        text = head.decode("latin-1")
    except UnicodeDecodeError as exc:  # pragma: no cover - latin-1 decodes every byte
        raise HandshakeError(400, "unreadable request") from exc
    lines = text.split("\r\n")
    parts = lines[0].split(" ")
    if len(parts) != 3 or not parts[2].startswith("HTTP/"):
        raise HandshakeError(400, "malformed request line")
    method, target, _version = parts
    if method != "GET":
        raise HandshakeError(405, "a WebSocket handshake is a GET")
    headers: dict[str, str] = {}
    for line in lines[1:]:
        if not line:
            continue
        name, sep, value = line.partition(":")
        if not sep:
            raise HandshakeError(400, "malformed header line")
        name = name.strip().lower()
        value = value.strip()
        if name in headers:
            headers[name] += ("; " if name == "cookie" else ", ") + value
        else:
            headers[name] = value
    if "websocket" not in _tokens(headers.get("upgrade", "")):
        raise HandshakeError(400, "Upgrade: websocket is missing")
    if "upgrade" not in _tokens(headers.get("connection", "")):
        raise HandshakeError(400, "Connection: Upgrade is missing")
    if headers.get("sec-websocket-version", "") != "13":
        raise HandshakeError(426, "only WebSocket version 13 is spoken here")
    key = headers.get("sec-websocket-key", "")
    try:
        raw = base64.b64decode(key, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise HandshakeError(400, "Sec-WebSocket-Key is not base64") from exc
    if len(raw) != 16:
        raise HandshakeError(400, "Sec-WebSocket-Key is not 16 bytes")
    url = urlsplit(target)
    query = dict(parse_qsl(url.query, keep_blank_values=True))
    return Request(url.path, query, headers, key, peer)


def _tokens(value: str) -> set[str]:
    return {t.strip().lower() for t in value.split(",")}


def accept_key(key: str) -> str:
    return base64.b64encode(hashlib.sha1(key.encode() + _GUID).digest()).decode()  # noqa: S324 - RFC 6455


def switching_protocols(key: str) -> bytes:
    return (
        "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Accept: {accept_key(key)}\r\n\r\n"
    ).encode()


_REASONS = {400: "Bad Request", 403: "Forbidden", 404: "Not Found", 405: "Method Not Allowed"}


def http_refusal(status: int, message: str) -> bytes:
    """A plain HTTP reply that ends a handshake we do not accept (the connection is closed after it)."""
    body = message.encode()
    extra = "Sec-WebSocket-Version: 13\r\n" if status == 426 else ""
    reason = _REASONS.get(status, "Upgrade Required" if status == 426 else "Error")
    return (
        f"HTTP/1.1 {status} {reason}\r\ncontent-type: text/plain; charset=utf-8\r\n{extra}"
        f"content-length: {len(body)}\r\nconnection: close\r\n\r\n"
    ).encode() + body


def _header(opcode: int, n: int) -> bytes:
    if n < 126:
        return bytes((0x80 | opcode, n))
    if n < 65536:
        return struct.pack("!BBH", 0x80 | opcode, 126, n)
    return struct.pack("!BBQ", 0x80 | opcode, 127, n)


def text_frame(text: str) -> bytes:
    """One unmasked, unfragmented text frame: encoded once, written to every subscriber as is."""
    payload = text.encode()
    return _header(OP_TEXT, len(payload)) + payload


def close_frame(code: int, reason: str = "") -> bytes:
    data = reason.encode()[:123]
    # Never cut a UTF-8 sequence in two: the peer would fail the close with 1007.
    while data:
        try:
            data.decode()
            break
        except UnicodeDecodeError:
            data = data[:-1]
    payload = struct.pack("!H", code) + data
    return _header(OP_CLOSE, len(payload)) + payload


def pong_frame(payload: bytes) -> bytes:
    return _header(OP_PONG, len(payload)) + payload


@dataclass(frozen=True, slots=True)
class Control:
    """A control frame from the client, unmasked; for a close, `code` (None: no code given)."""

    opcode: int
    payload: bytes
    code: int | None = None


class FrameReader:
    """Incremental reader of client frames: `feed(data)` yields the control frames; data frames are checked
    and skipped. Raises `ProtocolError` when the client breaks the rules."""

    __slots__ = ("_buf", "_in_message", "_message_size", "_skip")

    def __init__(self) -> None:
        self._buf = b""
        self._skip = 0  # payload bytes of a data frame still to be dropped
        self._in_message = False  # a fragmented data message is open (continuations expected)
        self._message_size = 0

    def feed(self, data: bytes) -> Iterator[Control]:
        if self._skip:
            dropped = min(self._skip, len(data))
            self._skip -= dropped
            data = data[dropped:]
        buf = self._buf + data if self._buf else data
        while buf:
            if len(buf) < 2:
                break
            b0, b1 = buf[0], buf[1]
            fin, rsv, opcode = b0 & 0x80, b0 & 0x70, b0 & 0x0F
            if rsv:
                raise ProtocolError(PROTOCOL_ERROR, "reserved bits set (no extension was agreed)")
            if not b1 & 0x80:
                raise ProtocolError(PROTOCOL_ERROR, "client frames must be masked")
            n = b1 & 0x7F
            at = 2
            if n == 126:
                if len(buf) < 4:
                    break
                n = struct.unpack_from("!H", buf, 2)[0]
                at = 4
            elif n == 127:
                if len(buf) < 10:
                    break
                n = struct.unpack_from("!Q", buf, 2)[0]
                at = 10
            if opcode in _CONTROL_OPS:
                if not fin or n > 125:
                    raise ProtocolError(PROTOCOL_ERROR, "control frames are unfragmented, at most 125 bytes")
                if len(buf) < at + 4 + n:
                    break
                mask = buf[at : at + 4]
                payload = _unmask(buf[at + 4 : at + 4 + n], mask)
                buf = buf[at + 4 + n :]
                yield _control(opcode, payload)
                continue
            if opcode not in _DATA_OPS:
                raise ProtocolError(PROTOCOL_ERROR, f"unknown opcode {opcode}")
            if (opcode == OP_CONT) != self._in_message:
                raise ProtocolError(PROTOCOL_ERROR, "continuation frame out of place")
            if len(buf) < at + 4:
                break  # the header is read again with the next data: change no state before this
            self._message_size = (self._message_size if opcode == OP_CONT else 0) + n
            if self._message_size > MAX_MESSAGE:
                raise ProtocolError(TOO_BIG, "the stream takes no messages this large")
            self._in_message = not fin
            # A data message is not for us: drop its payload, masked, as it comes.
            have = len(buf) - (at + 4)
            if have >= n:
                buf = buf[at + 4 + n :]
            else:
                self._skip = n - have
                buf = b""
        self._buf = buf


def _unmask(payload: bytes, mask: bytes) -> bytes:
    if not payload:
        return payload
    key = int.from_bytes((mask * (len(payload) // 4 + 1))[: len(payload)], "big")
    return (int.from_bytes(payload, "big") ^ key).to_bytes(len(payload), "big")


def _control(opcode: int, payload: bytes) -> Control:
    if opcode != OP_CLOSE:
        return Control(opcode, payload)
    if not payload:
        return Control(opcode, payload, None)
    if len(payload) == 1:
        raise ProtocolError(PROTOCOL_ERROR, "a close frame with a one-byte body")
    code = struct.unpack_from("!H", payload)[0]
    if code not in _SENDABLE and not 3000 <= code <= 4999:
        raise ProtocolError(PROTOCOL_ERROR, f"close code {code} may not be sent")
    try:
        payload[2:].decode()
    except UnicodeDecodeError as exc:
        raise ProtocolError(1007, "a close reason that is not UTF-8") from exc
    return Control(opcode, payload, code)
