"""One small Protocol per device role, in hall words (DESIGN.md §5). Apps depend on these, never on a driver.

Blocking calls are bounded (a few reply deadlines at most) and raise `DeviceUnavailable` when the device is
gone; asyncio/Qt callers run them with `asyncio.to_thread` or use the futures the bus drivers also offer.
Listeners are called on the driver's own thread: marshal to the UI thread before touching widgets.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from drivers.base import DeviceState
from drivers.codecs.escpos import PrinterStatus
from drivers.codecs.hqp import Color, Effect, KeyCode, KeyEvent
from drivers.printing import NoticePrint, TicketPrint

__all__ = [
    "CallKeypad",
    "Color",
    "Effect",
    "IdCard",
    "IdCardReader",
    "KeyCode",
    "KeyEvent",
    "LedBoard",
    "NoticePrint",
    "PrinterStatus",
    "RatingPad",
    "Scanner",
    "TicketPrint",
    "TicketPrinter",
    "Unsubscribe",
    "VoicePlayer",
]

Unsubscribe = Callable[[], None]


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


@dataclass(frozen=True, slots=True)
class IdCard:
    """What an ID card reader returns. The number is handled per the privacy rules (HMAC + last 4, never
    stored in clear): callers must not log it."""

    id_number: str
    name: str

    def __repr__(self) -> str:
        return f"IdCard(id_number='…{self.id_number[-4:]}', name='{self.name[:1]}*')"


class IdCardReader(Protocol):
    """A second-generation ID card reader (plugin; hallq ships only a fake)."""

    def read_card(self, timeout_s: float) -> IdCard | None:
        """The card placed on the reader within `timeout_s`, or None."""
        ...

    def state(self) -> DeviceState: ...
