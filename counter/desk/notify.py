""" "快到您了" at the desk (issue 30): the staff type the citizen's mobile number for the ticket just issued
here, tick that the citizen agreed, and send; the hall answers with the number masked, and only that is
shown afterwards. Pure, no Qt, no I/O (the controller asks the hall: `HallApi.notify_opt_in`). Its words are
its own (zh/en), so the shared catalogue is not touched."""

from __future__ import annotations

from dataclasses import dataclass

TEXTS: dict[str, dict[str, str]] = {
    "zh": {
        "phone": "短信提醒：手机号",
        "consent": "群众已同意接收提醒",
        "send": "登记提醒",
        "done": "已登记短信提醒：{ticket} → {masked}",
        "busy": "正在登记…",
        "consent_needed": "请先确认群众同意",
    },
    "en": {
        "phone": "SMS reminder: mobile number",
        "consent": "The citizen agreed to reminders",
        "send": "Set reminder",
        "done": "Reminder set: {ticket} → {masked}",
        "busy": "Setting up…",
        "consent_needed": "Tick that the citizen agreed first",
    },
}


def text(language: str, key: str, **values: str) -> str:
    return TEXTS.get(language, TEXTS["zh"])[key].format(**values)


@dataclass
class DeskNotify:
    ticket: str = ""  # the ticket it was set for (the last issued here)
    masked: str = ""  # what the hall answered: 138****5678
    busy: bool = False
    error: tuple[str, str] | None = None  # the hall's refusal (zh, en)

    def begin(self, ticket: str, consent: bool) -> bool:
        """Start an opt-in for `ticket`; False (with the reason) without consent or while one is under way."""
        if self.busy:
            return False
        if not consent:
            self.error = (text("zh", "consent_needed"), text("en", "consent_needed"))
            return False
        self.ticket, self.masked, self.busy, self.error = ticket, "", True, None
        return True

    def done(self, masked: str) -> None:
        self.busy, self.masked = False, masked

    def failed(self, message: str, message_en: str) -> None:
        self.busy, self.error = False, (message, message_en)
