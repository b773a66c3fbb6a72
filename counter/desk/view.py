"""The service desk (导办台) tab: matter search, the pre-check the kiosk asks, priority, issue and print,
and booking check-in. Widgets only; every change is an intent for `counter.desk.controller.DeskController`."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from counter.desk.flow import DeskFlow, DeskPhase
from counter.desk.notify import text as notify_text
from counter.notices import render
from hallui.i18n import Catalog
from hallui.theme import MIN_TOUCH_PX
from hallui.widgets import button, label

_ROLE = {"info": "muted", "warning": "warning", "error": "error"}


class DeskView(QWidget):
    intent = Signal(str, dict)

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("deskView")
        self.catalog = catalog
        t = catalog.t
        lay = QVBoxLayout(self)
        self.search = QLineEdit(self)
        self.search.setObjectName("deskSearch")
        self.search.setPlaceholderText(t("desk.search"))
        self.count = label("", "deskCount", "muted")
        self.matches = QListWidget(self)
        self.matches.setObjectName("deskMatches")
        self.matches.setMinimumHeight(160)
        checkin = QHBoxLayout()
        self.code = QLineEdit(self)
        self.code.setObjectName("deskBookingCode")
        self.code.setPlaceholderText(t("desk.checkin"))
        self.checkin = button(t("desk.checkin_go"), "deskCheckIn")
        checkin.addWidget(self.code, 1)
        checkin.addWidget(self.checkin)
        # 容缺 items brought in: the ticket's number, what it owes, one item or all supplied
        owed_row = QHBoxLayout()
        self.owed_label = QLineEdit(self)
        self.owed_label.setObjectName("deskOwedLabel")
        self.owed_label.setPlaceholderText(t("desk.owed_label"))
        self.owed_find = button(t("desk.owed_find"), "deskOwedFind", "secondary")
        owed_row.addWidget(self.owed_label, 1)
        owed_row.addWidget(self.owed_find)
        self.owed_box = QWidget(self)
        self.owed_box.setObjectName("deskOwed")
        self.owed_lay = QVBoxLayout(self.owed_box)
        self.owed_lay.setContentsMargins(0, 0, 0, 0)
        self.owed_notice = label("", "deskOwedNotice", wrap=True)
        self._shown_owed: object = None
        # the pre-check of the chosen matter
        self.matter = label("", "deskMatter", "title", wrap=True)
        self.form = QWidget(self)
        self.form.setObjectName("deskForm")
        self.form_lay = QVBoxLayout(self.form)
        scroll = QScrollArea(self)
        scroll.setWidgetResizable(True)
        scroll.setWidget(self.form)
        self.form_scroll = scroll
        self.priority = QComboBox(self)
        self.priority.setObjectName("deskPriority")
        self.holder = QLineEdit(self)
        self.holder.setObjectName("deskHolder")
        self.holder.setPlaceholderText(t("desk.holder"))
        # 刷身份证: the card read for this citizen (masked name, the class it verifies), and a way to drop it.
        self.card = label("", "deskCard", wrap=True)
        self.card_clear = button(t("desk.card_clear"), "deskCardClear", "secondary")
        actions = QHBoxLayout()
        self.issue = button(t("desk.issue"), "deskIssue")
        self.back = button(t("desk.back"), "deskBack", "secondary")
        actions.addWidget(self.issue)
        actions.addWidget(self.back)
        self.notice = label("", "deskNotice", wrap=True)
        for w in (self.search, self.count, self.matches):
            lay.addWidget(w)
        lay.addLayout(checkin)
        lay.addLayout(owed_row)
        lay.addWidget(self.owed_box)
        lay.addWidget(self.owed_notice)
        lay.addWidget(self.matter)
        lay.addWidget(scroll, 1)
        lay.addWidget(label(t("desk.priority"), "deskPriorityLabel"))
        lay.addWidget(self.priority)
        lay.addWidget(self.holder)
        card_row = QHBoxLayout()
        card_row.addWidget(self.card, 1)
        card_row.addWidget(self.card_clear)
        lay.addLayout(card_row)
        lay.addLayout(actions)
        lay.addWidget(self.notice)
        # "快到您了" for the ticket just issued (counter/desk/notify.py): the number typed, the consent, send.
        lang = catalog.language
        notify_row = QHBoxLayout()
        self.notify_phone = QLineEdit(self)
        self.notify_phone.setObjectName("deskNotifyPhone")
        self.notify_phone.setPlaceholderText(notify_text(lang, "phone"))
        self.notify_phone.setMaxLength(13)
        self.notify_consent = QCheckBox(notify_text(lang, "consent"), self)
        self.notify_consent.setObjectName("deskNotifyConsent")
        self.notify_send = button(notify_text(lang, "send"), "deskNotifySend", "secondary")
        notify_row.addWidget(self.notify_phone, 1)
        notify_row.addWidget(self.notify_consent)
        notify_row.addWidget(self.notify_send)
        self.notify_box = QWidget(self)
        self.notify_box.setObjectName("deskNotify")
        self.notify_box.setLayout(notify_row)
        self.notify_state = label("", "deskNotifyState", "muted", wrap=True)
        lay.addWidget(self.notify_box)
        lay.addWidget(self.notify_state)
        self.checks: dict[str, QCheckBox] = {}
        self._shown_matter: str | None = None
        self._wire()

    def _wire(self) -> None:
        self.search.textChanged.connect(lambda q: self.intent.emit("search", {"query": q}))
        self.matches.itemActivated.connect(self._choose)
        self.matches.itemClicked.connect(self._choose)
        self.issue.clicked.connect(self._issue)
        self.back.clicked.connect(lambda: self.intent.emit("back", {}))
        self.card_clear.clicked.connect(lambda: self.intent.emit("clear_card", {}))
        self.checkin.clicked.connect(lambda: self.intent.emit("check_in", {"code": self.code.text()}))
        find = lambda: self.intent.emit("owed_find", {"label": self.owed_label.text()})  # noqa: E731
        self.owed_find.clicked.connect(find)
        self.owed_label.returnPressed.connect(find)
        self.notify_send.clicked.connect(self._notify)

    def _notify(self) -> None:
        phone, consent = self.notify_phone.text(), self.notify_consent.isChecked()
        self.intent.emit("notify", {"phone": phone, "consent": consent})

    def _choose(self, item: QListWidgetItem) -> None:
        self.intent.emit("choose", {"matter": item.data(0x0100)})

    def _issue(self) -> None:
        # Send what the form shows now, then issue: the controller sees every answer before the request.
        for key, box in self.checks.items():
            kind, _, ident = key.partition(":")
            if kind == "q":
                self.intent.emit("answer", {"question": ident, "value": box.isChecked()})
            else:
                self.intent.emit("present", {"material": ident, "value": box.isChecked()})
        self.intent.emit("priority", {"priority": self.priority.currentData() or ""})
        self.intent.emit("holder", {"name": self.holder.text()})
        self.intent.emit("issue", {})

    def show_flow(self, flow: DeskFlow) -> None:
        c = self.catalog
        t = c.t
        codes = [m.code for m in flow.matches]
        shown = [self.matches.item(i).data(0x0100) for i in range(self.matches.count())]
        if codes != shown:
            self.matches.clear()
            for m in flow.matches:
                item = QListWidgetItem(f"{c.pick(m.name, m.name_en)}（{m.code}）")
                item.setData(0x0100, m.code)
                self.matches.addItem(item)
        self.count.setText(t("desk.matches", n=len(flow.matches)))
        if self.priority.count() == 0:
            self.priority.addItem(t("desk.no_priority"), "")
            for pc in flow.config.priority_classes:
                self.priority.addItem(c.pick(pc.name, pc.name_en), pc.id)
        chosen = flow.matter
        code = chosen.code if chosen is not None else None
        if code != self._shown_matter:
            self._shown_matter = code
            self._build_form(flow)
        # A question that follows an earlier answer shows only when that answer leads to it (代办).
        asked_ids = {q.id for q in flow.questions}
        for key, box in self.checks.items():
            kind, _, ident = key.partition(":")
            if kind == "q":
                box.setVisible(ident in asked_ids)
        busy = flow.phase is DeskPhase.BUSY
        in_precheck = flow.phase is DeskPhase.PRECHECK or (busy and chosen is not None)
        name = c.pick(chosen.name, chosen.name_en) if chosen is not None else ""
        self.matter.setText(t("desk.matter", name=name) if chosen is not None else "")
        for w in (self.matter, self.form_scroll, self.priority, self.holder, self.back):
            w.setVisible(in_precheck)
        self.issue.setVisible(in_precheck)
        self.issue.setEnabled(not busy)
        self._show_card(flow)
        self.checkin.setEnabled(not busy)
        self._show_owed(flow)
        self._show_notify(flow)
        n = flow.notice
        self.notice.setText(render(n, c) if n is not None else "")
        role = _ROLE[n.level] if n is not None else "muted"
        if self.notice.property("role") != role:
            self.notice.setProperty("role", role)
            self.notice.style().unpolish(self.notice)
            self.notice.style().polish(self.notice)

    def _show_notify(self, flow: DeskFlow) -> None:
        """The opt-in row, for the last ticket issued here while the hall sends notices; the number is
        cleared once the hall has it, and only its masked form is shown."""
        lang, sub = self.catalog.language, flow.notify
        issued = flow.last_issued
        self.notify_box.setVisible(issued is not None and flow.config.notify.enabled)
        self.notify_send.setEnabled(not sub.busy)
        if sub.masked and issued is not None:
            self.notify_phone.clear()
            self.notify_consent.setChecked(False)
            self.notify_state.setText(
                notify_text(lang, "done", ticket=issued.ticket.label, masked=sub.masked)
            )
        elif sub.error is not None:
            self.notify_state.setText(sub.error[1] if lang == "en" else sub.error[0])
        else:
            self.notify_state.setText(notify_text(lang, "busy") if sub.busy else "")

    def _show_card(self, flow: DeskFlow) -> None:
        c, visit = self.catalog, flow.card
        self.card_clear.setVisible(visit is not None)
        self.holder.setEnabled(visit is None)  # the card's masked name is the holder's
        if visit is None:
            self.card.setText(c.t("desk.card_none"))
            return
        names = {p.id: c.pick(p.name, p.name_en) for p in flow.config.priority_classes}
        text = c.t("desk.card", name=visit.masked)
        if visit.age_class:
            text += " · " + c.t("desk.card_class", name=names.get(visit.age_class, visit.age_class))
        if visit.expired:
            text += " · " + c.t("desk.card_expired")
        self.card.setText(text)

    def _show_owed(self, flow: DeskFlow) -> None:
        c, owed = self.catalog, flow.owed
        self.owed_find.setEnabled(not owed.busy)
        self.owed_notice.setText(render(owed.notice, c) if owed.notice is not None else "")
        key = [(e.ticket, e.state, tuple(i.supplied_at for i in e.items)) for e in owed.entries]
        if key == self._shown_owed:
            return
        self._shown_owed = key
        while self.owed_lay.count():
            item = self.owed_lay.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        for n, e in enumerate(owed.entries):
            text = c.t(
                "desk.owed_entry",
                label=e.label,
                matter=e.matter_name,
                holder=e.holder,
                due=e.due.isoformat(),
                state=e.state_name,
            )
            self.owed_lay.addWidget(label(text, f"deskOwedEntry_{n}", wrap=True))
            row = QHBoxLayout()
            still = [i for i in e.items if i.supplied_at is None]
            for i in still:
                b = button(c.t("desk.owed_one", item=i.name), f"deskSupply_{n}_{i.id}", "secondary")
                b.clicked.connect(
                    lambda _=False, tid=e.ticket, iid=i.id: self.intent.emit(
                        "supply", {"ticket": tid, "items": [iid]}
                    )
                )
                row.addWidget(b)
            if len(still) > 1:
                b = button(c.t("desk.owed_all"), f"deskSupplyAll_{n}")
                b.clicked.connect(
                    lambda _=False, tid=e.ticket: self.intent.emit("supply", {"ticket": tid, "items": None})
                )
                row.addWidget(b)
            holder = QWidget(self.owed_box)
            holder.setLayout(row)
            self.owed_lay.addWidget(holder)

    def _build_form(self, flow: DeskFlow) -> None:
        c = self.catalog
        t = c.t
        while self.form_lay.count():
            item = self.form_lay.takeAt(0)
            w = item.widget() if item is not None else None
            if w is not None:
                w.deleteLater()
        self.checks = {}
        self.holder.clear()
        self.priority.setCurrentIndex(0)
        m = flow.matter
        if m is None:
            return
        pre = m.precheck
        if pre.questions:
            self.form_lay.addWidget(label(t("desk.questions"), "deskQuestionsTitle"))
        for q in pre.questions:
            box = QCheckBox(f"{c.pick(q.text, q.text_en)}（{t('desk.yes')}）", self.form)
            box.setObjectName(f"deskQ_{q.id}")
            box.setChecked(flow.answers.get(q.id, q.expected))
            box.setMinimumHeight(MIN_TOUCH_PX)
            # At once, not only at issue: the answer decides which follow-up questions show.
            box.toggled.connect(
                lambda value, qid=q.id: self.intent.emit("answer", {"question": qid, "value": value})
            )
            self.checks[f"q:{q.id}"] = box
            self.form_lay.addWidget(box)
        if flow.materials:
            self.form_lay.addWidget(label(t("desk.materials"), "deskMaterialsTitle"))
        for mat in flow.materials:
            box = QCheckBox(c.pick(mat.name, mat.name_en), self.form)
            box.setObjectName(f"deskM_{mat.id}")
            box.setChecked(mat.id in flow.present)
            box.setMinimumHeight(MIN_TOUCH_PX)
            self.checks[f"m:{mat.id}"] = box
            self.form_lay.addWidget(box)
        self.form_lay.addStretch(1)
