"""A booking partner (the province's 一网通办) for the booking import tests: its keys and a hall config that
knows them, requests it signs with `hallcore.provincial.HmacSigner` (the reference signer the documented
vectors check), and its own HTTP server on 127.0.0.1 port 0 that takes the hall's cancellation reports
(verifying their signature with `hallcore.provincial.verify`) and publishes a booking list.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import json
import pathlib
import secrets
import threading
from collections.abc import Callable, Iterator
from typing import Any

import httpx

from hallcore.config import BookingImport, HallConfig, Partner, PartnerKey
from hallcore.idnumber import complete
from hallcore.provincial import HmacSigner, verify
from tests.fakes.jsonhttp import Answer, JsonServer

PARTNER = "ywtb"
KEY_ID = "ywtb-2026a"
SECRET = b"ywtb-secret-one"
NEW_KEY_ID = "ywtb-2026b"
NEW_SECRET = b"ywtb-secret-two"
REPORT_PATH = "/hallq/cancelled"
LIST_PATH = "/hallq/bookings.json"
PUSH = "/api/import/bookings"


def secret_file(tmp_path: pathlib.Path, name: str, secret: bytes) -> str:
    path = tmp_path / f"{name}.secret"
    path.write_bytes(secret + b"\n")
    path.chmod(0o600)
    return str(path)


def with_import(
    config: HallConfig,
    tmp_path: pathlib.Path,
    *,
    keys: tuple[PartnerKey, ...] | None = None,
    **partner: Any,
) -> HallConfig:
    """`config` with `[booking_import]` on and the partner `ywtb` (key `ywtb-2026a` unless `keys`)."""
    if keys is None:
        keys = (PartnerKey(KEY_ID, secret_file(tmp_path, KEY_ID, SECRET)),)
    p = Partner(PARTNER, "一网通办", keys, **partner)
    return dataclasses.replace(config, booking_import=BookingImport(enabled=True, partners=(p,)))


def signed(
    path: str,
    body: bytes,
    now: dt.datetime,
    key_id: str = KEY_ID,
    secret: bytes = SECRET,
    nonce: str | None = None,
    method: str = "POST",
) -> dict[str, str]:
    """The headers a partner sends (a fresh nonce unless one is given)."""
    return {
        "Content-Type": "application/json",
        **HmacSigner(key_id, secret).headers(method, path, body, now, nonce or secrets.token_hex(16)),
    }


def person(i: int) -> str:
    """The i-th made-up citizen's ID number (valid check digit) for a partner's bookings."""
    return complete(f"11010119800101{i:03d}")


def entry(
    external_id: str, id_number: str, slot: str = "10:00", day: str = "2026-11-24", **more: Any
) -> dict[str, Any]:
    return {
        "external_id": external_id,
        "matter": "SW03",
        "day": day,
        "slot": slot,
        "id_number": id_number,
        **more,
    }


def push(
    http: httpx.Client, now: dt.datetime, body: dict[str, Any], **sign: Any
) -> tuple[httpx.Response, bytes, dict[str, str]]:
    """POST a signed push; returns the response and the exact bytes and headers (to replay them)."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    headers = signed(PUSH, raw, now, **sign)
    return http.post(PUSH, content=raw, headers=headers), raw, headers


def cancel(http: httpx.Client, now: dt.datetime, external_id: str, **sign: Any) -> httpx.Response:
    path = f"{PUSH}/{external_id}/cancel"
    return http.post(path, content=b"{}", headers=signed(path, b"{}", now, **sign))


class FakePartner:
    """The partner's side: `reports` (cancellation reports accepted, by idempotency key once), `bad` (what
    failed verification), `mode` "ok" or "down" (503); `listing` the bytes served at `LIST_PATH`."""

    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        self.clock = clock
        self.mode = "ok"
        self.reports: list[dict[str, Any]] = []
        self.keys: list[str] = []
        self.repeats = 0
        self.bad: list[str] = []
        self.answers: list[int] = []
        self.listing = b'{"bookings": [], "complete": true}'
        self._nonces: dict[str, float] = {}
        self._lock = threading.Lock()
        self.http = JsonServer(
            self._post, lambda _path, _headers: (200 if self.mode == "ok" else 503, self.listing, {})
        )
        self.report_url = self.http.base_url + REPORT_PATH
        self.list_url = self.http.base_url + LIST_PATH

    def _post(self, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        return self.report(path, headers, raw), b"{}", {}

    def report(self, path: str, headers: dict[str, str], raw: bytes) -> int:
        secrets_ = {KEY_ID: SECRET, NEW_KEY_ID: NEW_SECRET}
        with self._lock:
            reason = verify(headers, "POST", path, raw, secrets_.get, self.clock(), self._nonces)
            if reason:
                self.bad.append(reason)
                status = 401
            elif self.mode != "ok":
                status = 503
            else:
                key = headers.get("Idempotency-Key", "")
                if key in self.keys:
                    self.repeats += 1
                else:
                    self.keys.append(key)
                    self.reports.append(json.loads(raw))
                status = 200
            self.answers.append(status)
            return status

    def close(self) -> None:
        self.http.close()


@contextlib.contextmanager
def fake_partner(clock: Callable[[], dt.datetime]) -> Iterator[FakePartner]:
    p = FakePartner(clock)
    try:
        yield p
    finally:
        p.close()
