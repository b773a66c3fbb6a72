"""A person known by their ID number, as the server keeps them: a keyed HMAC fingerprint (with the hall key,
hallserver/keys.py, so a copy of the database alone cannot be brute-forced back to numbers) and the last 4
characters; never the number (DOMAIN.md "Identity"). One home for bookings, carded tickets and the lookup
by card, so a booking made on the phone is found by the card read at the kiosk."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

from hallcore import idnumber
from hallcore.commands import CardHolder
from hallserver.errors import ApiError


def person_key(secret: bytes, id_number: str) -> str:
    """HMAC-SHA256 with the hall's secret: a plain hash of an 18-digit ID is brute-forced in minutes."""
    return hmac.new(secret, id_number.strip().upper().encode(), hashlib.sha256).hexdigest()


def checked(field: str, id_number: str, today: dt.date) -> str:
    """`id_number` in upper case when it is a real one by GB 11643 on `today`, else a 422 naming `field`
    (never echoing the number)."""
    number = id_number.strip().upper()
    if (bad := idnumber.problem(number, today)) is not None:
        raise ApiError(
            422,
            "invalid_field",
            f"字段 {field} 有误：{bad.zh}",
            f"field {field}: {bad.en}",
            {"errors": [{"field": field, "problem": bad.en, "type": "id_number"}]},
        )
    return number


def card_holder(secret: bytes, field: str, id_number: str, today: dt.date) -> CardHolder:
    """What the engine gets of a card read: the fingerprint, the last 4 and the birth date the number says."""
    number = checked(field, id_number, today)
    return CardHolder(person_key(secret, number), number[-4:], idnumber.birth_date(number))
