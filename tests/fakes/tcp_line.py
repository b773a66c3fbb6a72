"""A TCP line between a client and the hall server on 127.0.0.1 that a test can cut: `cut()` drops every
open connection (a network blip), `hold()` keeps the line down (new connections are closed at once) until
`restore()`. Reconnects through it are real ones."""

from __future__ import annotations

import asyncio
import contextlib


class Line:
    """A TCP pass-through to `target_port` on 127.0.0.1; connect to `url` instead of the server's."""

    def __init__(self, target_port: int, scheme: str = "http") -> None:
        self.target_port = target_port
        self.scheme = scheme  # "https": a TLS server behind the line (the bytes pass as they are)
        self.down = False
        self.server: asyncio.Server | None = None
        self.writers: set[asyncio.StreamWriter] = set()
        self.tasks: set[asyncio.Task[None]] = set()

    @property
    def url(self) -> str:
        assert self.server is not None
        return f"{self.scheme}://127.0.0.1:{self.server.sockets[0].getsockname()[1]}"

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._client, "127.0.0.1", 0)

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.close()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.down:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.writers |= {writer, up_writer}
        pipes = [
            asyncio.ensure_future(self._pipe(reader, up_writer)),
            asyncio.ensure_future(self._pipe(up_reader, writer)),
        ]
        self.tasks.update(pipes)
        await asyncio.gather(*pipes)
        for w in (writer, up_writer):
            self.writers.discard(w)
            w.close()
            with contextlib.suppress(ConnectionError, OSError):
                await w.wait_closed()

    def cut(self) -> None:
        for w in list(self.writers):
            w.transport.abort()

    def hold(self) -> None:
        self.down = True
        self.cut()

    def restore(self) -> None:
        self.down = False

    async def aclose(self) -> None:
        self.hold()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        for t in list(self.tasks):
            t.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
