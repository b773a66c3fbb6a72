"""Bookings from outside, the hall's side (docs/integrations.md "Bookings from outside"): the partners' keys,
who a signed request comes from, and the writer jobs that import a booking or cancel one for a partner.

- Partners only: a request must carry a valid HQ1-HMAC-SHA256 signature (`hallcore.provincial.check_signed`,
  the same scheme the hall signs its 好差评 uploads with) by a configured key id; a station's or a manager's
  bearer token is not a partner and gets 401 `unsigned`.
- Keys: each partner has one or more key ids, each secret in a 0600 file (`hallserver.private.read_secret`,
  as the provincial app secret), read when the config is loaded and never logged; a key past its
  `valid_until` day answers 401 `key_retired`. Two keys at once are a rotation.
- Replays: the timestamp must be within `booking_import.window_s` of the hall's clock and the nonce new: it
  is stored in the request's own transaction (`import_nonces`), so a captured request sent again, even after
  a restart, is refused with 409 `replayed` and changes nothing.
- Rate: each partner has its own token bucket (`rate_per_s`, `burst`), spent only after the signature is
  good, so nobody else can use a partner's budget up.
- Idempotent on the external id: the first answer is stored with the booking (`booking_imports`); the same
  id with the same content gets it back, the same id with other content 409 `external_id_conflict`.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import pathlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hallcore import bookimport as bi
from hallcore import commands as c
from hallcore import replies
from hallcore.calendar import HallCalendar
from hallcore.config import BookingImport, Partner
from hallcore.model import Booking, BookingState
from hallcore.outcomes import RefusalCode
from hallcore.provincial import check_signed
from hallserver import bookings, persons
from hallserver.errors import ApiError
from hallserver.limits import Bucket, Buckets, Limit, too_many
from hallserver.private import PrivateFileError, read_secret
from hallserver.service import HallServer
from hallserver.writectx import Reply, WriteCtx, dumps, error_reply, ok

log = logging.getLogger(__name__)


def api_error(r: bi.ImportRefusal) -> ApiError:
    return ApiError(r.status, r.code, r.zh, r.en, dict(r.detail))


class PartnerKeys:
    """The partners' secrets, read from their files when the config is loaded. A file that cannot be used is
    logged by its path and reason (never its content) and its key refused as unknown."""

    def __init__(self, cfg: BookingImport) -> None:
        self.cfg = cfg
        self.secrets: dict[str, bytes] = {}
        self.problems: dict[str, str] = {}
        if not cfg.enabled:
            return
        for p in cfg.partners:
            for k in p.keys:
                try:
                    self.secrets[k.id] = read_secret(pathlib.Path(k.secret_file))
                except (OSError, PrivateFileError) as exc:
                    self.problems[k.id] = str(exc)
                    log.error("booking import: key %s of partner %s is not usable: %s", k.id, p.id, exc)


@dataclass(frozen=True, slots=True)
class Caller:
    """A partner whose request's signature, key and budget were checked."""

    partner: Partner
    key_id: str
    nonce: str
    timestamp: int


class BookingImports:
    """What the import API's routes, the reporter and the pull adapter share: the keys, the partners'
    budgets and the hall."""

    def __init__(self, hall: HallServer) -> None:
        self.hall = hall
        self._keys: PartnerKeys | None = None
        self._buckets: tuple[BookingImport, Buckets] | None = None

    @property
    def config(self) -> BookingImport:
        return self.hall.config.booking_import

    def keys(self) -> PartnerKeys:
        """The secrets of the config now in force (read again after a reload)."""
        if self._keys is None or self._keys.cfg is not self.config:
            self._keys = PartnerKeys(self.config)
        return self._keys

    def buckets(self) -> Buckets:
        cfg = self.config
        if self._buckets is None or self._buckets[0] is not cfg:
            limits = {
                p.id: Limit(Bucket(p.rate_per_s, p.burst), Bucket(p.rate_per_s, p.burst))
                for p in cfg.partners
            }
            self._buckets = (cfg, Buckets(self.hall.clock, limits))
        return self._buckets[1]

    def today(self) -> dt.date:
        return HallCalendar(self.hall.config.hall).business_day(self.hall.clock.now())

    def partner(self, partner_id: str) -> Partner | None:
        return next((p for p in self.config.partners if p.id == partner_id), None)

    def authenticate(self, method: str, path: str, headers: Mapping[str, str], body: bytes) -> Caller:
        """The partner a request comes from, or the ApiError to answer (401 signature or key, 404 when the
        import is off, 429 over the partner's budget)."""
        cfg = self.config
        if not cfg.enabled:
            raise ApiError(404, "import_disabled", "本厅未开放预约导入", "booking import is not enabled here")
        keys = self.keys()

        def secret_of(key_id: str) -> bytes | None:
            return keys.secrets.get(key_id) if bi.find_key(cfg, key_id) else None

        signed = check_signed(headers, method, path, body, secret_of, self.hall.clock.now(), cfg.window_s)
        if (refusal := bi.signature_refusal(signed, cfg.window_s)) is not None:
            raise api_error(refusal)
        found = bi.find_key(cfg, signed.app_key)
        assert found is not None  # secret_of knew it
        partner, key = found
        if not bi.key_taken(key, self.today()):
            raise api_error(bi.key_retired(key))
        if (wait := self.buckets().take(partner.id, partner.id)) > 0:
            raise too_many(wait)
        return Caller(partner, key.id, signed.nonce, signed.timestamp)

    def person(self, entry: bi.Entry) -> tuple[str, str]:
        """The keyed fingerprint of the entry's ID number (the `[persons]` limits count it) and the keyed
        fingerprint of its whole content (what the external id is bound to)."""
        key = persons.person_key(self.hall.store.secret, entry.id_number)
        return key, self.hall.fingerprint("booking_import", entry.content())


