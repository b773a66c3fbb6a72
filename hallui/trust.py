"""Finding the station's own hall server at start, and the screen shown while only other servers answer."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QVBoxLayout, QWidget

from hallclient.link import Link, TrustPolicy, Where, locate_until_found
from hallclient.trust import UNTRUSTED_TEXT
from hallcore.config import HallConfig
from hallui.widgets import label

log = logging.getLogger(__name__)


class UntrustedScreen(QWidget):
    """ "服务器证书不符，请联系管理员" (and in English), with the reason for the installer, full screen."""

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("untrustedServer")
        layout = QVBoxLayout(self)
        self.title = label(UNTRUSTED_TEXT[0], "untrustedTitle", "title", wrap=True)
        self.title_en = label(UNTRUSTED_TEXT[1], "untrustedTitleEn", wrap=True)
        self.reason = label("", "untrustedReason", "muted", wrap=True)
        for w in (self.title, self.title_en, self.reason):
            w.setAlignment(Qt.AlignmentFlag.AlignCenter)
            layout.addWidget(w)

    def show_reason(self, reason: str) -> None:
        self.reason.setText(reason)


def policy_of(config: HallConfig) -> TrustPolicy:
    return TrustPolicy(required=config.tls.required, pin_on_first_contact=config.tls.pin_on_first_contact)


async def find_hall_server(
    path: Path,
    config: HallConfig,
    given: str = "",
    *,
    full_screen: bool = True,
    retry_s: float = 5.0,
    interfaces: list[str] | None = None,
) -> Link:
    """The station's server (`hallclient.link.locate`), waiting while none answers; while only servers with
    the wrong certificate answer, the untrusted screen is up."""
    screen: UntrustedScreen | None = None

    def untrusted(reason: str) -> None:
        nonlocal screen
        log.error("%s: %s", UNTRUSTED_TEXT[1], reason)
        if screen is None:
            log.error("showing %s", UNTRUSTED_TEXT[0])  # what the station's screen says, for the journal
            screen = UntrustedScreen()
            if full_screen:
                screen.showFullScreen()
            else:
                screen.show()
        screen.show_reason(reason)

    def found(link: Link) -> None:
        nonlocal screen
        if screen is not None:
            log.info("hall server %s verified (CA %s)", link.url, link.pin.short if link.pin else "none")
            screen.close()
            screen.deleteLater()
            screen = None

    where = Where(config.hall.id, config.hall.public_base_url, given, interfaces)
    return await locate_until_found(
        path, where, policy_of(config), on_untrusted=untrusted, on_found=found, retry_s=retry_s
    )
