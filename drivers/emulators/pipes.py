"""Byte pipes for emulated devices: a pty (both ends raw, PITFALLS.md) whose slave path the code under test
opens, or a TCP listener for `socket://` URLs. A pty can be "unplugged" and "replugged" behind a stable
symlink, the way udev's /dev/serial/by-id links behave. `PipedEmulator` is what every emulator built on one
shares: `pty()` or `tcp()` to build it, `start()`, `stop()`.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import threading
import tty
from collections.abc import Callable
from pathlib import Path
from typing import Protocol, Self

from drivers.base import DeviceUnavailable
from drivers.emulators.running import Running

log = logging.getLogger(__name__)

_JOIN_S = 5.0


class Pipe(Protocol):
    """What an emulator needs of its link: start, stop, and send bytes to whoever is connected."""

    @property
    def url(self) -> str: ...

    def start(self) -> None: ...

    def stop(self) -> None: ...

    def send(self, data: bytes) -> None: ...

    def unplug(self) -> None: ...

    def plug(self) -> None: ...


class _Pipe:
    """Runs a reader thread that hands received bytes to `on_bytes`; `send` writes from any thread."""

    def __init__(self, on_bytes: Callable[[bytes], None], name: str) -> None:
        self._on_bytes = on_bytes
        self._name = name
        self._lock = threading.Lock()
        self._stop_r, self._stop_w = os.pipe()
        self._thread: threading.Thread | None = None

    def _start_thread(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self._name, daemon=True)
        self._thread.start()

    def _stop_thread(self) -> None:
        if self._thread is not None:
            os.write(self._stop_w, b"x")
            self._thread.join(timeout=_JOIN_S)
            self._thread = None
            with contextlib.suppress(BlockingIOError):
                os.set_blocking(self._stop_r, False)
                os.read(self._stop_r, 64)
                os.set_blocking(self._stop_r, True)

    def unplug(self) -> None:
        raise NotImplementedError

    def stop(self) -> None:
        """Unplug for good: the reader thread's wake-up pipe is closed too."""
        self.unplug()
        os.close(self._stop_r)
        os.close(self._stop_w)

    def _run(self) -> None:
        raise NotImplementedError

    def _deliver(self, data: bytes) -> None:
        try:
            self._on_bytes(data)
        except Exception:
            log.exception("%s: emulated device failed on %s", self._name, data.hex(" "))


