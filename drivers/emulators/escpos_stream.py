"""The emulated ESC/POS printer itself: its paper and status (`EmulatedPrinter`) and the parser of one
connection's byte stream (`EscposStream`), which answers `DLE EOT 1..4` at once (real-time, even mid-job),
answers `GS r 1` in buffer order, skips the payloads of raster, graphics and QR commands (they may contain
`10 04 0n`, which must not be read as a status request), and renders each ticket (`ESC @` … `GS V`) to text,
decoding text as GB18030. The TCP and pty front ends are in `drivers.emulators.printer`.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from drivers.codecs.escpos import CLEAR_BUFFER, CLEAR_BUFFER_DONE, columns_for, display_width

log = logging.getLogger(__name__)


class EmulatedState(StrEnum):
    READY = "ready"
    NEAR_END = "near_end"
    PAPER_OUT = "paper_out"
    COVER_OPEN = "cover_open"
    CUTTER_JAM = "cutter_jam"
    OFFLINE = "offline"
    SILENT = "silent"


# Replies to DLE EOT 1, 2, 3, 4, as printers send them (PROTOCOLS.md §1). "offline" has no known cause.
STATUS_REPLIES: dict[EmulatedState, bytes] = {
    EmulatedState.READY: bytes.fromhex("12 12 12 12"),
    EmulatedState.NEAR_END: bytes.fromhex("12 12 12 1E"),
    EmulatedState.PAPER_OUT: bytes.fromhex("1A 32 12 7E"),
    EmulatedState.COVER_OPEN: bytes.fromhex("1A 16 12 12"),
    EmulatedState.CUTTER_JAM: bytes.fromhex("1A 52 1A 12"),
    EmulatedState.OFFLINE: bytes.fromhex("1A 12 12 12"),
}
# Automatic Status Back blocks (GS a n): byte 1 like DLE EOT 1 with base 0x10, byte 2 errors, byte 3 paper.
ASB_REPLIES: dict[EmulatedState, bytes] = {
    EmulatedState.READY: bytes.fromhex("10 00 00 00"),
    EmulatedState.NEAR_END: bytes.fromhex("10 00 03 00"),
    EmulatedState.PAPER_OUT: bytes.fromhex("18 00 0F 00"),
    EmulatedState.COVER_OPEN: bytes.fromhex("38 00 00 00"),
    EmulatedState.CUTTER_JAM: bytes.fromhex("18 08 00 00"),
    EmulatedState.OFFLINE: bytes.fromhex("18 00 00 00"),
}
_PRINTING = (EmulatedState.READY, EmulatedState.NEAR_END)


@dataclass(frozen=True, slots=True)
class RenderedTicket:
    """One cut piece of paper: its text (alignment applied, QR codes as `[QR] data` lines) and raw bytes."""

    text: str
    raw: bytes
    qr: tuple[str, ...] = ()
    scales: tuple[int, ...] = ()  # character magnification (GS !) of each line of `text`


# --- the byte-stream parser ---------------------------------------------------------------------------------

# Fixed lengths of commands whose layout does not depend on their parameters (prefix byte, second byte).
_FIXED: dict[int, dict[int, int]] = {
    0x1B: {
        **dict.fromkeys(b"@2<=imSL", 2),
        **dict.fromkeys(b"!-3EGJMRUVadelrt{ T", 3),
        **dict.fromkeys(b"$\\B", 4),
        ord("p"): 5,
    },
    0x1C: {**dict.fromkeys(b"&.", 2), **dict.fromkeys(b"!-CW", 3), **dict.fromkeys(b"Sp", 4)},
    0x1D: {
        ord(":"): 2,
        **dict.fromkeys(b"!BHIabfhrwT/", 3),
        **dict.fromkeys(b"LWP$\\", 4),
    },
}
# ESC c takes two parameters (ESC c 3 n, ESC c 4 n, ESC c 5 n): 4 bytes, not 3.
_FIXED[0x1B][ord("c")] = 4


class _IncompleteError(Exception):
    """The buffer ends inside a command: wait for more bytes."""


@dataclass(slots=True)
class _Paper:
    """The ticket being printed."""

    raw: bytearray = field(default_factory=bytearray)
    lines: list[str] = field(default_factory=list)
    scales: list[int] = field(default_factory=list)
    qr: list[str] = field(default_factory=list)


class EscposStream:
    """Parses one connection's byte stream; `feed` returns the bytes to answer."""

    def __init__(self, printer: EmulatedPrinter) -> None:
        self._printer = printer
        self._buf = bytearray()
        self._held: list[bytes] = []  # commands received while not printable, in order
        self._paper: _Paper | None = None
        self._line = bytearray()
        self._line_align = 0
        self._line_scale = 1
        self._align = 0
        self._scale = 1
        self._qr_data = ""
        self._asb = printer.asb_default  # GS a n; ESC @ restores the memory switch's default
        self._asb_sent: EmulatedState | None = None

    def feed(self, data: bytes) -> bytes:
        out = bytearray()
        self._status_back(out)
        self._release(out)
        self._buf += data
        pos = 0
        while pos < len(self._buf):
            try:
                n = self._command_length(pos)
            except _IncompleteError:
                break
            if pos + n > len(self._buf):
                break  # the payload has not all arrived yet
            cmd = bytes(self._buf[pos : pos + n])
            pos += n
            if cmd[0] == 0x10:
                self._realtime(cmd, out)
            elif self._printer.state is EmulatedState.SILENT:
                continue
            elif self._held or self._printer.state not in _PRINTING:
                self._held.append(cmd)
            else:
                self._execute(cmd, out)
        del self._buf[:pos]
        self._status_back(out)
        return bytes(out)

    def _status_back(self, out: bytearray) -> None:
        """ASB: 4 status bytes when enabled and on every change, without being asked."""
        state = self._printer.state
        if not self._asb or state is EmulatedState.SILENT or state is self._asb_sent:
            return
        out += ASB_REPLIES[state]
        self._asb_sent = state
        self._printer.asb_blocks_sent += 1

    def _release(self, out: bytearray) -> None:
        if self._printer.state is EmulatedState.SILENT:
            self._held.clear()
        while self._held and self._printer.state in _PRINTING:
            self._execute(self._held.pop(0), out)

    def _need(self, end: int) -> None:
        if end > len(self._buf):
            raise _IncompleteError

    def _command_length(self, pos: int) -> int:
        b = self._buf
        first = b[pos]
        if first >= 0x20:
            end = pos
            while end < len(b) and b[end] >= 0x20:
                end += 1
            return end - pos
        if first not in (0x10, 0x1B, 0x1C, 0x1D):
            return 1  # LF, CR, HT, FF, CAN, NUL…
        self._need(pos + 2)
        second = b[pos + 1]
        if first == 0x10:
            if second == 0x14:  # DLE DC4 fn …: 5 bytes, 10 for fn 8 (clear buffer)
                self._need(pos + 3)
                return 10 if b[pos + 2] == 8 else 5
            return 3 if second in (0x04, 0x05) else 1
        if first == 0x1D and second == 0x56:  # GS V m [n]: function B/C/D carry a feed amount
            self._need(pos + 3)
            return 4 if b[pos + 2] in (0x41, 0x42, 0x61, 0x62, 0x67, 0x68) else 3
        if first == 0x1D and second == 0x28:  # GS ( fn pL pH payload (QR, graphics…)
            self._need(pos + 5)
            return 5 + b[pos + 3] + 256 * b[pos + 4]
        if first == 0x1D and second == 0x38:  # GS 8 L p1 p2 p3 p4 payload (large graphics)
            self._need(pos + 7)
            return 7 + int.from_bytes(b[pos + 3 : pos + 7], "little")
        if first == 0x1D and second == 0x76:  # GS v 0 m xL xH yL yH + xL·yL raster bytes
            self._need(pos + 8)
            x = b[pos + 4] + 256 * b[pos + 5]
            y = b[pos + 6] + 256 * b[pos + 7]
            return 8 + x * y
        if first == 0x1D and second == 0x6B:  # GS k m: barcode, NUL-ended (m ≤ 6) or counted
            self._need(pos + 3)
            if b[pos + 2] <= 6:
                end = b.find(0, pos + 3)
                if end < 0:
                    raise _IncompleteError
                return end + 1 - pos
            self._need(pos + 4)
            return 4 + b[pos + 3]
        if first == 0x1D and second == 0x2A:  # GS * x y + x·y·8 bytes (downloaded bit image)
            self._need(pos + 4)
            return 4 + b[pos + 2] * b[pos + 3] * 8
        if first == 0x1B and second == 0x2A:  # ESC * m nL nH + column data
            self._need(pos + 5)
            k = b[pos + 3] + 256 * b[pos + 4]
            return 5 + (3 * k if b[pos + 2] in (32, 33) else k)
        if first == 0x1B and second == 0x44:  # ESC D tab stops, NUL-ended
            end = b.find(0, pos + 2)
            if end < 0:
                raise _IncompleteError
            return end + 1 - pos
        length = _FIXED[first].get(second)
        if length is None:
            log.debug("unknown command %02X %02X, skipped as 2 bytes", first, second)
            return 2
        self._need(pos + length)
        return length

    def _realtime(self, cmd: bytes, out: bytearray) -> None:
        state = self._printer.state
        if state is EmulatedState.SILENT:
            return
        if len(cmd) == 3 and cmd[1] == 0x04 and 1 <= cmd[2] <= 4:
            out.append(STATUS_REPLIES[state][cmd[2] - 1])
        elif cmd == CLEAR_BUFFER:  # DLE DC4 8: a host cancelling a job; printers ignore wrong d1..d7
            self._held.clear()
            self._paper = None
            self._line.clear()
            self._printer.buffers_cleared += 1
            out += CLEAR_BUFFER_DONE

    def _execute(self, cmd: bytes, out: bytearray) -> None:
        first = cmd[0]
        second = cmd[1] if len(cmd) > 1 else -1
        if first == 0x1B and second == 0x40:
            self._align, self._scale = 0, 1
            self._asb = self._printer.asb_default
            if self._paper is None:
                self._paper = _Paper()
            self._printer.job_started()
        if first == 0x1D and second == 0x61:  # GS a n: ASB on (any item) or off; on sends the status now
            self._asb, self._asb_sent = cmd[2] != 0, None
            return
        if first == 0x1D and second == 0x72:  # GS r n: answered in buffer order, i.e. now
            out.append(0x03 if self._printer.state is EmulatedState.NEAR_END else 0x00)
            return
        if self._paper is None:
            if first >= 0x20 or first == 0x0A:
                self._paper = _Paper()  # text without ESC @ still prints
            else:
                return
        self._paper.raw += cmd
        if first >= 0x20:
            if not self._line:
                self._line_align, self._line_scale = self._align, self._scale
            self._line += cmd
        elif first == 0x0A:
            self._end_line()
        elif first == 0x1B and second == 0x61:
            self._align = cmd[2] % 48  # ESC a accepts 0–2 and '0'–'2'
        elif first == 0x1D and second == 0x21:
            self._scale = (cmd[2] >> 4) + 1
        elif first == 0x1B and second == 0x64:
            self._end_line()
            blank = max(0, cmd[2] - 1)
            self._paper.lines.extend([""] * blank)
            self._paper.scales.extend([1] * blank)
        elif first == 0x1D and second == 0x28 and len(cmd) >= 8 and cmd[2] == 0x6B:
            fn = cmd[6]
            if fn == 0x50:
                self._qr_data = cmd[8:].decode("utf-8", errors="replace")
            elif fn == 0x51 and self._qr_data:
                self._end_line()
                self._paper.lines.append(f"[QR] {self._qr_data}")
                self._paper.scales.append(1)
                self._paper.qr.append(self._qr_data)
        elif first == 0x1D and second == 0x56:
            self._end_line()
            paper, self._paper = self._paper, None
            self._printer.add_ticket(paper)

    def _end_line(self) -> None:
        if self._paper is None:
            return
        text = self._line.decode("gb18030", errors="replace")
        self._line.clear()
        cols = self._printer.columns
        width = display_width(text) * self._line_scale
        pad = 0
        if self._line_align == 1:
            pad = max(0, (cols - width) // 2)
        elif self._line_align == 2:
            pad = max(0, cols - width)
        self._paper.lines.append((" " * pad + text).rstrip())
        self._paper.scales.append(self._line_scale)


class EmulatedPrinter:
    """The printer itself: its state and what it printed. Shared by the TCP and pty front ends."""

    def __init__(
        self, width_mm: int = 80, state: EmulatedState = EmulatedState.READY, *, asb_default: bool = False
    ) -> None:
        self.columns = columns_for(width_mm)
        self._state = state
        self.asb_default = asb_default  # a memory switch some printers ship with: ASB on after ESC @
        self.asb_blocks_sent = 0
        self.buffers_cleared = 0
        self._interrupt: EmulatedState | None = None
        self._lock = threading.Lock()
        self._tickets: list[RenderedTicket] = []
        self.on_change: Callable[[], None] | None = None  # the front end's wake-up

    @property
    def state(self) -> EmulatedState:
        return self._state

    def set_state(self, state: EmulatedState | str) -> None:
        """Script the printer: ready, near_end, paper_out, cover_open, cutter_jam, offline or silent."""
        self._state = EmulatedState(state)
        if self.on_change is not None:
            self.on_change()  # held jobs print and held GS r replies go out when it is ready again

    def interrupt_next_job(self, state: EmulatedState | str) -> None:
        """Script a mid-job failure: when the next job starts (`ESC @`) the printer goes to `state` (e.g.
        the cover is opened), so the rest of that job waits in the buffer as on a real printer."""
        self._interrupt = EmulatedState(state)

    def job_started(self) -> None:
        state, self._interrupt = self._interrupt, None
        if state is not None:
            self.set_state(state)

    @property
    def tickets(self) -> list[RenderedTicket]:
        """What has been printed and cut so far (a copy)."""
        with self._lock:
            return list(self._tickets)

    def add_ticket(self, paper: _Paper) -> None:
        ticket = RenderedTicket(
            "\n".join(paper.lines), bytes(paper.raw), tuple(paper.qr), tuple(paper.scales)
        )
        with self._lock:
            self._tickets.append(ticket)

    def stream(self) -> EscposStream:
        return EscposStream(self)
