"""The counter's inline forms, for the actions that need more than a tap (transfer, call a named ticket,
pause, re-queue, revoke a class) and for the outcomes that ask for a reason (不予受理, 补正): widgets only,
read back into an intent's arguments by `Forms.args_for`."""

from __future__ import annotations

from typing import Any

from PySide6.QtWidgets import (
    QComboBox,
    QGridLayout,
    QHBoxLayout,
    QLineEdit,
    QStackedWidget,
    QVBoxLayout,
    QWidget,
)

from counter.actions import Action
from hallcore.caseoutcome import CaseOutcome
from hallui.i18n import Catalog
from hallui.widgets import label

#: The actions that open their inline form before they are sent, and the outcomes that ask for a reason.
WITH_FORM = {Action.TRANSFER, Action.CALL_SPECIFIC, Action.PAUSE, Action.REQUEUE, Action.REVOKE_CLASS}
OUTCOME_WITH_FORM = {CaseOutcome.REFUSED, CaseOutcome.CORRECTION}


class Forms(QStackedWidget):
    """Inline forms for the actions that need more than a tap (no modal dialogs on a busy counter)."""

    def __init__(self, catalog: Catalog, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("forms")
        self.catalog = catalog
        t = catalog.t
        # transfer
        self.transfer = QWidget(self)
        lay = QGridLayout(self.transfer)
        self.transfer_series = QComboBox(self.transfer)
        self.transfer_series.setObjectName("transferSeries")
        self.transfer_window = QLineEdit(self.transfer)
        self.transfer_window.setObjectName("transferWindow")
        self.transfer_window.setPlaceholderText(t("form.transfer_window"))
        self.transfer_reason = QLineEdit(self.transfer)
        self.transfer_reason.setObjectName("transferReason")
        self.transfer_reason.setPlaceholderText(t("form.transfer_reason"))
        lay.addWidget(label(t("form.transfer_series"), "transferSeriesLabel"), 0, 0)
        lay.addWidget(self.transfer_series, 0, 1)
        lay.addWidget(self.transfer_window, 1, 0, 1, 2)
        lay.addWidget(self.transfer_reason, 2, 0, 1, 2)
        self.addWidget(self.transfer)
        # call a specific ticket
        self.specific = QWidget(self)
        lay2 = QVBoxLayout(self.specific)
        self.specific_ticket = QLineEdit(self.specific)
        self.specific_ticket.setObjectName("specificTicket")
        self.specific_ticket.setPlaceholderText(t("form.ticket"))
        self.specific_reason = QLineEdit(self.specific)
        self.specific_reason.setObjectName("specificReason")
        self.specific_reason.setPlaceholderText(t("form.reason"))
        lay2.addWidget(self.specific_ticket)
        lay2.addWidget(self.specific_reason)
        self.addWidget(self.specific)
        # pause
        self.pause = QWidget(self)
        lay3 = QHBoxLayout(self.pause)
        self.pause_reason = QComboBox(self.pause)
        self.pause_reason.setObjectName("pauseReason")
        lay3.addWidget(label(t("form.pause_reason"), "pauseReasonLabel"))
        lay3.addWidget(self.pause_reason, 1)
        self.addWidget(self.pause)
        # requeue
        self.requeue = QWidget(self)
        lay4 = QVBoxLayout(self.requeue)
        self.requeue_ticket = QComboBox(self.requeue)
        self.requeue_ticket.setObjectName("requeueTicket")
        self.requeue_ticket.setEditable(True)
        lay4.addWidget(label(t("form.ticket"), "requeueLabel"))
        lay4.addWidget(self.requeue_ticket)
        self.addWidget(self.requeue)
        # revoke a claimed priority class
        self.revoke = QWidget(self)
        lay5 = QVBoxLayout(self.revoke)
        self.revoke_reason = QLineEdit(self.revoke)
        self.revoke_reason.setObjectName("revokeReason")
        self.revoke_reason.setPlaceholderText(t("form.revoke_reason"))
        lay5.addWidget(self.revoke_reason)
        self.addWidget(self.revoke)
        # how the case ended: 不予受理's reason, 补正's list of what to supply
        self.refuse = QWidget(self)
        lay6 = QHBoxLayout(self.refuse)
        self.refusal_reason = QComboBox(self.refuse)
        self.refusal_reason.setObjectName("refusalReason")
        lay6.addWidget(label(t("outcome.refusal_reason"), "refusalReasonLabel"))
        lay6.addWidget(self.refusal_reason, 1)
        self.addWidget(self.refuse)
        self.correct = QWidget(self)
        lay7 = QVBoxLayout(self.correct)
        self.correction = QLineEdit(self.correct)
        self.correction.setObjectName("correctionItems")
        self.correction.setPlaceholderText(t("outcome.correction"))
        lay7.addWidget(self.correction)
        self.addWidget(self.correct)
        self.outcome_pages = {CaseOutcome.REFUSED: self.refuse, CaseOutcome.CORRECTION: self.correct}
        self.pages = {
            Action.TRANSFER: self.transfer,
            Action.CALL_SPECIFIC: self.specific,
            Action.PAUSE: self.pause,
            Action.REQUEUE: self.requeue,
            Action.REVOKE_CLASS: self.revoke,
        }

    def args_for(self, action: Action) -> dict[str, Any]:
        if action is Action.TRANSFER:
            window = self.transfer_window.text().strip()
            return {
                "to_series": self.transfer_series.currentData() or "",
                "to_window": int(window) if window.isdigit() else 0,
                "reason": self.transfer_reason.text().strip(),
            }
        if action is Action.CALL_SPECIFIC:
            return {"ticket": self.specific_ticket.text().strip(), "reason": self.specific_reason.text()}
        if action is Action.PAUSE:
            return {"reason": self.pause_reason.currentText()}
        if action is Action.REQUEUE:
            return {"ticket": self.requeue_ticket.currentText().strip()}
        if action is Action.REVOKE_CLASS:
            return {"reason": self.revoke_reason.text()}
        return {}

    def clear(self) -> None:
        for w in (
            self.transfer_window,
            self.transfer_reason,
            self.specific_ticket,
            self.specific_reason,
            self.revoke_reason,
            self.correction,
        ):
            w.clear()
        self.requeue_ticket.setCurrentIndex(0)
        self.transfer_series.setCurrentIndex(0)
