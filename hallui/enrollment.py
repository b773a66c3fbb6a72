"""The first-start screen: the station's enrollment code, large, until the manager approves it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from hallui.i18n import Catalog
from hallui.widgets import label

TEXTS: dict[str, tuple[str, str]] = {
    "enroll.title": ("本设备尚未登记", "This station is not enrolled yet"),
    "enroll.code": ("登记码", "Enrollment code"),
    "enroll.hint": (
        "请大厅管理员在管理页面核对此码并批准本设备（{name}，{role}）",
        "Ask the hall manager to approve this code on the dashboard ({name}, {role})",
    ),
    "enroll.fingerprint": (
        "服务器证书指纹 {fingerprint}（请与管理页面上的核对）",
        "Server certificate {fingerprint} (compare it with the dashboard's)",
    ),
    "enroll.revoked": (
        "本设备已被停用，请联系大厅管理员",
        "This station was revoked; contact the hall manager",
    ),
}


class EnrollmentView(QWidget):
    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("enrollmentView")
        self._catalog = catalog
        layout = QVBoxLayout(self)
        self.title = label(catalog.t("enroll.title"), "enrollTitle", "title")
        self.code = label("", "enrollCode", "big")
        self.code.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.hint = label("", "enrollHint", wrap=True)
        # Over TLS: the hall CA this station pinned, for the manager to compare before approving.
        self.fingerprint = label("", "enrollFingerprint", wrap=True)
        self.fingerprint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        for w in (self.title, self.code, self.hint, self.fingerprint):
            layout.addWidget(w)

    def show_code(self, code: str, name: str, role: str, fingerprint: str = "") -> None:
        """The code, and the short fingerprint of the pinned hall CA ("" on plain HTTP)."""
        self.code.setText(code)
        self.hint.setText(self._catalog.t("enroll.hint", name=name, role=role))
        text = self._catalog.t("enroll.fingerprint", fingerprint=fingerprint) if fingerprint else ""
        self.fingerprint.setText(text)

    def show_revoked(self) -> None:
        self.code.setText("—")
        self.hint.setText(self._catalog.t("enroll.revoked"))
