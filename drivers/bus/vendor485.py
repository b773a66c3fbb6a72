"""Vendor 485 call keypads (PROTOCOLS.md §3): the bus and the `CallKeypad` driver on it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from drivers.base import OK, DeviceState, DeviceUnavailable, Health
from drivers.bus.link import CALL_GUARD_S, LinkLostError, PortOpener, SerialLink, open_port
from drivers.codecs import vendor485
from drivers.keys import KeyEvent
from drivers.listeners import Listeners
from drivers.protocols import Unsubscribe

log = logging.getLogger(__name__)


class Vendor485Bus:
    """A bus of vendor 485 call keypads (PROTOCOLS.md §3). Keypads send on their own; the host reads, echoes
    every valid frame back unchanged as its ACK, and writes display/beep frames between reads."""

    def __init__(
        self,
        url: str,
        *,
        baud: int = 9600,
        backoff_max_s: float = 2.0,
        name: str = "",
        opener: PortOpener = open_port,
    ) -> None:
        self.name = name or f"vendor 485 bus {url}"
        self._link = SerialLink(url, baud=baud, name=self.name, backoff_max_s=backoff_max_s, opener=opener)
        self._decoder = vendor485.VendorDecoder()
        self._write_lock = threading.Lock()
        self._keypads: dict[int, Listeners[KeyEvent]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._down = False

    def start(self) -> Vendor485Bus:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=CALL_GUARD_S)
            self._thread = None
        with self._write_lock:
            self._link.close()

    def __enter__(self) -> Vendor485Bus:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def state(self) -> DeviceState:
        if self._down or not self._link.is_open:
            return DeviceState(Health.UNAVAILABLE, self._link.reason)
        return OK

    def listeners(self, addr: int) -> Listeners[KeyEvent]:
        return self._keypads.setdefault(addr, Listeners(f"vendor keypad {addr}"))

    def write(self, data: bytes) -> None:
        with self._write_lock:
            try:
                self._link.write(data)
            except LinkLostError as e:
                raise DeviceUnavailable(f"{self.name}: {e}") from e

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._link.is_open:
                with self._write_lock:
                    opened = self._link.try_open()
                if not opened:
                    self._down = True
                    self._stop.wait(self._link.next_backoff())
                    continue
                self._down = False
                self._decoder.reset()
            try:
                with self._write_lock:
                    data = self._link.read_some()
                for frame in self._decoder.feed(data):
                    self._on_frame(frame)
            except LinkLostError as e:
                with self._write_lock:
                    self._link.lost(e)
                self._down = True
            except Exception:
                log.exception("%s: unexpected error on the bus thread", self.name)
                self._stop.wait(0.5)

    def _on_frame(self, frame: vendor485.VendorFrame) -> None:
        # ACK first: the keypad waits for its echo and resends otherwise, whatever we do with the key.
        with self._write_lock:
            self._link.write(frame.raw)
        event = vendor485.key_event(frame)
        listeners = self._keypads.get(frame.addr)
        if event is None:
            return
        if listeners is None:
            log.info("%s: key %r from address %d, which no window uses", self.name, event, frame.addr)
            return
        listeners.emit(event)


class Vendor485Keypad:
    """A `CallKeypad` on a vendor 485 bus."""

    def __init__(self, bus: Vendor485Bus, address: int) -> None:
        self._bus = bus
        self.address = address

    def subscribe(self, listener: Callable[[KeyEvent], None]) -> Unsubscribe:
        return self._bus.listeners(self.address).add(listener)

    def show(self, ticket: str, waiting: int) -> None:
        self._bus.write(vendor485.encode_display(self.address, waiting=waiting, ticket=ticket))

    def beep(self) -> None:
        self._bus.write(vendor485.encode_beep(self.address))

    def state(self) -> DeviceState:
        return self._bus.state()
