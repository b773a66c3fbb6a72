"""Serial buses of window devices: the serial link (`link`), the HQP/1 master (`hqp_master`) and its strips,
keypads and rating pads (`hqp_devices`), and the vendor 485 keypads (`vendor485`).

Each bus owns one port and one thread; see the modules. Apps never import these: `drivers.factory` builds
them from a station's config, and apps see only the roles of `drivers.protocols`.
"""

from drivers.bus.hqp_devices import HqpCallKeypad, HqpLedBoard, HqpRatingPad
from drivers.bus.hqp_master import HqpBusMaster
from drivers.bus.link import PortOpener, SerialLink, open_port
from drivers.bus.vendor485 import Vendor485Bus, Vendor485Keypad

__all__ = [
    "HqpBusMaster",
    "HqpCallKeypad",
    "HqpLedBoard",
    "HqpRatingPad",
    "PortOpener",
    "SerialLink",
    "Vendor485Bus",
    "Vendor485Keypad",
    "open_port",
]
