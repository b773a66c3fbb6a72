"""The kiosk's home screen: the cards (刷身份证 while a reader works, 预约签到, 长者模式, the hall's
languages), the most used matters as tiles with the people waiting in their series and the wait a ticket
taken now would be told, all matters and search, and the hall's notice at the foot. Portrait (1080×1920)
stacks the cards above the tiles; landscape (1920×1080) puts them side by side."""

from __future__ import annotations

from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QPushButton, QVBoxLayout, QWidget

from hallcore.config import Matter
from hallui.i18n import Catalog
from hallui.widgets import button, label
from kiosk.flow import KioskFlow
from kiosk.icons import icon_pixmap
from kiosk.info import ViewInfo
from kiosk.intents import KioskIntents
from kiosk.texts import LANGUAGE_NAMES
from kiosk.widgets import LARGER_SCRIPTS, tall, tile

#: Tiles the home screen shows at most: (portrait, landscape), normal and larger text (elder mode, Tibetan).
TILES = {False: (8, 6), True: (6, 4)}


def welcome(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, info: ViewInfo) -> None:
    landscape = v.width() > v.height()
    cards = QVBoxLayout()
    cards.setSpacing(16)
    tiles = QVBoxLayout()
    tiles.setSpacing(12)
    if landscape:
        row = QHBoxLayout()
        row.setSpacing(24)
        row.addLayout(cards, 2)
        row.addLayout(tiles, 3)
        lay.addLayout(row)
    else:
        lay.addLayout(cards)
        lay.addLayout(tiles)
    _cards(v, cards, flow, cat)
    _tiles(v, tiles, flow, cat, info, landscape)
    if landscape:
        cards.addStretch(1)
        tiles.addStretch(1)
    notice = cat.pick(info.notice, info.notices.get("en", ""), info.notices)
    if notice:
        lay.addStretch(1)
        box = panel("homeNotice")
        inner = QVBoxLayout(box)
        inner.setContentsMargins(20, 12, 20, 12)
        inner.addWidget(label(cat.t("home.notice"), "homeNoticeTitle", "subtitle"))
        inner.addWidget(label(notice, "homeNoticeText", wrap=True))
        lay.addWidget(box)


def _cards(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog) -> None:
    if flow.reader_ok:
        # 刷身份证 is a place on the kiosk, not a button: the card shows where to put the card.
        box = panel("homeCard", "band")
        row = QHBoxLayout(box)
        row.setContentsMargins(20, 16, 20, 16)
        pic = label("", "homeCardIcon")
        pic.setPixmap(icon_pixmap("idcard", 96, "#ffffff"))
        row.addWidget(pic)
        text = QVBoxLayout()
        text.addWidget(label(cat.t("home.card"), "homeCardTitle", "title", wrap=True))
        text.addWidget(label(cat.t("welcome.card"), "welcomeCard", wrap=True))
        row.addLayout(text, 1)
        lay.addWidget(box)
    grid = QGridLayout()
    grid.setSpacing(16)
    booking = tile(cat.t("welcome.booking"), cat.t("home.booking_hint"), "welcomeBooking")
    booking.clicked.connect(v.booking_requested.emit)
    elder_title = cat.t("welcome.elder_off" if flow.elder else "welcome.elder_on")
    elder_hint = cat.t("home.elder_on_hint" if flow.elder else "home.elder_hint")
    elder = tile(elder_title, elder_hint, "welcomeElder")
    elder.clicked.connect(v.elder_toggled.emit)
    side_by_side = v.height() > v.width()  # landscape: the cards' column is narrow, one card a row
    for i, b in enumerate((booking, elder)):
        tall(b, 170 if flow.elder else 150)
        grid.addWidget(b, 0 if side_by_side else i, i if side_by_side else 0)
    lay.addLayout(grid)
    if len(flow.languages) > 1:
        box = panel("homeLanguages")
        row = QHBoxLayout(box)
        row.setContentsMargins(16, 10, 16, 10)
        row.addWidget(label(cat.t("home.language"), "homeLanguageTitle", "subtitle"))
        for lang in flow.languages:
            b = language_button(lang, flow.language == lang)
            b.clicked.connect(lambda _=False, lang=lang: v.language_chosen.emit(lang))
            row.addWidget(b, 1)
        lay.addWidget(box)


def panel(name: str, role: str = "card") -> QWidget:
    """A framed part of the page (the theme's card or band look)."""
    box = QWidget()
    box.setObjectName(name)
    box.setProperty("role", role)
    return box


def language_button(lang: str, current: bool) -> QPushButton:
    b = button(LANGUAGE_NAMES.get(lang, lang), f"lang_{lang}", None if current else "secondary")
    b.setMinimumHeight(80)
    return b


def _tiles(
    v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, info: ViewInfo, landscape: bool
) -> None:
    lay.addWidget(label(cat.t("home.tiles"), "homeTilesTitle", "title", wrap=True))
    grid = QGridLayout()
    grid.setSpacing(14)
    most = TILES[flow.elder or flow.language in LARGER_SCRIPTS][1 if landscape else 0]
    for i, m in enumerate(info.home_matters[:most]):
        b = tile(cat.pick(m.name, m.name_en, m.names), _waiting(m, cat, info), f"home_{m.code}")
        tall(b, 170 if flow.elder else 150)
        b.clicked.connect(lambda _=False, code=m.code: v.matter_chosen.emit(code))
        grid.addWidget(b, i // 2, i % 2)
    lay.addLayout(grid)
    every = button(cat.t("home.all"), "welcomeStart", "secondary")
    every.setMinimumHeight(100 if flow.elder else 90)
    every.clicked.connect(v.start_requested.emit)
    lay.addWidget(every)


def _waiting(m: Matter, cat: Catalog, info: ViewInfo) -> str:
    """ "等候 3 人 · 约 5–10 分钟" for the matter's series; its closure or last numbers when those apply."""
    if m.code in info.closed:
        return cat.t("matters.closed")
    n = info.waiting.get(m.series)
    parts = []
    if n is not None:
        parts.append(cat.t("home.waiting", n=n) if n else cat.t("home.no_wait"))
        est = info.estimates.get(m.series)
        if n and est is not None:
            parts.append(cat.t("home.estimate", lo=est[0], hi=est[1]))
    left = info.remaining.get(m.code)
    if left is not None:
        parts.append(cat.t("matters.remaining", n=left))
    return " · ".join(parts)
