"""The provincial 好差评 platform's side of a rating, pure: the data items sent for a rating and for a closed
差评 case, the province's field names (`upload.field_map`), and the request signature (docs/integrations.md).

Signing (scheme `HQ1-HMAC-SHA256`, defined by hallq): the canonical string is seven lines joined by `\\n`

    HQ1-HMAC-SHA256
    POST                     the method, upper case
    /hcp/evaluate            the URL path (no query)
    <appKey>
    <timestamp>              POSIX seconds, decimal
    <nonce>                  32 lowercase hex characters, new for every request
    <sha256 hex of the body bytes>

and the signature is base64(HMAC-SHA256(app secret, canonical string)). The four values travel in the headers
`X-HQ-AppKey`, `X-HQ-Timestamp`, `X-HQ-Nonce`, `X-HQ-Signature`. A verifier refuses a timestamp outside
its window (±300 s by default) and a nonce it has seen inside that window, so a captured request cannot be
replayed; the body digest ties the signature to the exact bytes. A province with another scheme plugs in its
own `Signer`.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import re
from collections.abc import Callable, Mapping, MutableMapping
from dataclasses import dataclass
from typing import Any, Protocol

from hallcore.model import SCORE_NAMES

SCHEME = "HQ1-HMAC-SHA256"
APP_KEY_HEADER = "X-HQ-AppKey"
TIMESTAMP_HEADER = "X-HQ-Timestamp"
NONCE_HEADER = "X-HQ-Nonce"
SIGNATURE_HEADER = "X-HQ-Signature"
DEFAULT_WINDOW_S = 300
#: `upload.signer` values: hallq's scheme, or none (a private line to the platform).
SIGNERS = ("hq1-hmac-sha256", "none")
_NONCE = re.compile(r"^[0-9a-f]{32}$")

#: How the rating reached hallq (`Rating.source`) → the national scheme's channel (评价渠道).
CHANNELS = {"pad": "评价器", "phone": "扫码", "sms": "短信", "counter": "窗口"}

#: The data items hallq sends (the right-hand side of `upload.field_map`), in the order docs list them.
RATING_ITEMS = (
    "idempotency_key",
    "kind",
    "hall",
    "matter_code",
    "matter_name",
    "case_no",
    "outcome",
    "ticket_id",
    "channel",
    "score",
    "level_name",
    "rated_at",
    "department",
    "window",
    "clerk",
    "rater_name",
    "rater_key",
    "tags",
    "comment",
    "issued_at",
    "served_at",
    "finished_at",
)
FOLLOWUP_ITEMS = ("case_id", "opened_at", "callback_at", "rectification", "rater_view", "closed_at")
ITEMS = RATING_ITEMS + FOLLOWUP_ITEMS


def body_digest(body: bytes) -> str:
    return hashlib.sha256(body).hexdigest()


def canonical_string(method: str, path: str, app_key: str, timestamp: str, nonce: str, body: bytes) -> str:
    return "\n".join((SCHEME, method.upper(), path, app_key, timestamp, nonce, body_digest(body)))


def hmac_signature(secret: bytes, canonical: str) -> str:
    return base64.b64encode(hmac.new(secret, canonical.encode(), hashlib.sha256).digest()).decode()


class Signer(Protocol):
    """Signs one request: the headers to add, given the exact body bytes, the time and a fresh nonce."""

    def headers(
        self, method: str, path: str, body: bytes, now: dt.datetime, nonce: str
    ) -> dict[str, str]: ...


@dataclass(frozen=True, slots=True)
class HmacSigner:
    """hallq's own scheme (module docstring)."""

    app_key: str
    secret: bytes

    def headers(self, method: str, path: str, body: bytes, now: dt.datetime, nonce: str) -> dict[str, str]:
        ts = str(int(now.timestamp()))
        sig = hmac_signature(self.secret, canonical_string(method, path, self.app_key, ts, nonce, body))
        return {
            APP_KEY_HEADER: self.app_key,
            TIMESTAMP_HEADER: ts,
            NONCE_HEADER: nonce,
            SIGNATURE_HEADER: sig,
        }


@dataclass(frozen=True, slots=True)
class NoSigner:
    """For a platform reached over a private line that signs nothing (`upload.signer = "none"`)."""

    def headers(
        self,
        method: str,  # noqa: ARG002
        path: str,  # noqa: ARG002
        body: bytes,  # noqa: ARG002
        now: dt.datetime,  # noqa: ARG002
        nonce: str,  # noqa: ARG002
    ) -> dict[str, str]:
        return {}


#: What `check_signed` can find wrong with a request: code → the reason `verify` gives.
PROBLEMS = {
    "unsigned": "missing signature headers",
    "unknown_key": "unknown appKey",
    "bad_timestamp": "bad timestamp",
    "stale": "timestamp outside the window",
    "bad_nonce": "bad nonce",
    "bad_signature": "bad signature",
    "replayed": "nonce replayed",
}


@dataclass(frozen=True, slots=True)
class Signed:
    """What `check_signed` found: `problem` is "" for a good signature, else a code of `PROBLEMS`."""

    problem: str
    app_key: str = ""
    timestamp: int = 0
    nonce: str = ""


