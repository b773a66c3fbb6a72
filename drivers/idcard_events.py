"""What an ID card reader tells its subscribers, once per placement of a card (PROTOCOLS.md §6).

Three outcomes, so a kiosk can answer each: a card was read (its record carries the number checks: a card
that fails them is still delivered, for the hall to decide), a card of another kind lies there (refused,
never guessed), or the card could not be read (the citizen lifts it and places it again).
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.codecs.idcard import IdCard, SamResult, UnsupportedCard


@dataclass(frozen=True, slots=True)
class CardRead:
    card: IdCard


@dataclass(frozen=True, slots=True)
class CardUnsupported:
    card: UnsupportedCard

    @property
    def reason(self) -> str:
        return self.card.describe()


@dataclass(frozen=True, slots=True)
class CardFailed:
    """The reader found a card but could not read it; no record. `result` is the SAM's, when it gave one."""

    reason: str
    result: SamResult | None = None


CardEvent = CardRead | CardUnsupported | CardFailed
