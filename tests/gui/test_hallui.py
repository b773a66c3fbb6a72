"""The shared app toolkit: catalogue checks, connection texts, and the accessibility checker itself."""

from __future__ import annotations

from typing import Any

import pytest
from PySide6.QtWidgets import QVBoxLayout, QWidget

from hallui import a11y
from hallui.connection import TEXTS as CONN_TEXTS
from hallui.connection import ConnectionBanner, describe
from hallui.enrollment import TEXTS as ENROLL_TEXTS
from hallui.enrollment import EnrollmentView
from hallui.i18n import Catalog
from hallui.theme import (
    MIN_CONTRAST,
    MIN_UI_CONTRAST,
    PALETTE,
    TEXT_PAIRS,
    TYPE,
    contrast_ratio,
    hex_rgb,
    stylesheet,
)
from hallui.widgets import button, label


def test_catalogues_complete() -> None:
    for texts in (CONN_TEXTS, ENROLL_TEXTS):
        assert Catalog(texts).problems() == []
    bad = Catalog({"x": ("你好 {name}", "hello"), "y": ("", "empty")})
    assert len(bad.problems()) == 2


def test_catalogue_language_switch() -> None:
    cat = Catalog(CONN_TEXTS)
    assert cat.t("conn.offline", age=5) == "无法连接服务器（5 秒）"
    cat.language = "en"
    assert cat.t("conn.offline", age=5) == "server unreachable (5 s)"
    with pytest.raises(ValueError, match="language"):
        cat.language = "fr"


def test_connection_levels() -> None:
    cat = Catalog(CONN_TEXTS)
    assert describe("live", 2, cat)[1] == "ok"
    assert describe("live", 40, cat)[1] == "warning"
    assert describe("reconnecting", 3, cat)[1] == "warning"
    assert describe("offline", 60, cat)[1] == "error"


def test_contrast_formula() -> None:
    assert contrast_ratio((0, 0, 0), (255, 255, 255)) == pytest.approx(21.0)
    assert contrast_ratio(hex_rgb("#ffffff"), hex_rgb("#0b5cad")) >= 4.5


def test_the_shared_palette_keeps_its_promises() -> None:
    """Every text colour pair of the kiosk, counter and display reaches 4.5:1; the disabled fill is >= 3:1
    from every enabled fill (the counter test measures the same as painted: test_counter_look.py)."""
    low = [(f, b, round(contrast_ratio(hex_rgb(f), hex_rgb(b)), 2)) for f, b in TEXT_PAIRS]
    assert [x for x in low if x[2] < MIN_CONTRAST] == []
    off = hex_rgb(PALETTE.disabled)
    for fill in (PALETTE.primary, PALETTE.alt, PALETTE.next):
        assert contrast_ratio(hex_rgb(fill), off) >= MIN_UI_CONTRAST, fill
    assert (TYPE.body(), TYPE.body(elder=True), TYPE.title(), TYPE.big()) == (18, 24, 28, 54)


def test_checker_passes_good_and_flags_bad(qtbot: Any) -> None:
    root = QWidget()
    root.setStyleSheet(stylesheet())
    lay = QVBoxLayout(root)
    good = label("请A012号到5号窗口", "good")
    ok_btn = button("取号", "take")
    faint = label("看不清的字", "faint")
    faint.setStyleSheet("color: #dddddd;")
    tiny = button("小", "tiny")
    tiny.setStyleSheet("min-height: 20px; min-width: 20px; max-height: 20px; max-width: 20px; padding: 0;")
    tofu = label("𠀀", "tofu")  # CJK Extension B: no installed font has it, so it would draw as a box
    # Text that fits the button's box but not inside its padding and border: cut off as painted.
    cut = button("不予受理 Ctrl+4", "cut")
    cut.setFixedWidth(cut.fontMetrics().horizontalAdvance(cut.text()) + 4)
    for w in (good, ok_btn, faint, tiny, tofu, cut):
        lay.addWidget(w)
    qtbot.addWidget(root)
    root.resize(600, 500)
    root.show()
    qtbot.waitExposed(root)
    findings: dict[str, str] = {}
    for f in a11y.check(root, min_pt=18):
        findings[f.widget] = findings.get(f.widget, "") + f.problem + "; "
    assert "good" not in findings, findings
    assert "take" not in findings, findings
    assert "contrast" in findings["faint"]
    assert "touch target" in findings["tiny"]
    assert "glyphs" in findings["tofu"]
    assert "clipped" in findings["cut"]


def test_enrollment_and_banner(qtbot: Any) -> None:
    cat = Catalog(ENROLL_TEXTS | CONN_TEXTS)
    view = EnrollmentView(cat)
    qtbot.addWidget(view)
    view.show_code("482913", "1号取号机", "kiosk")
    assert view.code.text() == "482913"
    banner = ConnectionBanner(cat)
    qtbot.addWidget(banner)
    banner.show_state("offline", 12)
    assert banner.level == "error"
