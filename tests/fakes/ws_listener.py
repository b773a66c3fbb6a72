"""A WebSocket client that only listens, light enough that thousands fit in one process: the phones and boards
of the stream tests (tests/server/test_stream_restart.py) and of the benchmark (bench/server.py).

An asyncio Protocol: it sends the opening handshake, then reads server frames (unmasked, RFC 6455) and hands
text payloads to `on_text`; pings are answered (masked pongs), a close frame ends the connection. No library
client: `websockets` costs ~100 KB and a few tasks per connection, which would measure the test's own process.
"""

from __future__ import annotations

import asyncio
import base64
import os


def upgrade_request(host: str, port: int, target: str) -> bytes:
    """The opening handshake for `target` ("/events?since=…")."""
    key = base64.b64encode(os.urandom(16)).decode()
    return (
        f"GET {target} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
        f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    ).encode()


class Listener(asyncio.Protocol):
    """Subclasses give `request()` and take `on_open`, `on_text`, `on_close` as they need."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.open = False
        self._buf = b""

    def request(self) -> bytes:
        raise NotImplementedError

    def on_open(self) -> None:
        """The 101 arrived."""

    def on_refused(self, head: bytes) -> None:
        raise RuntimeError(f"handshake refused: {head[:80]!r}")

    def on_text(self, payload: bytes) -> None:
        """One text message."""

    def on_close(self, code: int) -> None:
        """The server's close frame (the connection is closed after this)."""

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport, self.open, self._buf = transport, False, b""
        transport.write(self.request())

    def data_received(self, data: bytes) -> None:
        self._buf += data
        if not self.open:
            head, sep, rest = self._buf.partition(b"\r\n\r\n")
            if not sep:
                return
            if b" 101 " not in head.split(b"\r\n", 1)[0]:
                self.on_refused(head)
                return
            self.open, self._buf = True, rest
            self.on_open()
        while len(self._buf) >= 2:
            n, at = self._buf[1] & 0x7F, 2
            if n == 126:
                if len(self._buf) < 4:
                    return
                n, at = int.from_bytes(self._buf[2:4], "big"), 4
            elif n == 127:
                if len(self._buf) < 10:
                    return
                n, at = int.from_bytes(self._buf[2:10], "big"), 10
            if len(self._buf) < at + n:
                return
            op, payload, self._buf = self._buf[0] & 0x0F, self._buf[at : at + n], self._buf[at + n :]
            if op == 0x1:
                self.on_text(payload)
            elif op == 0x9 and self.transport is not None:  # ping -> masked pong
                mask = os.urandom(4)
                body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
                self.transport.write(bytes([0x8A, 0x80 | len(payload)]) + mask + body)
            elif op == 0x8:
                self.on_close(int.from_bytes(payload[:2], "big") if len(payload) >= 2 else 1005)
                if self.transport is not None:
                    self.transport.close()
                return

    def close(self) -> None:
        if self.transport is not None:
            self.transport.close()
