"""What the hall sends to and reads from its booking partners (docs/integrations.md "Bookings from outside"):

- `CancelReporter`: a partner's booking cancelled at the hall (the citizen, the desk) is queued in the outbox
  (`booking_cancel`, in the cancellation's own transaction: hallserver/outbox.py) and POSTed to the partner's
  `report_url`, signed with the partner's newest key, with the row's idempotency key; marked sent only after a
  2xx, so a crash or an unreachable partner sends it again later (backoff with jitter, per partner, so one
  partner down does not hold the others'); any other 4xx makes it a dead letter on the dashboard.
- `ListPuller`: for a partner that only publishes a list (`list_url`), the list is read every `poll_s`, and
  `hallcore.bookimport.plan_pull`'s adds and cancels are applied through the same jobs as a push (one home
  for the rules); a list that cannot be read or parsed changes nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import json
import logging
import random
import secrets
import sqlite3
import time
import urllib.parse
from collections.abc import Callable
from dataclasses import dataclass, field

import httpx

from hallcore import bookimport as bi
from hallcore.config import Partner
from hallcore.provincial import HmacSigner
from hallserver import outbox
from hallserver.backoff import backoff_s
from hallserver.bookimport import BookingImports, cancel_for_partner, import_booking
from hallserver.evloop import Worker
from hallserver.store import Job
from hallserver.upload import classify, mark_job
from hallserver.writectx import Reply

log = logging.getLogger(__name__)

BATCH = 50
IDLE_POLL_S = 2.0


def signer_for(im: BookingImports, partner: Partner) -> HmacSigner | None:
    """The hall signs with the partner's newest key still taken (hallcore.bookimport.signing_key)."""
    key = bi.signing_key(partner, im.today())
    secret = im.keys().secrets.get(key.id) if key is not None else None
    return HmacSigner(key.id, secret) if key is not None and secret is not None else None


@dataclass(slots=True)
class _Backoff:
    failures: int = 0
    until: float = 0.0  # time.monotonic() before which the partner is not tried


