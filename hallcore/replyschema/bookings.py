"""The replies of bookings: slots, a booking made, imported, found by the card read, cancelled."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Slot:
    start: dt.time
    end: dt.time
    remaining: int


@dataclass(frozen=True, slots=True)
class BookingMade:
    """201: a booking; `code` is the citizen's secret for check-in and cancelling."""

    code: str
    day: dt.date
    slot: dt.time
    slot_end: dt.time
    matter: str
    matter_name: str
    holder_masked: str


@dataclass(frozen=True, slots=True)
class BookingImported:
    """A partner's booking as the hall holds it (the import API's answer, docs/integrations.md): `code` is the
    hall's booking code the citizen checks in with; `state` booked, cancelled, checked_in or missed."""

    external_id: str
    code: str
    state: str
    day: dt.date
    slot: dt.time
    slot_end: dt.time
    matter: str
    matter_name: str
    holder_masked: str


@dataclass(frozen=True, slots=True)
class BookingFound:
    """A booking of today found by the card read (check-in by ID): what the kiosk offers to check in."""

    code: str
    matter: str
    matter_name: str
    matter_name_en: str
    slot: dt.time
    slot_end: dt.time


@dataclass(frozen=True, slots=True)
class PersonToday:
    """`POST /api/identity`: a card read at a kiosk or desk, as the hall sees that person today — their
    bookings to check in, the carded numbers they may still take, and when they may again when none are
    left. Never who they are: the station has the card; the server keeps only the keyed fingerprint."""

    bookings: list[BookingFound]
    tickets_left: int
    next_opening: dt.datetime | None = None


@dataclass(frozen=True, slots=True)
class BookingCancelled:
    code: str
    state: str
