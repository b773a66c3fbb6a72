"""Bookings from outside (docs/integrations.md "Bookings from outside"), pure: which partner key signed a
request and whether it is still taken, what a pushed or listed booking must hold, the content an external
booking id is bound to (idempotency), the refusals a sender can act on, and the pull adapter's plan.

The booking rules themselves (slots, quotas, per-person limits, days ahead) are the engine's `book_slot`
(hallcore/engine/booking.py): an imported booking is a `BookSlot` like one made on the hall's own page, so
it counts against the same slot capacity and the same `[persons]` limits; nothing here repeats them.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from hallcore import idnumber, text
from hallcore.config import BookingImport, Partner, PartnerKey
from hallcore.provincial import Signed

#: An external booking id: what a partner's system names its booking by (letters, digits, `._:-`).
EXTERNAL_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,63}$")
_SLOT = re.compile(r"^\d{2}:\d{2}$")
_PHONE = re.compile(r"^\+?[0-9-]{0,20}$")
STATES = ("booked", "cancelled")


@dataclass(frozen=True, slots=True)
class ImportRefusal:
    """An answer a partner can act on: HTTP status, a machine-readable code, Chinese and English text."""

    status: int
    code: str
    zh: str
    en: str
    detail: Mapping[str, Any] = field(default_factory=dict)


#: The signature problems (`hallcore.provincial.check_signed` codes) as the import API answers them.
_SIGNATURE: dict[str, tuple[int, str, str, str]] = {
    "unsigned": (
        401,
        "unsigned",
        "导入接口只接受合作方签名的请求（X-HQ-AppKey、X-HQ-Timestamp、X-HQ-Nonce、X-HQ-Signature）；站点和工作人员的令牌无效",
        (
            "the import API takes partners' signed requests only (X-HQ-AppKey, X-HQ-Timestamp, X-HQ-Nonce,"
            " X-HQ-Signature); station and staff tokens are not accepted"
        ),
    ),
    "unknown_key": (401, "unknown_key", "未知的密钥编号", "unknown key id"),
    "bad_timestamp": (
        401,
        "bad_timestamp",
        "时间戳应为十进制 POSIX 秒",
        "the timestamp must be POSIX seconds",
    ),
    "stale": (
        401,
        "stale_request",
        "请求时间戳超出允许范围，请校准时钟后以新的随机数重新签名发送",
        "the timestamp is outside the window: check the sender's clock and sign the request again",
    ),
    "bad_nonce": (
        401,
        "bad_nonce",
        "随机数应为 32 位小写十六进制",
        "the nonce must be 32 lowercase hex characters",
    ),
    "bad_signature": (
        401,
        "bad_signature",
        "签名不符：请按 HQ1-HMAC-SHA256 对方法、路径、密钥编号、时间戳、随机数和请求体摘要签名",
        "the signature does not match: sign method, path, key id, timestamp, nonce and the body's SHA-256",
    ),
}


def signature_refusal(signed: Signed, window_s: int) -> ImportRefusal | None:
    """The answer to a request whose signature check found a problem (None: the signature is good)."""
    if not signed.problem:
        return None
    status, code, zh, en = _SIGNATURE[signed.problem]
    detail: dict[str, Any] = {"window_s": window_s} if signed.problem == "stale" else {}
    return ImportRefusal(status, code, zh, en, detail)


def replayed(nonce: str) -> ImportRefusal:
    return ImportRefusal(
        409,
        "replayed",
        "该请求已收到过（随机数重复）：重发请使用新的随机数和时间戳重新签名",
        "this request was received before (nonce seen): sign a resend with a new nonce and timestamp",
        {"nonce": nonce},
    )


def find_key(cfg: BookingImport, key_id: str) -> tuple[Partner, PartnerKey] | None:
    for p in cfg.partners:
        for k in p.keys:
            if k.id == key_id:
                return p, k
    return None


def key_taken(key: PartnerKey, today: dt.date) -> bool:
    """A key is taken through its `valid_until` day (hall time): the overlap of two keys is the rotation."""
    return key.valid_until is None or today <= key.valid_until


def key_retired(key: PartnerKey) -> ImportRefusal:
    day = key.valid_until.isoformat() if key.valid_until else ""
    return ImportRefusal(
        401,
        "key_retired",
        f"密钥 {key.id} 已于 {day} 停用，请改用新密钥签名",
        f"key {key.id} was retired after {day}: sign with the new key",
        {"key_id": key.id, "valid_until": day},
    )


def signing_key(partner: Partner, today: dt.date) -> PartnerKey | None:
    """The key the hall signs its own requests to a partner with: the newest one still taken (the last
    listed), so a rotation moves the hall to the new key as soon as it is configured."""
    taken = [k for k in partner.keys if key_taken(k, today)]
    return taken[-1] if taken else None


# ---- one booking, pushed or listed -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Entry:
    """A booking as a partner sends it (push body, or one item of a published list)."""

    external_id: str
    matter: str
    day: dt.date
    slot: dt.time
    id_number: str
    name: str = ""
    phone: str = ""
    state: str = "booked"

    def content(self) -> str:
        """What the external id is bound to: the same id with other content is a conflict. The ID number is
        part of it; the shell keys this text (HMAC with the hall key) before storing it."""
        return "\n".join(
            (self.matter, self.day.isoformat(), f"{self.slot:%H:%M}", self.id_number, self.name, self.phone)
        )


@dataclass(frozen=True, slots=True)
class FieldProblem:
    field: str
    problem: str
    zh: str


def parse_entry(obj: object, today: dt.date) -> Entry | list[FieldProblem]:
    """An entry from decoded JSON, or every problem with it (never echoing an ID number)."""
    if not isinstance(obj, dict):
        return [FieldProblem("", "a JSON object", "应为 JSON 对象")]
    problems: list[FieldProblem] = []
    known = {"external_id", "matter", "day", "slot", "id_number", "name", "phone", "state"}
    for extra in sorted(set(obj) - known):
        problems.append(FieldProblem(str(extra), "unknown field", "未知字段"))

    def string(name: str, *, required: bool = True) -> str:
        value = obj.get(name, "" if not required else None)
        if value is None:
            problems.append(FieldProblem(name, "missing", "缺少"))
            return ""
        if not isinstance(value, str):
            problems.append(FieldProblem(name, "a string", "应为字符串"))
            return ""
        return value.strip()

    ext = string("external_id")
    if ext and not EXTERNAL_ID.match(ext):
        problems.append(
            FieldProblem("external_id", "1-64 of A-Z a-z 0-9 . _ : -", "应为 1–64 位字母、数字或 ._:-")
        )
    matter = string("matter")
    if len(matter) > 64:
        problems.append(FieldProblem("matter", "at most 64 characters", "最多 64 个字符"))
    day_s = string("day")
    day = dt.date.min
    if day_s:
        try:
            day = dt.date.fromisoformat(day_s)
        except ValueError:
            problems.append(FieldProblem("day", "a date YYYY-MM-DD", "应为日期 YYYY-MM-DD"))
    slot_s = string("slot")
    slot = dt.time.min
    if slot_s:
        try:
            if not _SLOT.match(slot_s):
                raise ValueError(slot_s)
            slot = dt.time.fromisoformat(slot_s)
        except ValueError:
            problems.append(FieldProblem("slot", "a time HH:MM", "应为时间 HH:MM"))
    number = string("id_number").upper()
    if number and (bad := idnumber.problem(number, today)) is not None:
        problems.append(FieldProblem("id_number", bad.en, bad.zh))
    name = string("name", required=False)
    if len(name) > 50:
        problems.append(FieldProblem("name", "at most 50 characters", "最多 50 个字符"))
    elif name and (bad_text := text.text_problem(name)) is not None:
        problems.append(FieldProblem("name", bad_text.en, bad_text.zh))
    phone = string("phone", required=False)
    if phone and not _PHONE.match(phone):
        problems.append(FieldProblem("phone", "digits, + and - only", "只能含数字、+ 和 -"))
    state = string("state", required=False) or "booked"
    if state not in STATES:
        problems.append(FieldProblem("state", f"one of {', '.join(STATES)}", "应为 booked 或 cancelled"))
    if problems:
        return problems
    return Entry(ext, matter, day, slot, number, name, phone, state)


def invalid(problems: list[FieldProblem]) -> ImportRefusal:
    """422 `invalid_field`, shaped like the rest of the API's (docs/api.md "Conventions")."""
    first = problems[0]
    return ImportRefusal(
        422,
        "invalid_field",
        f"字段 {first.field} 有误：{first.zh}",
        f"field {first.field}: {first.problem}",
        {"errors": [{"field": p.field, "problem": p.problem, "type": "import"} for p in problems]},
    )


