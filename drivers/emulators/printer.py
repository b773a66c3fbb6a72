"""An ESC/POS ticket printer emulator over TCP (port 9100 style) or a pty, for tests, the demo and installers.

One byte-stream parser (`drivers.emulators.escpos_stream`) serves both: it answers `DLE EOT 1..4` at once,
`GS r 1` in buffer order, and renders each ticket to text. While the printer is not printable (paper out,
cover open, cutter jam, offline) it holds everything it receives, as a real printer's buffer does, and prints
it once it is ready again; a `silent` printer answers nothing and drops what it gets. `DLE DC4 8` throws held
data away (answered `37 25 00`), and `GS a n` switches Automatic Status Back, which can also be on by default
(`asb_default`).
"""

from __future__ import annotations

import contextlib
import logging
import os
import selectors
import socket
import threading
import tty
from collections.abc import Callable
from pathlib import Path
from typing import Self

from drivers.codecs.escpos import display_width
from drivers.emulators.escpos_stream import (
    ASB_REPLIES,
    STATUS_REPLIES,
    EmulatedPrinter,
    EmulatedState,
    EscposStream,
    RenderedTicket,
)
from drivers.emulators.running import Running

__all__ = [
    "ASB_REPLIES",
    "STATUS_REPLIES",
    "EmulatedPrinter",
    "EmulatedState",
    "EscposStream",
    "PtyPrinterEmulator",
    "RenderedTicket",
    "TcpPrinterEmulator",
    "render_png",
]

log = logging.getLogger(__name__)


# --- front ends ---------------------------------------------------------------------------------------------


