"""Accessibility checks over a live widget tree, used by every app's GUI tests: font sizes, touch targets,
text contrast against its actual background, clipped text and glyph coverage (no tofu boxes)."""

from __future__ import annotations

import array
from collections import Counter
from dataclasses import dataclass

from PySide6.QtGui import QFontMetrics, QImage
from PySide6.QtWidgets import QAbstractButton, QLabel, QLineEdit, QWidget

from hallui.theme import MIN_CONTRAST, MIN_TOUCH_PX, contrast_ratio, luminance


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
        elif wraps and (tall := w.heightForWidth(w.width())) > w.height() + 2:
            # A wrapped label given fewer lines than its text needs: the last lines are cut off below.
            findings.append(Finding(_name(w), f"text clipped below ({tall}px > {w.height()}px)"))
        if (outside := _outside(w)) is not None:
            findings.append(Finding(_name(w), f"text cut by its parent: {outside}"))
        missing = [ch for ch in set(text) if not ch.isspace() and not fm.inFontUcs4(ord(ch))]
        if missing:
            findings.append(Finding(_name(w), f"font lacks glyphs {''.join(sorted(missing))!r}"))
        ratio = _contrast_at(image, root, w)
        if ratio is not None and ratio < MIN_CONTRAST:
            findings.append(Finding(_name(w), f"contrast {ratio:.2f} < {MIN_CONTRAST}: {text[:20]!r}"))
    return findings


def _outside(w: QWidget) -> str | None:
    """How `w` sticks out of the widget it is drawn in (a label in a button too small for it), if it does."""
    parent = w.parentWidget()
    if parent is None:
        return None
    g, r = w.geometry(), parent.rect()
    if g.bottom() > r.bottom() + 2 or g.right() > r.right() + 2 or g.top() < -2 or g.left() < -2:
        return f"{g.width()}x{g.height()}+{g.x()}+{g.y()} in {r.width()}x{r.height()}"
    return None


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
    # Large areas are sampled every other pixel each way: a glyph stroke is wider than that at 18 pt.
    counts = _histogram(image, x0, y0, x1, y1, 1 if (x1 - x0) * (y1 - y0) < 40_000 else 2)
    bg = max(counts, key=lambda k: counts[k])
    # The colour that stands out most from the background is the darkest or the lightest one.
    darkest = min(counts, key=_luminance)
    lightest = max(counts, key=_luminance)
    fg, best = bg, 1.0
    for v in (darkest, lightest):
        ratio = contrast_ratio(_rgb(v), _rgb(bg))
        if ratio > best:
            fg, best = v, ratio
    return Painted(_rgb(bg), _rgb(fg), best)


_LUMINANCE: dict[int, float] = {}


def _luminance(v: int) -> float:
    if (known := _LUMINANCE.get(v)) is None:
        known = _LUMINANCE[v] = luminance(_rgb(v))
    return known


def _histogram(image: QImage, x0: int, y0: int, x1: int, y1: int, step: int = 1) -> Counter[int]:
    """How often each colour (0xRRGGBB) is painted in the rectangle, every `step`th pixel each way, counted
    from the image's bytes (a screenshot check of every screen in five languages at two sizes reads
    millions of them)."""
    part = image.copy(x0, y0, x1 - x0, y1 - y0).convertToFormat(QImage.Format.Format_RGB32)
    width, height, line = part.width(), part.height(), part.bytesPerLine()
    raw = bytes(part.constBits())
    counts: Counter[int] = Counter()
    for y in range(0, height, step):
        row = array.array("I", raw[y * line : y * line + width * 4])
        counts.update(row[::step] if step > 1 else row)
    return Counter({k & 0xFFFFFF: v for k, v in counts.items()})


def colours_in(image: QImage, root: QWidget, w: QWidget) -> set[tuple[int, int, int]]:
    """Every colour painted in `w`'s area of `image` (to find a ring or a marker colour)."""
    origin = w.mapTo(root, w.rect().topLeft())
    x0, y0 = max(0, origin.x()), max(0, origin.y())
    x1, y1 = min(image.width(), origin.x() + w.width()), min(image.height(), origin.y() + w.height())
    if x1 <= x0 or y1 <= y0:
        return set()
    return {_rgb(v) for v in _histogram(image, x0, y0, x1, y1)}


def _contrast_at(image: QImage, root: QWidget, w: QWidget) -> float | None:
    """Contrast of the text as painted: the most common colour of the widget's area is its background, the
    pixel that stands out most from it is the core of a glyph stroke."""
    p = painted(image, root, w)
    return p.ratio if p is not None else None
