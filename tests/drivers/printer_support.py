"""What the printer tests share: the sample ticket, the reply deadline, the config of an emulated printer."""

from __future__ import annotations

from drivers.emulators.printer import PtyPrinterEmulator, TcpPrinterEmulator
from drivers.printing import TicketPrint
from hallcore.config import Device

REPLY_S = 0.3  # short, so "silent" fails fast; the emulator answers in well under a millisecond

TICKET = TicketPrint(
    hall="某市政务服务中心",
    number="A012",
    matter="户籍迁移（省内）",
    people_ahead=3,
    estimate_min=(6, 15),
    issued="2024-05-06 09:12",
    status_url="http://127.0.0.1:8700/t/20240506-A012",
)


def printer_device(emu: TcpPrinterEmulator | PtyPrinterEmulator, width_mm: int = 80) -> Device:
    """The station config of the printer `emu` emulates, over TCP or its pty."""
    if isinstance(emu, TcpPrinterEmulator):
        return Device(type="escpos-network", url=emu.url, timeout_s=REPLY_S, width_mm=width_mm)
    return Device(type="escpos-serial", url=emu.path, timeout_s=REPLY_S, width_mm=width_mm)