class _Loop(Running):
    """A selector loop on its own thread, woken through a pipe; every fd it opened is closed on stop."""

    def __init__(self, printer: EmulatedPrinter | None, name: str) -> None:
        self.printer = printer or EmulatedPrinter()
        self._sel = selectors.DefaultSelector()
        self._wake_r, self._wake_w = os.pipe()
        os.set_blocking(self._wake_r, False)
        os.set_blocking(self._wake_w, False)
        self._sel.register(self._wake_r, selectors.EVENT_READ, None)
        self._streams: dict[int, tuple[EscposStream, Callable[[bytes], None], Callable[[], None]]] = {}
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.printer.on_change = self._wake

    @property
    def tickets(self) -> list[RenderedTicket]:
        return self.printer.tickets

    def set_state(self, state: EmulatedState | str) -> None:
        self.printer.set_state(state)

    def start(self) -> Self:
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop the thread and close every fd and socket; safe to call twice."""
        if self._thread.is_alive():
            self._stopping = True
            self._wake()
            self._thread.join(timeout=5)
        self._close_all()

    def _wake(self) -> None:
        with contextlib.suppress(BlockingIOError, OSError):
            os.write(self._wake_w, b"\0")

    def _add_stream(self, fd: int, send: Callable[[bytes], None], close: Callable[[], None]) -> None:
        self._streams[fd] = (self.printer.stream(), send, close)
        self._sel.register(fd, selectors.EVENT_READ, "stream")

    def _drop_stream(self, fd: int) -> None:
        entry = self._streams.pop(fd, None)
        if entry is not None:
            self._sel.unregister(fd)
            entry[2]()

    def _on_accept(self) -> None:
        raise NotImplementedError

    def _read(self, fd: int) -> bytes:
        raise NotImplementedError

    def _run(self) -> None:
        while not self._stopping:
            events = self._sel.select()
            # The wake pipe first: state changes release held jobs before newer bytes are parsed.
            events.sort(key=lambda e: e[0].fd != self._wake_r)
            for key, _ in events:
                if key.fd == self._wake_r:
                    with contextlib.suppress(BlockingIOError):
                        os.read(self._wake_r, 4096)
                    for fd in list(self._streams):
                        self._pump(fd, b"")
                elif key.data == "listen":
                    self._on_accept()
                elif key.fd in self._streams:
                    try:
                        data = self._read(key.fd)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if not data:
                        self._drop_stream(key.fd)
                        continue
                    self._pump(key.fd, data)

    def _pump(self, fd: int, data: bytes) -> None:
        stream, send, _ = self._streams[fd]
        reply = stream.feed(data)
        if reply:
            try:
                send(reply)
            except OSError:
                self._drop_stream(fd)

    def _close_all(self) -> None:
        for fd in list(self._streams):
            self._drop_stream(fd)
        self._close_extra()
        self._sel.close()
        for fd in (self._wake_r, self._wake_w):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._wake_r = self._wake_w = -1

    def _close_extra(self) -> None:
        pass


class TcpPrinterEmulator(_Loop):
    """A network printer: listens on `host:port` (port 0 picks a free one; see `.port` and `.url`)."""

    def __init__(
        self, printer: EmulatedPrinter | None = None, host: str = "127.0.0.1", port: int = 0
    ) -> None:
        super().__init__(printer, "printer-emulator-tcp")
        self._listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._listener.bind((host, port))
        self._listener.listen()
        self._listener.setblocking(False)
        self.host, self.port = self._listener.getsockname()[:2]
        self._socks: dict[int, socket.socket] = {}
        self._sel.register(self._listener, selectors.EVENT_READ, "listen")

    @property
    def url(self) -> str:
        return f"tcp://{self.host}:{self.port}"

    def _on_accept(self) -> None:
        try:
            conn, _ = self._listener.accept()
        except BlockingIOError:
            return
        conn.setblocking(False)
        conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        fd = conn.fileno()
        self._socks[fd] = conn
        self._add_stream(fd, conn.sendall, lambda: self._socks.pop(fd).close())

    def _read(self, fd: int) -> bytes:
        return self._socks[fd].recv(65536)

    def _close_extra(self) -> None:
        with contextlib.suppress(KeyError, ValueError):
            self._sel.unregister(self._listener)
        self._listener.close()


class PtyPrinterEmulator(_Loop):
    """A serial printer on a pty: the app opens `.path` (e.g. with `serial.serial_for_url(path)`).

    Both ends are raw, or the line discipline would eat `0D 11 13` and echo bytes back (PITFALLS.md).
    The emulator keeps its own handle on the device end open, so the app may close and reopen `.path`;
    `stop()` closes both ends, which the app sees as an unplugged cable.
    """

    def __init__(self, printer: EmulatedPrinter | None = None) -> None:
        super().__init__(printer, "printer-emulator-pty")
        self._master, self._slave = os.openpty()
        tty.setraw(self._master)
        tty.setraw(self._slave)
        os.set_blocking(self._master, False)
        self.path = os.ttyname(self._slave)
        master = self._master
        self._add_stream(master, lambda data: _write_all(master, data), lambda: None)

    def _read(self, fd: int) -> bytes:
        return os.read(fd, 65536)

    def _close_extra(self) -> None:
        for fd in (self._master, self._slave):
            with contextlib.suppress(OSError):
                os.close(fd)
        self._master = self._slave = -1


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(fd, view)
        view = view[written:]


# --- PNG ---------------------------------------------------------------------------------------------------

_FONTS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",  # fonts-wqy-microhei (Debian)
    "/usr/share/fonts/wqy-microhei/wqy-microhei.ttc",
)


def render_png(ticket: RenderedTicket, path: str | os.PathLike[str], width_mm: int = 80) -> None:
    """Draw a rendered ticket as the paper would look (12×24-dot cells), QR codes included, for installers'
    test prints and screenshots. Needs Pillow, a CJK font and `qrcode`."""
    import qrcode
    from PIL import Image, ImageDraw, ImageFont

    font_path = next((f for f in _FONTS if Path(f).exists()), None)
    if font_path is None:
        raise FileNotFoundError("no CJK font found for the PNG; install fonts-wqy-microhei")
    dots = 384 if width_mm == 58 else 576
    rows: list[Image.Image | tuple[str, int]] = []
    lines = ticket.text.split("\n")
    for line, scale in zip(lines, ticket.scales or (1,) * len(lines), strict=True):
        if line.startswith("[QR] "):
            code = qrcode.QRCode(border=1, box_size=6)
            code.add_data(line[5:])
            rows.append(code.make_image().get_image().convert("L"))
        else:
            rows.append((line, scale))
    height = sum(r.height if isinstance(r, Image.Image) else 28 * r[1] for r in rows) + 24
    image = Image.new("L", (dots, height), 255)
    draw = ImageDraw.Draw(image)
    y = 12
    for row in rows:
        if isinstance(row, Image.Image):
            image.paste(row, ((dots - row.width) // 2, y))
            y += row.height
            continue
        line, scale = row
        font = ImageFont.truetype(font_path, 24 * scale)
        text = line.lstrip(" ")
        x = 12 * (len(line) - len(text))  # alignment padding is in 1x columns
        for ch in text:
            draw.text((x, y), ch, font=font, fill=0)
            x += 12 * scale * display_width(ch)  # the printer's grid, not the font's advance
        y += 28 * scale
    image.save(path, format="PNG")
