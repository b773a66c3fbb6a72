"""The kiosk's building blocks: its stylesheet, big tiles with wrapped text, the QR code, on-screen letter
keys and the pager. Widgets only."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TypeVar

import qrcode
from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QImage, QPainter, QPixmap
from PySide6.QtWidgets import (
    QBoxLayout,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from hallui.i18n import Catalog
from hallui.theme import LARGE_SCRIPT, PALETTE, TYPE, stylesheet
from hallui.widgets import button, label
from kiosk.icons import icon_pixmap

LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
#: Booking codes use digits 2–9 and letters without I, L, O (hallserver's code alphabet).
CODE_KEYS = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
GROUPS_PER_PAGE = 8
MATTERS_PER_PAGE = 6

T = TypeVar("T")


#: Languages whose script reads smaller than Han at the same point size (Tibetan's stacked letters): their
#: screens use the theme's larger scale.
LARGER_SCRIPTS = frozenset({"bo"})


def kiosk_stylesheet(elder: bool, larger: bool = False) -> str:
    """The shared theme plus the kiosk's own roles: tiles with wrapped text, chosen materials."""
    p = PALETTE
    scale = LARGE_SCRIPT if larger else TYPE
    return (
        stylesheet(elder, scale=scale)
        + f"""
    QPushButton[role="tile"] {{ text-align: left; }}
    QPushButton[role="tile"] QLabel {{ background: transparent; color: {p.primary_text}; }}
    QPushButton[role="tile"] QLabel[role="tilesub"] {{ color: {p.primary_text}; }}
    QPushButton[role="tile"] QLabel[role="tiletitle"] {{ font-size: {scale.small_title(elder)}pt;
                                                        font-weight: bold; }}
    QPushButton[role="tile"] QLabel:disabled {{ color: {p.disabled_text}; }}
    QPushButton[role="material"] {{ background: {p.panel}; color: {p.text}; border: 3px solid {p.muted};
                                     text-align: left; }}
    QPushButton[role="material"] QLabel {{ background: transparent; color: {p.text}; }}
    QPushButton[role="material"]:checked {{ background: {p.ok}; color: #ffffff; border: 3px solid {p.ok}; }}
    QPushButton[role="material"] QLabel[on="true"] {{ color: #ffffff; }}
    QPushButton[role="answer"] {{ font-size: {scale.headline(elder)}pt; font-weight: bold; }}
    QPushButton[role="card"] {{ font-size: {scale.small_title(elder)}pt; font-weight: bold; }}
    QPushButton[role="key"] {{ padding: 4px; }}
    QLabel[role="ok"] {{ color: {p.ok}; }}
    """
    )


def columns(view: QWidget, portrait: int, landscape: int) -> int:
    """How many columns a grid gets: the kiosk runs portrait (1080×1920) or landscape (1920×1080)."""
    return landscape if view.width() > view.height() else portrait


def mark(b: QPushButton, on: bool) -> None:
    """A checklist tile's labels follow its checked state (a style sheet cannot see the parent's state)."""
    for w in b.findChildren(QLabel):
        w.setProperty("on", "true" if on else "false")


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


def tile(
    title: str, sub: str, name: str, role: str = "tile", icon: str = "", icon_color: str = PALETTE.primary
) -> QPushButton:
    """A big button with wrapped text (QPushButton itself never wraps), and an icon on the left if given."""
    b = button("", name, role)
    # The wrapped labels decide the height: the grid asks the button's layout (heightForWidth), so a title
    # that wraps to three lines in a longer language gets the room for them instead of being cut.
    policy = b.sizePolicy()
    policy.setHeightForWidth(True)
    policy.setVerticalPolicy(QSizePolicy.Policy.Minimum)
    b.setSizePolicy(policy)
    row = QHBoxLayout(b)
    row.setContentsMargins(16, 8, 16, 8)
    row.setSpacing(14)
    if icon:
        pic = QLabel()
        pic.setObjectName(f"{name}_icon")
        pic.setPixmap(icon_pixmap(icon, 64, icon_color))
        pic.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        row.addWidget(pic)
    lay = QVBoxLayout()
    row.addLayout(lay, 1)
    main = label(title, f"{name}_title", "tiletitle", wrap=True)
    main.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
    lay.addWidget(main)
    if sub:
        s = label(sub, f"{name}_sub", "tilesub", wrap=True)
        s.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        lay.addWidget(s)
    return b


def tall(b: QPushButton, height: int) -> None:
    """At least `height` px for a tile (its layout decides its height: a minimum height would be overridden,
    so the layout gets a strut), more when its wrapped text needs it."""
    lay = b.layout()
    if isinstance(lay, QBoxLayout):
        lay.addStrut(height)
    else:
        b.setMinimumHeight(height)


def keypad(
    lay: QVBoxLayout,
    keys: str,
    prefix: str,
    on_key: Callable[[str], None],
    on_delete: Callable[[], None],
    delete_text: str,
    *,
    per_row: int = 9,
) -> None:
    """On-screen keys (a kiosk has no keyboard), `per_row` to a row, then delete (a word: no font has ⌫)."""
    grid = QGridLayout()
    grid.setSpacing(6)
    for i, ch in enumerate(keys):
        b = button(ch, f"{prefix}_{ch}", "key")
        b.clicked.connect(lambda _=False, ch=ch: on_key(ch))
        grid.addWidget(b, i // per_row, i % per_row)
    n = len(keys)
    delete = button(delete_text, f"{prefix}Delete", "key")
    delete.clicked.connect(lambda _=False: on_delete())
    row, col = divmod(n, per_row)
    if per_row - col < 3:  # three keys wide, so the word fits in every language
        row, col = row + 1, 0
    grid.addWidget(delete, row, col, 1, 3)
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
