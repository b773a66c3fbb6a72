"""The counter's station window: enrollment code, login, then the window view (and, for a desk station, the
desk tab); its pages are laid out in counter/pages.py and counter/forms.py, and rendered here from the flow.

Widgets only: they show what `render()` is given and emit intents (`intent(action, args)`); buttons, keyboard
shortcuts and forms all end in the same intent, the same one the call keypad produces.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import QHBoxLayout, QPushButton, QStackedWidget, QTabWidget, QVBoxLayout, QWidget

from counter import guidance
from counter.actions import Action, Phase
from counter.desk.view import DeskView
from counter.flow import CounterFlow
from counter.forms import OUTCOME_WITH_FORM, WITH_FORM
from counter.notices import render
from counter.pages import BUTTONS, OUTCOME_BUTTONS, LoginPage, MainPage
from hallclient.types import TicketInfo
from hallcore.caseoutcome import CaseOutcome
from hallui.connection import ConnectionBanner
from hallui.enrollment import EnrollmentView
from hallui.i18n import Catalog
from hallui.widgets import label

_LEVEL_ROLE = {"info": "muted", "warning": "warning", "error": "error"}


def priority_text(c: Catalog, cur: TicketInfo, classes: tuple[tuple[str, str, str], ...]) -> str:
    """The held ticket's class and what staff made of it ("优先类别：老年人（已核实）")."""
    t = c.t
    if cur.class_check == "revoked":
        names = {cid: c.pick(name, name_en) for cid, name, name_en in classes}
        return t("cur.priority_revoked", name=names.get(cur.claimed, cur.claimed))
    name = cur.priority_name or t("cur.normal")
    key = {"confirmed": "cur.priority_confirmed", "verified": "cur.priority_verified"}.get(
        cur.class_check, "cur.priority"
    )
    text = t(key, name=name)
    if cur.identity and cur.holder_masked:
        # 刷身份证: the holder's masked name (never more), and whether an agent took it (代办).
        who = t("cur.carded_agent" if cur.identity == "agent" else "cur.carded", name=cur.holder_masked)
        text = f"{who} · {text}"
    return text


def _set_role(w: QWidget, role: str) -> None:
    if (w.property("role") or "") != role:
        w.setProperty("role", role)
        w.style().unpolish(w)
        w.style().polish(w)


def _show_state(b: QPushButton, enabled: bool, why: str) -> None:
    """Enable or disable a button; a disabled one says why in its tooltip (and to a screen reader)."""
    b.setEnabled(enabled)
    if b.toolTip() != why:
        b.setToolTip(why)
        b.setAccessibleDescription(why)


def _state_role(held: str, window_state: str) -> str:
    """The window state label's look: the held ticket's state on its colour, else paused as a warning."""
    if held in ("called", "serving"):
        return f"held_{held}"
    return {"paused": "warning", "closed": "muted"}.get(window_state, "")


