"""Receiving halls: enrollment and signed event batches (docs/central.md, "The shipping protocol").

A batch is applied exactly once: the hall's cursor (`halls.acked_seq`) is locked and moved in the same
transaction that stores the events and applies them to the derived tables, and only events after the
cursor, consecutive, are taken. A batch resent after a lost reply (the centre or the hall killed mid-batch)
finds its events at or below the cursor and changes nothing; a batch that skips seqs is refused with the seq
the centre needs. Every refusal says why (`Refusal.body()`).
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from psycopg import AsyncConnection
from psycopg_pool import AsyncConnectionPool

from hallcentral import profiles
from hallcentral.apply import apply
from hallcentral.auth import audit
from hallcentral.db import Partitions, month_of
from hallcentral.derive import Shipped, derive
from hallcore.shipping import ACCEPTED_FORMATS, MAX_BATCH_EVENTS, HallProfile, ProfileError, enrollment_code

#: Enrollment requests waiting for approval at most (a province has hundreds of halls, enrolled over weeks).
MAX_PENDING = 100


@dataclass(slots=True)
class Refusal(Exception):
    status: int
    code: str
    message: str
    message_en: str
    detail: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        return {"error": self.code, "message": self.message, "message_en": self.message_en, **self.detail}


def _bad(message_en: str, **detail: Any) -> Refusal:
    return Refusal(400, "bad_batch", f"批次格式有误：{message_en}", message_en, detail)


def verify(public_key: bytes, body: bytes, signature_b64: str) -> bool:
    try:
        sig = base64.b64decode(signature_b64, validate=True)
        Ed25519PublicKey.from_public_bytes(public_key).verify(sig, body)
    except (InvalidSignature, ValueError, binascii.Error):
        return False
    return True


def _json(body: bytes) -> dict[str, Any]:
    """A request's JSON object (UTF-8, as the halls send it)."""
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise _bad(f"not UTF-8 JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise _bad("the body is a JSON object")
    return data


async def enroll(pool: AsyncConnectionPool, body: bytes, signature: str, now: dt.datetime) -> dict[str, Any]:
    """A hall asks to be known: pending (with the code to compare) until an operator approves it."""
    data = _json(body)
    hall, name, key_b64 = data.get("hall"), data.get("name"), data.get("public_key")
    if not isinstance(hall, str) or not hall or not isinstance(name, str) or not isinstance(key_b64, str):
        raise _bad("enrollment needs hall, name and public_key")
    try:
        key = base64.b64decode(key_b64, validate=True)
        Ed25519PublicKey.from_public_bytes(key)
    except (ValueError, binascii.Error) as exc:
        raise _bad("public_key is not a base64 Ed25519 public key") from exc
    if not verify(key, body, signature):
        raise Refusal(401, "bad_signature", "签名无效", "the signature does not match the key in the request")
    code = enrollment_code(key)
    async with pool.connection() as conn, conn.transaction():
        cur = await conn.execute(
            "SELECT state, public_key, acked_seq FROM halls WHERE hall_id = %s FOR UPDATE", (hall,)
        )
        row = await cur.fetchone()
        if row is None:
            # Enrolling needs no account (a hall has none yet): cap what a stranger can pile up.
            cur = await conn.execute("SELECT count(*) FROM halls WHERE state = 'pending'")
            pending = await cur.fetchone()
            if pending is not None and int(pending[0]) >= MAX_PENDING:
                raise Refusal(
                    429,
                    "too_many_pending",
                    f"待批准的大厅登记已达 {MAX_PENDING} 个，请中心先处理",
                    f"{MAX_PENDING} enrollments wait for approval already: the centre must clear them first",
                )
            await conn.execute(
                "INSERT INTO halls (hall_id, name, state, public_key, code, enrolled_at)"
                " VALUES (%s, %s, 'pending', %s, %s, %s)",
                (hall, name, key, code, now),
            )
            await audit(conn, now, f"hall:{hall}", "hall_enroll", hall, {"code": code})
            return {"state": "pending", "code": code}
        state, stored, acked = row
        if state == "rekey" and bytes(stored) != key:
            # The operator allowed this hall a new key (it lost its old one): approve it again, same cursor.
            await conn.execute(
                "UPDATE halls SET public_key = %s, code = %s, state = 'pending', enrolled_at = %s"
                " WHERE hall_id = %s",
                (key, code, now, hall),
            )
            await audit(conn, now, f"hall:{hall}", "hall_reenroll", hall, {"code": code})
            return {"state": "pending", "code": code}
        if bytes(stored) != key:
            raise Refusal(
                409,
                "key_mismatch",
                "该大厅已用另一把密钥登记，请中心管理员处理",
                "this hall is enrolled with another key: the centre's operator must reset it",
            )
        if state == "revoked":
            raise Refusal(403, "revoked", "该大厅已被中心停用", "the centre revoked this hall")
        return {"state": state, "code": code, "acked_seq": int(acked)}


def _events(data: Mapping[str, Any]) -> list[Shipped]:
    raw = data.get("events")
    if not isinstance(raw, list):
        raise _bad("events is a list")
    if len(raw) > MAX_BATCH_EVENTS:
        raise Refusal(
            413,
            "batch_too_large",
            f"一批最多 {MAX_BATCH_EVENTS} 条",
            f"at most {MAX_BATCH_EVENTS} events a batch",
        )
    out: list[Shipped] = []
    for i, item in enumerate(raw):
        if not isinstance(item, dict):
            raise _bad(f"events[{i}] is an object")
        seq, at, kind, body = item.get("seq"), item.get("at"), item.get("kind"), item.get("body")
        if not isinstance(seq, int) or not isinstance(kind, str) or not isinstance(body, dict):
            raise _bad(f"events[{i}] needs seq (integer), kind and body")
        try:
            when = dt.datetime.fromisoformat(at) if isinstance(at, str) else None
        except ValueError:
            when = None
        if when is None or when.tzinfo is None:
            raise _bad(f"events[{i}].at is an ISO time with its UTC offset")
        if out and seq != out[-1].seq + 1:
            raise _bad(f"events[{i}]: seqs are consecutive ({out[-1].seq} then {seq})")
        out.append(Shipped(seq, when, kind, body))
    return out


@dataclass(slots=True)
class Accepted:
    hall: str
    acked_seq: int
    applied: int
    profile: str | None = None  # the fingerprint of the hall profile the centre holds


async def receive(
    pool: AsyncConnectionPool,
    partitions: Partitions,
    body: bytes,
    hall_header: str,
    signature: str,
    now: dt.datetime,
) -> Accepted:
    """Check and apply one batch; raises `Refusal` with the reason."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT state, public_key, code FROM halls WHERE hall_id = %s", (hall_header,)
        )
        row = await cur.fetchone()
        await conn.rollback()
    if row is None:
        raise Refusal(
            403, "unknown_hall", "中心不认识这个大厅：请先登记", f"no hall {hall_header!r} here: enroll first"
        )
    state, key, code = row
    if not verify(bytes(key), body, signature):
        raise Refusal(401, "bad_signature", "签名无效", "the signature does not match this hall's key")
    if state != "approved":
        waiting = state in ("pending", "rekey")
        raise Refusal(
            403,
            "not_approved" if waiting else "revoked",
            "大厅登记尚未获批" if waiting else "该大厅已被中心停用",
            "the hall's enrollment is not approved yet" if waiting else "the centre revoked this hall",
            {"code": code},
        )
    data = _json(body)
    fmt = data.get("format")
    if fmt not in ACCEPTED_FORMATS:
        raise Refusal(
            400,
            "unknown_format",
            f"中心不支持事件格式版本 {fmt!r}，支持：{', '.join(map(str, ACCEPTED_FORMATS))}",
            f"event format {fmt!r} is not one this centre reads; it reads {list(ACCEPTED_FORMATS)}",
            {"accepted_formats": list(ACCEPTED_FORMATS)},
        )
    if data.get("hall") != hall_header:
        raise _bad("the body's hall is not the signed hall header")
    events = _events(data)
    profile: HallProfile | None = None
    if data.get("profile") is not None:
        try:
            profile = profiles.read(data["profile"])
        except ProfileError as exc:
            raise _bad(str(exc)) from exc
    raw_seq = data.get("hall_seq")
    hall_seq = raw_seq if isinstance(raw_seq, int) else 0
    oldest = data.get("oldest_unshipped_at")
    oldest_at = dt.datetime.fromisoformat(oldest) if isinstance(oldest, str) and oldest else None
    await partitions.ensure(pool, {month_of(e.local_day) for e in events})
    async with pool.connection() as conn, conn.transaction():
        cur = await conn.execute("SELECT acked_seq FROM halls WHERE hall_id = %s FOR UPDATE", (hall_header,))
        locked = await cur.fetchone()
        assert locked is not None
        acked = int(locked[0])
        cur = await conn.execute("SELECT fingerprint FROM hall_profiles WHERE hall_id = %s", (hall_header,))
        row = await cur.fetchone()
        held = str(row[0]) if row else None
        new = [e for e in events if e.seq > acked]
        if new and new[0].seq != acked + 1:
            raise Refusal(
                409,
                "gap",
                f"缺少事件：中心需要从 {acked + 1} 号开始",
                f"events are missing: the centre needs seq {acked + 1} next",
                {"acked_seq": acked},
            )
        if profile is not None:
            # Before the events: the roll-ups this batch makes stale are counted with the new profile.
            await profiles.store(conn, hall_header, profile, data["profile"], now)
            held = profile.fingerprint
        if new:
            await _store(conn, hall_header, body, acked, now)
            await apply(conn, hall_header, derive(new))
            acked = new[-1].seq
        await conn.execute(
            "UPDATE halls SET acked_seq = %s, hall_seq = GREATEST(%s, %s), last_seen = %s,"
            " oldest_unshipped_at = %s, last_event_at = COALESCE(%s, last_event_at),"
            " today = COALESCE(%s, today), clock_offset_s = %s, format = %s WHERE hall_id = %s",
            (
                acked,
                acked,
                hall_seq,
                now,
                # The hall's own report of its backlog's oldest event, until it has caught up.
                oldest_at if acked < hall_seq else None,
                new[-1].at if new else None,
                new[-1].local_day if new else None,
                _offset_s(data.get("sent_at"), now),
                fmt,
                hall_header,
            ),
        )
    return Accepted(hall_header, acked, len(new), held)


def _offset_s(sent_at: Any, now: dt.datetime) -> float:
    """The hall's clock minus ours (a demo hall runs on a shifted clock; a real one may drift): the
    overview's wait ages are counted on the hall's clock."""
    try:
        return (dt.datetime.fromisoformat(sent_at) - now).total_seconds() if isinstance(sent_at, str) else 0.0
    except (ValueError, TypeError):
        return 0.0


async def _store(conn: AsyncConnection[Any], hall: str, body: bytes, after: int, now: dt.datetime) -> None:
    """The batch's events after the cursor into `events`, split and stored by PostgreSQL from the body as the
    hall signed it (its JSON parsed once more in C rather than each event encoded again here). The month is
    that of the hall-local date: the first ten characters of the ISO time, which keeps the hall's offset."""
    await conn.execute(
        "INSERT INTO events (hall_id, month, seq, at, kind, body, received_at)"
        " SELECT %(hall)s, date_trunc('month', left(e->>'at', 10)::date)::date, (e->>'seq')::bigint,"
        " (e->>'at')::timestamptz, e->>'kind', e->'body', %(now)s"
        " FROM jsonb_array_elements(%(batch)s::jsonb -> 'events') AS e WHERE (e->>'seq')::bigint > %(after)s",
        {"hall": hall, "now": now, "batch": body.decode(), "after": after},
    )
