"""The one palette and type scale of the hall's screens (kiosk, counter, display), meeting the 适老化 rules:
text >= 18 pt (24 pt in elder mode), touch targets >= 60 px, contrast >= 4.5:1 (WCAG 2 relative luminance, the
measure the national guideline refers to). Every pair that paints text is listed in `TEXT_PAIRS` and held to
it by tests/gui/test_hallui.py; the counter's buttons are measured as painted by
tests/gui/test_counter_look.py."""

from __future__ import annotations

from dataclasses import dataclass

MIN_TOUCH_PX = 60
MIN_CONTRAST = 4.5
#: Enabled and disabled looks of one control, and state markers against their surroundings (WCAG 1.4.11).
MIN_UI_CONTRAST = 3.0
#: The CJK font every app uses (Debian: fonts-wqy-microhei), named so text never falls back to boxes.
FONT_FAMILY = "WenQuanYi Micro Hei"
#: The fonts after it, by script: Tibetan (Debian: fonts-tibetan-machine), for the kiosk's bo catalogue.
FONT_FAMILIES = (FONT_FAMILY, "Tibetan Machine Uni")


@dataclass(frozen=True, slots=True)
class TypeScale:
    """Point sizes: the desk screens' body (kiosk, counter) in normal and elder mode, titles and the big
    ticket number relative to it; the display board's body, read from across the hall."""

    body_pt: int = 18
    elder_pt: int = 24
    title_step_pt: int = 10
    big_factor: int = 3
    board_pt: int = 24

    def body(self, elder: bool = False) -> int:
        return self.elder_pt if elder else self.body_pt

    def title(self, elder: bool = False) -> int:
        return self.body(elder) + self.title_step_pt

    def big(self, elder: bool = False) -> int:
        return self.body(elder) * self.big_factor

    def headline(self, elder: bool = False) -> int:
        """A kiosk question or prompt: the one thing on its screen to read, larger than a title."""
        return self.title(elder) + 6

    def small_title(self, elder: bool = False) -> int:
        """Card and tile names: between body and title."""
        return self.body(elder) + 4


TYPE = TypeScale()
#: For scripts that read smaller than Han at the same size (Tibetan): every size a step up.
LARGE_SCRIPT = TypeScale(body_pt=20, elder_pt=26)
BASE_PT = TYPE.body_pt
ELDER_PT = TYPE.elder_pt


@dataclass(frozen=True, slots=True)
class Palette:
    """The light desk screens' colours (kiosk, counter)."""

    background: str = "#ffffff"
    text: str = "#1a1a1a"
    primary: str = "#0b5cad"  # buttons: white text on this blue is 6.7:1
    primary_text: str = "#ffffff"
    warning: str = "#8a4b00"
    danger: str = "#a4161a"
    muted: str = "#4d4d4d"
    ok: str = "#1e6b2e"
    panel: str = "#f1f4f8"
    panel_edge: str = "#c3ccd8"  # the edge of a card on the page (decoration, not a state)
    # A second kind of enabled button (the counter's less frequent actions): white on slate, 9.3:1.
    alt: str = "#34495e"
    # The action the counter's state asks for next: white on green (6.8:1) in an amber ring.
    next: str = "#17692f"
    next_ring: str = "#f2b705"
    # Disabled controls look switched off: pale, a dashed edge, grey text (6.1:1 on the pale fill); the pale
    # fill is >= 5.7:1 from the primary, alt and next fills, so enabled and disabled never look alike.
    disabled: str = "#eceef1"
    disabled_text: str = "#505965"
    disabled_edge: str = "#6b7480"
    # The ticket a window holds: called (waiting for the citizen) on amber, serving on green; white text.
    called: str = "#8a4b00"
    serving: str = "#17692f"


PALETTE = Palette()


@dataclass(frozen=True, slots=True)
class BoardPalette:
    """The display board's dark scheme: bright text on navy reads from across a hall."""

    background: str = "#0b1d33"
    panel: str = "#12294a"
    text: str = "#ffffff"
    accent: str = "#ffd23f"  # the number being called: 11.9:1 on the background
    calm: str = "#9fe3b0"  # window names and estimates: 10.6:1 on the panel
    muted: str = "#c9d4e3"
    alert: str = "#7a1010"
    alert_text: str = "#ffffff"
    error_text: str = "#ffb3b3"


BOARD = BoardPalette()

