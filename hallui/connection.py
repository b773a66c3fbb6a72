"""The connection banner every app shows: live / reconnecting / offline, and how old the data is."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel, QWidget

from hallui.i18n import Catalog

TEXTS: dict[str, tuple[str, str]] = {
    "conn.live": ("已连接", "connected"),
    "conn.live_age": ("已连接 · 数据 {age} 秒前", "connected · data {age} s old"),
    "conn.connecting": ("正在连接服务器…", "connecting to the server…"),
    "conn.reconnecting": (
        "与服务器断开，正在重连（数据 {age} 秒前）",
        "server lost, reconnecting (data {age} s old)",
    ),
    "conn.offline": ("无法连接服务器（{age} 秒）", "server unreachable ({age} s)"),
}

#: Data older than this is called out even while connected (heartbeats come every few seconds).
STALE_S = 15.0


def describe(state: str, age_s: float | None, catalog: Catalog) -> tuple[str, str]:
    """(text, level) for a connection state; level is "ok", "warning" or "error"."""
    age = int(age_s) if age_s is not None else 0
    if state == "live":
        if age_s is not None and age_s > STALE_S:
            return catalog.t("conn.live_age", age=age), "warning"
        return catalog.t("conn.live"), "ok"
    if state == "connecting":
        return catalog.t("conn.connecting"), "warning"
    if state == "reconnecting":
        return catalog.t("conn.reconnecting", age=age), "warning"
    return catalog.t("conn.offline", age=age), "error"


class ConnectionBanner(QLabel):
    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("connectionBanner")
        self._catalog = catalog
        self.level = "warning"
        self.show_state("connecting", None)

    def show_state(self, state: str, age_s: float | None) -> None:
        text, level = describe(state, age_s, self._catalog)
        self.level = level
        self.setText(text)
        self.setProperty("role", {"ok": "muted", "warning": "warning", "error": "error"}[level])
        self.style().unpolish(self)
        self.style().polish(self)
