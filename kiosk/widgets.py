"""The kiosk's building blocks: its stylesheet, big tiles with wrapped text, the QR code, on-screen letter
keys and the pager. Widgets only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import qrcode
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QPushButton, QVBoxLayout

from hallui.i18n import Catalog
from hallui.theme import PALETTE, stylesheet
from hallui.widgets import button, label

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: Booking codes use digits 2–9 and letters without I, L, O (hallserver's code alphabet).
CODE_KEYS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GROUPS_PER_PAGE = 8
MATTERS_PER_PAGE = 6

T = TypeVar("T")


def kiosk_stylesheet(elder: bool) -> str:
    """The shared theme plus the kiosk's own roles: tiles with wrapped text, chosen materials."""
    p = PALETTE
    return (
        stylesheet(elder)
        + f"""
    QPushButton[role="tile"] {{ text-align: left; }}
    QPushButton[role="tile"] QLabel {{ background: transparent; color: {p.primary_text}; }}
    QPushButton[role="tile"] QLabel[role="tilesub"] {{ color: {p.primary_text}; }}
    QPushButton[role="tile"] QLabel:disabled {{ color: {p.disabled_text}; }}
    QPushButton[role="material"] {{ background: {p.panel}; color: {p.text}; border: 2px solid {p.muted};
                                     text-align: left; }}
    QPushButton[role="material"]:checked {{ background: {p.ok}; color: #ffffff; border: 2px solid {p.ok}; }}
    QPushButton[role="key"] {{ padding: 4px; }}
    QLabel[role="ok"] {{ color: {p.ok}; }}
    """
    )


def qr_pixmap(text: str, box_px: int = 8) -> QPixmap:
    """The QR code for `text`, drawn black on white with a quiet zone (qrcode computes the modules)."""
    qr = qrcode.QRCode(border=4, error_correction=qrcode.constants.ERROR_CORRECT_M)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    size = len(matrix) * box_px
    image = QImage(size, size, QImage.Format.Format_RGB32)
    image.fill(QColor("#ffffff"))
    painter = QPainter(image)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor("#000000"))
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                painter.drawRect(x * box_px, y * box_px, box_px, box_px)
    painter.end()
    return QPixmap.fromImage(image)


def tile(title: str, sub: str, name: str) -> QPushButton:
    """A big button with wrapped text (QPushButton itself never wraps)."""
    b = button("", name, "tile")
    lay = QVBoxLayout(b)
    lay.setContentsMargins(16, 8, 16, 8)
    main = label(title, f"{name}_title", wrap=True)
    main.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    lay.addWidget(main)
    if sub:
        s = label(sub, f"{name}_sub", "tilesub", wrap=True)
        s.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        lay.addWidget(s)
    return b


def keypad(
    lay: QVBoxLayout,
    keys: str,
    prefix: str,
    on_key: Callable[[str], None],
    on_delete: Callable[[], None],
) -> None:
    """On-screen keys (a kiosk has no keyboard), nine to a row, then delete."""
    grid = QGridLayout()
    grid.setSpacing(6)
    per_row = 9
    for i, ch in enumerate(keys):
        b = button(ch, f"{prefix}_{ch}", "key")
        b.clicked.connect(lambda _=False, ch=ch: on_key(ch))
        grid.addWidget(b, i // per_row, i % per_row)
    n = len(keys)
    delete = button("⌫", f"{prefix}Delete", "key")
    delete.clicked.connect(lambda _=False: on_delete())
    grid.addWidget(delete, n // per_row, n % per_row)
    lay.addLayout(grid)


def pager(
    lay: QVBoxLayout, page: int, total: int, per: int, cat: Catalog, on_move: Callable[[int], None]
) -> None:
    """Previous / "n / m" / next under a paged list (a scrolled-away button is one nobody finds)."""
    if total <= per:
        return
    row = QHBoxLayout()
    prev = button(cat.t("common.back"), "pagePrev", "secondary")
    prev.setEnabled(page > 0)
    prev.clicked.connect(lambda: on_move(-1))
    nxt = button(cat.t("matters.more"), "pageNext", "secondary")
    nxt.setEnabled((page + 1) * per < total)
    nxt.clicked.connect(lambda: on_move(1))
    row.addWidget(prev)
    row.addStretch(1)
    row.addWidget(label(f"{page + 1} / {(total + per - 1) // per}", "pageNumber"))
    row.addStretch(1)
    row.addWidget(nxt)
    lay.addLayout(row)


def page_of(items: Sequence[T], page: int, per: int) -> list[T]:
    start = max(0, page) * per
    return list(items[start : start + per])


def printer_reason(reason: str, language: str) -> str:
    """The printer's reason in the citizen's language (drivers give "缺纸 paper out")."""
    if " " in reason and any("\u4e00" <= ch <= "\u9fff" for ch in reason):
        zh, _, en = reason.partition(" ")
        return en if language == "en" else zh
    return reason
