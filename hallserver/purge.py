"""Personal data purge (PIPL, DESIGN.md §6 and §9, docs/security.md 剩余信息保护): after
`privacy.retention_days`, and on demand with `hallq admin purge --before DATE`, personal data goes and the
rows stay, so statistics keep their counts.

What goes, for what is older than the cutoff:
- tickets: the holder's masked name, a carded ticket's person keys and ID last 4; bookings: person key,
  masked name, phone, ID last 4 (and a partner's booking: the masked name in its stored answer, its keyed
  content fingerprint);
- the phone numbers 差评 raters left for the call-back (`case_contacts`);
- events: masked names and free text (`note`: reasons, case notes) blanked in the stored bodies;
- case notes and audit details: ID numbers, phone numbers and the holder's name (found from the ticket's
  masked name: 张** stands for 张 and two Han characters) scrubbed by pattern (`hallcore.privacy.scrub_text`).
  A ticket's case notes and audit rows are scrubbed when the ticket's own data goes, even if written later,
  since later the masked name that finds the full one is gone. Audit rows stay (kept ≥ 6 months, in fact
  never deleted); their chain covers an HMAC of the details, so scrubbing keeps `audit verify` passing;
- the 好差评 outbox: rows sent or discarded (pending and refused rows wait: they are still owed);
- notices (hallserver/notify.py): the subscriptions (whose number went as soon as no rule needed it: this
  takes the masked number and the keyed hash too) and the delivery results; their outbox rows as above;
- idempotency replies older than two days (retries come within seconds).

The scheduled purge runs in steps (`purge_step`, at most `STEP_ROWS` rows of a kind each, every step
its own job on the writer), from where the last one stopped in the event and audit logs (`MARKS` in
`meta`), so a first purge over years of history runs between the hall's commands instead of stalling them;
`hallq admin purge` does the same in short transactions and leaves open cases (and their tickets' names)
to the server, which holds them in memory. A name typed into a 整改/办结 note of a case closed after its
ticket's data went is scrubbed out of the pending outbox row by pattern only (ID and phone numbers), not
by name.

Connections run with secure_delete, so what is overwritten is zeroed in the file; after a purge the WAL is
checkpointed and truncated, so nothing is left in the WAL either (tests/server/test_purge.py greps the bytes).
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from dataclasses import dataclass
from typing import Any

from hallcore.privacy import scrub_text
from hallserver import rows
from hallserver.writectx import WriteCtx


class PurgeError(Exception):
    """A purge that was refused (nothing changed)."""


#: A retried request older than this is a new request: clients retry within seconds, not days.
IDEMPOTENCY_KEEP = dt.timedelta(days=2)
#: Where the scheduled purge got to in the event log and the audit log (each row is looked at once).
MARKS = {"events": "purge_events_seq", "audit": "purge_audit_id"}
#: Rows of a kind looked at in one step: a step is one short transaction, so a first purge over years of
#: history (after an upgrade) runs as many small jobs between the hall's commands, never one long stall.
STEP_ROWS = 500
#: Named tickets in one step: each costs a few lookups (its case, its audit rows) besides its own row.
STEP_NAMED = 100
#: Free text and masked names in stored event bodies.
EVENT_BLANKS = ("$.ticket.holder_masked", "$.note")
#: The 好差评 data items (hallcore/provincial.py) that identify a rater or hold what they typed.
OUTBOX_PERSONAL = frozenset({"rater_name", "rater_key", "comment"})
COUNTED = (
    "tickets",
    "bookings",
    "case_contacts",
    "case_notes",
    "audit_details",
    "events",
    "outbox",
    "notices",
    "idempotency",
)


@dataclass(frozen=True, slots=True)
class Step:
    counts: dict[str, int]
    marks: dict[str, int]
    more: bool  # rows of the period are left for another step


def purge_step(ctx: WriteCtx, retention_days: int) -> Step:
    """One step of the scheduled purge on the writer (run again while `more`): the rows, then the engine's
    memory of them. Open cases are scrubbed here too, in the engine as on disk."""
    cutoff = ctx.now - dt.timedelta(days=retention_days)
    marks = {
        k: int(r[0]) if (r := ctx.execute("SELECT value FROM meta WHERE key = ?", (m,)).fetchone()) else 0
        for k, m in MARKS.items()
    }
    step = purge_before(ctx.conn, cutoff, ctx.now, marks, open_cases=True)
    for k, m in MARKS.items():
        ctx.execute("INSERT OR REPLACE INTO meta (key, value) VALUES (?, ?)", (m, str(step.marks[k])))
    _forget_in_memory(ctx, cutoff)
    return step


def purge_before(
    conn: sqlite3.Connection,
    cutoff: dt.datetime,
    now: dt.datetime,
    marks: dict[str, int] | None = None,
    *,
    open_cases: bool,
) -> Step:
    """One step of purging personal data older than `cutoff`, in the caller's transaction: events and audit
    rows after `marks` (the last seq and id looked at), at most `STEP_ROWS` of each kind. `open_cases`: also
    cases still open (only the server may: it holds them in memory)."""
    marks = dict(marks or {"events": 0, "audit": 0})
    c = cutoff.isoformat()
    cutoff_day = cutoff.date().isoformat()
    ex = conn.execute
    counts = dict.fromkeys(COUNTED, 0)
    for oid, body in ex("SELECT id, body FROM outbox WHERE at < ?", (c,)).fetchall():
        # Still owed to the platform (pending, or refused and waiting for a decision): sent without what
        # identifies the rater once the retention has passed (before the holder's masked name goes below).
        clean = _scrub_json(body, _holder_of(conn, body), blank=OUTBOX_PERSONAL)
        if clean != body:
            ex("UPDATE outbox SET body = ? WHERE id = ?", (clean, oid))
            counts["outbox"] += 1
    # The named holders first: their cases' notes and audit rows lose the full name while it can be found.
    named = ex(
        "SELECT id, holder_masked FROM tickets WHERE holder_masked != '' AND issued_at < ? LIMIT ?",
        (c, STEP_NAMED),
    ).fetchall()
    for tid, masked in named:
        if not open_cases and _case_open(conn, f"C-{tid}"):
            continue  # its notes may still name the holder: left for the server, which holds the case
        counts["case_notes"] += _scrub_case(conn, f"C-{tid}", (masked,), open_cases)
        for aid, detail in ex(
            "SELECT id, detail FROM audit WHERE target IN (?, ?) AND scrubbed_at IS NULL", (tid, f"C-{tid}")
        ).fetchall():
            counts["audit_details"] += _scrub_audit(conn, aid, detail, (masked,), now)
        counts["tickets"] += ex("UPDATE tickets SET holder_masked = '' WHERE id = ?", (tid,)).rowcount
    states = "" if open_cases else " AND state = 'closed'"
    for (cid,) in ex(f"SELECT id FROM cases WHERE opened_at < ?{states}", (c,)).fetchall():  # noqa: S608
        counts["case_notes"] += _scrub_case(conn, cid, (), open_cases)
    audit_upto, audit_more = _window(conn, "audit", "id", marks["audit"], c)
    for aid, detail in ex(
        "SELECT id, detail FROM audit WHERE id > ? AND id <= ? AND scrubbed_at IS NULL",
        (marks["audit"], audit_upto),
    ).fetchall():
        counts["audit_details"] += _scrub_audit(conn, aid, detail, (), now)
    events_upto, events_more = _window(conn, "events", "seq", marks["events"], c)
    # `+kind`: walk the seq range (the primary key), never the (kind, at) index over all of history.
    blanks = ", ".join(f"'{path}', ''" for path in EVENT_BLANKS)
    filled = " OR ".join(f"coalesce(json_extract(body, '{path}'), '') != ''" for path in EVENT_BLANKS)
    counts["events"] += ex(
        f"UPDATE events SET body = json_replace(body, {blanks}) WHERE seq > ? AND seq <= ?"  # noqa: S608
        f" AND +kind IN ('ticket_issued', 'ticket_changed', 'case_changed') AND ({filled})",
        (marks["events"], events_upto),
    ).rowcount
    counts["bookings"] = ex(
        "UPDATE bookings SET person_key = '', holder_masked = '', phone = '', id_last4 = ''"
        " WHERE day < ? AND (person_key != '' OR holder_masked != '' OR phone != '' OR id_last4 != '')",
        (cutoff_day,),
    ).rowcount
    # A partner's booking (hallserver/bookimport.py): its stored first answer holds the masked name and its
    # content fingerprint is keyed over the ID number; the external id and the code stay (counts, reports).
    counts["bookings"] += ex(
        "UPDATE booking_imports SET fingerprint = '', body = json_replace(body, '$.holder_masked', '')"
        " WHERE fingerprint != '' AND code IN (SELECT code FROM bookings WHERE day < ?)",
        (cutoff_day,),
    ).rowcount
    # Carded tickets' person keys and ID last 4 (刷身份证取号); the age decade and `identity` stay (counts).
    counts["tickets"] += ex(
        "UPDATE tickets SET person_key = '', agent_key = '', id_last4 = ''"
        " WHERE issued_at < ? AND (person_key != '' OR agent_key != '' OR id_last4 != '')",
        (c,),
    ).rowcount
    counts["case_contacts"] = ex("DELETE FROM case_contacts WHERE consent_at < ?", (c,)).rowcount
    counts["outbox"] = ex(
        "DELETE FROM outbox WHERE at < ? AND (sent_at IS NOT NULL OR discarded_at IS NOT NULL)", (c,)
    ).rowcount
    counts["notices"] = ex("DELETE FROM notice_subs WHERE consent_at < ?", (c,)).rowcount
    ex("DELETE FROM notice_results WHERE at < ?", (c,))
    counts["idempotency"] = ex(
        "DELETE FROM idempotency WHERE at < ?", ((now - IDEMPOTENCY_KEEP).isoformat(),)
    ).rowcount
    more = (len(named) == STEP_NAMED and counts["tickets"] > 0) or audit_more or events_more
    return Step(counts, {"events": events_upto, "audit": audit_upto}, more)


def _holder_of(conn: sqlite3.Connection, body: str) -> tuple[str, ...]:
    """The masked name of the ticket an outbox row reports on, if it still has one."""
    try:
        tid = json.loads(body).get("ticket_id")
    except (json.JSONDecodeError, AttributeError):
        return ()
    row = conn.execute("SELECT holder_masked FROM tickets WHERE id = ?", (str(tid),)).fetchone()
    return (str(row[0]),) if row and row[0] else ()


def _case_open(conn: sqlite3.Connection, case_id: str) -> bool:
    row = conn.execute("SELECT state FROM cases WHERE id = ?", (case_id,)).fetchone()
    return row is not None and row[0] != "closed"


def _window(conn: sqlite3.Connection, table: str, key: str, after: int, cutoff: str) -> tuple[int, bool]:
    """The next rows of an append-only log after `after` (by its key, which grows with time) that are older
    than `cutoff`, at most `STEP_ROWS`: the last key of them, and whether older rows are left after it."""
    rows = conn.execute(
        f"SELECT {key}, at FROM {table} WHERE {key} > ? ORDER BY {key} LIMIT ?",  # noqa: S608 - our names
        (after, STEP_ROWS),
    ).fetchall()
    upto = after
    for k, at in rows:
        if at >= cutoff:
            return upto, False
        upto = int(k)
    return upto, len(rows) == STEP_ROWS


def _scrub_case(conn: sqlite3.Connection, case_id: str, names: tuple[str, ...], open_cases: bool) -> int:
    row = conn.execute("SELECT steps, state FROM cases WHERE id = ?", (case_id,)).fetchone()
    if row is None or (row[1] != "closed" and not open_cases):
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
        if t.issued_at < cutoff:
            t.holder_masked = t.person_key = t.agent_key = t.id_last4 = ""
    for b in ctx.engine.bookings.values():
        if b.day.isoformat() < cutoff_day:
            b.person_key = ""
            b.holder_masked = ""
    for case in ctx.engine.cases.values():
        if case.opened_at < cutoff and case.steps:
            stored = ctx.execute("SELECT steps FROM cases WHERE id = ?", (case.id,)).fetchone()
            if stored is not None:
                case.steps = rows.load_steps(stored[0])
