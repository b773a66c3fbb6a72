""" "快到您了" at the kiosk: the large phone-number pad's state (pure; kiosk/pages_notify.py draws it, the
controller sends the opt-in). What was typed is shown masked as it grows (138 **** 5678), so the people
behind in the queue never read the number over the citizen's shoulder."""

from __future__ import annotations

from dataclasses import dataclass

DIGITS = 11


@dataclass(slots=True)
class NotifyPad:
    digits: str = ""
    consent: bool = False
    busy: bool = False  # the opt-in is on its way to the hall
    error: str = ""  # a text key of kiosk/pages_notify.py, "" when none

    def press(self, key: str) -> None:
        """A key of the pad: a digit, "del" (the last digit) or "clear"."""
        self.error = ""
        if key == "del":
            self.digits = self.digits[:-1]
        elif key == "clear":
            self.digits = ""
        elif key.isdigit() and len(key) == 1 and len(self.digits) < DIGITS:
            self.digits += key

    def toggle_consent(self) -> None:
        self.consent = not self.consent

    @property
    def ready(self) -> bool:
        return len(self.digits) == DIGITS and self.digits[0] == "1" and self.consent and not self.busy

    @property
    def shown(self) -> str:
        """The number as the screen shows it: the first 3 and last 4 digits, the middle 4 masked."""
        d = self.digits
        middle = "*" * max(0, min(len(d), 7) - 3)
        return " ".join(part for part in (d[:3], middle, d[7:]) if part)
