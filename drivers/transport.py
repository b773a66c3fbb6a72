"""Byte transports for devices: one small Protocol and adapters for pyserial, TCP sockets and python-escpos.

Every adapter bounds every wait and turns a lost link into `DeviceUnavailable`, so drivers above never hang
and never see library-specific exceptions.
"""

from __future__ import annotations

import contextlib
import math
import select
import socket
import time
from typing import Any, Protocol

import serial

from drivers.base import DeviceUnavailable


class Transport(Protocol):
    def write(self, data: bytes) -> None:
        """Send all bytes, or raise DeviceUnavailable (also when the write times out)."""
        ...

    def read(self, n: int, timeout: float) -> bytes:
        """Return once `n` bytes arrived or `timeout` seconds passed; fewer bytes (or b"") mean silence.

        Raises DeviceUnavailable when the link is gone (unplugged, connection closed)."""
        ...

    def close(self) -> None:
        """Release the link; safe to call twice."""
        ...


def drain(transport: Transport, limit: int = 64) -> bytes:
    """Read whatever is already waiting (stale replies from a timed-out request), without waiting."""
    stale = bytearray()
    for _ in range(limit):
        chunk = transport.read(4096, 0.0)
        if not chunk:
            break
        stale += chunk
    return bytes(stale)


class SerialPort(Protocol):
    """What `SerialTransport` uses of a pyserial port: any `serial_for_url` result (posix, socket, loop…)."""

    name: str | None

    @property
    def timeout(self) -> float | None: ...
    @timeout.setter
    def timeout(self, value: float | None) -> None: ...
    @property
    def in_waiting(self) -> int: ...
    def read(self, size: int = 1, /) -> bytes: ...
    def write(self, data: bytes, /) -> int | None: ...
    def close(self) -> None: ...


class SerialTransport:
    """A pyserial port: `serial.serial_for_url(url, timeout=..., write_timeout=...)`.

    Works for `/dev/ttyUSB0`, a pty path, `socket://host:port` (RS-485/serial-to-Ethernet boxes) and `loop://`.
    Give the port a `write_timeout`: without one a write to a stalled port blocks forever.
    """

    def __init__(self, port: SerialPort, name: str = "") -> None:
        self._port = port
        self.name = name or str(port.name)

    def write(self, data: bytes) -> None:
        try:
            self._port.write(data)
        except serial.SerialTimeoutException as e:
            raise DeviceUnavailable(f"{self.name}: write timed out; is the device on?") from e
        except (serial.SerialException, OSError) as e:
            raise DeviceUnavailable(f"{self.name}: write failed ({e}); check the cable") from e

    def read(self, n: int, timeout: float) -> bytes:
        try:
            if timeout <= 0:
                # Changing the timeout re-programs termios on a real port; a poll needs no wait at all.
                waiting = self._port.in_waiting
                return bytes(self._port.read(min(n, waiting))) if waiting else b""
            if self._port.timeout != timeout:
                self._port.timeout = timeout
            return bytes(self._port.read(n))
        except (serial.SerialException, OSError) as e:
            raise DeviceUnavailable(f"{self.name}: read failed ({e}); check the cable") from e

    def close(self) -> None:
        # A port that is already gone has nothing left to release.
        with contextlib.suppress(serial.SerialException, OSError):
            self._port.close()


