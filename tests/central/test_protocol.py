"""The shipping protocol against a real centre on a real PostgreSQL: enrollment and approval, exactly-once
batches, and every refusal with its reason."""

from __future__ import annotations

import base64
import json
import pathlib
from collections.abc import Mapping

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hallcentral.devcluster import Cluster
from hallcore.shipping import HALL_HEADER, SIGNATURE_HEADER, envelope, export_event
from hallserver.shipper import public_bytes
from tests.central.support import centre

AT = "2026-11-23T09:00:00+08:00"


def _post(
    url: str, key: Ed25519PrivateKey, hall: str, payload: Mapping[str, object], path: str = "/api/v1/batches"
) -> httpx.Response:
    body = json.dumps(payload, ensure_ascii=False).encode()
    sig = base64.b64encode(key.sign(body)).decode()
    return httpx.post(
        url + path, content=body, headers={HALL_HEADER: hall, SIGNATURE_HEADER: sig}, timeout=10
    )


def _issued(seq: int, label: str) -> dict[str, object]:
    ticket = {
        "id": f"2026-11-23/{label}",
        "label": label,
        "series": label[0],
        "matter": "HJ01",
        "matter_name": "户口迁移",
        "source": "kiosk",
        "priority": "normal",
        "state": "waiting",
        "issued_at": AT,
        "holder_masked": "张三丰",
        "notes_typed_by_clerk": "secret",
    }
    return export_event(
        seq, AT, "ticket_issued", {"at": AT, "ticket": ticket, "ahead": 0, "waiting": {"A": seq}}
    )


def _enroll(url: str, key: Ed25519PrivateKey, hall: str) -> httpx.Response:
    payload = {
        "hall": hall,
        "name": hall,
        "public_key": base64.b64encode(public_bytes(key)).decode(),
        "at": AT,
    }
    return _post(url, key, hall, payload, "/api/v1/enroll")


def test_enroll_approve_ship_once_and_refusals(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    with centre(cluster, tmp_path) as c:
        key = Ed25519PrivateKey.generate()
        # Unknown hall: refused with the reason, nothing stored.
        r = _post(c.url, key, "h1", envelope("h1", AT, 1, AT, [_issued(1, "A001")]))
        assert (r.status_code, r.json()["error"]) == (403, "unknown_hall"), r.text
        r = _enroll(c.url, key, "h1")
        assert (r.status_code, r.json()["state"]) == (202, "pending"), r.text
        code = r.json()["code"]
        # Pending: not shipped yet.
        r = _post(c.url, key, "h1", envelope("h1", AT, 1, AT, [_issued(1, "A001")]))
        assert (r.status_code, r.json()["error"], r.json()["code"]) == (403, "not_approved", code), r.text
        c.approve("h1", "city-a")
        assert _enroll(c.url, key, "h1").json() == {"state": "approved", "code": code, "acked_seq": 0}
        # A second key for the same hall id is refused (someone else claiming the hall).
        other = Ed25519PrivateKey.generate()
        assert _enroll(c.url, other, "h1").json()["error"] == "key_mismatch"
        # Bad signature: signed by another key.
        r = _post(c.url, other, "h1", envelope("h1", AT, 1, AT, [_issued(1, "A001")]))
        assert (r.status_code, r.json()["error"]) == (401, "bad_signature"), r.text
        # A body changed after signing.
        body = json.dumps(envelope("h1", AT, 1, AT, [_issued(1, "A001")])).encode()
        sig = base64.b64encode(key.sign(body)).decode()
        r = httpx.post(
            c.url + "/api/v1/batches",
            content=body.replace(b"A001", b"A002"),
            headers={HALL_HEADER: "h1", SIGNATURE_HEADER: sig},
        )
        assert (r.status_code, r.json()["error"]) == (401, "bad_signature")
        # Unknown format version: refused, and the centre says which it reads.
        payload = envelope("h1", AT, 1, AT, [_issued(1, "A001")])
        payload["format"] = 99
        r = _post(c.url, key, "h1", payload)
        assert (r.status_code, r.json()["error"]) == (400, "unknown_format"), r.text
        assert r.json()["accepted_formats"] == [1]
        assert c.sql("SELECT count(*) FROM events") == [(0,)]
        # A gap: the centre needs seq 1 first.
        r = _post(c.url, key, "h1", envelope("h1", AT, 3, AT, [_issued(3, "A003")]))
        assert (r.status_code, r.json()["error"], r.json()["acked_seq"]) == (409, "gap", 0), r.text
        # Applied once, however often it is sent.
        batch = envelope("h1", AT, 2, AT, [_issued(1, "A001"), _issued(2, "A002")])
        for _ in range(3):
            r = _post(c.url, key, "h1", batch)
            assert (r.status_code, r.json()["acked_seq"]) == (200, 2), r.text
        overlap = envelope("h1", AT, 3, AT, [_issued(2, "A002"), _issued(3, "A003")])
        assert _post(c.url, key, "h1", overlap).json() == {"acked_seq": 3, "applied": 1, "profile": None}
        assert c.sql("SELECT count(*), min(seq), max(seq) FROM events") == [(3, 1, 3)]
        assert c.sql("SELECT count(*) FROM tickets WHERE state = 'waiting'") == [(3,)]
        # What left the hall: no free text, a masked name only.
        body0 = c.sql("SELECT body FROM events WHERE seq = 1")[0][0]
        assert "notes_typed_by_clerk" not in json.dumps(body0)
        assert body0["ticket"]["holder_masked"] == "张**"
        # Enrollment needs no account, so a stranger's pile of requests is capped.
        c.sql(
            "INSERT INTO halls (hall_id, name, state, public_key, code, enrolled_at)"
            " SELECT 'spam' || i, 'x', 'pending', '\\x00', 'X', now() FROM generate_series(1, 100) i"
            " RETURNING 1"
        )
        r = _enroll(c.url, Ed25519PrivateKey.generate(), "h-late")
        assert (r.status_code, r.json()["error"]) == (429, "too_many_pending"), r.text
        # Monthly partitions exist for what was stored.
        assert c.sql(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent"
            " WHERE p.relname = 'events'"
        ) == [(1,)]
