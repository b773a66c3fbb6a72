"""Shipping the hall's numbered events to the centre (`hallq central`; docs/central.md).

- The hall never waits: the shipper reads the append-only `events` table on the read pool and posts over
  HTTP(S) from its own task; it writes nothing to the hall database (the centre keeps the cursor), so a
  slow or absent centre only grows the backlog the dashboard shows.
- Resumable and exactly once: every reply carries the centre's acknowledged seq and the next batch starts
  after it; the centre applies (hall, seq) once, so a batch resent after a kill changes nothing there.
- Oldest first: after days offline the backlog goes out in seq order, `batch_events` at a time.
- Signed: the hall's Ed25519 key (a 0600 file beside the database, made on first start) signs the exact
  body bytes; the hall enrolls with its public key and ships only after the centre's operator approved it,
  comparing the code both sides show (`hallcore.shipping.enrollment_code`).
- Only what the centre needs leaves the hall: every event passes `hallcore.shipping.export_body`.
- The hall profile (`hallcore.shipping.hall_profile`: series targets, 即办件 matters, departments) rides in a
  batch whenever the fingerprint the centre answers with is not the hall's own: the first batch after a
  start, after a config reload, after the centre lost it. A centre that answers without one does not read
  profiles, and is not sent one again.

Backoff waits are real time (network retries), not hall time.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import logging
import os
import pathlib
import random
import sqlite3
import time
from dataclasses import asdict, dataclass
from typing import Any

import httpx
import orjson
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hallcore.config import Central
from hallcore.shipping import (
    HALL_HEADER,
    SIGNATURE_HEADER,
    enrollment_code,
    envelope,
    export_event,
    hall_profile,
    profile_fingerprint,
)
from hallserver.backoff import backoff_s
from hallserver.evloop import Worker
from hallserver.service import HallServer

log = logging.getLogger(__name__)

FIRST_BACKOFF_S = 1.0


def load_or_make_key(path: pathlib.Path) -> Ed25519PrivateKey:
    """The hall's signing key: read it, or make it once (0600, written atomically)."""
    if path.exists():
        key = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError(f"{path} is not an Ed25519 private key")
        return key
    key = Ed25519PrivateKey.generate()
    pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(pem)
        f.flush()
        os.fsync(f.fileno())
    tmp.replace(path)
    return key


