"""One small Protocol per device role, in hall words (DESIGN.md §5). Apps depend on these, never on a driver.

Apps import `drivers.protocols` (the roles, the data they carry, the errors they raise) and `drivers.factory`
(which builds them from a station's config), nothing else of `drivers`: an import-linter contract holds it.

Blocking calls are bounded (a few reply deadlines at most) and raise `DeviceUnavailable` when the device is
gone; asyncio/Qt callers run them with `asyncio.to_thread` or use the futures the bus drivers also offer.
Listeners are called on the driver's own thread: marshal to the UI thread before touching widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from drivers.base import OK, DeviceState, DeviceUnavailable, DriverError, Health, ProtocolError
from drivers.codecs.escpos import PrinterStatus
from drivers.codecs.hqp import Color, Effect
from drivers.codecs.idcard import IdCard, UnsupportedCard
from drivers.idcard_events import CardEvent, CardFailed, CardRead, CardUnsupported
from drivers.keys import KeyCode, KeyEvent
from drivers.printing import NoticePrint, TicketPrint

__all__ = [
    "OK",
    "Announcement",
    "Announcer",
    "CallKeypad",
    "CardEvent",
    "CardFailed",
    "CardRead",
    "CardUnsupported",
    "Color",
    "DeviceState",
    "DeviceUnavailable",
    "DriverError",
    "Effect",
    "Health",
    "IdCard",
    "IdCardReader",
    "KeyCode",
    "KeyEvent",
    "LedBoard",
    "NoticePrint",
    "PrinterNotReady",
    "PrinterStatus",
    "Prompt",
    "PromptPlayer",
    "ProtocolError",
    "RatingPad",
    "Scanner",
    "Speaker",
    "TicketPrint",
    "TicketPrinter",
    "Unsubscribe",
    "UnsupportedCard",
    "VoiceError",
    "VoicePlayer",
]

Unsubscribe = Callable[[], None]


class PrinterNotReady(DeviceUnavailable):
    """The printer answered but cannot print (paper out, cover open, cutter jam, offline).

    `sent` is False when the printer refused before any byte of the job went out (nothing on paper: the
    number can be voided and the citizen told at once); True when it failed mid-job (maybe half a ticket)."""

    def __init__(self, status: PrinterStatus, detail: str = "", *, sent: bool = True) -> None:
        self.status = status
        self.sent = sent
        self.reason = status.state().reason or "打印机未就绪 printer not ready"
        super().__init__(self.reason + (f" ({detail})" if detail else ""))


class VoiceError(DriverError):
    """A voice pack is missing segments or has files that cannot be joined, or no sound output exists."""


@dataclass(frozen=True, slots=True)
class Announcement:
    """One call to read out: its subtitle, the voice segments it joins, and when it was queued."""

    subtitle: str
    segments: tuple[str, ...]
    created: float  # Clock.monotonic() when it was queued
    id: int = 0


AnnouncementCallback = Callable[[Announcement], None]


class TicketPrinter(Protocol):
    """The kiosk's (or service desk's) ticket printer."""

    def print_ticket(self, ticket: TicketPrint) -> None:
        """Print one ticket and return only once the printer confirmed it, else raise.

        Raises `PrinterNotReady` (paper out, cover open…; nothing was sent) or `DeviceUnavailable` (no answer;
        the ticket may or may not be on paper: void or reprint it, never leave a phantom number)."""
        ...

    def print_notice(self, notice: NoticePrint) -> None:
        """Print a 一次性告知单, with the same checks and errors as `print_ticket`."""
        ...

    def status(self) -> PrinterStatus:
        """Ask the printer now; raise `DeviceUnavailable` when it does not answer (never "paper OK")."""
        ...

    def state(self) -> DeviceState:
        """`status()` as the state an app shows; never raises."""
        ...

    def close(self) -> None: ...


class LedBoard(Protocol):
    """A window LED strip or a hall board."""

    def show(
        self,
        text: str,
        *,
        area: int = 0,
        color: int = Color.RED,
        effect: int = Effect.STATIC,
        speed: int = 5,
        hold_s: int = 0,
    ) -> None:
        """Show `text` in `area` (0 = whole strip); characters it cannot draw are replaced, not refused."""
        ...

    def clear(self, area: int = 0) -> None: ...

    def brightness(self, level: int) -> None:
        """0 (darkest) to 15."""
        ...

    def ping(self) -> bool:
        """True when the board answers."""
        ...

    def state(self) -> DeviceState: ...


class CallKeypad(Protocol):
    """A clerk's call keypad (呼叫器)."""

    def subscribe(self, listener: Callable[[KeyEvent], None]) -> Unsubscribe:
        """Call `listener` once per key press (never twice for one press, even after a retried poll)."""
        ...

    def show(self, ticket: str, waiting: int) -> None:
        """Show the ticket being served and how many are waiting."""
        ...

    def beep(self) -> None: ...

    def state(self) -> DeviceState: ...