class SocketTransport:
    """A connected TCP socket (a network printer's raw port 9100)."""

    def __init__(self, sock: socket.socket, write_timeout: float = 5.0, name: str = "") -> None:
        self._sock = sock
        self._write_timeout = write_timeout
        try:
            peer = sock.getpeername()
        except OSError:
            peer = "?"
        self.name = name or f"tcp {peer}"
        self._poll = select.poll()
        self._poll.register(sock, select.POLLIN)

    @classmethod
    def connect(
        cls, host: str, port: int = 9100, timeout: float = 3.0, write_timeout: float | None = None
    ) -> SocketTransport:
        """Connect with a bounded timeout, or raise DeviceUnavailable."""
        try:
            sock = socket.create_connection((host, port), timeout=timeout)
        except OSError as e:
            raise DeviceUnavailable(f"tcp {host}:{port}: cannot connect ({e}); is it on the LAN?") from e
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        wt = timeout if write_timeout is None else write_timeout
        return cls(sock, write_timeout=wt, name=f"tcp {host}:{port}")

    def write(self, data: bytes) -> None:
        try:
            self._sock.settimeout(self._write_timeout)
            self._sock.sendall(data)
        except OSError as e:  # TimeoutError is an OSError
            raise DeviceUnavailable(f"{self.name}: send failed ({e})") from e

    def read(self, n: int, timeout: float) -> bytes:
        got = bytearray()
        deadline = time.monotonic() + max(timeout, 0.0)
        try:
            while len(got) < n:
                # Rounded up: a poll that returns before the deadline makes callers ask again too early.
                remaining_ms = max(0, math.ceil((deadline - time.monotonic()) * 1000))
                if not self._poll.poll(remaining_ms):
                    break
                chunk = self._sock.recv(n - len(got))
                if not chunk:
                    raise DeviceUnavailable(f"{self.name}: connection closed by the device")
                got += chunk
        except (BlockingIOError, TimeoutError):
            pass
        except OSError as e:
            raise DeviceUnavailable(f"{self.name}: receive failed ({e})") from e
        return bytes(got)

    def close(self) -> None:
        self._sock.close()


class EscposTransport:
    """A python-escpos printer object used as a transport (USB, network, serial or a `Dummy` recorder).

    python-escpos's own reads ask for 16 bytes and wait the whole timeout, and its USB writes have no timeout,
    so this adapter reaches past them to the device with bounded waits. Objects with no way to read
    (`Dummy`, `File`) report silence at once.
    """

    def __init__(self, printer: Any, timeout: float = 3.0, name: str = "") -> None:
        self._printer = printer
        self._timeout_ms = max(1, int(timeout * 1000))
        self.name = name or type(printer).__name__
        self._inner: Transport | None = None
        self._usb = hasattr(printer, "in_ep") and hasattr(printer, "out_ep")

    def _device(self) -> Any:
        try:
            return self._printer.device  # python-escpos opens the connection on first access
        except Exception as e:  # escpos raises its own DeviceNotFoundError, usb.core.USBError, OSError...
            raise DeviceUnavailable(f"{self.name}: cannot open ({e}); is it plugged in?") from e

    def _delegate(self) -> Transport | None:
        if self._inner is None and not self._usb:
            dev = self._device() if hasattr(type(self._printer), "device") else None
            if isinstance(dev, socket.socket):
                self._inner = SocketTransport(dev, write_timeout=self._timeout_ms / 1000, name=self.name)
            elif isinstance(dev, serial.Serial):  # python-escpos opens a plain serial.Serial
                dev.write_timeout = self._timeout_ms / 1000
                self._inner = SerialTransport(dev, name=self.name)
        return self._inner

    def write(self, data: bytes) -> None:
        if self._usb:
            dev = self._device()
            if dev is None:
                raise DeviceUnavailable(f"{self.name}: not found; is it plugged in?")
            try:
                dev.write(self._printer.out_ep, data, self._timeout_ms)
            except Exception as e:  # usb.core.USBTimeoutError / USBError; pyusb may be absent at import
                raise DeviceUnavailable(f"{self.name}: USB write failed ({e})") from e
            return
        inner = self._delegate()
        if inner is not None:
            inner.write(data)
            return
        try:
            self._printer._raw(data)
        except Exception as e:
            raise DeviceUnavailable(f"{self.name}: write failed ({e})") from e

    def read(self, n: int, timeout: float) -> bytes:
        if self._usb:
            dev = self._device()
            if dev is None:
                raise DeviceUnavailable(f"{self.name}: not found; is it plugged in?")
            try:
                return bytes(dev.read(self._printer.in_ep, n, max(1, int(timeout * 1000))))
            except Exception as e:
                import usb.core

                if isinstance(e, usb.core.USBTimeoutError):
                    return b""
                raise DeviceUnavailable(f"{self.name}: USB read failed ({e})") from e
        inner = self._delegate()
        if inner is not None:
            return inner.read(n, timeout)
        return b""

    def close(self) -> None:
        try:
            self._printer.close()
        except Exception:  # closing a device that is already gone must not raise
            return
