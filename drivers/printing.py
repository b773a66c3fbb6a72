"""Ticket and 一次性告知单 layouts: pure functions from what to print to ESC/POS bytes.

The printer's own Chinese font is used in text mode (no raster images), and the QR code is the printer's
native one, so a ticket stays well under 2 KB and builds in well under a millisecond.
"""

from __future__ import annotations

from drivers.codecs import escpos as ep
from hallcore.printout import Language, NoticeItem, NoticePrint, TicketPrint

__all__ = ["Language", "NoticeItem", "NoticePrint", "TicketPrint", "notice_bytes", "ticket_bytes"]

# Printed labels, until the hall's translation catalogue exists; keys are hall words.
_LABELS: dict[str, dict[str, str]] = {
    "zh": {
        "ahead": "前面还有 {n} 人",
        "ahead_none": "前面没有人在等候",
        "estimate": "预计等候 {lo}～{hi} 分钟",
        "estimate_now": "预计很快叫到您",
        "estimate_none": "目前没有窗口办理此事项，暂无法估计等候时间",
        "estimate_wide": "人多，预计较长",
        "honest": "（人数会因优先、转办而变化，以叫号为准）",
        "issued": "取号时间：{t}",
        "tolerance": "容缺受理：请补齐以下材料",
        "due": "补齐期限：{d} 前",
        "scan": "扫码查看排队进度",
        "notice_title": "一次性告知单",
        "matter": "事项：{m}",
        "date": "日期：{d}",
        "notice_intro": "办理本事项还需补齐以下材料或条件：",
        "where": "办理地点：{w}",
        "notice_end": "请备齐后再来办理，谢谢。",
        "agent": "代办：请在窗口出示以下材料",
        "pledge_title": "承诺书",
        "pledge_number": "号码：{n}",
        "pledge_sign": "承诺人（签字）：",
        "pledge_date": "日期：　　　　年　　月　　日",
    },
    "en": {
        "ahead": "People ahead: {n}",
        "ahead_none": "Nobody is ahead of you",
        "estimate": "Estimated wait: {lo}-{hi} min",
        "estimate_now": "You will be called soon",
        "estimate_none": "No window serves this now: no wait estimate yet",
        "estimate_wide": "Busy: expect a long wait",
        "honest": "(may change with priority and transfers; listen for your number)",
        "issued": "Issued: {t}",
        "tolerance": "Accepted with items missing; please bring:",
        "due": "Bring them by {d}",
        "scan": "Scan to follow the queue",
        "notice_title": "What you still need",
        "matter": "Matter: {m}",
        "date": "Date: {d}",
        "notice_intro": "Before this matter can be handled, please get:",
        "where": "Where: {w}",
        "notice_end": "Please come back when you have everything. Thank you.",
        "agent": "Acting for the applicant: show at the window",
        "pledge_title": "Pledge",
        "pledge_number": "Number: {n}",
        "pledge_sign": "Signed:",
        "pledge_date": "Date:",
    },
}


def _centered(text: str, cols: int) -> bytes:
    return b"".join(ep.text_line(line) for line in ep.wrap(text, cols))


def _numbered(index: int, text: str, cols: int) -> list[str]:
    """`1. text` with continuation lines indented under the text, not under the number."""
    head = f"{index}. "
    indent = " " * ep.display_width(head)
    body = ep.wrap(text, cols - len(indent))
    return [head + body[0]] + [indent + line for line in body[1:]]


def _number_size(number: str, cols: int) -> int:
    """The largest magnification (4 at most) at which the ticket number fits on one line."""
    width = ep.display_width(number)
    for scale in (4, 3, 2):
        if width * scale <= cols:
            return scale
    return 1


def _start() -> bytes:
    return ep.INIT + ep.CHINESE_MODE


def _end() -> bytes:
    return ep.feed(3) + ep.cut(feed_lines=3)


