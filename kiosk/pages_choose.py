"""The kiosk's screens from the home screen (`kiosk.pages_home`) up to the final tap: matters (groups, search,
pages), one question per screen, materials, confirm (priority), booking check-in, the card greeting. Each
builds its page into `lay`; taps are the view's intent signals. Progress shows as steps above the question,
the checklist and the confirm screen."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QGridLayout, QHBoxLayout, QLineEdit, QPushButton, QVBoxLayout

from hallcore.config import Matter
from hallcore.precheck import PrecheckOutcome
from hallui.i18n import Catalog
from hallui.matters import group, search
from hallui.theme import PALETTE
from hallui.widgets import button, label
from kiosk.flow import KioskFlow
from kiosk.info import ViewInfo
from kiosk.intents import KioskIntents
from kiosk.widgets import (
    CODE_KEYS,
    GROUPS_PER_PAGE,
    LARGER_SCRIPTS,
    LETTERS,
    MATTERS_PER_PAGE,
    columns,
    keypad,
    mark,
    page_of,
    pager,
    tall,
    tile,
)


def matters(v: KioskIntents, root: QVBoxLayout, flow: KioskFlow, cat: Catalog, info: ViewInfo) -> None:
    # Landscape has no height for the letter pad under the list: it goes to the right of it.
    landscape = v.width() > v.height()
    lay, keys_lay = root, root
    if landscape:
        row = QHBoxLayout()
        row.setSpacing(24)
        lay, keys_lay = QVBoxLayout(), QVBoxLayout()
        row.addLayout(lay, 3)
        row.addLayout(keys_lay, 2)
        root.addLayout(row)
        lay.setSpacing(16)
        keys_lay.setSpacing(16)
    # The title and the search box go with the letter pad (landscape: the right column).
    keys_lay.addWidget(label(cat.t("matters.title"), "mattersTitle", "title", wrap=True))
    search_box = QLineEdit(flow.query)
    search_box.setObjectName("matterSearch")
    search_box.setPlaceholderText(cat.t("matters.search"))
    search_box.textEdited.connect(v.query_changed.emit)
    keys_lay.addWidget(search_box)
    row = QHBoxLayout()
    for by, key in (("department", "matters.by_department"), ("category", "matters.by_category")):
        b = button(cat.t(key), f"browse_{by}", None if flow.browse == by else "secondary")
        b.clicked.connect(lambda _=False, by=by: v.browse_chosen.emit(by))
        row.addWidget(b)
    lay.addLayout(row)
    grid = QGridLayout()
    grid.setSpacing(12)
    cols = 2
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
            grid.addWidget(matter_tile(v, m, flow, cat, info), i // cols, i % cols)
        lay.addLayout(grid)
        pager(lay, flow.page, len(found), MATTERS_PER_PAGE, cat, v.page_moved.emit)
    else:
        groups = group(flow.matters, flow.browse)
        names = {d.id: cat.pick(d.name, d.name_en, d.names) for d in info.departments}
        keys = list(groups)
        # Landscape: three rows fit beside the keys, two in larger text (elder mode, Tibetan).
        larger = flow.elder or flow.language in LARGER_SCRIPTS
        per = GROUPS_PER_PAGE if not landscape else GROUPS_PER_PAGE - (4 if larger else 2)
        page_keys = page_of(keys, flow.page, per)
        for i, key in enumerate(page_keys):
            title = names.get(key, key) if flow.browse == "department" else key
            sub = " · ".join(cat.pick(m.name, m.name_en, m.names) for m in groups[key][:2])
            b = tile(title or "—", sub, f"group_{i}")
            tall(b, 130 if flow.elder else 110)
            b.clicked.connect(lambda _=False, k=key: v.group_chosen.emit(k))
            grid.addWidget(b, i // cols, i % cols)
        lay.addLayout(grid)
        pager(lay, flow.page, len(keys), per, cat, v.page_moved.emit)
    query = flow.query
    keypad(
        keys_lay,
        LETTERS,
        "key",
        lambda ch: v.query_changed.emit(query + ch.lower()),
        lambda: v.query_changed.emit(query[:-1]),
        cat.t("common.delete"),
        per_row=6 if landscape else 9,
    )
    if landscape:
        lay.addStretch(1)
        keys_lay.addStretch(1)


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
    b = tile(cat.pick(m.name, m.name_en, m.names), sub, f"matter_{m.code}")
    tall(b, 140 if flow.elder else 110)
    b.clicked.connect(lambda _=False, code=m.code: v.matter_chosen.emit(code))
    return b


def steps(lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, here: str) -> None:
    """Progress as steps: questions (when the matter has any), papers (when it shows any), the ticket; the
    steps before `here` green, `here` blue."""
    assert flow.matter is not None
    keys = [
        *(["questions"] if flow.matter.precheck.questions else []),
        *(["materials"] if flow.materials_shown else []),
        "ticket",
    ]
    now = keys.index(here) if here in keys else 0
    row = QHBoxLayout()
    row.setSpacing(10)
    for i, name in enumerate(keys):
        role = "step_done" if i < now else ("step_now" if i == now else "step")
        step = label(f"{i + 1}  {cat.t(f'steps.{name}')}", f"step_{name}", role, wrap=True)
        step.setAlignment(Qt.AlignmentFlag.AlignCenter)
        row.addWidget(step, 1)
    lay.addLayout(row)


def question(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
    assert flow.matter is not None
    q = flow.current_question
    i, n = flow.progress
    m = flow.matter
    lay.addWidget(label(cat.pick(m.name, m.name_en, m.names), "questionMatter", "subtitle", wrap=True))
    steps(lay, flow, cat, "questions")
    lay.addWidget(label(cat.t("question.title", i=i, n=n), "questionProgress", "muted", wrap=True))
    lay.addSpacing(20)
    lay.addWidget(label(cat.pick(q.text, q.text_en, q.texts), "questionText", "headline", wrap=True))
    help_text = cat.pick(q.help, q.help_en) or cat.pick(q.fail_reason, q.fail_reason_en)
    if help_text:
        lay.addWidget(label(help_text, "questionHelp", "muted", wrap=True))
    lay.addSpacing(30)
    row = QHBoxLayout()
    row.setSpacing(24)
    for yes, name, key in ((True, "questionYes", "question.yes"), (False, "questionNo", "question.no")):
        b = button(cat.t(key), name, "answer")
        b.setMinimumHeight(220 if flow.elder else 180)
        b.clicked.connect(lambda _=False, yes=yes: v.answered.emit(yes))
        row.addWidget(b)
    lay.addLayout(row)


def materials(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
    assert flow.matter is not None
    m = flow.matter
    lay.addWidget(label(cat.pick(m.name, m.name_en, m.names), "materialsMatter", "subtitle", wrap=True))
    steps(lay, flow, cat, "materials")
    lay.addWidget(label(cat.t("materials.title"), "materialsTitle", "title", wrap=True))
    lay.addWidget(label(cat.t("materials.hint"), "materialsHint", "muted", wrap=True))
    grid = QGridLayout()
    grid.setSpacing(12)
    cols = columns(v, 1, 2)
    for i, mat in enumerate(flow.materials_shown):
        chosen = mat.id in flow.present
        sub = cat.t("materials.optional") if not mat.required else ""
        # Ticked: a check mark and white on green (not the colour alone).
        name = ("✓ " if chosen else "") + cat.pick(mat.name, mat.name_en, mat.names)
        colour = PALETTE.primary_text if chosen else PALETTE.primary
        b = tile(name, sub, f"material_{mat.id}", "material", mat.icon, colour)
        b.setCheckable(True)
        b.setChecked(chosen)
        mark(b, chosen)
        tall(b, 130 if flow.elder else 110)
        b.clicked.connect(lambda _=False, mid=mat.id: v.material_toggled.emit(mid))
        grid.addWidget(b, i // cols, i % cols)
    lay.addLayout(grid)
    lay.addSpacing(10)
    everything = button(cat.t("materials.all"), "materialsAll")
    everything.setMinimumHeight(140 if flow.elder else 110)
    everything.clicked.connect(v.all_present.emit)
    lay.addWidget(everything)
    done = button(cat.t("materials.done"), "materialsDone", "secondary")
    done.setMinimumHeight(110 if flow.elder else 90)
    done.clicked.connect(v.materials_done.emit)
    lay.addWidget(done)


def confirm(v: KioskIntents, lay: QVBoxLayout, flow: KioskFlow, cat: Catalog, _info: ViewInfo) -> None:
    assert flow.matter is not None
    lay.addWidget(label(cat.t("priority.title"), "confirmTitle", "title", wrap=True))
    m = flow.matter
    lay.addWidget(label(cat.pick(m.name, m.name_en, m.names), "confirmMatter", "subtitle", wrap=True))
    steps(lay, flow, cat, "ticket")
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
        cat.t("common.delete"),
    )
    submit = button(cat.t("booking.submit"), "bookingSubmit")
    submit.setMinimumHeight(110 if flow.elder else 90)
    submit.clicked.connect(lambda: v.booking_code_submitted.emit(code.text()))
    lay.addWidget(submit)
