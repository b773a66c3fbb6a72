"""The replies about stations and people: enrollment, managers, clerks at their windows, logouts."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class EnrollState(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REVOKED = "revoked"
    EXPIRED = "expired"  # pending too long (a day) without approval: enroll again


@dataclass(frozen=True, slots=True)
class Enrollment:
    """201: a pending enrollment: the station shows `code`; only `poll_secret`'s holder gets the token."""

    station_id: str
    code: str
    poll_secret: str


@dataclass(frozen=True, slots=True)
class EnrollPoll:
    """`token` is given once, on the first poll after approval."""

    state: EnrollState
    token: str | None = None


@dataclass(frozen=True, slots=True)
class StationInfo:
    """An enrolled station: `windows` are those it is approved for (a counter's or desk's clerk logs in and
    acts only there), `window` the one its clerk is logged in at (or, before that, the first approved)."""

    station_id: str
    name: str
    role: str
    state: str
    code: str
    window: int | None
    staff: str
    created_at: dt.datetime
    windows: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class ManagerSession:
    token: str
    expires_at: dt.datetime


@dataclass(frozen=True, slots=True)
class ManagerAccount:
    """A manager login (`GET /api/managers`): `sessions` counts the live ones."""

    username: str
    active: bool
    created_at: dt.datetime
    sessions: int


@dataclass(frozen=True, slots=True)
class CounterSession:
    staff: str
    name: str
    window: int


@dataclass(frozen=True, slots=True)
class Roster:
    window: int
    staff: tuple[str, ...]  # empty: any active clerk may log in there


@dataclass(frozen=True, slots=True)
class Empty:
    """`{}`: done, nothing to say (logouts)."""