def ticket_bytes(t: TicketPrint, width_mm: int) -> bytes:
    """The ESC/POS job for one queue ticket on 58 or 80 mm paper."""
    cols = ep.columns_for(width_mm)
    lab = _LABELS[t.language]
    out = bytearray(_start())
    out += ep.align(ep.CENTER) + ep.bold(True) + _centered(t.hall, cols) + ep.bold(False)
    scale = _number_size(t.number, cols)
    out += ep.size(scale, scale) + ep.text_line(t.number) + ep.size(1, 1)
    out += ep.bold(True) + _centered(t.matter, cols) + ep.bold(False)
    if t.priority:
        out += _centered(f"【{t.priority}】", cols)
    out += ep.align(ep.LEFT)
    lines: list[str] = []
    if t.people_ahead > 0:
        lines.append(lab["ahead"].format(n=t.people_ahead))
    else:
        lines.append(lab["ahead_none"])
    if t.estimate_min is None:
        lines.append(lab["estimate_none"])
    elif t.estimate_wide:
        lines.append(lab["estimate_wide"])
    else:
        lo, hi = t.estimate_min
        lines.append(lab["estimate"].format(lo=lo, hi=hi) if hi > 0 else lab["estimate_now"])
    lines.append(lab["honest"])
    lines.append(lab["issued"].format(t=t.issued))
    if t.agent_items:
        lines.append(lab["agent"])
        for i, item in enumerate(t.agent_items, 1):
            lines.extend(_numbered(i, item, cols))
    if t.tolerance_items:
        lines.append(lab["tolerance"])
        for i, item in enumerate(t.tolerance_items, 1):
            lines.extend(_numbered(i, item, cols))
        if t.tolerance_due:
            lines.append(lab["due"].format(d=t.tolerance_due))
    for line in lines:
        out += b"".join(ep.text_line(part) for part in ep.wrap(line, cols))
    out += ep.align(ep.CENTER) + ep.qr(t.status_url, module=6 if width_mm == 58 else 8)
    out += ep.LF + ep.text_line(lab["scan"])
    out += _end()
    if t.pledge:
        out += _pledge(t, cols)
    return bytes(out)


def _pledge(t: TicketPrint, cols: int) -> bytes:
    """The 承诺书 on its own slip after the ticket's cut: the citizen keeps the ticket and hands this in
    signed at the window."""
    lab = _LABELS[t.language]
    out = bytearray(ep.align(ep.CENTER) + ep.bold(True) + ep.size(2, 2))
    out += _centered(lab["pledge_title"], cols // 2) + ep.size(1, 1) + ep.bold(False)
    out += _centered(t.hall, cols)
    out += ep.align(ep.LEFT)
    lines = [
        lab["pledge_number"].format(n=t.number),
        t.pledge,
        "",
        lab["pledge_sign"],
        "",
        lab["pledge_date"],
    ]
    for line in lines:
        out += b"".join(ep.text_line(part) for part in ep.wrap(line, cols)) if line else ep.LF
    out += _end()
    return bytes(out)


def notice_bytes(n: NoticePrint, width_mm: int) -> bytes:
    """The ESC/POS job for a 一次性告知单: every missing item, one per entry, with where to get it."""
    cols = ep.columns_for(width_mm)
    lab = _LABELS[n.language]
    out = bytearray(_start())
    out += ep.align(ep.CENTER) + ep.bold(True) + ep.size(2, 2)
    out += _centered(lab["notice_title"], cols // 2) + ep.size(1, 1) + ep.bold(False)
    out += _centered(n.hall, cols)
    out += ep.align(ep.LEFT)
    lines = [lab["matter"].format(m=n.matter), lab["date"].format(d=n.date), lab["notice_intro"]]
    for line in lines:
        out += b"".join(ep.text_line(part) for part in ep.wrap(line, cols))
    for i, item in enumerate(n.items, 1):
        text = item.what if not item.where else item.what + "\n" + lab["where"].format(w=item.where)
        entry: list[str] = []
        for j, para in enumerate(text.split("\n")):
            numbered = _numbered(i, para, cols)
            if j > 0:  # the "where" line hangs under the item text, without a second number
                pad = " " * ep.display_width(f"{i}. ")
                numbered = [pad + numbered[0][len(pad) :], *numbered[1:]]
            entry.extend(numbered)
        out += b"".join(ep.text_line(line) for line in entry)
    out += ep.LF + ep.align(ep.CENTER) + _centered(lab["notice_end"], cols)
    out += _end()
    return bytes(out)
