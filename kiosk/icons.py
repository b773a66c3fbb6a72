"""The pictures beside a material on the checklist (`icon` in the config, one of
`hallcore.configlang.MATERIAL_ICONS`): simple line drawings, painted here so they need no image files and
scale to any size. Widgets only."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QPointF, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen, QPixmap

from hallui.theme import PALETTE

Draw = Callable[[QPainter, float], None]


def _idcard(p: QPainter, s: float) -> None:
    p.drawRoundedRect(QRectF(s * 0.08, s * 0.22, s * 0.84, s * 0.56), s * 0.06, s * 0.06)
    p.drawEllipse(QRectF(s * 0.16, s * 0.34, s * 0.2, s * 0.24))
    for y in (0.38, 0.5, 0.62):
        p.drawLine(QPointF(s * 0.44, s * y), QPointF(s * 0.82, s * y))


def _booklet(p: QPainter, s: float) -> None:
    p.drawRect(QRectF(s * 0.2, s * 0.1, s * 0.6, s * 0.8))
    p.drawLine(QPointF(s * 0.3, s * 0.1), QPointF(s * 0.3, s * 0.9))
    p.drawEllipse(QRectF(s * 0.43, s * 0.3, s * 0.24, s * 0.24))


def _photo(p: QPainter, s: float) -> None:
    p.drawRect(QRectF(s * 0.22, s * 0.1, s * 0.56, s * 0.8))
    p.drawEllipse(QRectF(s * 0.38, s * 0.24, s * 0.24, s * 0.28))
    p.drawArc(QRectF(s * 0.3, s * 0.56, s * 0.4, s * 0.4), 0, 180 * 16)


def _card(p: QPainter, s: float) -> None:
    p.drawRoundedRect(QRectF(s * 0.08, s * 0.24, s * 0.84, s * 0.52), s * 0.06, s * 0.06)
    p.drawLine(QPointF(s * 0.08, s * 0.38), QPointF(s * 0.92, s * 0.38))
    p.drawRect(QRectF(s * 0.16, s * 0.5, s * 0.18, s * 0.14))


def _certificate(p: QPainter, s: float) -> None:
    p.drawRect(QRectF(s * 0.12, s * 0.16, s * 0.76, s * 0.6))
    p.drawEllipse(QRectF(s * 0.56, s * 0.5, s * 0.24, s * 0.24))
    for y in (0.3, 0.42):
        p.drawLine(QPointF(s * 0.22, s * y), QPointF(s * 0.78, s * y))


def _contract(p: QPainter, s: float) -> None:
    _document(p, s)
    p.drawLine(QPointF(s * 0.5, s * 0.78), QPointF(s * 0.7, s * 0.7))


def _document(p: QPainter, s: float) -> None:
    p.drawRect(QRectF(s * 0.22, s * 0.1, s * 0.56, s * 0.8))
    for y in (0.28, 0.4, 0.52, 0.64):
        p.drawLine(QPointF(s * 0.32, s * y), QPointF(s * 0.68, s * y))


ICONS: dict[str, Draw] = {
    "idcard": _idcard,
    "booklet": _booklet,
    "photo": _photo,
    "card": _card,
    "certificate": _certificate,
    "contract": _contract,
    "document": _document,
}


def icon_pixmap(name: str, size: int, color: str = PALETTE.primary) -> QPixmap:
    """The icon `name` drawn `size` px square in `color` on transparency (an unknown name: empty)."""
    pix = QPixmap(size, size)
    pix.fill(Qt.GlobalColor.transparent)
    draw = ICONS.get(name)
    if draw is None:
        return pix
    painter = QPainter(pix)
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(QPen(QColor(color), max(2.0, size / 22)))
    draw(painter, float(size))
    painter.end()
    return pix
