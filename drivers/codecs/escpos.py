"""ESC/POS as pure functions: GB18030 text, column widths, wrapping, command bytes and status replies.

Sources: Epson's ESC/POS reference for command layouts and status bits, PROTOCOLS.md §1 for the replies seen
on the printers halls buy. python-escpos is not used here: it encodes GB18030 only for U+4E00–U+9FA5, so
full-width punctuation such as `：（）` would print as `???`.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from drivers.base import DeviceState, Health, ProtocolError

ESC = 0x1B
GS = 0x1D
DLE = 0x10
FS = 0x1C
LF = b"\n"

# Font A is 12 dots per ASCII column, 24 per Han char: 384 dots on 58 mm paper, 576 on 80 mm.
COLUMNS = {58: 32, 80: 48}


def columns_for(width_mm: int) -> int:
    """Font A columns (ASCII width units) of a paper width in millimetres."""
    try:
        return COLUMNS[width_mm]
    except KeyError:
        raise ValueError(f"paper width {width_mm} mm is not supported; use 58 or 80") from None


# --- text -------------------------------------------------------------------------------------------------


def clean_text(text: str) -> str:
    """Drop control chars (except newline) so text from config or users cannot inject printer commands."""
    return "".join(ch for ch in text if ch == "\n" or not unicodedata.category(ch).startswith("C"))


def encode_text(text: str) -> bytes:
    """Encode text for the printer's Chinese mode: GB18030, after dropping control characters.

    GB18030 trail bytes are never below 0x30, so encoded text can never contain ESC, GS, DLE or FS.
    """
    return clean_text(text).encode("gb18030", errors="replace")


def char_width(ch: str) -> int:
    """Columns one character takes in font A: Han and full-width 2, ASCII 1, combining marks 0."""
    if " " <= ch <= "~":
        return 1
    if unicodedata.combining(ch):
        return 0
    if unicodedata.east_asian_width(ch) in ("W", "F"):
        return 2
    # In Chinese mode the printer draws every double-byte code with its 24-dot Han font, so "ambiguous"
    # characters like `·—×①` take two columns on paper although a terminal shows them in one.
    return 2 if len(ch.encode("gb18030", errors="replace")) > 1 else 1


def display_width(text: str) -> int:
    """Columns a single-line string takes in font A."""
    return sum(char_width(ch) for ch in text)


# Chinese line-breaking rule (避头): these never start a line; the char before them moves down with them.
_NO_LINE_START = frozenset("，。、；：？！）》」』】〕…—～,.;:?!)]}%")


def _tokens(line: str) -> list[str]:
    """Split into units that may not be broken: ASCII words, single spaces, single wide chars."""
    out: list[str] = []
    word = ""
    for ch in line:
        if ch.isascii() and not ch.isspace():
            word += ch
            continue
        if word:
            out.append(word)
            word = ""
        out.append(ch)
    if word:
        out.append(word)
    return out


def _hard_split(token: str, cols: int) -> list[str]:
    pieces: list[str] = []
    cur = ""
    for ch in token:
        if display_width(cur) + char_width(ch) > cols:
            pieces.append(cur)
            cur = ""
        cur += ch
    if cur:
        pieces.append(cur)
    return pieces


def wrap(text: str, cols: int) -> list[str]:
    """Wrap text to lines of at most `cols` columns, never splitting a double-width char.

    English words break at spaces (a word longer than a line is split); Chinese breaks between any two chars,
    except that closing punctuation never starts a line. Newlines in `text` are kept as line breaks.
    """
    if cols < 2:
        raise ValueError("a line must hold at least one double-width char")
    lines: list[str] = []
    for para in clean_text(text).split("\n"):
        cur: list[str] = []
        width = 0
        for unit in _tokens(para):
            token, w = unit, display_width(unit)
            if width + w <= cols:
                cur.append(token)
                width += w
                continue
            if token.isspace():
                lines.append("".join(cur).rstrip())
                cur, width = [], 0
                continue
            carry: list[str] = []
            if (
                token in _NO_LINE_START
                and len(cur) > 1
                and not cur[-1].isspace()
                and display_width(cur[-1]) + w <= cols
            ):
                carry = [cur.pop()]
            if cur:
                lines.append("".join(cur).rstrip())
            cur, width = carry, display_width("".join(carry))
            if w > cols:  # an ASCII run longer than a line (a URL, a long number): split it
                pieces = _hard_split(token, cols)
                lines.extend(pieces[:-1])
                token, w = pieces[-1], display_width(pieces[-1])
            cur.append(token)
            width += w
        lines.append("".join(cur).rstrip())
    return lines


# --- command builders ---------------------------------------------------------------------------------------

INIT = bytes((ESC, 0x40))
# FS & selects double-byte (Chinese) mode; Chinese models start in it, but some drop it on ESC @.
CHINESE_MODE = bytes((FS, 0x26))

LEFT, CENTER, RIGHT = 0, 1, 2


def align(where: int) -> bytes:
    """ESC a n: 0 left, 1 centre, 2 right."""
    if where not in (LEFT, CENTER, RIGHT):
        raise ValueError(f"alignment {where} is not 0, 1 or 2")
    return bytes((ESC, 0x61, where))


def bold(on: bool) -> bytes:
    """ESC E n."""
    return bytes((ESC, 0x45, 1 if on else 0))


def size(width: int = 1, height: int = 1) -> bytes:
    """GS ! n: character magnification 1–8 in each direction (applies to Han and ASCII alike)."""
    if not (1 <= width <= 8 and 1 <= height <= 8):
        raise ValueError(f"magnification {width}x{height} is outside 1..8")
    return bytes((GS, 0x21, ((width - 1) << 4) | (height - 1)))


def text_line(text: str) -> bytes:
    """One line of text, GB18030, ended by LF."""
    return encode_text(text) + LF


def feed(lines: int) -> bytes:
    """ESC d n: print the buffer and feed n lines."""
    if not 0 <= lines <= 255:
        raise ValueError(f"feed of {lines} lines is outside 0..255")
    return bytes((ESC, 0x64, lines))


def cut(feed_lines: int = 3, partial: bool = True) -> bytes:
    """GS V m n (function B): feed n dot lines past the cutter position, then cut."""
    if not 0 <= feed_lines <= 255:
        raise ValueError(f"cut feed {feed_lines} is outside 0..255")
    return bytes((GS, 0x56, 0x42 if partial else 0x41, feed_lines))


def _qr_fn(fn: int, params: bytes) -> bytes:
    n = len(params) + 2
    return bytes((GS, 0x28, 0x6B, n & 0xFF, n >> 8, 0x31, fn)) + params


QR_MAX_BYTES = 7089  # GS ( k symbol storage limit (model 2, version 40, level L)


def qr(data: str, module: int = 6) -> bytes:
    """Native QR (GS ( k): model 2, module size, error level M, store, print."""
    payload = data.encode("utf-8")
    if not payload or len(payload) > QR_MAX_BYTES:
        raise ValueError(f"QR data of {len(payload)} bytes is outside 1..{QR_MAX_BYTES}")
    if not 1 <= module <= 16:
        raise ValueError(f"QR module size {module} is outside 1..16")
    return (
        _qr_fn(0x41, b"\x32\x00")  # model 2
        + _qr_fn(0x43, bytes((module,)))
        + _qr_fn(0x45, b"\x31")  # 49 = level M (15 %): survives a smudge on thermal paper
        + _qr_fn(0x50, b"\x30" + payload)
        + _qr_fn(0x51, b"\x30")
    )


def status_request(n: int) -> bytes:
    """DLE EOT n: real-time status, answered at once even while earlier data is still buffered."""
    if n not in (1, 2, 3, 4):
        raise ValueError(f"DLE EOT {n}: only 1..4 are used")
    return bytes((DLE, 0x04, n))


# GS r 1 is answered in buffer order, i.e. only after everything sent before it has been processed.
PAPER_SENSOR_REQUEST = bytes((GS, 0x72, 0x01))

# GS a 0: no Automatic Status Back. Some printers ship with ASB on (a memory switch) and ESC @ restores that
# default, so it is sent after the job's ESC @; unsolicited 4-byte ASB blocks would otherwise interleave
# with the replies hallq waits for.
ASB_OFF = bytes((GS, 0x61, 0x00))

# DLE DC4 8 with its fixed confirmation bytes d1..d7 = 1 3 20 1 6 2 8 (Epson ESC/POS reference): real-time,
# so it works while the printer is offline, and discards everything received but not yet printed. Sent when
# a job failed, so a ticket the hall has voided never comes out later when the cover is closed.
CLEAR_BUFFER = bytes((DLE, 0x14, 0x08, 0x01, 0x03, 0x14, 0x01, 0x06, 0x02, 0x08))
# The printer's answer once the buffers are empty: header 37h, identifier 25h, NUL.
CLEAR_BUFFER_DONE = b"\x37\x25\x00"


# --- status replies -----------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """What the four `DLE EOT` replies say. The default is a ready printer."""

    online: bool = True
    cover_open: bool = False
    paper_near_end: bool = False
    paper_out: bool = False
    cutter_error: bool = False
    unrecoverable: bool = False
    auto_recoverable: bool = False

    @property
    def printable(self) -> bool:
        """Online with paper and no error: a job sent now will be printed."""
        return self.online and not (
            self.cover_open
            or self.paper_out
            or self.cutter_error
            or self.unrecoverable
            or self.auto_recoverable
        )

    def state(self) -> DeviceState:
        """The state an app shows, with the reason in hall words (Chinese, then English)."""
        if self.cover_open:
            return DeviceState(Health.UNAVAILABLE, "纸仓盖未关 cover open")
        if self.paper_out:
            return DeviceState(Health.UNAVAILABLE, "缺纸 paper out")
        if self.cutter_error:
            return DeviceState(Health.UNAVAILABLE, "切刀故障 cutter error")
        if self.unrecoverable:
            return DeviceState(Health.UNAVAILABLE, "打印机故障 printer fault")
        if self.auto_recoverable:
            return DeviceState(Health.UNAVAILABLE, "打印头过热，稍候 print head hot, wait")
        if not self.online:
            return DeviceState(Health.UNAVAILABLE, "打印机脱机 printer offline")
        if self.paper_near_end:
            return DeviceState(Health.DEGRADED, "纸将用尽 paper near end")
        return DeviceState(Health.OK)


def check_status_byte(reply: int) -> int:
    """Return a `DLE EOT` reply byte if it has the fixed bits `0xx1xx10`, else raise ProtocolError."""
    if not 0 <= reply <= 0xFF or reply & 0b1001_0011 != 0b0001_0010:
        raise ProtocolError(
            f"status reply 0x{reply:02X} does not match 0xx1xx10; is this an ESC/POS printer?"
        )
    return reply


def parse_status(replies: bytes) -> PrinterStatus:
    """Parse the replies to `DLE EOT 1, 2, 3, 4` (one byte each, in that order)."""
    if len(replies) != 4:
        raise ProtocolError(f"expected 4 status bytes (DLE EOT 1..4), got {len(replies)}: {replies.hex(' ')}")
    printer, offline, error, paper = (check_status_byte(b) for b in replies)
    return PrinterStatus(
        online=not printer & 0x08,
        cover_open=bool(offline & 0x04),
        paper_near_end=bool(paper & 0x0C),
        paper_out=bool(offline & 0x20 or paper & 0x60),
        cutter_error=bool(error & 0x08),
        unrecoverable=bool(error & 0x20),
        auto_recoverable=bool(error & 0x40),
    )


@dataclass(frozen=True, slots=True)
class PaperSensor:
    """The reply to `GS r 1`."""

    near_end: bool
    paper_out: bool


def parse_paper_sensor(reply: int) -> PaperSensor:
    """Parse a `GS r 1` reply; its fixed bits 4 and 7 are 0, which tells it apart from a `DLE EOT` reply."""
    if not 0 <= reply <= 0xFF or reply & 0b1001_0000:
        raise ProtocolError(f"GS r 1 reply 0x{reply:02X} has bit 4 or 7 set; expected 0xx0xxxx")
    return PaperSensor(near_end=bool(reply & 0x03), paper_out=bool(reply & 0x0C))


# --- Automatic Status Back ----------------------------------------------------------------------------------

ASB_LENGTH = 4


def is_asb_header(byte: int) -> bool:
    """True for the first byte of an ASB block (`0xx1xx00`); a `DLE EOT` reply is `0xx1xx10`, a `GS r 1`
    reply `0xx0xxxx`, so the three never look alike."""
    return byte & 0b1001_0011 == 0b0001_0000


def parse_asb(block: bytes) -> PrinterStatus:
    """Parse a 4-byte ASB block: byte 1 like `DLE EOT 1` (0x08 offline, 0x20 cover open), byte 2 errors
    (0x08 cutter, 0x20 unrecoverable, 0x40 auto-recoverable), byte 3 paper (0x03 near end, 0x0C end)."""
    if len(block) != ASB_LENGTH or not is_asb_header(block[0]) or any(b & 0b1001_0000 for b in block[1:]):
        raise ProtocolError(f"not an ASB block: {block.hex(' ')}")
    first, errors, paper = block[0], block[1], block[2]
    return PrinterStatus(
        online=not first & 0x08,
        cover_open=bool(first & 0x20),
        paper_near_end=bool(paper & 0x03),
        paper_out=bool(paper & 0x0C),
        cutter_error=bool(errors & 0x08),
        unrecoverable=bool(errors & 0x20),
        auto_recoverable=bool(errors & 0x40),
    )
