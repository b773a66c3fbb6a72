"""Personal data purge (PIPL, DESIGN.md §6 and §9, docs/security.md 剩余信息保护): after
`privacy.retention_days`, and on demand with `hallq admin purge --before DATE`, personal data goes and the
rows stay, so statistics keep their counts.

What goes, for what is older than the cutoff:
- tickets: the holder's masked name; bookings: person key, masked name, phone, ID last 4;
- the phone numbers 差评 raters left for the call-back (`case_contacts`);
- events: masked names and free text (`note`: reasons, case notes) blanked in the stored bodies;
- case notes and audit details: ID numbers, phone numbers and the holder's name (found from the ticket's
  masked name: 张** stands for 张 and two Han characters) scrubbed by pattern (`hallcore.privacy.scrub_text`).
  A ticket's case notes and audit rows are scrubbed when the ticket's own data goes, even if written later,
  since later the masked name that finds the full one is gone. Audit rows stay (kept ≥ 6 months, in fact
  never deleted); their chain covers an HMAC of the details, so scrubbing keeps `audit verify` passing;
- the 好差评 outbox: rows sent or discarded (pending and refused rows wait: they are still owed);
- idempotency replies older than two days (retries come within seconds).

Connections run with secure_delete, so what is overwritten is zeroed in the file; after a purge the WAL is
checkpointed and truncated, so nothing is left in the WAL either (tests/server/test_purge.py greps the bytes).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from typing import Any

from hallcore.privacy import scrub_text
from hallserver import rows
from hallserver.writectx import WriteCtx


class PurgeError(Exception):
    """A purge that was refused (nothing changed)."""


#: A retried request older than this is a new request: clients retry within seconds, not days.
IDEMPOTENCY_KEEP = dt.timedelta(days=2)
#: Scanned once: each run starts where the last one ended (events and audit rows are many).
WATERMARK = "purged_through"
#: Free text and masked names in stored event bodies.
EVENT_BLANKS = ("$.ticket.holder_masked", "$.note")
#: The 好差评 data items (hallcore/provincial.py) that identify a rater or hold what they typed.
OUTBOX_PERSONAL = frozenset({"rater_name", "rater_key", "comment"})


def purge(ctx: WriteCtx, retention_days: int) -> dict[str, Any]:
    """The scheduled purge, on the writer: the rows, then the engine's memory of them."""
    cutoff = ctx.now - dt.timedelta(days=retention_days)
    row = ctx.execute("SELECT value FROM meta WHERE key = ?", (WATERMARK,)).fetchone()
    since = str(row[0]) if row else ""
    counts = purge_before(ctx.conn, cutoff, ctx.now, since=since)
    ctx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (WATERMARK, cutoff.isoformat()))
    _forget_in_memory(ctx, cutoff)
    return counts