class CancelReporter(Worker):
    task_name = "hall-booking-reports"

    def __init__(
        self,
        im: BookingImports,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self.im = im
        self._transport = transport
        self._rng = rng or random.Random()
        self._nonce = nonce
        self.backoff: dict[str, _Backoff] = {}
        self.last_error: dict[str, str] = {}

    async def _run(self) -> None:
        async with httpx.AsyncClient(transport=self._transport) as client:
            while True:
                try:
                    await self.send_once(client)
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("booking reports: unexpected error")
                await asyncio.sleep(IDLE_POLL_S)

    async def send_once(self, client: httpx.AsyncClient) -> int:
        """Send the pending reports of the partners not in backoff, oldest first; the number sent."""
        hall = self.im.hall
        rows = await hall.store.read(lambda conn: outbox.pending(conn, BATCH, (outbox.BOOKING_CANCEL,)))
        sent = 0
        for row_id, _kind, key, text in rows:
            item = json.loads(text)
            pid = str(item.get("partner", ""))
            wait = self.backoff.get(pid)
            if wait is not None and wait.until > time.monotonic():
                continue
            partner = self.im.partner(pid)
            if partner is None or not partner.report_url:
                why = (
                    f"partner {pid!r} is not configured"
                    if partner is None
                    else f"partner {pid} has no report_url"
                )
                await hall.store.submit(mark_job(row_id, why, dead=True))
                continue
            signer = signer_for(self.im, partner)
            if signer is None:
                self._failed(pid, f"no usable key for partner {pid}")
                continue
            body = json.dumps(item, ensure_ascii=False, separators=(",", ":")).encode()
            path = urllib.parse.urlsplit(partner.report_url).path or "/"
            headers = {
                "Content-Type": "application/json",
                "Idempotency-Key": key,
                **signer.headers("POST", path, body, hall.clock.now(), self._nonce()),
            }
            try:
                r = await client.post(
                    partner.report_url, content=body, headers=headers, timeout=partner.timeout_s
                )
            except httpx.HTTPError as exc:
                error = f"{type(exc).__name__}: {exc}"[:300]
                await hall.store.submit(mark_job(row_id, error, dead=False))
                self._failed(pid, error)
                continue
            verdict = classify(r.status_code)
            if verdict == "sent":
                await hall.store.submit(mark_job(row_id, "", dead=False))
                self.backoff.pop(pid, None)
                self.last_error.pop(pid, None)
                sent += 1
                continue
            error = f"HTTP {r.status_code}: {r.text[:200]}"
            await hall.store.submit(mark_job(row_id, error, dead=verdict == "dead"))
            if verdict == "transient":
                self._failed(pid, error)
            else:
                log.warning("booking report %d to %s refused for good, set aside: %s", row_id, pid, error)
        return sent

    def _failed(self, pid: str, error: str) -> None:
        b = self.backoff.setdefault(pid, _Backoff())
        if b.failures == 0:
            log.warning("booking reports to %s failing (%s); retrying with backoff", pid, error)
        b.failures += 1
        cfg = self.im.config
        b.until = time.monotonic() + backoff_s(b.failures, cfg.retry_first_s, cfg.retry_max_s, self._rng)
        self.last_error[pid] = error


@dataclass(slots=True)
class PullResult:
    """One read of a partner's list, as the dashboard and the log see it."""

    partner: str
    at: str = ""  # when it was read (hall time)
    ok: bool = False
    error: str = ""  # why nothing was applied (the list could not be read or parsed)
    booked: int = 0
    cancelled: int = 0
    refused: list[str] = field(default_factory=list)  # external id: the hall's refusal code
    problems: list[str] = field(default_factory=list)
    complete: bool = False


class ListPuller(Worker):
    task_name = "hall-booking-lists"

    def __init__(
        self,
        im: BookingImports,
        transport: httpx.AsyncBaseTransport | None = None,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self.im = im
        self._transport = transport
        self._nonce = nonce
        self.last: dict[str, PullResult] = {}

    async def _run(self) -> None:
        due: dict[str, float] = {}
        async with httpx.AsyncClient(transport=self._transport) as client:
            while True:
                cfg = self.im.config
                for p in cfg.partners if cfg.enabled else ():
                    if p.list_url and due.get(p.id, 0.0) <= time.monotonic():
                        due[p.id] = time.monotonic() + p.poll_s
                        try:
                            await self.pull(client, p)
                        except asyncio.CancelledError:
                            raise
                        except Exception:
                            log.exception("booking list of %s: unexpected error", p.id)
                await asyncio.sleep(IDLE_POLL_S)

    async def pull(self, client: httpx.AsyncClient, partner: Partner) -> PullResult:
        """Read the partner's list once and apply it (docs/integrations.md "The pull adapter")."""
        hall = self.im.hall
        res = PullResult(partner.id, hall.clock.now().isoformat())
        self.last[partner.id] = res
        signer = signer_for(self.im, partner)
        path = urllib.parse.urlsplit(partner.list_url).path or "/"
        headers = signer.headers("GET", path, b"", hall.clock.now(), self._nonce()) if signer else {}
        try:
            r = await client.get(partner.list_url, headers=headers, timeout=partner.timeout_s)
        except httpx.HTTPError as exc:
            res.error = f"{type(exc).__name__}: {exc}"[:300]
            return self._logged(res)
        if r.status_code != 200:
            res.error = f"HTTP {r.status_code}"
            return self._logged(res)
        try:
            listing = json.loads(r.content)
        except ValueError:
            res.error = "the list is not valid JSON (cut short?)"
            return self._logged(res)
        today = self.im.today()
        known = await hall.store.read(lambda conn: _known(conn, partner.id, today.isoformat()))
        plan = bi.plan_pull(listing, known, today)
        if plan.malformed:
            res.error = plan.malformed
            return self._logged(res)
        res.problems = list(plan.problems)
        res.complete = plan.complete
        for entry in plan.book:
            person_key, fingerprint = self.im.person(entry)
            job = functools.partial(
                import_booking,
                partner_id=partner.id,
                entry=entry,
                person_key=person_key,
                fingerprint=fingerprint,
                source="pull",
            )
            reply = await hall.run(Job(job))
            if 200 <= reply.status < 300:
                res.booked += 1
            else:
                res.refused.append(f"{entry.external_id}: {_code(reply)}")
        for ext in plan.cancel:
            job = functools.partial(cancel_for_partner, partner_id=partner.id, external_id=ext)
            reply = await hall.run(Job(job))
            if reply.status == 200:
                res.cancelled += 1
            else:
                res.refused.append(f"{ext}: {_code(reply)}")
        res.ok = True
        return self._logged(res)

    @staticmethod
    def _logged(res: PullResult) -> PullResult:
        if res.error:
            log.warning("booking list of %s not applied (nothing changed): %s", res.partner, res.error)
        elif res.refused or res.problems:
            log.warning(
                "booking list of %s: %d booked, %d cancelled, refused %s, problems %s",
                res.partner,
                res.booked,
                res.cancelled,
                res.refused[:10],
                res.problems[:10],
            )
        return res


def _code(reply: Reply) -> str:
    return str(json.loads(reply.text).get("error", reply.status))


def _known(conn: sqlite3.Connection, partner_id: str, today: str) -> dict[str, str]:
    """The partner's imported bookings from `today` on: external id → the booking's state."""
    cur = conn.execute(
        "SELECT i.external_id, b.state FROM booking_imports i JOIN bookings b ON b.code = i.code"
        " WHERE i.partner = ? AND b.day >= ?",
        (partner_id, today),
    )
    return {str(ext): str(state) for ext, state in cur}


def summary(res: PullResult) -> str:
    """A pull's outcome in one line for a person (no personal data: external ids and codes only)."""
    if res.error:
        return f"nothing applied: {res.error}"
    out = f"{res.booked} booked, {res.cancelled} cancelled" + (" (complete list)" if res.complete else "")
    if res.refused:
        out += f"; refused {len(res.refused)}: " + ", ".join(res.refused[:5])
    if res.problems:
        out += f"; {len(res.problems)} bad entries: " + "; ".join(res.problems[:3])
    return out


def status(im: BookingImports, links: PartnerLinks | None, conn: sqlite3.Connection) -> bi.ImportStatus:
    """What `GET /api/import/status` shows (on the read pool)."""
    cfg = im.config
    keys = im.keys()
    today = im.today()
    reports: dict[str, dict[str, int]] = {}
    cur = conn.execute(
        "SELECT json_extract(body, '$.partner'), sent_at IS NOT NULL, dead_at IS NOT NULL,"
        " discarded_at IS NOT NULL, COUNT(*) FROM outbox WHERE kind = ? GROUP BY 1, 2, 3, 4",
        (outbox.BOOKING_CANCEL,),
    )
    for pid, sent, dead, discarded, n in cur:
        r = reports.setdefault(str(pid), {"pending": 0, "dead": 0, "sent": 0})
        state = "sent" if sent else "" if discarded else "dead" if dead else "pending"
        if state:
            r[state] += int(n)
    imported = dict(conn.execute("SELECT partner, COUNT(*) FROM booking_imports GROUP BY partner").fetchall())
    partners = []
    for p in cfg.partners:
        signs = bi.signing_key(p, today)
        r = reports.get(p.id, {"pending": 0, "dead": 0, "sent": 0})
        pulled = links.puller.last.get(p.id) if links is not None else None
        partners.append(
            bi.PartnerStatus(
                p.id,
                p.name,
                tuple(
                    bi.KeyStatus(
                        k.id,
                        k.valid_until,
                        bi.key_taken(k, today),
                        k.id in keys.secrets,
                        keys.problems.get(k.id, "" if cfg.enabled else "booking import is off"),
                    )
                    for k in p.keys
                ),
                signs.id if signs is not None else "",
                int(imported.get(p.id, 0)),
                p.report_url,
                r["pending"],
                r["dead"],
                r["sent"],
                links.reporter.last_error.get(p.id, "") if links is not None else "",
                p.list_url,
                pulled.at if pulled is not None else "",
                summary(pulled) if pulled is not None else "",
            )
        )
    return bi.ImportStatus(cfg.enabled, cfg.window_s, tuple(partners))


class PartnerLinks:
    """The reporter and the puller, started with the server when `[booking_import]` is enabled."""

    def __init__(self, im: BookingImports, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.reporter = CancelReporter(im, transport)
        self.puller = ListPuller(im, transport)

    def start(self) -> None:
        self.reporter.start()
        self.puller.start()

    async def stop(self) -> None:
        with contextlib.suppress(Exception):
            await self.reporter.stop()
        await self.puller.stop()
