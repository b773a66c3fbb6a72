""" "快到您了" at the kiosk (issue 30): the ticket screen's offer, and the large phone-number pad with the
consent box. Its words are its own (zh/en, below), so the shared catalogue is not touched; the number is
shown masked while typed and after (kiosk/notifypad.py)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QVBoxLayout

from hallui.i18n import Catalog
from hallui.widgets import button, label
from kiosk import pages_result
from kiosk.flow import KioskFlow
from kiosk.info import ViewInfo
from kiosk.intents import KioskIntents

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "offer": "短信提醒：快到您时通知您",
        "done": "已登记短信提醒：{m}",
        "title": "请输入手机号码",
        "intro": "快到您时、叫到您时发短信提醒，办完即删除号码。",
        "consent": "我同意接收本大厅的排队提醒短信",
        "send": "确定",
        "del": "删除",
        "clear": "清空",
        "busy": "正在登记…",
        "invalid_field": "请输入 11 位手机号码",
        "number_limit": "该号码今天登记次数已满",
        "failed": "登记未成功，请到导办台",
    },
    "en": {
        "offer": "SMS reminder when your turn is near",
        "done": "SMS reminder set: {m}",
        "title": "Enter your mobile number",
        "intro": "We text you when your turn is near and when you are called; the number is deleted after.",
        "consent": "I agree to receive queue reminders from this hall",
        "send": "OK",
        "del": "Delete",
        "clear": "Clear",
        "busy": "Setting up…",
        "invalid_field": "Enter an 11-digit mobile number",
        "number_limit": "This number has too many reminders today",
        "failed": "Not set up: please ask at the desk",
    },
}
KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "del")


def _t(flow: KioskFlow, key: str, **kw: str) -> str:
    return TEXTS.get(flow.language, TEXTS["zh"])[key].format(**kw)


def ticket(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, info: ViewInfo) -> None:
    """The ticket screen, with the offer of notices below it (when the hall sends them)."""
    pages_result.ticket(v, lay, flow, cat, info)
    if not info.sends_notices or flow.print_result is None or flow.print_result.withdrawn:
        return
    if flow.notified:
        lay.addWidget(label(_t(flow, "done", m=flow.notified), "ticketNotified", "ok", wrap=True))
        return
    b = button(_t(flow, "offer"), "ticketNotify", "secondary")
    b.clicked.connect(v.notify_requested.emit)
    lay.addWidget(b)


def notify(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, _cat: Catalog, _info: ViewInfo) -> None:
    pad = flow.notify
    assert pad is not None
    lay.addWidget(label(_t(flow, "title"), "notifyTitle", "title", wrap=True))
    lay.addWidget(label(_t(flow, "intro"), "notifyIntro", "muted", wrap=True))
    shown = label(pad.shown or "—", "notifyNumber", "big")
    shown.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lay.addWidget(shown)
    grid = QGridLayout()
    grid.setSpacing(12)
    for i, key in enumerate(KEYS):
        text = _t(flow, key) if key in ("del", "clear") else key
        b = button(text, f"notifyKey_{key}", "secondary" if key in ("del", "clear") else None)
        b.setMinimumHeight(110)  # a large pad: older fingers, a standing citizen
        b.clicked.connect(lambda _=False, k=key: v.notify_key.emit(k))
        grid.addWidget(b, i // 3, i % 3)
    lay.addLayout(grid)
    mark = "☑" if pad.consent else "☐"
    consent = button(f"{mark} {_t(flow, 'consent')}", "notifyConsent", "secondary")
    consent.clicked.connect(lambda: v.notify_key.emit("consent"))
    lay.addWidget(consent)
    if pad.error:
        lay.addWidget(label(_t(flow, pad.error), "notifyError", "error", wrap=True))
    send = button(_t(flow, "busy") if pad.busy else _t(flow, "send"), "notifySend")
    send.setEnabled(pad.ready)
    send.clicked.connect(v.notify_submitted.emit)
    lay.addWidget(send)