class RatingPad(Protocol):
    """A rating pad (评价器) at a window."""

    def request(self, ticket: str, timeout_s: float) -> int | None:
        """Ask the citizen to rate; the score 1..5 (5 = 非常满意), or None when nobody pressed in time."""
        ...

    def state(self) -> DeviceState: ...


class Scanner(Protocol):
    """A keyboard-wedge barcode/QR scanner."""

    def subscribe(self, listener: Callable[[str], None]) -> Unsubscribe:
        """Call `listener` with each complete code (without the Enter that ended it)."""
        ...

    def state(self) -> DeviceState: ...

    def close(self) -> None: ...


class VoicePlayer(Protocol):
    """Plays one WAV to its end. Queueing and "never cut a call off" live in `drivers.voice`."""

    def play(self, wav: Path, on_done: Callable[[], None]) -> None:
        """Start playing and return; call `on_done` exactly once when playback ended or failed."""
        ...


class PromptPlayer(VoicePlayer, Protocol):
    """A `VoicePlayer` whose playback can be cut off: guidance stops when the screen changes."""

    def stop(self) -> None:
        """End what is playing now (its `on_done` is still called once)."""
        ...


@dataclass(frozen=True, slots=True)
class Prompt:
    """What a kiosk screen says: `key` names a hall's recording (`<lang>/<key>.wav`), `text` is the words,
    `spoken` what espeak-ng reads when there is no recording (pinyin with tone numbers for Chinese)."""

    key: str
    language: str  # "zh" or "en"
    text: str
    spoken: str


class Speaker(Protocol):
    """Spoken guidance (drivers.voice.prompts): one prompt at a time, cut off by the next one or `stop`."""

    def say(self, prompt: Prompt) -> None:
        """Stop what is being said and say `prompt` (a recording when the hall has one)."""
        ...

    def stop(self) -> None: ...

    def close(self) -> None: ...


class Announcer(Protocol):
    """Reads calls out in order, one after another, never cutting one off (`drivers.voice`)."""

    def announce_call(self, ticket: str, window: int) -> Announcement:
        """Queue "请A012号到12号窗口办理" in the hall's languages; `VoiceError` when it cannot be said."""
        ...

    def listen(
        self, on_start: AnnouncementCallback, on_finish: AnnouncementCallback, on_drop: AnnouncementCallback
    ) -> None:
        """Who hears when an announcement starts, ends, or is dropped (too old, backlog full, unbuildable).
        Called on whichever thread finished the previous announcement."""
        ...


class IdCardReader(Protocol):
    """A 居民身份证 reader (PROTOCOLS.md §6): push-style, like `Scanner`. The photo and the address never
    leave the driver; the card's name and number are personal data that listeners must not log."""

    def subscribe(self, listener: Callable[[CardEvent], None]) -> Unsubscribe:
        """Call `listener` once per placement of a card: `CardRead`, `CardUnsupported` or `CardFailed` (a card
        left on the reader is not reported again until it is lifted and placed again)."""
        ...

    def state(self) -> DeviceState: ...

    def close(self) -> None: ...
