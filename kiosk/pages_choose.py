"""The kiosk's screens up to the final tap: welcome, matters (groups, search, pages), one question per screen,
materials, confirm (priority), booking check-in. Each builds its page into `lay`; taps are the view's intent
signals."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout

from hallcore.config import Matter
from hallcore.precheck import PrecheckOutcome
from hallui.i18n import Catalog
from hallui.matters import group, search
from hallui.widgets import button, label
from kiosk.flow import KioskFlow, ViewInfo
from kiosk.intents import KioskIntents
from kiosk.widgets import (
    CODE_KEYS,
    GROUPS_PER_PAGE,
    LETTERS,
    MATTERS_PER_PAGE,
    keypad,
    page_of,
    pager,
    tile,
)


def welcome(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, info: ViewInfo) -> None:
    hall = cat.pick(info.hall_name, info.hall_name_en)
    title = label(cat.t("welcome.title", hall=hall), "welcomeTitle", "title", wrap=True)
    title.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lay.addWidget(title)
    hint = label(cat.t("welcome.hint"), "welcomeHint", wrap=True)
    hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
    lay.addWidget(hint)
    if flow.reader_ok:
        invite = label(cat.t("welcome.card"), "welcomeCard", "title", wrap=True)
        invite.setAlignment(Qt.AlignmentFlag.AlignCenter)
        lay.addWidget(invite)
    lay.addSpacing(40)
    start = button(cat.t("welcome.start"), "welcomeStart")
    start.setMinimumHeight(160 if flow.elder else 120)
    start.clicked.connect(v.start_requested.emit)
    lay.addWidget(start)
    booking = button(cat.t("welcome.booking"), "welcomeBooking")
    booking.setMinimumHeight(120 if flow.elder else 90)
    booking.clicked.connect(v.booking_requested.emit)
    lay.addWidget(booking)
    row = QHBoxLayout()
    lang = button(cat.t("welcome.lang"), "welcomeLanguage", "secondary")
    lang.clicked.connect(v.language_toggled.emit)
    elder = button(
        cat.t("welcome.elder_off" if flow.elder else "welcome.elder_on"), "welcomeElder", "secondary"
    )
    elder.clicked.connect(v.elder_toggled.emit)
    row.addWidget(lang)
    row.addWidget(elder)
    lay.addLayout(row)


def matters(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, info: ViewInfo) -> None:
    lay.addWidget(label(cat.t("matters.title"), "mattersTitle", "title", wrap=True))
    search_box = QLineEdit(flow.query)
    search_box.setObjectName("matterSearch")
    search_box.setPlaceholderText(cat.t("matters.search"))
    search_box.textEdited.connect(v.query_changed.emit)
    lay.addWidget(search_box)
    row = QHBoxLayout()
    for by, key in (("department", "matters.by_department"), ("category", "matters.by_category")):
        b = button(cat.t(key), f"browse_{by}", None if flow.browse == by else "secondary")
        b.clicked.connect(lambda _=False, by=by: v.browse_chosen.emit(by))
        row.addWidget(b)
    lay.addLayout(row)
    grid = QGridLayout()
    grid.setSpacing(12)
    if flow.query.strip() or flow.group:
        found = (
            search(flow.matters, flow.query)
            if flow.query.strip()
            else group(flow.matters, flow.browse).get(flow.group, [])
        )
        if not found:
            lay.addWidget(label(cat.t("matters.none"), "mattersNone", "warning", wrap=True))
        page = page_of(found, flow.page, MATTERS_PER_PAGE)
        for i, m in enumerate(page):
            grid.addWidget(matter_tile(v, m, flow, cat, info), i // 2, i % 2)
        lay.addLayout(grid)
        pager(lay, flow.page, len(found), MATTERS_PER_PAGE, cat, v.page_moved.emit)
    else:
        groups = group(flow.matters, flow.browse)
        names = {d.id: cat.pick(d.name, d.name_en) for d in info.departments}
        keys = list(groups)
        page_keys = page_of(keys, flow.page, GROUPS_PER_PAGE)
        for i, key in enumerate(page_keys):
            title = names.get(key, key) if flow.browse == "department" else key
            sub = " · ".join(cat.pick(m.name, m.name_en) for m in groups[key][:2])
            b = tile(title or "—", sub, f"group_{i}")
            b.setMinimumHeight(130 if flow.elder else 110)
            b.clicked.connect(lambda _=False, k=key: v.group_chosen.emit(k))
            grid.addWidget(b, i // 2, i % 2)
        lay.addLayout(grid)
        pager(lay, flow.page, len(keys), GROUPS_PER_PAGE, cat, v.page_moved.emit)
    query = flow.query
    keypad(
        lay,
        LETTERS,
        "key",
        lambda ch: v.query_changed.emit(query + ch.lower()),
        lambda: v.query_changed.emit(query[:-1]),
    )


def matter_tile(v: KioskIntents, m: Matter, flow: KioskFlow, cat: Catalog, info: ViewInfo) -> QPushButton:
    sub = ""
    if m.code in flow.full:
        sub = cat.t("matters.full")
    elif m.code in info.closed:
        sub = cat.t("matters.closed")
        if info.closed[m.code]:
            sub += " · " + cat.t("message.next", t=info.closed[m.code])
    elif info.remaining.get(m.code) is not None:
        sub = cat.t("matters.remaining", n=info.remaining[m.code])
    b = tile(cat.pick(m.name, m.name_en), sub, f"matter_{m.code}")
    b.setMinimumHeight(140 if flow.elder else 110)
    b.clicked.connect(lambda _=False, code=m.code: v.matter_chosen.emit(code))
    return b


def question(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
    assert flow.matter is not None
    q = flow.current_question
    i, n = flow.progress
    lay.addWidget(
        label(cat.pick(flow.matter.name, flow.matter.name_en), "questionMatter", "muted", wrap=True)
    )
    lay.addWidget(label(cat.t("question.title", i=i, n=n), "questionProgress", "muted"))
    lay.addWidget(label(cat.pick(q.text, q.text_en), "questionText", "title", wrap=True))
    help_text = cat.pick(q.help, q.help_en) or cat.pick(q.fail_reason, q.fail_reason_en)
    if help_text:
        lay.addWidget(label(help_text, "questionHelp", "muted", wrap=True))
    lay.addSpacing(30)
    row = QHBoxLayout()
    for yes, name, key in ((True, "questionYes", "question.yes"), (False, "questionNo", "question.no")):
        b = button(cat.t(key), name)
        b.setMinimumHeight(140 if flow.elder else 110)
        b.clicked.connect(lambda _=False, yes=yes: v.answered.emit(yes))
        row.addWidget(b)
    lay.addLayout(row)


def materials(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
    assert flow.matter is not None
    lay.addWidget(
        label(cat.pick(flow.matter.name, flow.matter.name_en), "materialsMatter", "muted", wrap=True)
    )
    lay.addWidget(label(cat.t("materials.title"), "materialsTitle", "title", wrap=True))
    for m in flow.materials_shown:
        chosen = m.id in flow.present
        text = ("√ " if chosen else "") + cat.pick(m.name, m.name_en)
        if not m.required:
            text += " " + cat.t("materials.optional")
        b = button(text, f"material_{m.id}", "material")
        b.setCheckable(True)
        b.setChecked(chosen)
        b.setMinimumHeight(90 if flow.elder else 70)
        b.clicked.connect(lambda _=False, mid=m.id: v.material_toggled.emit(mid))
        lay.addWidget(b)
    done = button(cat.t("materials.done"), "materialsDone")
    done.setMinimumHeight(110 if flow.elder else 90)
    done.clicked.connect(v.materials_done.emit)
    lay.addWidget(done)


def confirm(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
    assert flow.matter is not None
    lay.addWidget(label(cat.t("priority.title"), "confirmTitle", "title", wrap=True))
    lay.addWidget(label(cat.pick(flow.matter.name, flow.matter.name_en), "confirmMatter", wrap=True))
    fail = flow.local is PrecheckOutcome.FAIL
    if fail:
        lay.addWidget(label(cat.t("confirm.fail"), "confirmFail", "warning", wrap=True))
    elif flow.local is PrecheckOutcome.TOLERATED:
        lay.addWidget(label(cat.t("priority.tolerated"), "confirmTolerated", "warning", wrap=True))
    j = flow.judgement
    if j is not None and j.agent and not fail:
        # 代办: what the answers added to the checklist, to have ready at the window.
        items = "、" if cat.language == "zh" else ", "
        added = items.join(cat.pick(a.text, a.text_en) for a in j.added)
        lay.addWidget(label(cat.t("confirm.agent", items=added), "confirmAgent", "muted", wrap=True))
    # One final tap either way: a ticket, or the 一次性告知单 when the answers fail the pre-check.
    final = button(cat.t("confirm.notice" if fail else "priority.normal"), "confirmNormal")
    final.setMinimumHeight((130 if flow.elder else 110) if fail else (150 if flow.elder else 120))
    final.clicked.connect(lambda: v.submitted.emit(""))
    lay.addWidget(final)
    if fail:
        return
    classes = flow.selectable_classes
    if classes:
        lay.addSpacing(20)
        lay.addWidget(label(cat.t("priority.notice"), "priorityNotice", "muted", wrap=True))
        grid = QGridLayout()
        for i, p in enumerate(classes):
            b = button(cat.pick(p.name, p.name_en), f"priority_{p.id}", "secondary")
            b.clicked.connect(lambda _=False, pid=p.id: v.submitted.emit(pid))
            grid.addWidget(b, i // 2, i % 2)
        lay.addLayout(grid)


def card(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
    """The greeting after a card read: the masked name, the class the card verifies, today's bookings."""
    visit = flow.card
    assert visit is not None
    lay.addWidget(label(cat.t("card.hello", name=visit.masked), "cardGreeting", "title", wrap=True))
    pc = next((p for p in flow.priority_classes if p.id == visit.age_class), None)
    if pc is not None:
        text = cat.t("card.class", name=cat.pick(pc.name, pc.name_en))
        lay.addWidget(label(text, "cardClass", wrap=True))
    if visit.expired:
        lay.addWidget(label(cat.t("card.expired"), "cardExpired", "warning", wrap=True))
    for b in visit.bookings:
        text = cat.t("card.booking", m=cat.pick(b.matter_name, b.matter_name_en), t=f"{b.slot:%H:%M}")
        tap = button(text, f"cardBooking_{b.code}")
        tap.setMinimumHeight(130 if flow.elder else 110)
        tap.clicked.connect(lambda _=False, code=b.code: v.card_booking_chosen.emit(code))
        lay.addWidget(tap)
    if visit.tickets_left is not None:
        lay.addWidget(label(cat.t("card.left", n=visit.tickets_left), "cardLeft", "muted", wrap=True))
    start = button(cat.t("card.start"), "cardStart")
    start.setMinimumHeight(150 if flow.elder else 120)
    start.clicked.connect(v.start_requested.emit)
    lay.addWidget(start)


def booking(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
    lay.addWidget(label(cat.t("booking.title"), "bookingTitle", "title"))
    lay.addWidget(label(cat.t("booking.hint"), "bookingHint", wrap=True))
    code = QLineEdit(flow.booking_code)
    code.setObjectName("bookingCode")
    code.setPlaceholderText(cat.t("booking.code"))
    code.textEdited.connect(lambda text: code.setText(text.upper()) if text != text.upper() else None)
    code.returnPressed.connect(lambda: v.booking_code_submitted.emit(code.text()))
    lay.addWidget(code)
    keypad(
        lay,
        CODE_KEYS,
        "codeKey",
        lambda ch: code.setText(code.text() + ch),
        lambda: code.setText(code.text()[:-1]),
    )
    submit = button(cat.t("booking.submit"), "bookingSubmit")
    submit.setMinimumHeight(110 if flow.elder else 90)
    submit.clicked.connect(lambda: v.booking_code_submitted.emit(code.text()))
    lay.addWidget(submit)
