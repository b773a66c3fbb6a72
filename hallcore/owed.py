"""The 容缺 register: what a 容缺 ticket still owes, by when, and how it ended (DOMAIN.md 容缺受理).

Every 容缺 ticket opens an entry with the items owed (the tolerable items its pre-check listed) and the due
day (`tolerance_days` working days after issue, hallcore/precheck.py). Staff at the desk or a counter mark
items supplied, one or all. An entry is *open* until every item is supplied, *overdue* once the due day has
passed with something still owed; a closed entry was supplied *on time* (the last item on or before the due
day, in hall time) or *late*. The statistics count supplied on time, late and never — "never" being the
entries past due and still owed on the day the report is drawn (one may yet turn late).

Pure: the server stores the entries (hallserver/owed.py) and asks these rules what each one is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from enum import StrEnum

from hallcore.config import Matter


class OwedState(StrEnum):
    OPEN = "open"  # something still owed, not due yet
    OVERDUE = "overdue"  # something still owed after the due day
    ON_TIME = "on_time"  # all supplied, the last item on or before the due day
    LATE = "late"  # all supplied, the last item after the due day


#: The register's words on the dashboard and the statistics.
STATE_NAMES: dict[OwedState, str] = {
    OwedState.OPEN: "待补齐",
    OwedState.OVERDUE: "逾期未补齐",
    OwedState.ON_TIME: "按期补齐",
    OwedState.LATE: "逾期补齐",
}


def item_names(matter: Matter | None, ids: Sequence[str]) -> list[str]:
    """The names of the owed items as the ticket printed them: a material's name, or a tolerable question's
    fail reason (its text when it has none); an id the matter no longer knows stays as it is."""
    if matter is None:
        return list(ids)
    names = {m.id: m.name for m in matter.precheck.materials}
    names |= {q.id: q.fail_reason or q.text for q in matter.precheck.questions}
    return [names.get(i, i) for i in ids]


def entry_state(due: dt.date, supplied_on: Sequence[dt.date | None], today: dt.date) -> OwedState:
    """What an entry is on `today`, given the day each owed item was supplied (None: still owed)."""
    if any(day is None for day in supplied_on) or not supplied_on:
        return OwedState.OVERDUE if today > due else OwedState.OPEN
    last = max(day for day in supplied_on if day is not None)
    return OwedState.ON_TIME if last <= due else OwedState.LATE


@dataclass(frozen=True, slots=True)
class RegisterTally:
    """The register's figures for the entries opened in a period: how many, and how each stands today."""

    opened: int = 0
    on_time: int = 0
    late: int = 0
    never: int = 0  # past due and still owed
    open: int = 0  # still owed, not due yet

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def tally(states: Iterable[OwedState]) -> RegisterTally:
    counts = dict.fromkeys(OwedState, 0)
    for s in states:
        counts[s] += 1
    return RegisterTally(
        opened=sum(counts.values()),
        on_time=counts[OwedState.ON_TIME],
        late=counts[OwedState.LATE],
        never=counts[OwedState.OVERDUE],
        open=counts[OwedState.OPEN],
    )
