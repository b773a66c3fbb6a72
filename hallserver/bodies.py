"""Request bodies (pydantic, strict): a wrong type is a 422 that names the field, never a silent coercion
("5" is not a score, "no" is not false). Unknown fields are refused too, so a client's typo is caught. Names
and free text refuse control and format characters (NUL, U+202E …: `hallcore.text`), naming the field."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from hallcore.config import StationRole
from hallcore.text import text_problem

ID_PATTERN = r"^[0-9]{17}[0-9Xx]$"
#: An ID number read from a card, or "" for none (checked by GB 11643 in hallserver/persons.py).
IdNumber = Annotated[str, Field(pattern=r"^$|" + ID_PATTERN, description="18-character resident ID or ''")]
RequestId = Annotated[str, Field(min_length=1, max_length=64, description="client-made id (a UUID)")]


def _plain(value: str) -> str:
    """A name or free text as typed, or a 422 naming the field for a control or format character."""
    problem = text_problem(value)
    if problem is not None:
        raise ValueError(problem.en)
    return value


Plain = AfterValidator(_plain)
Text = Annotated[str, Field(max_length=200), Plain]
Name = Annotated[str, Field(max_length=50), Plain]
Code = Annotated[str, Field(min_length=1, max_length=64), Plain]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)


class Req(Body):
    request_id: RequestId


class IssueIn(Req):
    matter: Annotated[str, Field(min_length=1, max_length=64)]
    source: Literal["kiosk", "desk", "phone"] | None = None
    priority: Annotated[str, Field(max_length=64)] = ""
    answers: dict[str, bool] | None = None
    present: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=200)] | None = None
    holder_name: Name = ""
    # 刷身份证取号: the number read from the card (sent only over the pinned TLS connection; the server keeps
    # its keyed fingerprint and last 4, never the number). With `agent` (代办, also implied by the pre-check
    # answers) it is the agent's card; `principal_id_number` is the card of the person acted for, if read.
    id_number: IdNumber = ""
    agent: bool = False
    principal_id_number: IdNumber = ""
    # `principal_id_number` without `id_number` is refused (the agent's card is read first).


class IdentityIn(Body):
    """A card read at a kiosk or desk: what the hall knows of that person today."""

    id_number: Annotated[str, Field(pattern=ID_PATTERN, description="18-character resident ID")]


class SupplyIn(Req):
    """容缺 items brought in: their ids, or null for every item still owed."""

    items: (
        Annotated[list[Annotated[str, Field(max_length=64)]], Field(min_length=1, max_length=50)] | None
    ) = None


class VoidIn(Req):
    reason: Text = "print failed"


class CancelIn(Req):
    reason: Text = ""


class RatingIn(Req):
    score: int = Field(description="1 非常不满意 … 5 非常满意")
    source: Literal["pad", "phone", "counter"] = "pad"


class WindowIn(Req):
    """One body for every window action; each action says which of the optional fields it needs."""

    ticket: Annotated[str, Field(max_length=64)] | None = None
    reason: Text | None = None
    to_series: Annotated[str, Field(max_length=8)] | None = None
    to_window: int | None = None
    partner: int | None = None
    # finish / outcome: how the case ended (办结 受理 补正 不予受理 咨询, or concluded accepted correction
    # refused advice); `reason` is 不予受理's (one of the hall's) or what 补正 asks for; the 办件编号.
    outcome: Annotated[str, Field(max_length=16)] | None = None
    case_no: Annotated[str, Field(max_length=40)] | None = None


class BookIn(Req):
    matter: Annotated[str, Field(min_length=1, max_length=64)]
    # JSON has no date type: ISO strings are parsed (FastAPI validates in Python mode: strict would refuse).
    day: Annotated[dt.date, Field(strict=False, description="YYYY-MM-DD")]
    slot: Annotated[dt.time, Field(strict=False, description="slot start, HH:MM")]
    id_number: Annotated[str, Field(pattern=ID_PATTERN, description="18-digit resident ID")]
    name: Name = ""
    phone: Annotated[str, Field(pattern=r"^[0-9+\- ]{0,20}$")] = ""


class CheckInIn(Req):
    answers: dict[str, bool] | None = None
    present: Annotated[list[Annotated[str, Field(max_length=64)]], Field(max_length=200)] | None = None


class EnrollIn(Body):
    name: Code
    # JSON gives a string: parsed into the enum (FastAPI validates in Python mode, where strict would refuse).
    role: Annotated[StationRole, Field(strict=False)]


class ApproveIn(Body):
    window: int | None = None
    windows: Annotated[
        list[int] | None, Field(max_length=50, description="several windows (instead of `window`)")
    ] = None


class ManagerLoginIn(Body):
    username: Annotated[str, Field(min_length=1, max_length=64)]
    password: Annotated[str, Field(min_length=1, max_length=256)]


class CounterLoginIn(Body):
    staff: Annotated[str, Field(min_length=1, max_length=64)]
    pin: Annotated[str, Field(min_length=1, max_length=64)]
    window: int
    new_pin: Annotated[
        str | None,
        Field(
            min_length=1,
            max_length=64,
            description="replaces the PIN (needed when it no longer meets the rules)",
        ),
    ] = None


class ActiveIn(Body):
    active: bool


class DeviceHealthIn(Body):
    request_id: RequestId | None = None
    device: Annotated[str, Field(min_length=1, max_length=64)]
    health: Literal["ok", "degraded", "unavailable"]
    reason: Text = ""


class RosterIn(Body):
    staff: Annotated[list[Code], Field(max_length=100)]