# ---- writer jobs -------------------------------------------------------------------------------------------


def fresh_nonce(ctx: WriteCtx, caller: Caller, window_s: int) -> bool:
    """Store the request's nonce; False when it was seen (a replay). Nonces whose timestamp is out of the
    window are dropped: a request that old is refused by its timestamp already."""
    ctx.execute("DELETE FROM import_nonces WHERE at < ?", (ctx.now.timestamp() - window_s,))
    cur = ctx.execute(
        "INSERT OR IGNORE INTO import_nonces (nonce, key_id, at) VALUES (?,?,?)",
        (caller.nonce, caller.key_id, float(caller.timestamp)),
    )
    return cur.rowcount == 1


def imported(ctx: WriteCtx, external_id: str, b: Booking) -> replies.BookingImported:
    m = ctx.engine.config.matter_by_code.get(b.matter)
    return replies.BookingImported(
        external_id,
        b.code,
        b.state.value,
        b.day,
        b.slot_start,
        b.slot_end,
        b.matter,
        m.name if m else b.matter,
        b.holder_masked,
    )


def _with_free_slots(ctx: WriteCtx, reply: Reply, entry: bi.Entry) -> Reply:
    """A full slot's refusal names the day's slots that still have places, so the sender can offer one."""
    body = json.loads(reply.text)
    if body.get("error") != RefusalCode.SLOT_FULL.value:
        return reply
    free = [f"{a:%H:%M}" for a, _b, n in ctx.engine.slots(entry.matter, entry.day, ctx.now) if n > 0]
    body["detail"] = {**body.get("detail", {}), "free_slots": free}
    return Reply(reply.status, dumps(body))


def import_booking(
    ctx: WriteCtx, partner_id: str, entry: bi.Entry, person_key: str, fingerprint: str, source: str
) -> Reply:
    """Book `entry` for `partner_id` once: the stored first answer for a repeat with the same content, 409
    `external_id_conflict` for other content, else the engine's own booking rules."""
    row = ctx.execute(
        "SELECT code, fingerprint, status, body FROM booking_imports WHERE partner = ? AND external_id = ?",
        (partner_id, entry.external_id),
    ).fetchone()
    if row is not None:
        code, fp, status, text = row
        if fp != fingerprint:
            return error_reply(api_error(bi.conflict(entry.external_id, code)))
        return Reply(int(status), text)
    name = entry.name
    cmd = c.BookSlot(entry.matter, entry.day, entry.slot, person_key, bookings.new_booking_code(), name)
    b = bookings.book(ctx, cmd, entry.id_number[-4:], entry.phone)
    if isinstance(b, Reply):
        return _with_free_slots(ctx, b, entry)
    reply = ok(imported(ctx, entry.external_id, b), 201)
    ctx.execute(
        "INSERT INTO booking_imports (partner, external_id, code, fingerprint, status, body, source, at)"
        " VALUES (?,?,?,?,?,?,?,?)",
        (
            partner_id,
            entry.external_id,
            b.code,
            fingerprint,
            reply.status,
            reply.text,
            source,
            ctx.now.isoformat(),
        ),
    )
    return reply


def cancel_for_partner(ctx: WriteCtx, partner_id: str, external_id: str) -> Reply:
    """The partner cancelled its booking: cancelled here too (not reported back to it). Cancelling one already
    cancelled answers its state again (a retry); one checked in or missed is 409 `booking_state`."""
    row = ctx.execute(
        "SELECT code FROM booking_imports WHERE partner = ? AND external_id = ?", (partner_id, external_id)
    ).fetchone()
    b = ctx.engine.bookings.get(row[0]) if row is not None else None
    if b is None:
        return error_reply(api_error(bi.unknown(external_id)))
    if b.state is BookingState.BOOKED:
        ctx.execute("UPDATE booking_imports SET cancelled_by = 'partner' WHERE code = ?", (b.code,))
        if isinstance(out := ctx.accept(c.CancelBooking(b.code)), Reply):
            return out
    elif b.state is not BookingState.CANCELLED:
        return error_reply(
            ApiError(
                409,
                RefusalCode.BOOKING_STATE.value,
                f"该预约已{'签到' if b.state is BookingState.CHECKED_IN else '过期'}，不能取消",
                f"that booking is {b.state.value}: it cannot be cancelled",
                {"external_id": external_id, "code": b.code, "state": b.state.value},
            )
        )
    return ok(imported(ctx, external_id, b))


def signed_job(
    caller: Caller, window_s: int, run: Callable[[WriteCtx], Reply]
) -> Callable[[WriteCtx], Reply]:
    """`run` behind the nonce check, in one transaction: the nonce is kept whatever `run` answers, so a
    replay of a refused request is refused too (it could otherwise succeed later, when a place is free)."""

    def job(ctx: WriteCtx) -> Reply:
        if not fresh_nonce(ctx, caller, window_s):
            return error_reply(api_error(bi.replayed(caller.nonce)))
        return run(ctx)

    return job
