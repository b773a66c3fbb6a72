"""An emulated USB device with one bulk OUT and one bulk IN endpoint, as a pyusb backend.

`usb.core.find(idVendor=…, backend=UsbPipe(...).backend)` finds it and the code under test drives it through
the real pyusb `Device` (configuration, interface claim, bulk transfers with timeouts), so a driver's USB path
is tested without libusb or hardware and without mocking the driver. Bytes written to the OUT endpoint reach
the emulator's `on_bytes` on the pipe's own thread; what the emulator `send`s is read from the IN endpoint.
Unplugging makes the device vanish from enumeration and every transfer on an open handle fail with ENODEV,
as libusb reports a pulled cable.
"""

# ruff: noqa: ARG002  (pyusb's IBackend fixes every method's arguments; a device this simple ignores most)

from __future__ import annotations

import array
import collections
import errno
import logging
import queue
import threading
from collections.abc import Callable, Iterator
from types import SimpleNamespace

import usb.backend
import usb.core

log = logging.getLogger(__name__)

_JOIN_S = 5.0
BULK = 0x02  # bmAttributes transfer type
PACKET = 64  # wMaxPacketSize of a full-speed bulk endpoint


def _no_device() -> usb.core.USBError:
    return usb.core.USBError("No such device (it may have been disconnected)", -4, errno.ENODEV)


class _Backend(usb.backend.IBackend):  # type: ignore[misc]
    """The pyusb backend side of a `UsbPipe`: descriptors of one vendor-class device and its transfers."""

    def __init__(self, pipe: UsbPipe) -> None:
        super().__init__()
        self._pipe = pipe

    def enumerate_devices(self) -> Iterator[object]:
        if self._pipe.plugged:
            yield self._pipe

    def get_device_descriptor(self, dev: object) -> SimpleNamespace:
        p = self._pipe
        return SimpleNamespace(
            bLength=18,
            bDescriptorType=1,
            bcdUSB=0x0200,
            bDeviceClass=0,
            bDeviceSubClass=0,
            bDeviceProtocol=0,
            bMaxPacketSize0=64,
            idVendor=p.vendor,
            idProduct=p.product,
            bcdDevice=0x0100,
            iManufacturer=0,
            iProduct=0,
            iSerialNumber=0,
            bNumConfigurations=1,
            address=p.address,
            bus=1,
            port_number=1,
            port_numbers=(1,),
            speed=2,
        )

    def get_configuration_descriptor(self, dev: object, config: int) -> SimpleNamespace:
        if config != 0:
            raise IndexError("Invalid configuration index " + str(config))
        return SimpleNamespace(
            bLength=9,
            bDescriptorType=2,
            wTotalLength=32,
            bNumInterfaces=1,
            bConfigurationValue=1,
            iConfiguration=0,
            bmAttributes=0x80,
            bMaxPower=50,
            extra_descriptors=[],
        )

    def get_interface_descriptor(self, dev: object, intf: int, alt: int, config: int) -> SimpleNamespace:
        # pyusb walks alternate settings until the backend says there are no more, as libusb's does.
        if intf != 0 or alt != 0 or config != 0:
            raise IndexError(f"Invalid interface {intf} alternate setting {alt}")
        return SimpleNamespace(
            bLength=9,
            bDescriptorType=4,
            bInterfaceNumber=0,
            bAlternateSetting=0,
            bNumEndpoints=2,
            bInterfaceClass=0xFF,
            bInterfaceSubClass=0,
            bInterfaceProtocol=0,
            iInterface=0,
            extra_descriptors=[],
        )

    def get_endpoint_descriptor(
        self, dev: object, ep: int, intf: int, alt: int, config: int
    ) -> SimpleNamespace:
        if not 0 <= ep < 2:
            raise IndexError("Invalid endpoint index " + str(ep))
        address = (self._pipe.out_ep, self._pipe.in_ep)[ep]
        return SimpleNamespace(
            bLength=7,
            bDescriptorType=5,
            bEndpointAddress=address,
            bmAttributes=BULK,
            wMaxPacketSize=PACKET,
            bInterval=0,
            bRefresh=0,
            bSynchAddress=0,
            extra_descriptors=[],
        )

    def open_device(self, dev: object) -> int:
        return self._pipe.open_handle()

    def close_device(self, dev_handle: int) -> None:
        return None

    def set_configuration(self, dev_handle: int, config_value: int) -> None:
        self._pipe.check(dev_handle)

    def get_configuration(self, dev_handle: int) -> int:
        self._pipe.check(dev_handle)
        return 1

    def set_interface_altsetting(self, dev_handle: int, intf: int, altsetting: int) -> None:
        self._pipe.check(dev_handle)

    def claim_interface(self, dev_handle: int, intf: int) -> None:
        self._pipe.check(dev_handle)

    def release_interface(self, dev_handle: int, intf: int) -> None:
        return None

    def is_kernel_driver_active(self, dev_handle: int, intf: int) -> bool:
        return False

    def detach_kernel_driver(self, dev_handle: int, intf: int) -> None:
        return None

    def clear_halt(self, dev_handle: int, ep: int) -> None:
        self._pipe.check(dev_handle)

    def bulk_write(self, dev_handle: int, ep: int, intf: int, data: array.array[int], timeout: int) -> int:
        if ep != self._pipe.out_ep:
            raise usb.core.USBError("Pipe error", -9, errno.EPIPE)
        return self._pipe.host_wrote(dev_handle, bytes(data))

    def bulk_read(self, dev_handle: int, ep: int, intf: int, buff: array.array[int], timeout: int) -> int:
        if ep != self._pipe.in_ep:
            raise usb.core.USBError("Pipe error", -9, errno.EPIPE)
        data = self._pipe.host_reads(dev_handle, len(buff), timeout)
        buff[: len(data)] = array.array("B", data)
        return len(data)


