"""The desk's 容缺 lookup: the citizen comes back with what was owed and the printed ticket; the staff type
its number, see what the ticket still owes and mark one item or all supplied. Pure, no Qt, no I/O (the
controller asks the hall: `HallApi.owed`, `HallApi.supply`; the rules are hallcore/owed.py)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from counter.notices import Notice
from hallclient.types import OwedView, Supplied


@dataclass
class OwedLookup:
    label: str = ""  # the number typed, e.g. "B012"
    entries: list[OwedView] = field(
        default_factory=list
    )  # what the number owes (one entry a day it was used)
    busy: bool = False
    notice: Notice | None = None

    def find(self, label: str) -> str | None:
        """Start a lookup of `label`; None when there is nothing to look up (or one is under way)."""
        label = label.strip().upper()
        if not label or self.busy:
            return None
        self.label, self.busy, self.notice = label, True, None
        return label

    def found(self, owing: Sequence[OwedView]) -> None:
        """The hall's entries still owing: keep those of the number typed, the oldest due first."""
        self.busy = False
        self.entries = [e for e in owing if e.label.upper() == self.label]
        if not self.entries:
            self.notice = Notice("desk.owed_none", {"label": self.label}, "warning")

    def begin_supply(self) -> bool:
        if self.busy:
            return False
        self.busy = True
        return True

    def supplied(self, out: Supplied) -> None:
        self.busy = False
        e = out.entry
        self.entries = [e if x.ticket == e.ticket else x for x in self.entries]
        names = "、".join(i.name for i in e.items if i.id in out.supplied) or "—"
        if e.state in ("on_time", "late"):
            self.notice = Notice("desk.owed_done", {"label": e.label, "items": names, "state": e.state_name})
        else:
            self.notice = Notice("desk.owed_supplied", {"label": e.label, "items": names})

    def failed(self, message: str, message_en: str) -> None:
        self.busy = False
        self.notice = Notice("desk.owed_failed", level="error", raw=(message, message_en))