def signed(key: Ed25519PrivateKey, hall_id: str, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """A request to the centre: the exact body bytes (compact UTF-8 JSON) and the headers naming the hall
    and signing them."""
    body = orjson.dumps(payload)
    sig = base64.b64encode(key.sign(body)).decode()
    headers = {HALL_HEADER: hall_id, SIGNATURE_HEADER: sig, "content-type": "application/json"}
    return body, headers


def public_bytes(key: Ed25519PrivateKey) -> bytes:
    return key.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


@dataclass(slots=True)
class ShipState:
    """What the hall dashboard shows."""

    enabled: bool
    url: str
    state: str = "starting"  # starting | pending | shipping | refused | offline | disabled
    code: str = ""
    acked_seq: int | None = None
    hall_seq: int = 0
    oldest_unshipped_at: str = ""
    backlog_age_s: float | None = None
    last_ok_at: str = ""
    last_error: str = ""
    failures: int = 0
    shipped: int = 0

    @property
    def backlog(self) -> int | None:
        return None if self.acked_seq is None else max(0, self.hall_seq - self.acked_seq)

    def as_json(self) -> dict[str, Any]:
        backlog_age_s = None if self.backlog_age_s is None else round(self.backlog_age_s, 1)
        return {**asdict(self), "backlog": self.backlog, "backlog_age_s": backlog_age_s}


class _Retry(Exception):
    """Try again after the backoff (the reason is in the state)."""


def _read_batch(after: int, limit: int) -> Any:
    def read(conn: sqlite3.Connection) -> list[dict[str, Any]]:
        rows = conn.execute(
            "SELECT seq, at, kind, body FROM events WHERE seq > ? ORDER BY seq LIMIT ?", (after, limit)
        ).fetchall()
        out = []
        for i, (seq, at, kind, body) in enumerate(rows):
            if i and i % 50 == 0:
                time.sleep(0)  # let the loop and the writer have the GIL: a batch is prepared in short slices
            data = orjson.loads(body)
            data.pop("seq", None)
            data.pop("kind", None)
            out.append(export_event(int(seq), str(at), str(kind), data))
        return out

    return read


class Shipper(Worker):
    task_name = "hall-central-shipper"

    def __init__(self, hall: HallServer, transport: httpx.AsyncBaseTransport | None = None) -> None:
        self.hall = hall
        cfg = hall.config.central
        self.state = ShipState(cfg.enabled and bool(cfg.url), cfg.url)
        if not self.state.enabled:
            self.state.state = "disabled"
        self._transport = transport
        self._rng = random.Random()
        self._key: Ed25519PrivateKey | None = None
        self._last_ok_mono = 0.0
        self._busy_s = 0.0  # time spent reading, encoding and signing the batch in hand
        # The profile fingerprint the centre said it holds (None: not known yet, so send ours).
        self._centre_profile: str | None = None
        self._profile: tuple[object, dict[str, Any], str] | None = None  # (config, profile, fingerprint)

    @property
    def config(self) -> Central:
        return self.hall.config.central

    @property
    def key_path(self) -> pathlib.Path:
        if self.config.key_file:
            return pathlib.Path(self.config.key_file)
        return self.hall.db_path.with_name(self.hall.db_path.name + ".central.key")

    def start(self) -> None:
        if self.state.enabled:
            super().start()

    def snapshot(self) -> dict[str, Any]:
        """The state with the backlog counted against the hall's latest seq and clock now."""
        self.state.hall_seq = self.hall.store.seq
        if self.state.oldest_unshipped_at and self.state.backlog:
            oldest = dt.datetime.fromisoformat(self.state.oldest_unshipped_at)
            self.state.backlog_age_s = max(0.0, (self.hall.clock.now() - oldest).total_seconds())
        else:
            self.state.backlog_age_s = None if self.state.backlog is None else 0.0
        return self.state.as_json()

    def _own_profile(self) -> tuple[dict[str, Any], str]:
        """The profile of the running config (made again after a reload) and its fingerprint."""
        config = self.hall.config
        if self._profile is None or self._profile[0] is not config:
            profile = hall_profile(config)
            self._profile = (config, profile, profile_fingerprint(profile))
        return self._profile[1], self._profile[2]

    def _signed(self, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
        assert self._key is not None
        return signed(self._key, self.hall.config.hall.id, payload)

    async def _run(self) -> None:
        self._key = await asyncio.to_thread(load_or_make_key, self.key_path)
        self.state.code = enrollment_code(public_bytes(self._key))
        base = self.config.url.rstrip("/")
        async with httpx.AsyncClient(transport=self._transport, timeout=30.0) as client:
            while True:
                try:
                    if self.state.acked_seq is None:
                        wait = await self._enroll(client, base)
                    else:
                        wait = await self._ship(client, base)
                except asyncio.CancelledError:
                    raise
                except _Retry:
                    wait = self._backoff()
                except Exception as exc:
                    log.exception("central shipping: unexpected error")
                    self._failed("offline", f"{type(exc).__name__}: {exc}")
                    wait = self._backoff()
                if wait > 0:
                    await asyncio.sleep(wait)

    def _backoff(self) -> float:
        """After a failure (counted in the state): with jitter, so a province's halls that lost the centre
        together do not all return in the same second when it comes back."""
        return backoff_s(
            max(1, self.state.failures), FIRST_BACKOFF_S, float(self.config.retry_max_s), self._rng
        )

    def _failed(self, state: str, error: str) -> None:
        if self.state.failures == 0:
            log.warning("central shipping: %s (%s); retrying with backoff", state, error)
        self.state.failures += 1
        self.state.state = state
        self.state.last_error = error[:300]

    def _ok(self) -> None:
        if self.state.failures:
            log.info("central shipping recovered after %d failed attempts", self.state.failures)
        self.state.failures = 0
        self.state.last_error = ""
        self.state.last_ok_at = self.hall.clock.now().isoformat()
        self._last_ok_mono = time.monotonic()

    async def _post(self, client: httpx.AsyncClient, url: str, payload: dict[str, Any]) -> httpx.Response:
        started = time.perf_counter()
        body, headers = self._signed(payload)
        self._busy_s += time.perf_counter() - started
        try:
            return await client.post(url, content=body, headers=headers)
        except httpx.HTTPError as exc:
            self._failed("offline", f"{type(exc).__name__}: {exc}")
            raise _Retry from exc

    def _refused(self, r: httpx.Response) -> None:
        try:
            data = r.json()
            reason = f"{data.get('error', '')}: {data.get('message_en') or data.get('message', '')}"
        except ValueError:
            reason = r.text[:200]
        self._failed("refused" if r.status_code < 500 else "offline", f"HTTP {r.status_code} {reason}")
        raise _Retry

    async def _enroll(self, client: httpx.AsyncClient, base: str) -> float:
        assert self._key is not None
        payload = {
            "hall": self.hall.config.hall.id,
            "name": self.hall.config.hall.name,
            "public_key": base64.b64encode(public_bytes(self._key)).decode(),
            "at": self.hall.clock.now().isoformat(),
        }
        r = await self._post(client, f"{base}/api/v1/enroll", payload)
        if r.status_code not in (200, 202):
            self._refused(r)
        data = r.json()
        self._ok()
        if data.get("state") == "approved":
            self.state.acked_seq = int(data.get("acked_seq", 0))
            self.state.state = "shipping"
            log.info("central: enrolled and approved; resuming after seq %d", self.state.acked_seq)
            return 0.0
        self.state.state = "pending"
        # While pending, ask again at the heartbeat's pace: shipping starts that soon after the approval.
        return self.config.heartbeat_s

    async def _ship(self, client: httpx.AsyncClient, base: str) -> float:
        assert self.state.acked_seq is not None
        after = self.state.acked_seq
        started = time.perf_counter()
        events = await self.hall.store.read(_read_batch(after, self.config.batch_events))
        self._busy_s = time.perf_counter() - started
        hall_seq = self.hall.store.seq
        oldest = events[0]["at"] if events else None
        self.state.oldest_unshipped_at = oldest or ""
        # Idle: a heartbeat only every heartbeat_s (real time), new events looked for every poll_s.
        if (
            not events
            and self._last_ok_mono
            and time.monotonic() - self._last_ok_mono < self.config.heartbeat_s
        ):
            return self.config.poll_s
        profile, fp = self._own_profile()
        payload = envelope(
            self.hall.config.hall.id,
            self.hall.clock.now().isoformat(),
            hall_seq,
            oldest,
            events,
            profile if self._centre_profile != fp else None,
        )
        r = await self._post(client, f"{base}/api/v1/batches", payload)
        if r.status_code == 409:
            # The centre has a different cursor (its database was restored, or ours): resume from its.
            data = r.json()
            self.state.acked_seq = int(data.get("acked_seq", 0))
            self._failed("shipping", f"HTTP 409 gap: resuming after the centre's seq {self.state.acked_seq}")
            return 0.0
        if r.status_code == 403 and r.json().get("error") == "not_approved":
            self.state.acked_seq = None
            self._refused(r)
        if r.status_code != 200:
            self._refused(r)
        data = r.json()
        self.state.acked_seq = int(data["acked_seq"])
        # A centre that does not answer with a fingerprint does not read profiles: stop sending ours.
        self._centre_profile = str(data["profile"] or "") if "profile" in data else fp
        self.state.shipped += int(data.get("applied", 0))
        self.state.state = "shipping"
        self._ok()
        more = len(events) >= self.config.batch_events
        if more or self.state.acked_seq < self.hall.store.seq:
            # Catching up: pause so that reading and encoding batches take at most catch_up_share of the
            # time (the hall's core is for issuing and calling; a week of backlog can take a minute).
            share = self.config.catch_up_share
            return self._busy_s * (1 - share) / share
        return self.config.poll_s