class CounterWindow(QWidget):
    """The whole station window: enrollment code, login, then the window view (and the desk tab)."""

    intent = Signal(str, dict)
    desk_intent = Signal(str, dict)

    def __init__(self, catalog: Catalog, *, desk: bool = False, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("counterWindow")
        self.catalog = catalog
        self.setWindowFlag(Qt.WindowType.WindowStaysOnTopHint, True)
        outer = QVBoxLayout(self)
        top = QHBoxLayout()
        self.banner = ConnectionBanner(catalog, self)
        self.devices = label("", "devicesStatus", "muted", wrap=True)
        top.addWidget(self.banner, 1)
        top.addWidget(self.devices, 1)
        outer.addLayout(top)
        self.pages = QStackedWidget(self)
        self.pages.setObjectName("pages")
        self.enroll = EnrollmentView(catalog)
        self.login = LoginPage(catalog)
        self.main = MainPage(catalog)
        self.desk: DeskView | None = None
        self.tabs: QTabWidget | None = None
        self.pages.addWidget(self.enroll)
        self.pages.addWidget(self.login)
        if desk:
            self.tabs = QTabWidget(self)
            self.tabs.setObjectName("modeTabs")
            self.desk = DeskView(catalog)
            self.desk.intent.connect(self.desk_intent)
            self.tabs.addTab(self.main, catalog.t("tab.window"))
            self.tabs.addTab(self.desk, catalog.t("tab.desk"))
            self.pages.addWidget(self.tabs)
        else:
            self.pages.addWidget(self.main)
        outer.addWidget(self.pages, 1)
        self._form_action: Action | None = None
        self._form_outcome: CaseOutcome | None = None
        self._flow: CounterFlow | None = None
        self._case_for = ""  # the held ticket the 办件编号 field was typed for
        self._wire()

    # ---- intents ------------------------------------------------------------------------------------

    def _wire(self) -> None:
        lp = self.login
        lp.go.clicked.connect(self._login)
        lp.pin.returnPressed.connect(self._login)
        lp.new_pin.returnPressed.connect(self._login)
        for action, b in self.main.buttons.items():
            b.clicked.connect(lambda _=False, a=action: self.trigger(a))
        for action, _key, shortcut in BUTTONS:
            if shortcut:
                sc = QShortcut(QKeySequence(shortcut), self)
                sc.setContext(Qt.ShortcutContext.WindowShortcut)
                sc.activated.connect(lambda a=action: self._shortcut(a))
        for o, b in self.main.outcomes.items():
            b.clicked.connect(lambda _=False, o=o: self.trigger_outcome(o))
        for o, shortcut in OUTCOME_BUTTONS:
            sc = QShortcut(QKeySequence(shortcut), self)
            sc.setContext(Qt.ShortcutContext.WindowShortcut)
            sc.activated.connect(lambda o=o: self._outcome_shortcut(o))
        self.main.form_ok.clicked.connect(self._form_submit)
        self.main.form_cancel.clicked.connect(self.close_form)
        self.main.discard.clicked.connect(lambda: self.intent.emit("discard", {}))

    def _login(self) -> None:
        lp = self.login
        args = {"staff": lp.staff.text(), "pin": lp.pin.text()}
        if not lp.new_pin.isHidden() and lp.new_pin.text():
            args["new_pin"] = lp.new_pin.text()
        self.intent.emit(Action.LOGIN.value, args)
        lp.pin.clear()
        lp.new_pin.clear()

    def _shortcut(self, action: Action) -> None:
        if self.main.buttons[action].isEnabled():
            self.trigger(action)

    def trigger(self, action: Action) -> None:
        """A button or shortcut: send at once, or open the action's inline form first."""
        if action in WITH_FORM:
            self.open_form(action)
            return
        if action is Action.FINISH:  # F4: 办结, with the 办件编号 typed or scanned
            self.trigger_outcome(CaseOutcome.DONE)
            return
        self.intent.emit(action.value, {})

    def _outcome_shortcut(self, outcome: CaseOutcome) -> None:
        if self.main.outcomes[outcome].isEnabled():
            self.trigger_outcome(outcome)

    def trigger_outcome(self, outcome: CaseOutcome, reason: str | None = None) -> None:
        """An outcome button or Ctrl+digit: finish the case with it (or change the one just finished);
        不予受理 and 补正 open their form first."""
        if outcome in OUTCOME_WITH_FORM and reason is None:
            self._form_outcome = outcome
            self._form_action = Action.FINISH
            self.main.forms.setCurrentWidget(self.main.forms.outcome_pages[outcome])
            self.main.form_box.show()
            if self._flow is not None:
                self._render_forms(self._flow)
            return
        args = {"outcome": outcome.value, "reason": reason or "", "case_no": self.main.case_no.text().strip()}
        self.intent.emit(Action.FINISH.value, args)

    def open_form(self, action: Action) -> None:
        self._form_action = action
        self.main.forms.setCurrentWidget(self.main.forms.pages[action])
        self.main.form_box.show()
        if self._flow is not None:
            self._render_forms(self._flow)

    def close_form(self) -> None:
        self._form_action = None
        self._form_outcome = None
        self.main.form_box.hide()
        self.main.forms.clear()

    def _form_submit(self) -> None:
        action = self._form_action
        if action is None:
            return
        outcome = self._form_outcome
        if outcome is not None:
            f = self.main.forms
            reason = (
                f.refusal_reason.currentText()
                if outcome is CaseOutcome.REFUSED
                else f.correction.text().strip()
            )
            self.close_form()
            self.trigger_outcome(outcome, reason)
            return
        args = self.main.forms.args_for(action)
        self.intent.emit(action.value, args)
        self.close_form()

    # ---- render -------------------------------------------------------------------------------------

    def show_flow(self, flow: CounterFlow) -> None:
        c = self.catalog
        t = c.t
        self._flow = flow
        self.banner.show_state(flow.connection, flow.data_age_s)
        self._render_devices(flow)
        if flow.phase is Phase.ENROLLING:
            self.pages.setCurrentWidget(self.enroll)
            return
        if flow.phase is Phase.LOGIN:
            self.pages.setCurrentWidget(self.login)
            s = flow.settings
            self.login.window_label.setText(t("login.window", window=s.window, name=s.window_name))
            self.login.go.setEnabled(flow.allowed(Action.LOGIN))
            self.login.message.setText(render(flow.notice, c) if flow.notice is not None else "")
            self.login.new_pin.setVisible(flow.pin_change)
            self.login.hint.setText(t("login.keypad_new_pin" if flow.pin_change else "login.keypad_hint"))
            return
        self.pages.setCurrentWidget(self.tabs if self.tabs is not None else self.main)
        self._render_main(flow)

    def _render_devices(self, flow: CounterFlow) -> None:
        t = self.catalog.t
        down = [t(f"dev.{name}") for name, (health, _r) in flow.devices.items() if health == "unavailable"]
        if not flow.devices:
            self.devices.setText(t("dev.none"))
            _set_role(self.devices, "muted")
        elif down:
            self.devices.setText(t("dev.down", list="、".join(down)))
            _set_role(self.devices, "error")
        else:
            self.devices.setText(t("dev.ok"))
            _set_role(self.devices, "muted")

    def _render_main(self, flow: CounterFlow) -> None:
        c = self.catalog
        t = c.t
        m = self.main
        clerk = f"{flow.session.name}（{flow.session.staff}）" if flow.session is not None else ""
        m.header.setText(t("win.header", window=flow.window, clerk=clerk))
        view = flow.window_view
        held = flow.held_state
        if held:
            state = t(f"win.state.{held}")
        elif flow.window_state == "paused":
            state = t("win.state.paused", reason=view.pause_reason if view is not None else "")
        else:
            state = t(f"win.state.{flow.window_state}")
        if flow.covering:
            state += " · " + t("win.takeover", windows="、".join(str(w) for w in flow.covering))
        m.state.setText(state)
        _set_role(m.state, _state_role(held, flow.window_state))
        cur = flow.current
        if cur is not None:
            m.number.setText(cur.label)
            m.matter.setText(c.pick(cur.matter_name, cur.matter_name_en))
            reason = c.pick(cur.call_reason, cur.call_reason_en)
            m.reason.setText(t("cur.reason", reason=reason) if reason else "")
            m.priority.setText(priority_text(c, cur, flow.settings.classes))
            m.recalls.setText(t("cur.recalls", n=cur.recalls, max=flow.settings.max_recalls))
            m.wait.setText(t("cur.wait", min=flow.waited_min(cur)))
            m.missing.setText(
                t("cur.missing", items="、".join(cur.missing), due=str(cur.due or "")) if cur.missing else ""
            )
        else:
            m.number.setText(flow.held_label or "—")
            m.matter.setText("" if flow.held_label else t("cur.none"))
            for w in (m.reason, m.priority, m.recalls, m.wait, m.missing):
                w.setText("")
        nxt = guidance.expected(flow)
        m.next_hint.setText(t("next.hint", action=t(f"act.name.{nxt.value}")) if nxt is not None else "")
        for action, b in m.buttons.items():
            why = guidance.blocked(flow, action)
            _show_state(b, why is None, render(why, c) if why is not None else "")
            _set_role(b, "next" if action is nxt else m.roles[action])
        can_outcome = flow.outcome_action() is not None
        for b in m.outcomes.values():
            _show_state(b, can_outcome, "" if can_outcome else t("why.outcome"))
        if flow.held_label != self._case_for:  # a new case: its own 办件编号
            self._case_for = flow.held_label
            if flow.held_label:
                m.case_no.clear()
        last = flow.last_finished
        if last is not None and last.outcome:
            left = flow.change_left_s()
            text = t(
                "outcome.last",
                label=last.label,
                outcome=last.outcome,
                case_no=f"（{last.case_no}）" if last.case_no else "",
            )
            m.outcome.setText(text + (t("outcome.change", s=left) if left else ""))
        else:
            m.outcome.setText("")
        m.buttons[Action.RATE_AGAIN].setVisible(flow.has_rating_pad)
        m.buttons[Action.TAKE_OVER].setVisible(bool(flow.settings.partners))
        m.buttons[Action.END_TAKE_OVER].setVisible(bool(flow.settings.partners))
        for action in (Action.CONFIRM_CLASS, Action.REVOKE_CLASS):
            m.buttons[action].setVisible(bool(flow.settings.classes))
        self._render_forms(flow)
        m.list_title.setText(t("list.title", n=flow.waiting))
        items = [
            t(
                "list.item",
                label=cand.ticket.label,
                matter=c.pick(cand.ticket.matter_name, cand.ticket.matter_name_en),
                reason=c.pick(cand.reason, cand.reason_en) or t("cur.normal"),
                min=flow.waited_min(cand.ticket),
            )
            for cand in flow.candidates
        ]
        if [m.waiting.item(i).text() for i in range(m.waiting.count())] != items:
            m.waiting.clear()
            m.waiting.addItems(items)
        k = flow.counts
        m.counts.setText(
            t(
                "counts",
                called=k.called,
                finished=k.finished,
                no_show=k.no_show,
                transferred=k.transferred,
                rated=k.rated,
            )
        )
        rn = flow.ratings.notice()
        m.rating.setText(render(rn, c) if rn is not None else "")
        _set_role(m.rating, _LEVEL_ROLE[rn.level] if rn is not None else "muted")
        n = flow.notice
        m.message.setText(render(n, c) if n is not None else "")
        _set_role(m.message, _LEVEL_ROLE[n.level] if n is not None else "muted")
        m.discard.setVisible(flow.unsent is not None and flow.in_flight is None)

    def _render_forms(self, flow: CounterFlow) -> None:
        f = self.main.forms
        if f.pause_reason.count() != len(flow.settings.pause_reasons):
            f.pause_reason.clear()
            f.pause_reason.addItems(list(flow.settings.pause_reasons))
        if f.transfer_series.count() == 0:
            f.transfer_series.addItem(self.catalog.t("form.no_series"), "")
            for prefix, name, name_en in flow.settings.series:
                f.transfer_series.addItem(f"{prefix} {self.catalog.pick(name, name_en)}", prefix)
        labels = [t.label for t in flow.no_shows]
        current = [f.requeue_ticket.itemText(i) for i in range(f.requeue_ticket.count())]
        if labels != current:
            text = f.requeue_ticket.currentText()
            f.requeue_ticket.clear()
            f.requeue_ticket.addItems(labels)
            if text:
                f.requeue_ticket.setEditText(text)
        reasons = list(flow.settings.refusal_reasons)
        if [f.refusal_reason.itemText(i) for i in range(f.refusal_reason.count())] != reasons:
            f.refusal_reason.clear()
            f.refusal_reason.addItems(reasons)
        if self._form_outcome is not None:
            ok_enabled = flow.outcome_action() is not None
        else:
            ok_enabled = self._form_action is not None and flow.allowed(self._form_action)
        self.main.form_ok.setEnabled(ok_enabled)
