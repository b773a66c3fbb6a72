"""What `hallq devices list` and `hallq devices read-id` do with ID card readers: find candidates, read one
card, and say what was read in hall words, masked: never the full number, never the address (the codec
dropped it), never the photo.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from drivers.factory import ConfigurationError, id_reader_link
from drivers.idcard import read_one
from drivers.idcard_events import CardEvent, CardFailed, CardRead
from drivers.tools import usb_devices
from hallcore.config import Device
from hallcore.privacy import mask_id, mask_name

# Exit codes of `read-id` beyond 0 (a good card), 1 (no card, a failed read, a device fault), 2 (usage).
CARD_NOT_USABLE = 3

# USB ids of readers that use vendor bulk endpoints (OUT 0x02, IN 0x81). Readers on a USB-serial chip show
# up as serial ports instead (/dev/ttyUSB*, /dev/ttyACM*): every serial port is a candidate.
KNOWN_READERS: dict[tuple[int, int], str] = {
    (0x0400, 0xC35A): "ID card reader, 华视 CVR-100U family (vendor bulk endpoints)",
    (0x0483, 0x5652): "ID card reader (STM32-based; the second id the vendors' SDK samples look for)",
}
_USB_ID = re.compile(r"^(?:usb://)?([0-9a-fA-F]{4}):([0-9a-fA-F]{4})$")


@dataclass(frozen=True, slots=True)
class UsbReaderInfo:
    vendor: int
    product: int
    description: str
    where: str

    @property
    def config(self) -> str:
        return f'type = "idcard-usb", usb_vendor = 0x{self.vendor:04x}, usb_product = 0x{self.product:04x}'


def list_usb_readers(devices: list[Any] | None = None) -> list[UsbReaderInfo]:
    """USB devices with a known reader id; `UsbUnavailableError` when USB cannot be listed."""
    out = []
    for dev in usb_devices() if devices is None else devices:
        ids = (int(dev.idVendor), int(dev.idProduct))
        if ids in KNOWN_READERS:
            out.append(UsbReaderInfo(*ids, KNOWN_READERS[ids], f"bus {dev.bus} address {dev.address}"))
    return out


def reader_device(url: str, *, baud: int = 115200, timeout_s: float = 1.0) -> Device:
    """The `Device` of a reader given on the command line: `usb://0400:c35a` (or `0400:c35a`) for vendor bulk
    endpoints, else any pyserial URL (`/dev/ttyUSB0`, `/dev/ttyACM0`, a pty, `socket://HOST:PORT`)."""
    if not url:
        raise ConfigurationError("give the reader with --url, e.g. /dev/ttyUSB0 or usb://0400:c35a")
    m = _USB_ID.match(url)
    if m is not None:
        return Device("idcard-usb", usb_vendor=int(m[1], 16), usb_product=int(m[2], 16), timeout_s=timeout_s)
    if url.startswith("usb://"):
        raise ConfigurationError(
            f"a USB reader is given as usb://VENDOR:PRODUCT, e.g. usb://0400:c35a, not {url!r}"
        )
    return Device("idcard-serial", url=url, baud=baud, timeout_s=timeout_s)


def read_card(device: Device, *, wait_s: float, usb_backend: Any = None) -> tuple[str, CardEvent | None]:
    """Where the reader is, and the first card placed within `wait_s` (None: no card). DeviceUnavailable or
    SamFault when the reader cannot be used."""
    if device.type not in ("idcard-serial", "idcard-usb"):
        raise ConfigurationError(
            f"a {device.type} device is not an ID card reader (idcard-serial, idcard-usb)"
        )
    opener, where, seconds_per_byte = id_reader_link(device, usb_backend=usb_backend)
    event = read_one(
        opener,
        timeout_s=wait_s,
        poll_s=device.poll_s,
        reply_timeout_s=device.timeout_s,
        seconds_per_byte=seconds_per_byte,
        name=f"ID card reader {where}",
    )
    return where, event


def describe_read(event: CardEvent | None, today: dt.date, wait_s: float) -> tuple[list[str], int]:
    """Lines to print (masked) and the exit code: 0 a good card, 1 none or unreadable, 3 not usable."""
    if event is None:
        return [f"无卡 no card placed within {wait_s:g} s"], 1
    if isinstance(event, CardFailed):
        return [f"{event.reason}; 请重新放置 lift the card and place it again"], 1
    if not isinstance(event, CardRead):
        return [event.reason], CARD_NOT_USABLE
    card = event.card
    year = card.birth_year or "?"
    lines = [
        f"{mask_name(card.name)}  {card.sex.value}  {year}年生 born {year}  {mask_id(card.id_number, head=6)}"
    ]
    problems = card.problems()
    lines.append(
        "号码校验 number check: " + ("通过 ok" if not problems else "未通过 FAILED: " + "; ".join(problems))
    )
    start = card.valid_from.isoformat() if card.valid_from else "?"
    end = "长期 long-term" if card.long_term else (card.valid_to.isoformat() if card.valid_to else "?")
    expired = "  已过期 expired (the hall decides whether it is accepted)" if card.expired(today) else ""
    lines.append(f"有效期限 valid: {start} – {end}{expired}")
    return lines, 0 if card.number_ok else CARD_NOT_USABLE
