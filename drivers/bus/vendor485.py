"""Vendor 485 call keypads (PROTOCOLS.md §3): the bus and the `CallKeypad` driver on it."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from drivers.base import DeviceState, DeviceUnavailable
from drivers.bus.link import LinkLostError, PortOpener, SerialBus, open_port
from drivers.codecs import vendor485
from drivers.keys import KeyEvent
from drivers.listeners import Listeners
from drivers.protocols import Unsubscribe

log = logging.getLogger(__name__)


class Vendor485Bus(SerialBus):
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
        super().__init__(
            url, baud=baud, name=name or f"vendor 485 bus {url}", backoff_max_s=backoff_max_s, opener=opener
        )
        self._decoder = vendor485.VendorDecoder()
        self._write_lock = threading.Lock()
        self._keypads: dict[int, Listeners[KeyEvent]] = {}

    def _release(self) -> None:
        with self._write_lock:
            self._link.close()

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
