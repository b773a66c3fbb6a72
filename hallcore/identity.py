"""What a 居民身份证 read means for the queue (刷身份证取号, DOMAIN.md "Identity"): the holder's age on the
day, the age class it gives (verified by the card, not claimed), the decade the statistics count, and
whether a card is still valid. Pure: the kiosk uses it to greet, the server to decide (from the number it
was sent), so both say the same."""

from __future__ import annotations

import datetime as dt

from hallcore.config import HallConfig

#: `Ticket.identity`: the ticket was taken with the holder's own card, or by an agent (代办) with theirs.
CARD = "card"
AGENT = "agent"
#: `Ticket.class_check` of a class the card verified (staff need not check it at the window).
VERIFIED = "verified"


def age_on(born: dt.date, day: dt.date) -> int:
    """Whole years from `born` to `day` (a 29 February birthday turns over on 1 March)."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def age_class(config: HallConfig, born: dt.date | None, day: dt.date) -> str:
    """The priority class the card gives on `day` (`identity.elder_class` from `identity.elder_age`), or ""
    (no birth date, younger, or no such class in this hall)."""
    ident = config.identity
    if born is None or not ident.elder_class or ident.elder_class not in config.class_by_id:
        return ""
    return ident.elder_class if age_on(born, day) >= ident.elder_age else ""


def age_band(born: dt.date | None, day: dt.date) -> int | None:
    """The decade of the age on `day` (0, 10, … 90; 100 for older): all the statistics keep of a person."""
    if born is None:
        return None
    return min(100, age_on(born, day) // 10 * 10)


def card_expired(valid_to: dt.date | None, long_term: bool, day: dt.date) -> bool:
    """A card past its 有效期限 on `day` (a 长期 card never expires; the last valid day still counts)."""
    return not long_term and valid_to is not None and valid_to < day