def check_signed(
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    secret_of: Callable[[str], bytes | None],
    now: dt.datetime,
    window_s: int = DEFAULT_WINDOW_S,
) -> Signed:
    """Everything a verifier checks but the nonce's novelty (which needs a store: `verify` keeps it in a
    mapping, the hall's import API in its database): the headers, the key, the timestamp window, the nonce's
    form and the signature over the exact body."""
    low = {k.lower(): v for k, v in headers.items()}
    app_key = low.get(APP_KEY_HEADER.lower(), "")
    ts = low.get(TIMESTAMP_HEADER.lower(), "")
    nonce = low.get(NONCE_HEADER.lower(), "")
    sig = low.get(SIGNATURE_HEADER.lower(), "")
    if not (app_key and ts and nonce and sig):
        return Signed("unsigned")
    secret = secret_of(app_key)
    if secret is None:
        return Signed("unknown_key", app_key)
    if not ts.isdigit():
        return Signed("bad_timestamp", app_key)
    t = int(ts)
    if abs(now.timestamp() - t) > window_s:
        return Signed("stale", app_key, t)
    if not _NONCE.match(nonce):
        return Signed("bad_nonce", app_key, t)
    expected = hmac_signature(secret, canonical_string(method, path, app_key, ts, nonce, body))
    if not hmac.compare_digest(expected, sig):
        return Signed("bad_signature", app_key, t, nonce)
    return Signed("", app_key, t, nonce)


def verify(
    headers: Mapping[str, str],
    method: str,
    path: str,
    body: bytes,
    secret_of: Callable[[str], bytes | None],
    now: dt.datetime,
    seen: MutableMapping[str, float],
    window_s: int = DEFAULT_WINDOW_S,
) -> str:
    """What a platform checks: "" when the request is good, else the reason it is refused. `seen` holds the
    nonces accepted so far (nonce → timestamp); entries older than the window are dropped here."""
    signed = check_signed(headers, method, path, body, secret_of, now, window_s)
    if signed.problem == "unknown_key":
        return f"unknown appKey {signed.app_key!r}"
    if signed.problem:
        return PROBLEMS[signed.problem]
    for old in [n for n, at in seen.items() if now.timestamp() - at > window_s]:
        del seen[old]
    if signed.nonce in seen:
        return PROBLEMS["replayed"]
    seen[signed.nonce] = float(signed.timestamp)
    return ""


# ---- what is sent ------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class RatingFacts:
    """What the hall knows about a rating beyond the rating row (looked up by the shell)."""

    matter_name: str = ""
    department: str = ""
    case_no: str = ""  # 办件编号, when the counter recorded one
    outcome: str = ""  # how the case ended at the window (办结/受理/补正/不予受理/咨询)
    rater_name: str = ""  # masked (张*), never a full name
    rater_key: str = ""  # a keyed hash of the rater's ID, never the number itself
    tags: tuple[str, ...] = ()
    comment: str = ""


def rating_key(hall_id: str, ticket_id: str) -> str:
    """One rating per case (一次一评): the ticket names it, so its key is stable across resends."""
    return f"{hall_id}:{ticket_id}"


def followup_key(hall_id: str, case_id: str, closes: int) -> str:
    """A case can be closed again after an appeal: every close is its own report."""
    return f"{hall_id}:{case_id}:close{closes}"


def rating_item(hall_id: str, rating: Mapping[str, Any], facts: RatingFacts) -> dict[str, Any]:
    """The data items of one rating (`rating` is a `ratings` row as a dict)."""
    score = int(rating["score"])
    return {
        "idempotency_key": rating_key(hall_id, str(rating["ticket"])),
        "kind": "rating",
        "hall": hall_id,
        "matter_code": rating["matter"],
        "matter_name": facts.matter_name,
        "case_no": facts.case_no,
        "outcome": facts.outcome,
        "ticket_id": rating["ticket"],
        "channel": CHANNELS.get(str(rating.get("source") or "pad"), "评价器"),
        "score": score,
        "level_name": SCORE_NAMES.get(score, ("", ""))[0],
        "rated_at": rating["at"],
        "department": facts.department,
        "window": rating["window"],
        "clerk": rating["staff"],
        "rater_name": facts.rater_name,
        "rater_key": facts.rater_key,
        "tags": list(facts.tags),
        "comment": facts.comment,
        "issued_at": rating.get("issued_at"),
        "served_at": rating.get("serving_at"),
        "finished_at": rating.get("finished_at"),
    }


def followup_item(
    hall_id: str, rating: Mapping[str, Any], facts: RatingFacts, case: Mapping[str, Any], closes: int
) -> dict[str, Any]:
    """A closed 差评 case: the rating's items plus 回访 time, 整改 result and the rater's view after.

    `case` is a `cases` row as a dict with `steps` a list of (action, note, staff, at): the first 回访's time,
    the last 整改/解释 note (the result) and the close note (what the rater said when called back)."""
    steps = list(case["steps"])
    callbacks = [s for s in steps if s[0] == "callback"]
    resolves = [s for s in steps if s[0] == "resolve"]
    closes_ = [s for s in steps if s[0] == "close"]
    item = rating_item(hall_id, rating, facts)
    item.update(
        idempotency_key=followup_key(hall_id, str(case["id"]), closes),
        kind="followup",
        case_id=case["id"],
        opened_at=case["opened_at"],
        callback_at=callbacks[0][3] if callbacks else None,
        rectification=resolves[-1][1] if resolves else "",
        rater_view=closes_[-1][1] if closes_ else "",
        closed_at=case.get("closed_at"),
    )
    return item


def platform_body(item: Mapping[str, Any], field_map: Mapping[str, str]) -> dict[str, Any]:
    """The province's JSON for one item: `field_map` is platform field → hallq item; with no map the items go
    as they are. The idempotency key always rides along (as `idempotencyKey` unless the map names it)."""
    if not field_map:
        return dict(item)
    body = {platform: item.get(ours) for platform, ours in field_map.items()}
    if "idempotency_key" not in field_map.values():
        body.setdefault("idempotencyKey", item["idempotency_key"])
    return body
