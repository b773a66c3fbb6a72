"""A card read at the kiosk or the desk (刷身份证取号), as the station keeps it for one visit: the
masked name it greets with, the age class the card verifies (`hallcore.identity`, the rule the server
applies to the same number), and the number itself, which goes to the hall only inside the issue or lookup
request (over the pinned TLS connection) and is dropped with the visit. Pure: no Qt, no I/O; the number is
never in a repr."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from drivers.protocols import IdCard
from hallclient.types import BookingFound
from hallcore import identity
from hallcore.config import ExpiredCard, HallConfig
from hallcore.privacy import mask_name


@dataclass(frozen=True, slots=True)
class CardVisit:
    masked: str  # 张* — what the screen and the hall ever see of the name
    age_class: str  # the class the card verifies ("" for none)
    expired: bool  # past its 有效期限, or failing its number checks
    id_number: str = field(repr=False)
    # What the hall said of this person today (`POST /api/identity`); None until it answered.
    bookings: tuple[BookingFound, ...] = ()
    tickets_left: int | None = None


def visit_of(card: IdCard, config: HallConfig, day: dt.date) -> CardVisit:
    """The visit a card read starts on `day`."""
    bad = not (card.check_ok and card.birth_matches)
    expired = bad or identity.card_expired(card.valid_to, card.long_term, day)
    born = card.birth_date if card.birth_matches else None
    return CardVisit(
        masked=mask_name(card.name),
        age_class=identity.age_class(config, born, day),
        expired=expired,
        id_number=card.id_number,
    )


def sends_to_desk(config: HallConfig, visit: CardVisit) -> bool:
    """The hall's policy for an expired (or failed-check) card: serve anyway, or send the holder to the
    desk."""
    return visit.expired and config.identity.expired is ExpiredCard.DESK
