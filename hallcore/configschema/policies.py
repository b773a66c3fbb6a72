"""What the hall promises and measures around a visit: ratings and 差评 cases, how a case ends, alerts and
targets, estimates, bookings, per-person limits, what a card read means. Part of the hall configuration
schema (`hallcore.config`, where `HallConfig` gathers the tables): one frozen dataclass per TOML table."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


@dataclass(frozen=True, slots=True)
class RatingPolicy:
    timeout_s: int = 30
    # 4-key pads: key -> five-level score (5 = 非常满意 … 1 = 非常不满意).
    four_key_map: tuple[int, int, int, int] = (5, 4, 2, 1)
    case_deadline_days: int = 5  # working days to follow up a 差评
    # 扫码评价: a ticket finished unrated may be rated once from the phone page for this long (0: off).
    phone_window_min: int = 30


@dataclass(frozen=True, slots=True)
class Outcomes:
    """How a case ends at the window (hallcore/caseoutcome.py): the reasons a 不予受理 may give (行政许可法
    Art. 32), and how long after a finish the clerk may still change its outcome or 办件编号."""

    refusal_reasons: tuple[str, ...] = (
        "申请事项依法不需要取得行政许可",
        "申请事项不属于本机关职权范围",
        "申请材料不齐全且不能当场补正",
        "申请人不具备申请资格",
    )
    change_window_s: int = 60


@dataclass(frozen=True, slots=True)
class Alerts:
    """When the dashboard raises an alert beyond the ones every hall has (hallcore/alerts.py)."""

    pause_min: int = 30  # a window paused longer than this


@dataclass(frozen=True, slots=True)
class Targets:
    onsite_rate: float = 0.90  # 现场办结率
    immediate_share: float = 0.70  # 即办件 share
    satisfaction: float = 0.95  # 满意率


@dataclass(frozen=True, slots=True)
class Estimates:
    """How the wait estimate is shown: a range wider than `wide_band_min` minutes is no plan a citizen can
    use, so the ticket and the phone page say "人多，预计较长" instead of a point."""

    wide_band_min: int = 40


@dataclass(frozen=True, slots=True)
class Booking:
    slot_min: int = 30
    default_quota: int = 4  # per matter per slot
    days_ahead: int = 7
    early_min: int = 30  # check-in accepted this early
    late_grace_min: int = 15  # after the slot ends, a late booking becomes a walk-in


@dataclass(frozen=True, slots=True)
class Persons:
    """Limits per person, counted by the keyed hash of the ID number (never the number itself), against
    scalpers and number hoarding. One home for every per-person rule: bookings, and the tickets taken with an
    ID card (刷身份证取号, hallcore/engine/persons.py)."""

    bookings_per_day: int = 2  # bookings for one day
    bookings_per_week: int = 4  # bookings for days of one ISO week
    bookings_open: int = 3  # booked and not yet checked in, cancelled or missed, at any one time
    tickets_per_day: int = 3  # carded tickets per person and business day (voided ones do not count)
    tickets_per_matter: int = 1  # of those, for one matter
    # 代办: a card read for someone else counts against the agent's own, higher limit (网格员 and 帮办代办
    # staff act for many people a day); the principal's card, when read too, counts against theirs.
    agent_tickets_per_day: int = 20


class ExpiredCard(StrEnum):
    SERVE = "serve"  # serve anyway (the number is still the person's: limits and age class apply)
    DESK = "desk"  # send the holder to the desk (导办台), where staff look at the card


@dataclass(frozen=True, slots=True)
class Identity:
    """What a card read means at the kiosk and the desk (刷身份证取号, DOMAIN.md "Identity")."""

    elder_age: int = 60  # the age (on the day, from the ID number's birth date) that gets `elder_class`
    elder_class: str = "elderly"  # a priority class id; "" for no age class from the card
    expired: ExpiredCard = ExpiredCard.SERVE  # a card past its 有效期限, or failing its number checks
