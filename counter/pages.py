"""The counter's two pages: login, and the window's main view (the held ticket, the action buttons with
their shortcuts, the outcome row, the inline forms, the waiting list, today's counts). Layout only: what
they show is set by `CounterWindow` (counter/views.py)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QListWidget,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from counter.actions import Action
from counter.forms import Forms
from hallcore.caseoutcome import DIGIT_OF, CaseOutcome
from hallui.i18n import Catalog
from hallui.widgets import button, label

# (action, catalogue key, shortcut); actions marked with a form open their inline form first.
BUTTONS: tuple[tuple[Action, str, str], ...] = (
    (Action.CALL_NEXT, "act.call_next", "F1"),
    (Action.RECALL, "act.recall", "F2"),
    (Action.START, "act.start", "F3"),
    (Action.FINISH, "act.finish", "F4"),
    (Action.NO_SHOW, "act.no_show", "F5"),
    (Action.TRANSFER, "act.transfer", "F6"),
    (Action.CALL_SPECIFIC, "act.call_specific", "F7"),
    (Action.PAUSE, "act.pause", "F8"),
    (Action.RESUME, "act.resume", "F9"),
    (Action.REQUEUE, "act.requeue", "F10"),
    (Action.OPEN, "act.open", ""),
    (Action.CLOSE, "act.close", ""),
    (Action.TAKE_OVER, "act.take_over", ""),
    (Action.END_TAKE_OVER, "act.end_take_over", ""),
    (Action.CONFIRM_CLASS, "act.confirm_class", ""),
    (Action.REVOKE_CLASS, "act.revoke_class", ""),
    (Action.RATE_AGAIN, "act.rate_again", ""),
    (Action.LOGOUT, "act.logout", ""),
)
#: How the case ended (hallcore/caseoutcome.py): one button each, Ctrl+ its keypad digit; while serving it
#: finishes the case with that outcome, just after a finish it changes the outcome. 不予受理 and 补正 ask
#: for their reason first.
OUTCOME_BUTTONS: tuple[tuple[CaseOutcome, str], ...] = tuple((o, f"Ctrl+{DIGIT_OF[o]}") for o in CaseOutcome)


class LoginPage(QWidget):
    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("loginPage")
        lay = QVBoxLayout(self)
        self.title = label(catalog.t("login.title"), "loginTitle", "title")
        self.window_label = label("", "loginWindow")
        self.staff = QLineEdit(self)
        self.staff.setObjectName("loginStaff")
        self.staff.setPlaceholderText(catalog.t("login.staff"))
        self.pin = QLineEdit(self)
        self.pin.setObjectName("loginPin")
        self.pin.setPlaceholderText(catalog.t("login.pin"))
        self.pin.setEchoMode(QLineEdit.EchoMode.Password)
        # Shown when the hall asks for a new PIN (an old, too short one): the same login sends both.
        self.new_pin = QLineEdit(self)
        self.new_pin.setObjectName("loginNewPin")
        self.new_pin.setPlaceholderText(catalog.t("login.new_pin"))
        self.new_pin.setEchoMode(QLineEdit.EchoMode.Password)
        self.new_pin.hide()
        self.go = button(catalog.t("login.go"), "btnLogin")
        self.hint = label(catalog.t("login.keypad_hint"), "loginHint", "muted", wrap=True)
        self.message = label("", "loginMessage", "error", wrap=True)
        for w in (
            self.title,
            self.window_label,
            self.staff,
            self.pin,
            self.new_pin,
            self.go,
            self.hint,
            self.message,
        ):
            lay.addWidget(w)
        lay.addStretch(1)


class MainPage(QWidget):
    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("mainPage")
        self.catalog = catalog
        lay = QVBoxLayout(self)
        lay.setSpacing(6)
        self.header = label("", "windowHeader", "title")
        # The window's state (on amber while a ticket is called, on green while it is served) and the action
        # expected next: what a clerk must read at a glance.
        self.state = label("", "windowState")
        self.next_hint = label("", "nextHint", wrap=True)
        state_row = QHBoxLayout()
        state_row.addWidget(self.state)
        state_row.addWidget(self.next_hint, 1)
        lay.addWidget(self.header)
        lay.addLayout(state_row)
        cur = QGridLayout()
        self.number = label("", "currentNumber", "big")
        self.matter = label("", "currentMatter", wrap=True)
        self.reason = label("", "currentReason", wrap=True)
        self.priority = label("", "currentPriority")
        self.recalls = label("", "currentRecalls")
        self.wait = label("", "currentWait")
        self.missing = label("", "currentMissing", "warning", wrap=True)
        cur.addWidget(self.number, 0, 0, 3, 1)
        cur.addWidget(self.matter, 0, 1, 1, 2)
        cur.addWidget(self.reason, 1, 1, 1, 2)
        cur.addWidget(self.priority, 2, 1)
        cur.addWidget(self.recalls, 2, 2)
        cur.addWidget(self.wait, 3, 1)
        cur.addWidget(self.missing, 4, 0, 1, 3)
        cur.setColumnStretch(1, 1)
        lay.addLayout(cur)
        grid = QGridLayout()
        self.buttons: dict[Action, QPushButton] = {}
        #: Each button's own role: the first ten (the F-keys) primary, the others "alt" (filled slate); the
        #: one the state expects next is drawn "next" instead (hallui/theme.py).
        self.roles: dict[Action, str] = {}
        for i, (action, key, _shortcut) in enumerate(BUTTONS):
            role = "" if i < 10 else "alt"
            b = button(catalog.t(key), f"btn_{action.value}", role or None)
            self.buttons[action] = b
            self.roles[action] = role
            grid.addWidget(b, i // 4, i % 4)
        lay.addLayout(grid)
        self.case_no = QLineEdit(self)
        self.case_no.setObjectName("caseNo")
        self.case_no.setPlaceholderText(catalog.t("outcome.case_no"))
        lay.addWidget(self.case_no)
        outcome_row = QHBoxLayout()
        self.outcomes: dict[CaseOutcome, QPushButton] = {}
        for o, _shortcut in OUTCOME_BUTTONS:
            b = button(catalog.t(f"outcome.{o.value}"), f"btn_outcome_{DIGIT_OF[o]}", "alt")
            b.setProperty("dense", True)  # five in a row: less side padding, so no label is cut
            self.outcomes[o] = b
            outcome_row.addWidget(b, 1)
        lay.addLayout(outcome_row)
        self.outcome = label("", "outcomeStatus", "muted", wrap=True)
        lay.addWidget(self.outcome)
        self.forms = Forms(catalog, self)
        self.form_ok = button(catalog.t("form.ok"), "formOk")
        self.form_cancel = button(catalog.t("form.cancel"), "formCancel", "alt")
        self.form_box = QWidget(self)
        self.form_box.setObjectName("formBox")
        fl = QHBoxLayout(self.form_box)
        fl.addWidget(self.forms, 1)
        fl.addWidget(self.form_ok)
        fl.addWidget(self.form_cancel)
        self.form_box.hide()
        lay.addWidget(self.form_box)
        self.list_title = label("", "waitingTitle")
        self.waiting = QListWidget(self)
        self.waiting.setObjectName("waitingList")
        self.waiting.setMinimumHeight(140)
        lay.addWidget(self.list_title)
        lay.addWidget(self.waiting, 1)
        self.counts = label("", "todayCounts", wrap=True)
        self.rating = label("", "ratingStatus", wrap=True)
        self.message = label("", "message", wrap=True)
        self.discard = button(catalog.t("act.discard"), "btnDiscard", "alt")
        self.discard.hide()
        for w in (self.counts, self.rating, self.message, self.discard):
            lay.addWidget(w)
