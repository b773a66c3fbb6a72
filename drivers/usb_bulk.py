"""A USB device's bulk OUT and IN endpoints (pyusb) as a `Transport`, for devices that speak a byte protocol
over vendor endpoints (ID card readers: one common layout is OUT 0x02, IN 0x81).

Every transfer has a timeout and every pyusb or libusb failure becomes `DeviceUnavailable` with what to check,
so a driver above sees the same errors as on a serial port. `backend` is pyusb's: None uses libusb-1.0; tests
pass an emulated device's backend (`drivers.emulators.usb`).
"""

from __future__ import annotations

import contextlib
import time
from typing import Any

from drivers.base import DeviceUnavailable


class UsbBulkTransport:
    """An opened, configured device with its interface claimed. Build with `open()`."""

    def __init__(
        self,
        device: Any,
        *,
        out_ep: int,
        in_ep: int,
        interface: int = 0,
        packet_size: int = 64,
        write_timeout_s: float = 1.0,
        name: str = "",
    ) -> None:
        self._dev = device
        self._out_ep, self._in_ep = out_ep, in_ep
        self._interface = interface
        self._packet = max(1, packet_size)
        self._write_timeout_ms = max(1, int(write_timeout_s * 1000))
        self._buf = bytearray()
        self.name = name or f"usb {int(device.idVendor):04x}:{int(device.idProduct):04x}"

    @classmethod
    def open(
        cls,
        vendor: int,
        product: int,
        *,
        out_ep: int = 0x02,
        in_ep: int = 0x81,
        interface: int = 0,
        backend: Any = None,
        write_timeout_s: float = 1.0,
    ) -> UsbBulkTransport:
        """Find the device by VID:PID, configure it, claim `interface`; DeviceUnavailable says what failed."""
        import usb.core
        import usb.util

        name = f"usb {vendor:04x}:{product:04x}"
        try:
            dev = usb.core.find(idVendor=vendor, idProduct=product, backend=backend)
        except usb.core.NoBackendError as e:
            raise DeviceUnavailable(
                f"{name}: libusb-1.0 is not installed (Debian: apt-get install libusb-1.0-0)"
            ) from e
        except (usb.core.USBError, OSError) as e:
            raise DeviceUnavailable(f"{name}: cannot list USB devices ({e})") from e
        if dev is None:
            raise DeviceUnavailable(
                f"{name}: not found; is it plugged in? (`hallq devices list` shows USB ids)"
            )
        try:
            with contextlib.suppress(NotImplementedError, usb.core.USBError):
                # A vendor-class reader has no kernel driver, but some readers also expose a HID or CDC one.
                if dev.is_kernel_driver_active(interface):
                    dev.detach_kernel_driver(interface)
            dev.set_configuration()
            usb.util.claim_interface(dev, interface)
            setting = dev.get_active_configuration()[(interface, 0)]
            endpoints = {int(ep.bEndpointAddress): ep for ep in setting}
        except (usb.core.USBError, ValueError, KeyError, IndexError) as e:
            usb.util.dispose_resources(dev)
            raise DeviceUnavailable(
                f"{name}: cannot claim interface {interface} ({e}); check permissions on /dev/bus/usb "
                "(a udev rule for the reader) and that no other program holds it"
            ) from e
        for address, direction in ((out_ep, "OUT"), (in_ep, "IN")):
            if address not in endpoints:
                usb.util.dispose_resources(dev)
                found = ", ".join(f"0x{a:02x}" for a in sorted(endpoints)) or "none"
                raise DeviceUnavailable(
                    f"{name}: no {direction} endpoint 0x{address:02x} on interface {interface} "
                    f"(it has {found}); set usb_out_ep / usb_in_ep in the station's id_reader"
                )
        packet = int(endpoints[in_ep].wMaxPacketSize)
        return cls(
            dev,
            out_ep=out_ep,
            in_ep=in_ep,
            interface=interface,
            packet_size=packet,
            write_timeout_s=write_timeout_s,
            name=name,
        )

    def write(self, data: bytes) -> None:
        import usb.core

        try:
            written = int(self._dev.write(self._out_ep, data, self._write_timeout_ms))
        except usb.core.USBTimeoutError as e:
            raise DeviceUnavailable(f"{self.name}: USB write timed out; is the reader on?") from e
        except (usb.core.USBError, OSError) as e:
            raise DeviceUnavailable(f"{self.name}: USB write failed ({e}); check the cable") from e
        if written != len(data):
            raise DeviceUnavailable(f"{self.name}: USB write sent {written} of {len(data)} bytes")

    def read(self, n: int, timeout: float) -> bytes:
        """Up to `n` bytes, once `n` arrived or `timeout` passed. A transfer asks for whole packets (asking
        for less than the device sends is an overflow error in libusb); bytes beyond `n` wait for the next
        read."""
        import usb.core

        deadline = time.monotonic() + max(0.0, timeout)
        while len(self._buf) < n:
            # pyusb reads 0 ms as "wait for ever": a poll waits one millisecond instead.
            remaining_ms = max(1, int((deadline - time.monotonic()) * 1000))
            size = -(-(n - len(self._buf)) // self._packet) * self._packet
            try:
                self._buf += bytes(self._dev.read(self._in_ep, size, remaining_ms))
            except usb.core.USBTimeoutError:
                break
            except (usb.core.USBError, OSError) as e:
                raise DeviceUnavailable(f"{self.name}: USB read failed ({e}); check the cable") from e
            if time.monotonic() >= deadline:
                break
        out = bytes(self._buf[:n])
        del self._buf[:n]
        return out

    def close(self) -> None:
        import usb.core
        import usb.util

        # A device that is already gone has nothing left to release.
        with contextlib.suppress(usb.core.USBError, OSError):
            usb.util.release_interface(self._dev, self._interface)
        with contextlib.suppress(usb.core.USBError, OSError):
            usb.util.dispose_resources(self._dev)