class PtyPipe(_Pipe):
    """A pty pair; the bus under test opens `path` (a symlink when `link` is given, else the slave name)."""

    def __init__(
        self, on_bytes: Callable[[bytes], None], *, link: Path | None = None, name: str = "emulated bus"
    ) -> None:
        super().__init__(on_bytes, f"{name} (pty)")
        self._link = link
        self._master: int | None = None
        self._slave: int | None = None
        self.slave_name = ""

    @property
    def path(self) -> str:
        return str(self._link) if self._link is not None else self.slave_name

    @property
    def url(self) -> str:
        return self.path

    def start(self) -> None:
        self.plug()

    def plug(self) -> None:
        if self._master is not None:
            return
        master, slave = os.openpty()
        # Raw on both ends, or the line discipline eats 0D 11 13 and turns 0A into 0D 0A (PITFALLS.md).
        tty.setraw(master)
        tty.setraw(slave)
        self._master, self._slave = master, slave
        self.slave_name = os.ttyname(slave)
        if self._link is not None:
            tmp = self._link.with_name(self._link.name + ".new")
            tmp.unlink(missing_ok=True)
            tmp.symlink_to(self.slave_name)
            tmp.replace(self._link)
        self._start_thread()

    def unplug(self) -> None:
        """Close our end, as pulling a USB adapter does: the bus's next read or write fails."""
        self._stop_thread()
        with self._lock:
            for fd in (self._master, self._slave):
                if fd is not None:
                    os.close(fd)
            self._master = self._slave = None
        if self._link is not None:
            self._link.unlink(missing_ok=True)

    def send(self, data: bytes) -> None:
        with self._lock:
            if self._master is None:
                return  # unplugged: bytes go nowhere, like on a cut cable
            os.write(self._master, data)

    def _run(self) -> None:
        master = self._master
        assert master is not None
        while True:
            ready, _, _ = select.select([master, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            try:
                data = os.read(master, 4096)
            except OSError:
                # EIO when nothing holds the slave: we keep our own slave fd open, so only at teardown.
                return
            if data:
                self._deliver(data)


class TcpPipe(_Pipe):
    """A TCP listener (port 0 = any free port), one client at a time like an RS-485-to-Ethernet box.

    Tests use 127.0.0.1 and port 0; `hallq devices emulate` may give a fixed port an installer's config names.
    """

    def __init__(
        self,
        on_bytes: Callable[[bytes], None],
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        name: str = "emulated bus",
    ) -> None:
        super().__init__(on_bytes, f"{name} (tcp)")
        self._server: socket.socket | None = None
        self._client: socket.socket | None = None
        self.host = host
        self.port = port

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    def start(self) -> None:
        """Listen, or raise `DeviceUnavailable` when the port is taken (another emulator running?)."""
        server = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            server.bind((self.host, self.port))
        except OSError as e:
            server.close()
            raise DeviceUnavailable(
                f"cannot listen on {self.host}:{self.port} ({e}); is another emulator running?"
            ) from e
        server.listen(1)
        self._server = server
        self.port = server.getsockname()[1]
        self._start_thread()

    @property
    def connected(self) -> bool:
        return self._client is not None

    def disconnect_client(self) -> None:
        """Drop the connection, as a power-cycled RS-485-to-Ethernet box does; new ones are accepted."""
        with self._lock:
            client, self._client = self._client, None
        if client is not None:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
        os.write(self._stop_w, b"c")  # wake the thread so it forgets the closed socket

    def unplug(self) -> None:
        """Switch the box off: the connection drops and connections are refused until `plug()`."""
        self._stop_thread()
        with self._lock:
            for s in (self._client, self._server):
                if s is not None:
                    s.close()
            self._client = self._server = None

    def plug(self) -> None:
        """Listen again, on the same port."""
        if self._server is None:
            self.start()

    def send(self, data: bytes) -> None:
        with self._lock:
            if self._client is None:
                return
            with contextlib.suppress(OSError):
                self._client.sendall(data)

    def _run(self) -> None:
        server = self._server
        assert server is not None
        client: socket.socket | None = None
        while True:
            watch: list[socket.socket | int] = [server, self._stop_r]
            if client is not None:
                watch.append(client)
            ready, _, _ = select.select(watch, [], [])
            if self._stop_r in ready:
                if os.read(self._stop_r, 1) == b"x":
                    return
                if client is not None and self._client is not client:
                    client.close()
                    client = None
                continue
            if server in ready:
                new, _ = server.accept()
                new.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                with self._lock:
                    old, self._client = self._client, new
                if old is not None:
                    old.close()
                client = new
                continue
            if client is not None and client in ready:
                try:
                    data = client.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    with self._lock:
                        if self._client is client:
                            self._client = None
                    client.close()
                    client = None
                    continue
                self._deliver(data)


class PipedEmulator(Running):
    """The plumbing every emulated device shares: built over a pty or TCP, started, stopped, unplugged."""

    name = "emulated bus"  # names the pipe's thread

    def __init__(self) -> None:
        self._pipe: Pipe | None = None

    def _on_bytes(self, data: bytes) -> None:
        raise NotImplementedError

    @classmethod
    def pty(cls, link: Path | None = None) -> Self:
        emu = cls()
        emu._pipe = PtyPipe(emu._on_bytes, link=link, name=emu.name)
        return emu

    @classmethod
    def tcp(cls, *, host: str = "127.0.0.1", port: int = 0) -> Self:
        emu = cls()
        emu._pipe = TcpPipe(emu._on_bytes, host=host, port=port, name=emu.name)
        return emu

    @property
    def url(self) -> str:
        return self.pipe.url

    @property
    def pipe(self) -> Pipe:
        if self._pipe is None:
            raise RuntimeError(f"build the emulator with {type(self).__name__}.pty() or .tcp()")
        return self._pipe

    @property
    def pty_pipe(self) -> PtyPipe:
        """The pty, to unplug() and plug() it again."""
        if not isinstance(self._pipe, PtyPipe):
            raise TypeError("this emulator runs over TCP, not a pty")
        return self._pipe

    def start(self) -> Self:
        self.pipe.start()
        return self

    def stop(self) -> None:
        self.pipe.stop()
