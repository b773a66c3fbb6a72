"""Accessibility checks over a live widget tree, used by every app's GUI tests: font sizes, touch targets,
text contrast against its actual background, clipped text and glyph coverage (no tofu boxes)."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtGui import QFontMetrics, QImage
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QWidget

from hallui.theme import MIN_CONTRAST, MIN_TOUCH_PX, contrast_ratio


@dataclass(frozen=True, slots=True)
class Finding:
    widget: str
    problem: str


def _name(w: QWidget) -> str:
    return w.objectName() or type(w).__name__


def _text(w: QWidget) -> str:
    if isinstance(w, (QLabel, QAbstractButton, QLineEdit)):
        return w.text()
    return ""


def visible_text_widgets(root: QWidget) -> list[QWidget]:
    out: list[QWidget] = []
    for w in root.findChildren(QWidget):
        if w.isVisibleTo(root) and _text(w).strip() and w.width() > 0:
            out.append(w)
    return out


def check(root: QWidget, *, min_pt: float, min_touch: int = MIN_TOUCH_PX) -> list[Finding]:
    """Everything visible under `root` that breaks the rules. Call after the layout has settled."""
    findings: list[Finding] = []
    image = root.grab().toImage()
    for w in visible_text_widgets(root):
        text = _text(w)
        font = w.font()
        size = font.pointSizeF() if font.pointSizeF() > 0 else font.pixelSize() * 0.75
        if size + 0.01 < min_pt:
            findings.append(Finding(_name(w), f"font {size:.1f} pt < {min_pt} pt: {text[:20]!r}"))
        if isinstance(w, (QAbstractButton, QLineEdit)) and (w.width() < min_touch or w.height() < min_touch):
            findings.append(Finding(_name(w), f"touch target {w.width()}x{w.height()} < {min_touch}px"))
        fm = QFontMetrics(font)
        lines = text.split("\n")
        needed = max(fm.horizontalAdvance(line) for line in lines)
        wraps = isinstance(w, QLabel) and w.wordWrap()
        if isinstance(w, QAbstractButton) and w.sizeHint().width() > w.width() + 2:
            # A button's text sits inside its style's padding and border: its size hint says what it needs.
            findings.append(Finding(_name(w), f"text clipped ({w.sizeHint().width()}px > {w.width()}px)"))
        elif not wraps and needed > w.contentsRect().width() + 2:
            findings.append(Finding(_name(w), f"text clipped ({needed}px > {w.contentsRect().width()}px)"))
        missing = [ch for ch in set(text) if not ch.isspace() and not fm.inFontUcs4(ord(ch))]
        if missing:
            findings.append(Finding(_name(w), f"font lacks glyphs {''.join(sorted(missing))!r}"))
        ratio = _contrast_at(image, root, w)
        if ratio is not None and ratio < MIN_CONTRAST:
            findings.append(Finding(_name(w), f"contrast {ratio:.2f} < {MIN_CONTRAST}: {text[:20]!r}"))
    return findings


@dataclass(frozen=True, slots=True)
class Painted:
    """A widget as painted: its background (the most common colour of its area), the colour that stands out
    most from it (the core of a glyph stroke, or a ring) and their contrast ratio."""

    background: tuple[int, int, int]
    foreground: tuple[int, int, int]
    ratio: float


def _rgb(v: int) -> tuple[int, int, int]:
    return (v >> 16) & 255, (v >> 8) & 255, v & 255


def painted(image: QImage, root: QWidget, w: QWidget) -> Painted | None:
    """How `w` looks in `image` (a grab of `root`); None when it lies outside the image."""
    origin = w.mapTo(root, w.rect().topLeft())
    x0, y0 = max(0, origin.x()), max(0, origin.y())
    x1, y1 = min(image.width(), origin.x() + w.width()), min(image.height(), origin.y() + w.height())
    if x1 <= x0 or y1 <= y0:
        return None
    counts: dict[int, int] = {}
    step = 1 if (x1 - x0) * (y1 - y0) < 40_000 else 2
    for y in range(y0, y1, step):
        for x in range(x0, x1, step):
            rgb = image.pixel(x, y) & 0xFFFFFF
            counts[rgb] = counts.get(rgb, 0) + 1
    bg = _rgb(max(counts, key=lambda k: counts[k]))
    fg, best = bg, 1.0
    for v in counts:
        ratio = contrast_ratio(_rgb(v), bg)
        if ratio > best:
            fg, best = _rgb(v), ratio
    return Painted(bg, fg, best)


def colours_in(image: QImage, root: QWidget, w: QWidget) -> set[tuple[int, int, int]]:
    """Every colour painted in `w`'s area of `image` (to find a ring or a marker colour)."""
    origin = w.mapTo(root, w.rect().topLeft())
    out: set[tuple[int, int, int]] = set()
    for y in range(max(0, origin.y()), min(image.height(), origin.y() + w.height())):
        for x in range(max(0, origin.x()), min(image.width(), origin.x() + w.width())):
            out.add(_rgb(image.pixel(x, y) & 0xFFFFFF))
    return out


def _contrast_at(image: QImage, root: QWidget, w: QWidget) -> float | None:
    """Contrast of the text as painted: the most common colour of the widget's area is its background, the
    pixel that stands out most from it is the core of a glyph stroke."""
    p = painted(image, root, w)
    return p.ratio if p is not None else None
