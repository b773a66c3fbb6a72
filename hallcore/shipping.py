"""What a hall ships to the centre (`hallq central`, docs/central.md): the batch format, its versions, the
privacy filter every event passes before it leaves the hall, and the enrollment code both ends show.

Pure: the hall's shipper (hallserver/shipper.py) and the centre (hallcentral/) both use these definitions, so
the format has one home. Signing is done by the shells (the key lives in a file, the crypto library there).

Format version 1 (the envelope, JSON, UTF-8):

    {"format": 1, "hall": "<hall id>", "sent_at": "<ISO time>", "hall_seq": <latest seq at the hall>,
     "oldest_unshipped_at": "<ISO time of the first event not yet acknowledged>" | null,
     "events": [{"seq": n, "at": "<ISO>", "kind": "<event kind>", "body": {...}}, ...]}

`events` are consecutive hall seqs, oldest first; an empty list is a heartbeat (the centre answers with the
seq it has acknowledged, which is where the hall resumes). Each body is the hall event as the hall's
stream sends it, passed through `export_body`: an allow-list per kind, so a field added to an event later
stays in the hall until it is named here. Fields the centre does not know are kept in its event rows and
ignored by its derived tables; `outcome`, `department` and `case_number` (the outcomes issue) are already
allowed and are taken up by the centre when present. A change to what a field *means* (not a field added)
is a new format version: the centre lists the versions it accepts (`ACCEPTED_FORMATS`) and refuses others
with that list, so a newer hall knows what the centre needs.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from hallcore.privacy import mask_name

FORMAT_VERSION = 1
#: The versions a centre built from this code can read.
ACCEPTED_FORMATS: tuple[int, ...] = (1,)

#: Largest batch a hall sends and a centre accepts (events per batch).
MAX_BATCH_EVENTS = 2000

#: HTTP headers of a signed request: the hall id and the Ed25519 signature (base64) of the exact body bytes.
HALL_HEADER = "x-hallq-hall"
SIGNATURE_HEADER = "x-hallq-signature"

# Enrollment codes avoid 0/O and 1/I/L (read aloud between a hall and the centre's operator).
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"

# Fields added by the outcomes issue; allowed now so a hall that has them ships them without a new format.
_OUTCOME_FIELDS = ("outcome", "outcome_reason", "department", "case_number")

_TICKET = (
    "id",
    "label",
    "series",
    "matter",
    "matter_name",
    "source",
    "priority",
    "priority_name",
    "state",
    "issued_at",
    "window",
    "window_name",
    "holder_masked",
    "recalls",
    "transfers",
    "precheck",
    "missing",
    "due",
    "target_window",
    *_OUTCOME_FIELDS,
)
_WINDOW = ("number", "name", "state", "zone", "series", "staff", "pause_reason", "current", "current_state")

# Per event kind: allowed top-level fields; nested views are filtered by their own lists. Left out on
# purpose: notes (free text typed by clerks and managers), a booking's code (it opens the booking page),
# a device report's reason (free text from a station), estimates' English texts.
_ALLOWED: dict[str, tuple[str, ...]] = {
    "ticket_issued": ("at", "ticket", "ahead", "estimate_low", "estimate_high", "waiting"),
    "ticket_changed": ("at", "action", "ticket", "window", "waiting", *_OUTCOME_FIELDS),
    "window_changed": ("at", "action", "window"),
    "booking_changed": ("at", "action", "matter", "matter_name", "day", "slot_start", "remaining", "ticket"),
    "rating_recorded": (
        "at",
        "ticket",
        "label",
        "score",
        "matter",
        "matter_name",
        "window",
        "staff",
        *_OUTCOME_FIELDS,
    ),
    "case_changed": (
        "at",
        "action",
        "case",
        "ticket",
        "label",
        "score",
        "state",
        "due",
        "window",
        "matter_name",
    ),
    "device_health": ("at", "station", "device", "health"),
    "precheck_recorded": ("at", "matter", "matter_name", "outcome", "missing", "source"),
}


def export_body(kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """The part of one hall event that may leave the hall. An unknown kind ships only its time."""
    allowed = _ALLOWED.get(kind, ("at",))
    out: dict[str, Any] = {}
    for name in allowed:
        if name not in body:
            continue
        value = body[name]
        if name == "ticket" and isinstance(value, Mapping):
            value = _view(value, _TICKET)
        elif name == "window" and isinstance(value, Mapping):
            value = _view(value, _WINDOW)
        out[name] = value
    return out


def _view(view: Mapping[str, Any], allowed: tuple[str, ...]) -> dict[str, Any]:
    out = {k: view[k] for k in allowed if k in view}
    if out.get("holder_masked"):
        # Masked at the hall already; masked again so a full name can never ride along by mistake.
        out["holder_masked"] = mask_name(str(out["holder_masked"]))
    return out


def export_event(seq: int, at: str, kind: str, body: Mapping[str, Any]) -> dict[str, Any]:
    """One item of a batch's `events` list."""
    return {"seq": seq, "at": at, "kind": kind, "body": export_body(kind, body)}


def enrollment_code(public_key: bytes) -> str:
    """Six characters derived from the hall's public key: the hall's dashboard and the centre's approval page
    show the same code for the same key, so the operator approving it knows it is that hall's key."""
    digest = hashlib.sha256(b"hallq-central-enroll:" + public_key).digest()
    n = int.from_bytes(digest[:8], "big")
    chars = []
    for _ in range(6):
        n, r = divmod(n, len(CODE_ALPHABET))
        chars.append(CODE_ALPHABET[r])
    return "".join(chars)


def envelope(
    hall: str, sent_at: str, hall_seq: int, oldest_unshipped_at: str | None, events: list[dict[str, Any]]
) -> dict[str, Any]:
    return {
        "format": FORMAT_VERSION,
        "hall": hall,
        "sent_at": sent_at,
        "hall_seq": hall_seq,
        "oldest_unshipped_at": oldest_unshipped_at,
        "events": events,
    }
