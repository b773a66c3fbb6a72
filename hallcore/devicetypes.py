"""The device types a station may name in each slot, and the bus and serial limits: one table for the config
check (hallcore/configcheck.py) and the device factory (drivers/factory.py), so that what the check accepts
is exactly what the factory can build."""

from __future__ import annotations

from hallcore.config import StationRole

# HQP/1 and the vendor 485 framing: 0 is broadcast, 248-255 are reserved (Modbus-style addressing).
BUS_ADDRESSES = range(1, 248)
PRINTER_TYPES = ("escpos-usb", "escpos-serial", "escpos-network", "fake")
BUS_TYPES = ("hqp", "vendor485", "fake")
SCANNER_TYPES = ("evdev", "fake")
ID_READER_TYPES = ("idcard-serial", "idcard-usb", "fake")
DEVICE_TYPES_BY_SLOT = {
    "printer": PRINTER_TYPES,
    "led": ("hqp", "fake"),
    "keypad": BUS_TYPES,
    "rating_pad": ("hqp", "fake"),
    "scanner": SCANNER_TYPES,
    "id_reader": ID_READER_TYPES,
}
# Why a type is refused in a slot, when it is not obvious (the config check and the device factory say it).
WHY_NOT_IN_SLOT: dict[tuple[str, str], str] = {
    ("led", "vendor485"): 'the vendor 485 framing has keypads only; drive strips with HQP/1 (type = "hqp")',
    ("rating_pad", "vendor485"): (
        'vendor 485 rating pads report over the network, not this bus; serial pads use HQP/1 (type = "hqp")'
    ),
}
ID_READER_ROLES = (StationRole.KIOSK, StationRole.DESK, StationRole.COUNTER)
BAUD_RATES = (1200, 2400, 4800, 9600, 19200, 38400, 57600, 115200)
