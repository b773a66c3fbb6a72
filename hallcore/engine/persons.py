"""Per-person ticket limits and the verified age class (刷身份证取号, DOMAIN.md "Identity").

A card read makes the ticket the holder's: it counts against `persons.tickets_per_day` and
`persons.tickets_per_matter` of that person, whichever kiosk or desk they go to (the counts live here, on the
server's one engine), and the birth date in the number gives the age class (`hallcore.identity`). In 代办 the
card is the agent's: no age class, and it counts against the agent's own, higher `agent_tickets_per_day`; a
principal's card read too counts against the principal's limits (no hoarding through agents). A refusal says
when the person may take a number again: the next business day's opening.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from hallcore import identity
from hallcore.commands import CardHolder
from hallcore.config import Matter
from hallcore.engine.state import EngineState
from hallcore.outcomes import RefusalCode, Refused, fmt_local, iso_or_none, refuse


@dataclass(frozen=True, slots=True)
class Carded:
    """What the card reads decided for one ticket: its identity fields and the class the card verified."""

    identity: str  # identity.CARD or identity.AGENT
    person_key: str  # counted against the person's limits ("" for an agent without the principal's card)
    agent_key: str
    last4: str
    age_band: int | None
    age_class: str  # "" when the card gives none


def decide(
    s: EngineState,
    m: Matter,
    person: CardHolder,
    principal: CardHolder | None,
    agent: bool,
    now: dt.datetime,
) -> Carded | Refused:
    """The limits for a carded ticket of matter `m`, or the refusal with the next chance."""
    day = s.calendar.business_day(now)
    people = s.config.persons
    if agent and s.agent_tickets.get((person.key, day), 0) >= people.agent_tickets_per_day:
        return _refused(
            s,
            now,
            f"代办人今日已取 {people.agent_tickets_per_day} 个号，已达上限",
            f"this agent has taken today's {people.agent_tickets_per_day} numbers",
            people.agent_tickets_per_day,
        )
    counted = principal if agent else person
    if counted is not None:
        if s.person_tickets.get((counted.key, day), 0) >= people.tickets_per_day:
            return _refused(
                s,
                now,
                f"每人每天最多取 {people.tickets_per_day} 个号",
                f"at most {people.tickets_per_day} numbers a day per person",
                people.tickets_per_day,
            )
        if s.person_matter.get((counted.key, day, m.code), 0) >= people.tickets_per_matter:
            return _refused(
                s,
                now,
                f"{m.name}每人每天最多取 {people.tickets_per_matter} 个号",
                f"{m.name_en or m.code}: at most {people.tickets_per_matter} a day per person",
                people.tickets_per_matter,
            )
    holder = counted if counted is not None else person
    return Carded(
        identity=identity.AGENT if agent else identity.CARD,
        person_key=counted.key if counted is not None else "",
        agent_key=person.key if agent else "",
        last4=holder.last4,
        # An agent's own age says nothing of the applicant's; the principal's card is not the one present.
        age_band=None if agent else identity.age_band(person.born, day),
        age_class="" if agent else identity.age_class(s.config, person.born, day),
    )


def tickets_left(s: EngineState, person: CardHolder, now: dt.datetime) -> int:
    """Carded tickets this person may still take today (all matters)."""
    day = s.calendar.business_day(now)
    return max(0, s.config.persons.tickets_per_day - s.person_tickets.get((person.key, day), 0))


def next_chance(s: EngineState, now: dt.datetime) -> dt.datetime | None:
    """When a per-day limit lets the person take a number again: the next business day's walk-in opening."""
    return s.calendar.next_day_opening(now)


def _refused(s: EngineState, now: dt.datetime, zh: str, en: str, limit: int) -> Refused:
    nxt = next_chance(s, now)
    when_zh = f"，请于 {fmt_local(s.calendar.local(nxt))} 后再取号" if nxt else ""
    when_en = f"; you may take a number again from {fmt_local(s.calendar.local(nxt))}" if nxt else ""
    return refuse(
        RefusalCode.PERSON_LIMIT, zh + when_zh, en + when_en, limit=limit, next_opening=iso_or_none(nxt)
    )