def purge_before(
    conn: sqlite3.Connection, cutoff: dt.datetime, now: dt.datetime, *, since: str = ""
) -> dict[str, Any]:
    """Purge personal data older than `cutoff` (events and audit rows from `since` on) in the caller's
    transaction; returns what changed, by table."""
    c = cutoff.isoformat()
    cutoff_day = cutoff.date().isoformat()
    ex = conn.execute
    scrubbed_notes = scrubbed_audit = 0
    # The named holders first: their cases' notes and audit rows lose the full name while it can be found.
    named = ex(
        "SELECT id, holder_masked FROM tickets"
        " WHERE issued_at >= ? AND issued_at < ? AND holder_masked != ''",
        (since, c),
    ).fetchall()
    for tid, masked in named:
        scrubbed_notes += _scrub_case(conn, f"C-{tid}", (masked,))
        for aid, detail in ex(
            "SELECT id, detail FROM audit WHERE target IN (?, ?) AND scrubbed_at IS NULL", (tid, f"C-{tid}")
        ).fetchall():
            scrubbed_audit += _scrub_audit(conn, aid, detail, (masked,), now)
    tickets = ex(
        "UPDATE tickets SET holder_masked = ''"
        " WHERE issued_at >= ? AND issued_at < ? AND holder_masked != ''",
        (since, c),
    ).rowcount
    for (cid,) in ex("SELECT id FROM cases WHERE opened_at < ?", (c,)).fetchall():
        scrubbed_notes += _scrub_case(conn, cid, ())
    for aid, detail in ex(
        "SELECT id, detail FROM audit WHERE at >= ? AND at < ? AND scrubbed_at IS NULL", (since, c)
    ).fetchall():
        scrubbed_audit += _scrub_audit(conn, aid, detail, (), now)
    events = 0
    for path in EVENT_BLANKS:
        events += ex(
            "UPDATE events SET body = json_set(body, ?, '') WHERE at >= ? AND at < ?"
            " AND kind IN ('ticket_issued', 'ticket_changed', 'case_changed')"
            " AND json_extract(body, ?) IS NOT NULL AND json_extract(body, ?) != ''",
            (path, since, c, path, path),
        ).rowcount
    bookings = ex(
        "UPDATE bookings SET person_key = '', holder_masked = '', phone = '', id_last4 = ''"
        " WHERE day < ? AND (person_key != '' OR holder_masked != '' OR phone != '' OR id_last4 != '')",
        (cutoff_day,),
    ).rowcount
    contacts = ex("DELETE FROM case_contacts WHERE consent_at < ?", (c,)).rowcount
    outbox = ex(
        "DELETE FROM outbox WHERE at < ? AND (sent_at IS NOT NULL OR discarded_at IS NOT NULL)", (c,)
    ).rowcount
    for oid, body in ex("SELECT id, body FROM outbox WHERE at < ?", (c,)).fetchall():
        # Still owed to the platform (pending, or refused and waiting for a decision): sent without what
        # identifies the rater once the retention has passed.
        clean = _scrub_json(body, (), blank=OUTBOX_PERSONAL)
        if clean != body:
            ex("UPDATE outbox SET body = ? WHERE id = ?", (clean, oid))
            outbox += 1
    replies = ex("DELETE FROM idempotency WHERE at < ?", ((now - IDEMPOTENCY_KEEP).isoformat(),)).rowcount
    return {
        "tickets": tickets,
        "bookings": bookings,
        "case_contacts": contacts,
        "case_notes": scrubbed_notes,
        "audit_details": scrubbed_audit,
        "events": events,
        "outbox": outbox,
        "idempotency": replies,
        "cutoff": c,
    }


def _scrub_case(conn: sqlite3.Connection, case_id: str, names: tuple[str, ...]) -> int:
    row = conn.execute("SELECT steps FROM cases WHERE id = ?", (case_id,)).fetchone()
    if row is None:
        return 0
    steps = json.loads(row[0])
    clean = [[a, scrub_text(n, names), s, at] for a, n, s, at in steps]
    if clean == steps:
        return 0
    conn.execute("UPDATE cases SET steps = ? WHERE id = ?", (json.dumps(clean, ensure_ascii=False), case_id))
    return 1


def _scrub_audit(
    conn: sqlite3.Connection, audit_id: int, detail: str, names: tuple[str, ...], now: dt.datetime
) -> int:
    clean = _scrub_json(detail, names)
    if clean == detail:
        return 0
    conn.execute(
        "UPDATE audit SET detail = ?, scrubbed_at = ? WHERE id = ?", (clean, now.isoformat(), audit_id)
    )
    return 1


def _scrub_json(text: str, names: tuple[str, ...], blank: frozenset[str] = frozenset()) -> str:
    """Scrub the strings inside a JSON document (never a number into a broken document); the members named in
    `blank` are emptied."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError:
        return scrub_text(text, names)

    def walk(v: Any) -> Any:
        if isinstance(v, str):
            return scrub_text(v, names)
        if isinstance(v, list):
            return [walk(x) for x in v]
        if isinstance(v, dict):
            return {k: ("" if k in blank and isinstance(x, str) else walk(x)) for k, x in v.items()}
        return v

    clean = walk(data)
    if clean == data:
        return text
    return json.dumps(clean, ensure_ascii=False, separators=(",", ":"))


def _forget_in_memory(ctx: WriteCtx, cutoff: dt.datetime) -> None:
    """The engine holds only recent rows (loader.py); what it still has is blanked so memory matches the disk
    (a later write of the row would otherwise bring the data back)."""
    cutoff_day = cutoff.date().isoformat()
    for t in ctx.engine.tickets.values():
        if t.holder_masked and t.issued_at < cutoff:
            t.holder_masked = ""
    for b in ctx.engine.bookings.values():
        if b.day.isoformat() < cutoff_day:
            b.person_key = ""
            b.holder_masked = ""
    for case in ctx.engine.cases.values():
        if case.opened_at < cutoff and case.steps:
            stored = ctx.execute("SELECT steps FROM cases WHERE id = ?", (case.id,)).fetchone()
            if stored is not None:
                case.steps = rows.load_steps(stored[0])
