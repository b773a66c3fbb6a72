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
ignored by its derived tables; `outcome`, `department` and `case_no` (the outcomes issue, 22) are
allowed and are taken up by the centre when present. A change to what a field *means* (not a field added)
is a new format version: the centre lists the versions it accepts (`ACCEPTED_FORMATS`) and refuses others
with that list, so a newer hall knows what the centre needs.

The hall profile (`hall_profile`): what the centre must know of a hall's configuration to count the hall's
figures by the hall's own definitions — each series' target wait, which matters are 即办件, which department
owns a matter and a window, the hall's time zone and targets. It rides in the envelope (`"profile"`), not in
the event log: it is configuration, not something that happened, and the hall's own stream clients never
need it. Every answer to a batch names the fingerprint of the profile the centre holds (`"profile"`); the
hall sends its profile again whenever that differs from its own (at its first batch after a start, after a
config reload, after the centre lost it), so neither side keeps any state about it.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hallcore.config import HallConfig, MatterKind
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
_OUTCOME_FIELDS = ("outcome", "outcome_reason", "department", "case_no")

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
    hall: str,
    sent_at: str,
    hall_seq: int,
    oldest_unshipped_at: str | None,
    events: list[dict[str, Any]],
    profile: dict[str, Any] | None = None,
) -> dict[str, Any]:
    out = {
        "format": FORMAT_VERSION,
        "hall": hall,
        "sent_at": sent_at,
        "hall_seq": hall_seq,
        "oldest_unshipped_at": oldest_unshipped_at,
        "events": events,
    }
    if profile is not None:
        out["profile"] = profile
    return out


# ---- the hall profile --------------------------------------------------------------------------------------

PROFILE_VERSION = 1


def hall_profile(config: HallConfig) -> dict[str, Any]:
    """The part of the hall's configuration the centre counts with (configuration only: no staff, no
    stations, no keys, no personal data)."""
    names = {x.id: x.name for m in config.matters for x in m.precheck.materials} | {
        q.id: q.text for m in config.matters for q in m.precheck.questions
    }
    return {
        "version": PROFILE_VERSION,
        "name": config.hall.name,
        "timezone": config.hall.timezone,
        "departments": [{"id": d.id, "name": d.name} for d in config.departments],
        "series": [
            {"prefix": s.prefix, "name": s.name, "target_wait_min": s.target_wait_min} for s in config.series
        ],
        "matters": [
            {
                "code": m.code,
                "name": m.name,
                "series": m.series,
                "department": m.department,
                "immediate": m.kind is MatterKind.ON_THE_SPOT,
            }
            for m in config.matters
        ],
        "windows": [
            {"number": w.number, "name": w.name, "department": w.department, "zone": w.zone}
            for w in config.windows
        ],
        # Names of the pre-check's materials and questions, for the missing-material counts.
        "materials": [{"id": i, "name": names[i]} for i in sorted(names)],
        "targets": {
            "onsite_rate": config.targets.onsite_rate,
            "immediate_share": config.targets.immediate_share,
            "satisfaction": config.targets.satisfaction,
        },
    }


def profile_fingerprint(profile: Mapping[str, Any]) -> str:
    """16 hex digits of the canonical JSON: equal profiles, equal fingerprints, on both sides."""
    text = json.dumps(profile, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode()).hexdigest()[:16]


@dataclass(frozen=True, slots=True)
class ProfileSeries:
    prefix: str
    name: str
    target_wait_min: int


@dataclass(frozen=True, slots=True)
class ProfileMatter:
    code: str
    name: str
    series: str
    department: str
    immediate: bool


@dataclass(frozen=True, slots=True)
class ProfileWindow:
    number: int
    name: str
    department: str
    zone: str


@dataclass(frozen=True, slots=True)
class HallProfile:
    """A profile as the centre reads it (`parse_profile`)."""

    fingerprint: str
    name: str
    timezone: str
    departments: tuple[tuple[str, str], ...]  # (id, name)
    series: tuple[ProfileSeries, ...]
    matters: tuple[ProfileMatter, ...]
    windows: tuple[ProfileWindow, ...]
    targets: dict[str, float]


class ProfileError(ValueError):
    """A profile that is not one this code reads; the message says which field."""


def _str(d: Mapping[str, Any], key: str, where: str) -> str:
    v = d.get(key)
    if not isinstance(v, str):
        raise ProfileError(f"{where}.{key} is text")
    return v


def _int(d: Mapping[str, Any], key: str, where: str) -> int:
    v = d.get(key)
    if not isinstance(v, int) or isinstance(v, bool):
        raise ProfileError(f"{where}.{key} is a whole number")
    return v


def _items(d: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    v = d.get(key)
    if not isinstance(v, list) or not all(isinstance(x, Mapping) for x in v):
        raise ProfileError(f"profile.{key} is a list of objects")
    return v


def parse_profile(data: Any) -> HallProfile:
    """Check a received profile's shape (every field the centre uses) and read it."""
    if not isinstance(data, Mapping):
        raise ProfileError("profile is an object")
    if data.get("version") != PROFILE_VERSION:
        raise ProfileError(f"profile.version {data.get('version')!r} is not {PROFILE_VERSION}")
    targets = data.get("targets")
    if not isinstance(targets, Mapping) or not all(
        isinstance(v, int | float) and not isinstance(v, bool) for v in targets.values()
    ):
        raise ProfileError("profile.targets maps names to numbers")
    matters = []
    for i, m in enumerate(_items(data, "matters")):
        where = f"profile.matters[{i}]"
        if not isinstance(m.get("immediate"), bool):
            raise ProfileError(f"{where}.immediate is true or false")
        matters.append(
            ProfileMatter(
                _str(m, "code", where),
                _str(m, "name", where),
                _str(m, "series", where),
                _str(m, "department", where),
                bool(m["immediate"]),
            )
        )
    return HallProfile(
        fingerprint=profile_fingerprint(data),
        name=_str(data, "name", "profile"),
        timezone=_str(data, "timezone", "profile"),
        departments=tuple(
            (_str(d, "id", f"profile.departments[{i}]"), _str(d, "name", f"profile.departments[{i}]"))
            for i, d in enumerate(_items(data, "departments"))
        ),
        series=tuple(
            ProfileSeries(
                _str(s, "prefix", f"profile.series[{i}]"),
                _str(s, "name", f"profile.series[{i}]"),
                _int(s, "target_wait_min", f"profile.series[{i}]"),
            )
            for i, s in enumerate(_items(data, "series"))
        ),
        matters=tuple(matters),
        windows=tuple(
            ProfileWindow(
                _int(w, "number", f"profile.windows[{i}]"),
                _str(w, "name", f"profile.windows[{i}]"),
                _str(w, "department", f"profile.windows[{i}]"),
                _str(w, "zone", f"profile.windows[{i}]"),
            )
            for i, w in enumerate(_items(data, "windows"))
        ),
        targets={str(k): float(v) for k, v in targets.items()},
    )