def conflict(external_id: str, code: str) -> ImportRefusal:
    return ImportRefusal(
        409,
        "external_id_conflict",
        f"预约 {external_id} 已以不同内容导入（预约码 {code}）：改约请先取消，再以新的预约编号推送",
        f"booking {external_id} was imported with other content (code {code}): to change it, cancel it and "
        "push it under a new id",
        {"external_id": external_id, "code": code},
    )


def unknown(external_id: str) -> ImportRefusal:
    return ImportRefusal(
        404,
        "unknown_booking",
        f"没有导入过预约 {external_id}",
        f"no booking {external_id!r} was imported from this partner",
        {"external_id": external_id},
    )


# ---- the pull adapter --------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PullPlan:
    """What one read of a partner's list changes. `complete`: the list said it is whole and every entry was
    good, so a booking missing from it was cancelled at the partner."""

    book: tuple[Entry, ...] = ()
    cancel: tuple[str, ...] = ()
    problems: tuple[str, ...] = ()
    complete: bool = False
    malformed: str = ""  # the whole list was unusable: nothing is applied


def plan_pull(listing: object, known: Mapping[str, str], today: dt.date) -> PullPlan:
    """The changes a published list asks for. `known`: the external ids already imported from this partner
    for today on, with their booking's state (booked, cancelled, checked_in, missed).

    Nothing is lost to a bad list: an unusable list changes nothing; a bad entry is reported and its booking
    left as it is; a booking is cancelled because it is missing only when the list says `"complete": true`
    and every entry in it was good (a partial page or a list cut short never cancels anything)."""
    if not isinstance(listing, dict) or not isinstance(listing.get("bookings"), list):
        return PullPlan(malformed='not a JSON object with a "bookings" list')
    book: list[Entry] = []
    cancel: list[str] = []
    problems: list[str] = []
    listed: set[str] = set()
    for i, raw in enumerate(listing["bookings"]):
        entry = parse_entry(raw, today)
        if isinstance(entry, list):
            ext = raw.get("external_id") if isinstance(raw, dict) else None
            if isinstance(ext, str):
                listed.add(ext.strip())
            problems.append(
                f"bookings[{i}]"
                + (f" ({ext})" if isinstance(ext, str) else "")
                + ": "
                + "; ".join(f"{p.field}: {p.problem}" for p in entry)
            )
            continue
        if entry.external_id in listed:
            problems.append(f"bookings[{i}] ({entry.external_id}): listed twice, the first is used")
            continue
        listed.add(entry.external_id)
        state = known.get(entry.external_id)
        if entry.state == "booked" and state is None:
            book.append(entry)
        elif entry.state == "cancelled" and state == "booked":
            cancel.append(entry.external_id)
    complete = listing.get("complete") is True and not problems
    if complete:
        cancel += sorted(ext for ext, state in known.items() if state == "booked" and ext not in listed)
    return PullPlan(tuple(book), tuple(cancel), tuple(problems), complete)


# ---- what a manager sees ---------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class KeyStatus:
    """A partner key: `taken` today (within `valid_until`), `usable` (its secret file was read), else why."""

    id: str
    valid_until: dt.date | None
    taken: bool
    usable: bool
    problem: str


@dataclass(frozen=True, slots=True)
class PartnerStatus:
    """A partner as the hall sees it: its keys, the key the hall signs with, the cancellation reports owed to
    it and the last read of its list (`last_pull`: "" never read, else what it did or why nothing)."""

    id: str
    name: str
    keys: tuple[KeyStatus, ...]
    signs_with: str
    imported: int
    report_url: str
    reports_pending: int
    reports_dead: int
    reports_sent: int
    report_error: str
    list_url: str
    last_pull_at: str
    last_pull: str


@dataclass(frozen=True, slots=True)
class ImportStatus:
    """`GET /api/import/status` (managers): the import API's partners and how their links are doing."""

    enabled: bool
    window_s: int
    partners: tuple[PartnerStatus, ...]