#: (text, background) pairs the screens paint text with; each must reach MIN_CONTRAST.
TEXT_PAIRS: tuple[tuple[str, str], ...] = (
    (PALETTE.text, PALETTE.background),
    (PALETTE.text, PALETTE.panel),
    (PALETTE.primary_text, PALETTE.ok),
    (PALETTE.primary_text, PALETTE.primary),
    (PALETTE.primary_text, PALETTE.alt),
    (PALETTE.primary_text, PALETTE.next),
    (PALETTE.disabled_text, PALETTE.disabled),
    (PALETTE.primary_text, PALETTE.called),
    (PALETTE.primary_text, PALETTE.serving),
    (PALETTE.warning, PALETTE.background),
    (PALETTE.danger, PALETTE.background),
    (PALETTE.muted, PALETTE.background),
    (PALETTE.ok, PALETTE.background),
    (BOARD.text, BOARD.background),
    (BOARD.accent, BOARD.background),
    (BOARD.calm, BOARD.panel),
    (BOARD.muted, BOARD.panel),
    (BOARD.alert_text, BOARD.alert),
    (BOARD.error_text, BOARD.background),
)


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


def stylesheet(elder: bool = False, palette: Palette = PALETTE, scale: TypeScale = TYPE) -> str:
    """One stylesheet for the desk screens; elder mode only changes sizes."""
    pt = scale.body(elder)
    p = palette
    families = ", ".join(f'"{f}"' for f in FONT_FAMILIES)
    return f"""
    QWidget {{ background: {p.background}; color: {p.text}; font-size: {pt}pt;
               font-family: {families}; }}
    QPushButton {{ background: {p.primary}; color: {p.primary_text}; border: 2px solid {p.primary};
                  border-radius: 8px; padding: 12px 20px;
                  min-height: {MIN_TOUCH_PX}px; min-width: {MIN_TOUCH_PX}px; }}
    QPushButton[role="secondary"] {{ background: {p.panel}; color: {p.text};
                                     border: 2px solid {p.primary}; }}
    QPushButton[role="alt"] {{ background: {p.alt}; color: {p.primary_text}; border: 2px solid {p.alt}; }}
    QPushButton[role="next"] {{ background: {p.next}; color: {p.primary_text};
                               border: 4px solid {p.next_ring}; font-weight: bold; }}
    QPushButton[dense="true"] {{ padding: 12px 6px; }}
    QPushButton:disabled {{ background: {p.disabled}; color: {p.disabled_text};
                           border: 2px dashed {p.disabled_edge}; }}
    QLabel[role="title"] {{ font-size: {scale.title(elder)}pt; font-weight: bold; }}
    QLabel[role="headline"] {{ font-size: {scale.headline(elder)}pt; font-weight: bold; }}
    QLabel[role="subtitle"] {{ font-size: {scale.small_title(elder)}pt; font-weight: bold; }}
    QWidget[role="card"] {{ background: {p.panel}; border: 2px solid {p.panel_edge}; border-radius: 12px; }}
    QWidget[role="card"] QLabel {{ background: {p.panel}; }}
    QWidget[role="band"] {{ background: {p.primary}; }}
    QWidget[role="band"] QLabel {{ background: {p.primary}; color: {p.primary_text}; }}
    QLabel[role="step"] {{ background: {p.panel}; color: {p.text}; border: 2px solid {p.panel_edge};
                           border-radius: 8px; padding: 4px 14px; }}
    QLabel[role="step_done"] {{ background: {p.ok}; color: {p.primary_text}; border: 2px solid {p.ok};
                                border-radius: 8px; padding: 4px 14px; }}
    QLabel[role="step_now"] {{ background: {p.primary}; color: {p.primary_text};
                               border: 2px solid {p.primary}; border-radius: 8px; padding: 4px 14px;
                               font-weight: bold; }}
    QLabel[role="big"] {{ font-size: {scale.big(elder)}pt; font-weight: bold; color: {p.primary}; }}
    QLabel[role="warning"] {{ color: {p.warning}; }}
    QLabel[role="error"] {{ color: {p.danger}; }}
    QLabel[role="muted"] {{ color: {p.muted}; }}
    QLabel[role="held_called"] {{ background: {p.called}; color: {p.primary_text}; font-weight: bold;
                                  padding: 6px 12px; border-radius: 6px; }}
    QLabel[role="held_serving"] {{ background: {p.serving}; color: {p.primary_text}; font-weight: bold;
                                   padding: 6px 12px; border-radius: 6px; }}
    QLineEdit {{ min-height: {MIN_TOUCH_PX}px; border: 2px solid {p.muted}; border-radius: 6px;
                 background: #ffffff; color: {p.text}; }}
    """