class UsbPipe:
    """An emulator's link as a USB device; pass `backend` to `usb.core.find`."""

    def __init__(
        self,
        on_bytes: Callable[[bytes], None],
        *,
        vendor: int,
        product: int,
        out_ep: int = 0x02,
        in_ep: int = 0x81,
        name: str = "emulated USB device",
    ) -> None:
        self._on_bytes = on_bytes
        self.vendor, self.product = vendor, product
        self.out_ep, self.in_ep = out_ep, in_ep
        self._name = name
        self._cond = threading.Condition()
        self._in: collections.deque[bytes] = collections.deque()  # what the host has not read yet
        self._out: queue.Queue[bytes | None] = queue.Queue()  # what the host wrote, for the device thread
        self._generation = 0  # a handle opened before an unplug stays dead, as with libusb
        self._handles = 0
        self.plugged = False
        self.address = 4
        self._thread: threading.Thread | None = None
        self.backend = _Backend(self)

    @property
    def url(self) -> str:
        return f"usb://{self.vendor:04x}:{self.product:04x}"

    def start(self) -> None:
        self.plug()
        self._thread = threading.Thread(target=self._run, name=f"{self._name} (usb)", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self.unplug()
        if self._thread is not None:
            self._out.put(None)
            self._thread.join(timeout=_JOIN_S)
            self._thread = None

    def plug(self) -> None:
        with self._cond:
            self.plugged = True
            self._generation += 1
            self.address += 1  # a replugged device gets a new address

    def unplug(self) -> None:
        with self._cond:
            self.plugged = False
            self._in.clear()
            self._cond.notify_all()

    def send(self, data: bytes) -> None:
        with self._cond:
            if self.plugged:
                self._in.append(data)
                self._cond.notify_all()

    # --- called by the backend on the host's thread ---

    def open_handle(self) -> int:
        with self._cond:
            if not self.plugged:
                raise _no_device()
            return self._generation

    def check(self, handle: int) -> None:
        with self._cond:
            if not self.plugged or handle != self._generation:
                raise _no_device()

    def host_wrote(self, handle: int, data: bytes) -> int:
        self.check(handle)
        self._out.put(data)
        return len(data)

    def host_reads(self, handle: int, size: int, timeout_ms: int) -> bytes:
        """Up to `size` bytes once any are there; USBTimeoutError after `timeout_ms` (0 waits for ever)."""
        with self._cond:
            ok = self._cond.wait_for(
                lambda: bool(self._in) or not self.plugged or handle != self._generation,
                timeout=timeout_ms / 1000 if timeout_ms > 0 else None,
            )
            if not self.plugged or handle != self._generation:
                raise _no_device()
            if not ok:
                raise usb.core.USBTimeoutError("Operation timed out", -7, errno.ETIMEDOUT)
            out = bytearray()
            while self._in and len(out) < size:
                chunk = self._in.popleft()
                take = size - len(out)
                out += chunk[:take]
                if len(chunk) > take:
                    self._in.appendleft(chunk[take:])
            return bytes(out)

    def _run(self) -> None:
        while (data := self._out.get()) is not None:
            try:
                self._on_bytes(data)
            except Exception:  # an emulator bug must not kill the endpoint thread; the test sees no reply
                log.exception("%s failed on %s", self._name, data.hex(" "))
