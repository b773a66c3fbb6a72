"""What a hall offers: departments, series (the number prefixes), matters with their pre-check questions and
materials. Part of the hall configuration schema (`hallcore.config`, where `HallConfig` gathers the
tables): one frozen dataclass per TOML table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class MatterKind(StrEnum):
    """即办件 (done on the spot) or 承诺件 (promised by a date)."""

    ON_THE_SPOT = "即办件"
    PROMISED = "承诺件"


@dataclass(frozen=True, slots=True)
class Department:
    id: str
    name: str
    name_en: str = ""
    names: dict[str, str] = field(default_factory=dict)  # further kiosk languages: {language: name}


@dataclass(frozen=True, slots=True)
class Series:
    prefix: str  # "A", "B", "K"… numbers are A001… per business day
    name: str
    name_en: str = ""
    daily_cap: int | None = None
    open: dt.time | None = None  # narrower hours than the hall's, if set
    close: dt.time | None = None
    target_wait_min: int = 30
    number_width: int = 3


@dataclass(frozen=True, slots=True)
class Material:
    """One document of a matter's checklist. `tolerable` items may be missing under 容缺受理."""

    id: str
    name: str
    name_en: str = ""
    where: str = ""  # where to get it, printed on the 一次性告知单
    where_en: str = ""
    tolerable: bool = False
    required: bool = True
    names: dict[str, str] = field(default_factory=dict)  # further kiosk languages: {language: name}
    icon: str = ""  # a picture beside it on the kiosk: one of hallcore.configlang.MATERIAL_ICONS


@dataclass(frozen=True, slots=True)
class When:
    """Ask a question only after `question` (an earlier question of the same matter) got `answer`."""

    question: str
    answer: bool


@dataclass(frozen=True, slots=True)
class Question:
    """A yes/no condition of the matter (hallcore/precheck.py has the rules; docs/config.md "Pre-check").

    An answer other than `expected` fails the pre-check — or makes it 容缺 if `tolerable` — unless a later
    question's `when` follows that answer (the follow-up decides: the 代办 branch). A question with `when` is
    asked only after that answer. A question that `asks_for` materials asks whether they are here: yes adds
    them to the checklist, no lists them as missing (容缺 if they are tolerable). `agent`: the question is put
    only to someone acting for the applicant (代办), so a pre-check that asks it counts as 代办."""

    id: str
    text: str
    text_en: str = ""
    help: str = ""
    help_en: str = ""
    expected: bool = True
    fail_reason: str = ""  # printed on the 一次性告知单
    fail_reason_en: str = ""
    where: str = ""  # where to sort it out
    where_en: str = ""
    when: When | None = None
    tolerable: bool = False
    asks_for: tuple[str, ...] = ()  # material ids of the matter
    agent: bool = False
    texts: dict[str, str] = field(default_factory=dict)  # further kiosk languages: {language: question}


@dataclass(frozen=True, slots=True)
class Precheck:
    questions: tuple[Question, ...] = ()
    materials: tuple[Material, ...] = ()
    # Deadline for supplying 容缺 items, in working days (hall holidays excluded).
    tolerance_days: int = 20
    # The 承诺书 printed with a 容缺 ticket for the citizen to sign ("" = none). Placeholders: {matter},
    # {items} (what is owed, joined with 、) and {due} (the date it is due).
    pledge: str = ""
    pledge_en: str = ""


@dataclass(frozen=True, slots=True)
class Matter:
    code: str
    name: str
    series: str  # series prefix
    department: str
    name_en: str = ""
    kind: MatterKind = MatterKind.ON_THE_SPOT
    category: str = ""
    pinyin: str = ""  # initials for kiosk search, e.g. "hjqy" for 户籍迁移
    prior_handle_min: float = 10.0
    daily_cap: int | None = None
    bookable: bool = True
    booking_quota: int | None = None  # per slot; None = the booking section's default
    precheck: Precheck = field(default_factory=Precheck)
    names: dict[str, str] = field(default_factory=dict)  # further kiosk languages: {language: name}
