"""The kiosk's screens after the final tap and its own states: issuing, ticket, 一次性告知单, message
(refusals), desk (printer not ready), offline, enrollment. Each builds its page into `lay`."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QHBoxLayout, QLabel, QVBoxLayout

from hallui.enrollment import EnrollmentView
from hallui.i18n import Catalog
from hallui.widgets import button, label
from kiosk.flow import KioskFlow
from kiosk.info import ViewInfo
from kiosk.intents import KioskIntents
from kiosk.widgets import (
    printer_reason,
    qr_pixmap,
)


def issuing(_v: KioskIntents, lay: QVBoxLayout, _flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
    t = label(cat.t("issuing.title"), "issuingTitle", "title", wrap=True)
    t.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lay.addSpacing(200)
    lay.addWidget(t)


def ticket(_v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
    issued, result = flow.issued, flow.print_result
    assert issued is not None
    assert result is not None
    t = issued.ticket
    if result.withdrawn:
        lay.addWidget(label(cat.t("ticket.voided", n=t.label), "ticketVoided", "error", wrap=True))
        return
    # The screen says what the paper says: the reply's print block in the citizen's language.
    p = issued.printout(flow.language)
    lay.addWidget(label(cat.t("ticket.title"), "ticketTitle", "title"))
    if p.tolerance_items:
        lay.addWidget(label(cat.t("ticket.tolerated"), "ticketTolerated", "warning"))
    if flow.booking_code and t.priority != "appointment":
        lay.addWidget(label(cat.t("booking.late"), "ticketLate", "warning", wrap=True))
    number = label(p.number, "ticketNumber", "big")
    number.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lay.addWidget(number)
    lay.addWidget(label(cat.t("ticket.matter", m=p.matter), "ticketMatter", wrap=True))
    ahead = cat.t("ticket.ahead", n=p.people_ahead) if p.people_ahead else cat.t("ticket.ahead_none")
    lay.addWidget(label(ahead, "ticketAhead", wrap=True))
    if p.estimate_min is None:
        est_text = cat.t("ticket.estimate_none")
    elif p.estimate_wide:
        est_text = cat.t("ticket.estimate_wide")
    elif p.estimate_min[1] > 0:
        est_text = cat.t("ticket.estimate", lo=p.estimate_min[0], hi=p.estimate_min[1])
    else:
        est_text = cat.t("ticket.estimate_now")
    lay.addWidget(label(est_text, "ticketEstimate", wrap=True))
    if p.priority:
        lay.addWidget(label(cat.t("ticket.priority", p=p.priority), "ticketPriority", "muted", wrap=True))
    if p.agent_items:
        lay.addWidget(label(cat.t("ticket.agent"), "ticketAgent", "muted", wrap=True))
        for i, item in enumerate(p.agent_items):
            lay.addWidget(label(f"{i + 1}. {item}", f"ticketAgentItem_{i}", wrap=True))
    if p.tolerance_items:
        lay.addWidget(label(cat.t("ticket.bring", d=p.tolerance_due), "ticketBring", "warning", wrap=True))
        for i, item in enumerate(p.tolerance_items):
            lay.addWidget(label(f"{i + 1}. {item}", f"ticketBringItem_{i}", wrap=True))
        if p.pledge and result.printed:
            lay.addWidget(label(cat.t("ticket.pledge"), "ticketPledge", "warning", wrap=True))
    row = QHBoxLayout()
    qr = QLabel()
    qr.setObjectName("ticketQr")
    qr.setPixmap(qr_pixmap(issued.status_url, 6))
    row.addWidget(qr)
    row.addWidget(label(cat.t("ticket.scan"), "ticketScan", wrap=True), 1)
    lay.addLayout(row)
    if result.printed:
        lay.addWidget(label(cat.t("ticket.take"), "ticketTake", "ok", wrap=True))
    else:
        lay.addWidget(label(cat.t("ticket.not_printed"), "ticketNotPrinted", "error", wrap=True))


def notice(_v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
    ni = flow.not_issued
    assert ni is not None
    lay.addWidget(label(cat.t("notice.title"), "noticeTitle", "title", wrap=True))
    if flow.matter is not None:
        lay.addWidget(label(cat.pick(flow.matter.name, flow.matter.name_en), "noticeMatter", wrap=True))
    lay.addWidget(label(cat.t("notice.intro"), "noticeIntro", wrap=True))
    for i, m in enumerate(ni.precheck.missing):
        lay.addWidget(label(f"{i + 1}. {cat.pick(m.text, m.text_en)}", f"noticeItem_{i}", wrap=True))
        where = cat.pick(m.where, m.where_en)
        if where:
            lay.addWidget(label(cat.t("notice.where", w=where), f"noticeWhere_{i}", "muted", wrap=True))
    printed = flow.print_result is not None and flow.print_result.printed
    key, name, role = (
        ("notice.printed", "noticePrinted", "ok")
        if printed
        else ("notice.not_printed", "noticeNotPrinted", "error")
    )
    lay.addWidget(label(cat.t(key), name, role, wrap=True))


def message(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
    msg = flow.message
    assert msg is not None
    lay.addWidget(label(cat.t(msg.key), "messageTitle", "title", wrap=True))
    if msg.text:
        lay.addWidget(label(msg.text, "messageText", wrap=True))
    if msg.next_opening:
        lay.addWidget(label(cat.t("message.next", t=msg.next_opening), "messageNext", wrap=True))
    if msg.offer_walk_in:
        lay.addWidget(label(cat.t("booking.fallback"), "messageFallback", "muted", wrap=True))
        b = button(cat.t("booking.walk_in"), "messageWalkIn")
        b.clicked.connect(v.walk_in_requested.emit)
        lay.addWidget(b)
    else:
        lay.addWidget(label(cat.t("message.desk"), "messageDesk", "muted", wrap=True))


def desk(_v: KioskIntents, lay: QVBoxLayout, _flow: KioskFlow, cat: Catalog, info: ViewInfo) -> None:
    lay.addSpacing(150)
    t = label(cat.t("desk.title"), "deskTitle", "title", wrap=True)
    t.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lay.addWidget(t)
    if info.printer_reason:
        reason = printer_reason(info.printer_reason, cat.language)
        r = label(cat.t("desk.reason", r=reason), "deskReason", "muted", wrap=True)
        r.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(r)


def offline(_v: KioskIntents, lay: QVBoxLayout, _flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
    lay.addSpacing(150)
    t = label(cat.t("offline.title"), "offlineTitle", "title", wrap=True)
    t.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lay.addWidget(t)
    h = label(cat.t("offline.hint"), "offlineHint", wrap=True)
    h.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lay.addWidget(h)


def enroll(_v: KioskIntents, lay: QVBoxLayout, _flow: KioskFlow, cat: Catalog, info: ViewInfo) -> None:
    view = EnrollmentView(cat)
    view.show_code(info.enroll_code, info.station_name, "kiosk", info.enroll_fingerprint)
    lay.addWidget(view)
