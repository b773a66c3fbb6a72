"""One serial port by URL, shared by the bus drivers: opened with `serial.serial_for_url` (a USB adapter, an
RS-485-to-Ethernet box at `socket://`, a pty in tests, `loop://`), reopened with backoff when it is lost."""

from __future__ import annotations

import contextlib
import logging
from typing import Protocol

import serial

from drivers.base import OK, DeviceState, Health
from drivers.devicethread import DeviceThread

log = logging.getLogger(__name__)

# A blocking call on a bus never waits longer than this, whatever happens below: a hang guard, not a timeout
# anyone should reach (a request costs at most tries x (reply deadline + transmit time) on the wire).
CALL_GUARD_S = 30.0


class PortOpener(Protocol):
    def __call__(self, url: str, *, baudrate: int, timeout: float) -> serial.SerialBase: ...


def open_port(url: str, *, baudrate: int, timeout: float) -> serial.SerialBase:
    port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout)
    assert isinstance(port, serial.SerialBase)
    return port


class LinkLostError(Exception):
    """The port itself failed (unplugged, pty closed, TCP box gone): every device on it is unreachable."""


class SerialLink:
    """One port by URL, reopened with bounded exponential backoff. Logs once on loss and once on recovery,
    never once per retry: a hall's log must stay readable through a night with a box switched off."""

    def __init__(
        self,
        url: str,
        *,
        baud: int = 9600,
        name: str = "",
        read_slice_s: float = 0.01,
        backoff_initial_s: float = 0.05,
        backoff_max_s: float = 2.0,
        opener: PortOpener = open_port,
    ) -> None:
        self.url = url
        self.baud = baud
        self.name = name or url
        self._read_slice_s = read_slice_s
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._backoff_s = backoff_initial_s
        self._opener = opener
        self._port: serial.SerialBase | None = None
        self._ever_open = False
        self._loss_logged = False
        self.reason = "not opened yet"
        self.losses = 0

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def try_open(self) -> bool:
        if self._port is not None:
            return True
        try:
            # The port's own timeout is only the slice one read waits; reply deadlines are kept by the caller.
            self._port = self._opener(self.url, baudrate=self.baud, timeout=self._read_slice_s)
        except (serial.SerialException, OSError, ValueError) as e:
            self.reason = f"cannot open {self.url}: {e}"
            if not self._loss_logged:
                self._loss_logged = True
                log.warning("%s unavailable (%s); retrying in the background", self.name, self.reason)
            return False
        if self._loss_logged:
            log.info("%s is back", self.name)
        self._loss_logged = False
        self._ever_open = True
        self._backoff_s = self._backoff_initial_s
        self.reason = ""
        return True

    def next_backoff(self) -> float:
        delay = self._backoff_s
        self._backoff_s = min(self._backoff_s * 2, self._backoff_max_s)
        return delay

    def lost(self, error: BaseException) -> None:
        self.losses += 1
        self.reason = f"{self.url} lost: {error}"
        if not self._loss_logged:
            self._loss_logged = True
            log.warning("%s unavailable (%s); reconnecting in the background", self.name, self.reason)
        self.close()

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            # A port that is already gone has nothing left to release.
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def write(self, data: bytes) -> None:
        if self._port is None:
            raise LinkLostError(self.reason)
        try:
            # No flush(): tcdrain on a dead pty raises termios.error, and the reply deadline already allows
            # for the frame's time on the wire.
            self._port.write(data)
        except (serial.SerialException, OSError) as e:
            raise LinkLostError(str(e)) from e

    def read_some(self) -> bytes:
        """What has arrived, waiting at most one read slice for the first byte."""
        if self._port is None:
            raise LinkLostError(self.reason)
        try:
            # The stubs' SerialBase lacks in_waiting; every port class serial_for_url returns has it.
            waiting = int(getattr(self._port, "in_waiting", 0))
            return bytes(self._port.read(waiting or 1))
        except (serial.SerialException, OSError) as e:
            raise LinkLostError(str(e)) from e


class SerialBus(DeviceThread):
    """What both bus drivers share: one `SerialLink`, served by the bus's own thread, and its state."""

    join_s = CALL_GUARD_S

    def __init__(self, url: str, *, baud: int, name: str, backoff_max_s: float, opener: PortOpener) -> None:
        super().__init__(name)
        self._link = SerialLink(url, baud=baud, name=name, backoff_max_s=backoff_max_s, opener=opener)
        self._down = False

    def state(self) -> DeviceState:
        if self._down or not self._link.is_open:
            return DeviceState(Health.UNAVAILABLE, self._link.reason)
        return OK
