"""A provincial 好差评 platform on 127.0.0.1 port 0 (a real HTTP server in a thread) for upload tests.

It verifies every request's HQ1-HMAC-SHA256 signature with `hallcore.provincial.verify` (the reference the
documented vectors check; a bad signature is answered 401) and accepts a key once: a repeat of an accepted key
is answered 200 and counted in `repeats`, never in `accepted`. What it does next is set by the test:

- `mode = "ok"` (default), `"down"` (503, before the signature is checked), `"throttle"` (429 with
  `Retry-After: 1`);
- `late = n`: the next n requests it takes are answered only after `hold_s` seconds (the client times out
  first, so it sends them again);
- `refuse = {key}`: answer 422 to those keys (refused for good), in any mode but down;
- `hold = {key}`: accept that key, then hold the answer until `release` is set (a kill mid-upload).

`clock` gives the platform's "now" for the timestamp window (the hall's `FakeClock` in in-process tests).
"""

from __future__ import annotations

import datetime as dt
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from hallcore.provincial import verify
from tests.fakes.jsonhttp import Answer, JsonServer

APP_KEY = "hq-test-app"
SECRET = b"hq-test-secret"
PATH = "/hcp/evaluate"


class FakeProvince:
    def __init__(self, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)) -> None:
        self.clock = clock
        self.mode = "ok"
        self.hold_s = 5.0
        self.late = 0
        self.refuse: set[str] = set()
        self.hold: set[str] = set()
        self.release = threading.Event()
        self.held = threading.Event()  # set when a held request has been accepted
        self.accepted: list[dict[str, Any]] = []  # bodies, in the order first accepted
        self.keys: list[str] = []  # their Idempotency-Key headers
        self.repeats: list[str] = []  # keys seen again after they were accepted
        self.answers: list[int] = []  # every status answered, in order
        self.bad_signatures: list[str] = []
        self._seen_nonces: dict[str, float] = {}
        self._lock = threading.Lock()
        self.http = JsonServer(self._post)
        self.url = self.http.base_url + PATH

    def _post(self, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        status, extra = self.handle(path, headers, raw)
        body = json.dumps({"code": 0 if status == 200 else status, **extra}, ensure_ascii=False).encode()
        return status, body, {"Retry-After": "1"} if status == 429 else {}

    def handle(self, path: str, headers: dict[str, str], raw: bytes) -> tuple[int, dict[str, Any]]:
        if self.mode == "down":
            # A platform in maintenance answers from its gateway, before any signature is looked at. (Checking
            # first made a flake: a test's fixture day moves the hall's fake clock while a try is in flight,
            # the stale timestamp was refused 401, and the rating became a dead letter.)
            return self._answer(503, {"msg": "maintenance"})
        with self._lock:
            reason = verify(
                headers,
                "POST",
                path,
                raw,
                lambda k: SECRET if k == APP_KEY else None,
                self.clock(),
                self._seen_nonces,
            )
        if reason:
            self.bad_signatures.append(reason)
            return self._answer(401, {"msg": reason})
        key = headers.get("Idempotency-Key", "")
        body = json.loads(raw)
        if key in self.refuse:
            return self._answer(422, {"msg": f"事项编码不存在 ({key})"})
        if self.mode == "throttle":
            return self._answer(429, {"msg": "too many requests"})
        with self._lock:
            if key in self.keys:
                self.repeats.append(key)
            else:
                self.accepted.append(body)
                self.keys.append(key)
        if key in self.hold:
            self.held.set()
            self.release.wait(30)
        with self._lock:
            late, self.late = self.late > 0, max(0, self.late - 1)
        if late:
            time.sleep(self.hold_s)
        return self._answer(200, {})

    def _answer(self, status: int, extra: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        self.answers.append(status)
        return status, extra

    def close(self) -> None:
        self.release.set()
        self.http.close()


@contextmanager
def fake_province(
    clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC),
) -> Iterator[FakeProvince]:
    p = FakeProvince(clock)
    try:
        yield p
    finally:
        p.close()
