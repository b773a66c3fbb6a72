"""Fakes with the real device Protocols, for app tests and the demo: scriptable, recording, no I/O."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from drivers.base import DeviceState, DeviceUnavailable, DriverError, Health
from drivers.codecs.escpos import PrinterStatus
from drivers.printing import NoticePrint, TicketPrint, notice_bytes, ticket_bytes
from drivers.protocols import PrinterNotReady


class FakeTicketPrinter:
    """A `TicketPrinter` that records what it printed.

    Script it with `set_status` (None = the printer does not answer) and `fail_next` (raised once by the next
    print, after the status check: a printer lost mid-job). It applies the same rules as `EscposPrinter`:
    a printer that is not printable refuses the job before anything is recorded.
    """

    def __init__(self, width_mm: int = 80, status: PrinterStatus | None = None) -> None:
        self.width_mm = width_mm
        self.tickets: list[TicketPrint] = []
        self.notices: list[NoticePrint] = []
        self.jobs: list[bytes] = []  # the exact ESC/POS bytes a real printer would have received
        self.fail_next: DriverError | None = None
        self.closed = False
        self._status: PrinterStatus | None = PrinterStatus() if status is None else status
        self._lock = threading.Lock()

    def set_status(self, status: PrinterStatus | None) -> None:
        with self._lock:
            self._status = status

    def print_ticket(self, ticket: TicketPrint) -> None:
        with self._job(ticket_bytes(ticket, self.width_mm)):
            self.tickets.append(ticket)

    def print_notice(self, notice: NoticePrint) -> None:
        with self._job(notice_bytes(notice, self.width_mm)):
            self.notices.append(notice)

    def status(self) -> PrinterStatus:
        with self._lock:
            return self._current()

    def state(self) -> DeviceState:
        try:
            return self.status().state()
        except DriverError:
            return DeviceState(Health.UNAVAILABLE, "打印机无应答 printer not answering")

    def close(self) -> None:
        self.closed = True

    def _current(self) -> PrinterStatus:
        if self.closed:
            raise DeviceUnavailable("fake printer: closed")
        if self._status is None:
            raise DeviceUnavailable("fake printer: no answer (scripted)")
        return self._status

    @contextlib.contextmanager
    def _job(self, job: bytes) -> Iterator[None]:
        """Record a job (the body records what was printed) only when the printer would have printed it."""
        with self._lock:
            self._check()
            yield
            self.jobs.append(job)

    def _check(self) -> None:
        status = self._current()
        if not status.printable:
            raise PrinterNotReady(status, "nothing sent", sent=False)
        if self.fail_next is not None:
            error, self.fail_next = self.fail_next, None
            raise error


class SinkPlayer:
    """The test audio sink: a `PromptPlayer` that plays nothing and records everything. A WAV "plays" until
    `finish()` or `stop()`; `played` lists every WAV started, `stopped` those cut off."""

    def __init__(self) -> None:
        self.played: list[Path] = []
        self.stopped: list[Path] = []
        self.finished: list[Path] = []
        self._playing: tuple[Path, Callable[[], None]] | None = None
        self._lock = threading.Lock()
        self.started = threading.Condition(self._lock)

    @property
    def playing(self) -> Path | None:
        with self._lock:
            return self._playing[0] if self._playing is not None else None

    def play(self, wav: Path, on_done: Callable[[], None]) -> None:
        with self._lock:
            if self._playing is not None:
                raise AssertionError(f"{wav} started while {self._playing[0]} was playing")
            self._playing = (wav, on_done)
            self.played.append(wav)
            self.started.notify_all()

    def _end(self, into: list[Path]) -> None:
        with self._lock:
            current, self._playing = self._playing, None
            if current is not None:
                into.append(current[0])
        if current is not None:
            current[1]()

    def stop(self) -> None:
        self._end(self.stopped)

    def finish(self) -> None:
        self._end(self.finished)
