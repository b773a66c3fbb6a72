"""Ticket printing cost: layout time and size per ticket, and a full print round trip to the emulator.

Run: .venv/bin/python bench/drivers_printer.py   (writes bench/results/drivers_printer.json)
"""

from __future__ import annotations

import functools
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import below, pct, time_ms, write
from drivers.emulators.printer import TcpPrinterEmulator
from drivers.printer import build_printer
from drivers.printing import NoticeItem, NoticePrint, TicketPrint, notice_bytes, ticket_bytes
from hallcore.config import Device

# A heavy ticket: long names, 容缺 items, priority label, a long status URL.
TICKET = TicketPrint(
    hall="某某省政务服务中心（省级行政审批大厅）",
    number="A012",
    matter="不动产登记：二手房转移登记及抵押权注销（个人）",
    people_ahead=37,
    estimate_min=(25, 55),
    issued="2024-05-06 09:12",
    status_url="https://zwfw.example.gov.cn/hall/42/t/20240506-A012?k=8f3a1c",
    tolerance_items=("户口簿原件（迁入地派出所出具）", "婚姻状况证明（民政局婚姻登记处）"),
    tolerance_due="2024-06-03",
    priority="老年人优先",
)
NOTICE = NoticePrint(
    hall=TICKET.hall,
    matter=TICKET.matter,
    date="2024-05-06",
    items=tuple(
        NoticeItem(f"第{i}项材料：证明文件原件及复印件一份", "本大厅二楼东侧税务窗口") for i in range(1, 9)
    ),
)


def main() -> None:
    figures: list[dict[str, object]] = []
    fig = functools.partial(below, figures, width=45)

    for width in (58, 80):
        times = time_ms(functools.partial(ticket_bytes, TICKET, width), 5000)
        fig(f"ticket_bytes {width} mm, median", statistics.median(times), "ms", 5.0)
        fig(f"ticket_bytes {width} mm, p99", pct(times, 99), "ms", 5.0)
        fig(f"ticket size {width} mm", len(ticket_bytes(TICKET, width)), "bytes", 2048)
        fig(f"notice size {width} mm (8 items)", len(notice_bytes(NOTICE, width)), "bytes")

    # Status + job + GS r 1 completion + status, over real TCP to the emulator on this machine: the driver's
    # own overhead; a real printer adds its print time (1–3 s per ticket).
    with TcpPrinterEmulator() as emu:
        printer = build_printer(Device(type="escpos-network", url=emu.url, timeout_s=1.0))
        try:
            printer.print_ticket(TICKET)  # connect outside the measurement
            times = time_ms(lambda: printer.print_ticket(TICKET), 300)
            status = time_ms(printer.status, 300)
        finally:
            printer.close()
    fig("print round trip to TCP emulator, median", statistics.median(times), "ms")
    fig("print round trip to TCP emulator, p99", pct(times, 99), "ms")
    fig("status (DLE EOT 1..4) to TCP emulator, median", statistics.median(status), "ms")

    print(f"wrote {write('drivers_printer', figures)}")


if __name__ == "__main__":
    main()
