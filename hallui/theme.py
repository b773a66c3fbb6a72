"""Sizes and colours that meet the 适老化 rules: text >= 18 pt (24 pt in elder mode), touch targets >= 60 px,
contrast >= 4.5:1 (WCAG 2 relative luminance, the measure the national guideline refers to)."""

from __future__ import annotations

from dataclasses import dataclass

MIN_TOUCH_PX = 60
BASE_PT = 18
ELDER_PT = 24
MIN_CONTRAST = 4.5
#: The CJK font every app uses (Debian: fonts-wqy-microhei), named so text never falls back to boxes.
FONT_FAMILY = "WenQuanYi Micro Hei"


@dataclass(frozen=True, slots=True)
class Palette:
    background: str = "#ffffff"
    text: str = "#1a1a1a"
    primary: str = "#0b5cad"  # buttons: white text on this blue is 6.6:1
    primary_text: str = "#ffffff"
    warning: str = "#8a4b00"
    danger: str = "#a4161a"
    muted: str = "#4d4d4d"
    ok: str = "#1e6b2e"
    panel: str = "#f1f4f8"


PALETTE = Palette()


def _channel(c: float) -> float:
    c /= 255
    return c / 12.92 if c <= 0.03928 else ((c + 0.055) / 1.055) ** 2.4


def luminance(rgb: tuple[int, int, int]) -> float:
    r, g, b = (_channel(x) for x in rgb)
    return 0.2126 * r + 0.7152 * g + 0.0722 * b


def contrast_ratio(fg: tuple[int, int, int], bg: tuple[int, int, int]) -> float:
    lf, lb = luminance(fg), luminance(bg)
    hi, lo = max(lf, lb), min(lf, lb)
    return (hi + 0.05) / (lo + 0.05)


def hex_rgb(color: str) -> tuple[int, int, int]:
    c = color.lstrip("#")
    return int(c[0:2], 16), int(c[2:4], 16), int(c[4:6], 16)


def stylesheet(elder: bool = False, palette: Palette = PALETTE) -> str:
    """One stylesheet for an app; elder mode only changes sizes."""
    pt = ELDER_PT if elder else BASE_PT
    return f"""
    QWidget {{ background: {palette.background}; color: {palette.text}; font-size: {pt}pt;
               font-family: "{FONT_FAMILY}"; }}
    QPushButton {{ background: {palette.primary}; color: {palette.primary_text}; border: none;
                  border-radius: 8px; padding: 12px 20px;
                  min-height: {MIN_TOUCH_PX}px; min-width: {MIN_TOUCH_PX}px; }}
    QPushButton:disabled {{ background: #6b6b6b; color: #ffffff; }}
    QPushButton[role="secondary"] {{ background: {palette.panel}; color: {palette.text};
                                     border: 2px solid {palette.primary}; }}
    QLabel[role="title"] {{ font-size: {pt + 10}pt; font-weight: bold; }}
    QLabel[role="big"] {{ font-size: {pt * 3}pt; font-weight: bold; color: {palette.primary}; }}
    QLabel[role="warning"] {{ color: {palette.warning}; }}
    QLabel[role="error"] {{ color: {palette.danger}; }}
    QLabel[role="muted"] {{ color: {palette.muted}; }}
    QLineEdit {{ min-height: {MIN_TOUCH_PX}px; border: 2px solid {palette.muted}; border-radius: 6px;
                 background: #ffffff; color: {palette.text}; }}
    """
