"""The migrations after the first schema (m002 on), oldest first. Add one at the end and list it in
`hallserver.schema.STEPS`; never edit one that has shipped."""

from __future__ import annotations

from sqlite_utils import Database

from hallserver.schema.sql import run_script


def m002_web(db: Database) -> None:
    """Web dashboard, statistics, 差评 follow-up and the 好差评 uploader (docs/web.md)."""
    run_script(
        db,
        """
        -- Statistics read window opening, pauses and device reports from the event log by kind and time.
        CREATE INDEX IF NOT EXISTS events_kind_at ON events (kind, at);
        -- The phone number a 差评 rater left with consent for the call-back (回访); purged with the rest.
        CREATE TABLE IF NOT EXISTS case_contacts (
            case_id TEXT PRIMARY KEY,
            phone TEXT NOT NULL,
            consent_at TEXT NOT NULL,
            source TEXT NOT NULL
        );
        ALTER TABLE outbox ADD COLUMN last_error TEXT NOT NULL DEFAULT '';
        ALTER TABLE outbox ADD COLUMN last_try_at TEXT;
        -- The uploader reads only what is still unsent, oldest first: O(backlog), not O(history).
        CREATE INDEX IF NOT EXISTS outbox_unsent ON outbox (id) WHERE sent_at IS NULL;
        -- Statistics (hallserver/stats.py) scan one covering index per table by business day instead of
        -- parsing ISO times row by row: the figures are virtual columns, computed once when a row is
        -- written and kept in the index. A ticket id and a rating's ticket start with the business day.
        ALTER TABLE tickets ADD COLUMN wait_min REAL GENERATED ALWAYS AS (
            CASE WHEN first_called_at IS NOT NULL
                 THEN (julianday(first_called_at) - julianday(issued_at)) * 1440.0 END) VIRTUAL;
        ALTER TABLE tickets ADD COLUMN handle_min REAL GENERATED ALWAYS AS (
            CASE WHEN state = 'done' AND serving_at IS NOT NULL AND ended_at IS NOT NULL
                 THEN (julianday(ended_at) - julianday(serving_at)) * 1440.0 END) VIRTUAL;
        ALTER TABLE tickets ADD COLUMN hour_utc INTEGER GENERATED ALWAYS AS (
            CAST(strftime('%H', issued_at) AS INTEGER)) VIRTUAL;
        CREATE INDEX tickets_stats ON tickets
            (day, matter, series, window, staff, state, transfers, hour_utc, wait_min, handle_min);
        ALTER TABLE ratings ADD COLUMN day TEXT GENERATED ALWAYS AS (substr(ticket, 1, 10)) VIRTUAL;
        ALTER TABLE ratings ADD COLUMN hour_utc INTEGER GENERATED ALWAYS AS (
            CAST(strftime('%H', issued_at) AS INTEGER)) VIRTUAL;
        CREATE INDEX ratings_stats ON ratings (day, matter, window, staff, hour_utc, score);
        ALTER TABLE estimates ADD COLUMN day TEXT GENERATED ALWAYS AS (substr(ticket, 1, 10)) VIRTUAL;
        CREATE INDEX estimates_stats ON estimates (day, wait_min, point_min, low_min, high_min);
        ALTER TABLE prechecks ADD COLUMN at_jd REAL GENERATED ALWAYS AS (julianday(at)) VIRTUAL;
        CREATE INDEX prechecks_stats ON prechecks (at_jd, outcome, matter);
        """,
    )


def m003_numbers_unique_by_label(db: Database) -> None:
    # A transfer keeps the ticket's number but moves it to another series (DESIGN.md §4), so (day, series,
    # number) is not unique: A001 transferred to B sits beside B001. The number a citizen holds is the
    # label, unique per business day, which is what the engine guarantees.
    run_script(
        db,
        """
        DROP INDEX tickets_number;
        CREATE UNIQUE INDEX tickets_label ON tickets (day, label);
        """,
    )


def m004_rollups(db: Database) -> None:
    """Per-day statistics roll-ups of finished business days (hallserver/rollups.py, docs/web.md).

    `rollup_days` says which days are rolled up (`state` 'ready') and under which config fingerprint `fp`
    (targets, 即办件 matters, time zone, format version); the data tables hold that day's counts, sums and
    0.1-minute histograms per (dimension, key). Triggers drop a day's `rollup_days` row in the same
    transaction as any later change to its rows (a late rating, a case step, an expiry the next morning),
    so the next statistics query rebuilds it; for today's rows (never rolled up) the trigger's WHEN clause
    is one primary-key probe of `rollup_days` and writes nothing."""
    run_script(
        db,
        """
        CREATE TABLE rollup_days (
            day TEXT PRIMARY KEY,
            state TEXT NOT NULL,
            token TEXT NOT NULL,
            fp TEXT NOT NULL,
            lo_jd REAL NOT NULL,
            hi_jd REAL NOT NULL,
            claimed_at REAL NOT NULL
        );
        CREATE TABLE rollup_groups (
            dim TEXT NOT NULL,
            day TEXT NOT NULL,
            key TEXT NOT NULL,
            tickets INTEGER NOT NULL,
            served INTEGER NOT NULL,
            no_shows INTEGER NOT NULL,
            transfers INTEGER NOT NULL,
            expired INTEGER NOT NULL,
            cancelled INTEGER NOT NULL,
            called INTEGER NOT NULL,
            wait_sum INTEGER NOT NULL, -- milliseconds
            wait_max REAL,
            within INTEGER NOT NULL,
            handle_n INTEGER NOT NULL,
            handle_sum INTEGER NOT NULL, -- milliseconds
            handle_max REAL,
            done_immediate INTEGER NOT NULL,
            PRIMARY KEY (dim, day, key)
        ) WITHOUT ROWID;
        CREATE TABLE rollup_hists (
            dim TEXT NOT NULL,
            what TEXT NOT NULL,
            day TEXT NOT NULL,
            key TEXT NOT NULL,
            hist BLOB NOT NULL,
            PRIMARY KEY (dim, what, day, key)
        );
        CREATE TABLE rollup_ratings (
            dim TEXT NOT NULL,
            day TEXT NOT NULL,
            key TEXT NOT NULL,
            score INTEGER NOT NULL,
            n INTEGER NOT NULL,
            PRIMARY KEY (dim, day, key, score)
        ) WITHOUT ROWID;
        CREATE TABLE rollup_counts (
            kind TEXT NOT NULL,
            day TEXT NOT NULL,
            key TEXT NOT NULL,
            n INTEGER NOT NULL,
            x INTEGER NOT NULL, -- a time in ms (estimate error) or µs (pauses, open time)
            PRIMARY KEY (kind, day, key)
        ) WITHOUT ROWID
        """,
    )
    day_of = {
        "tickets": "{r}.day",
        "ratings": "substr({r}.ticket, 1, 10)",
        "estimates": "substr({r}.ticket, 1, 10)",
        "cases": "substr({r}.ticket, 1, 10)",
        "case_contacts": "(SELECT substr(ticket, 1, 10) FROM cases WHERE id = {r}.case_id)",
    }
    for table, expr in day_of.items():
        for op, ref in (("INSERT", "NEW"), ("UPDATE", "NEW"), ("DELETE", "OLD")):
            d = expr.format(r=ref)
            db.execute(
                f"CREATE TRIGGER rollup_{table}_{op.lower()} AFTER {op} ON {table}"  # noqa: S608 - our own names
                f" WHEN EXISTS (SELECT 1 FROM rollup_days WHERE day = {d})"
                f" BEGIN DELETE FROM rollup_days WHERE day = {d}; END"
            )
    # Pre-checks count in the hall-local day of their time; window events in the days whose end is after
    # them and whose event range (rollup_compute.event_range) holds them (a window opened the evening before
    # counts in the day's open time). Both are written at the time they
    # happen, so in a running hall these never touch a finished day; imports and repairs are covered.
    near = "day BETWEEN date(substr(NEW.at, 1, 10), '-1 day') AND date(substr(NEW.at, 1, 10), '+1 day')"
    db.execute(
        "CREATE TRIGGER rollup_prechecks_insert AFTER INSERT ON prechecks BEGIN"  # noqa: S608
        f" DELETE FROM rollup_days WHERE {near}"
        " AND lo_jd <= julianday(NEW.at) AND hi_jd > julianday(NEW.at); END"
    )
    db.execute(
        "CREATE TRIGGER rollup_events_insert AFTER INSERT ON events WHEN NEW.kind = 'window_changed' BEGIN"
        " DELETE FROM rollup_days WHERE day BETWEEN date(substr(NEW.at, 1, 10), '-1 day')"
        " AND date(substr(NEW.at, 1, 10), '+2 days') AND hi_jd > julianday(NEW.at); END"
    )


def m005_head_starts(db: Database) -> None:
    """Head starts (issue 19): the slot start of a booking checked in early (its key changes then), and the
    class a ticket claimed with what staff made of it at the window (confirmed or revoked, audited). Rows from
    before keep their claim in `priority`; `claimed` is filled from it."""
    run_script(
        db,
        """
        ALTER TABLE tickets ADD COLUMN slot_at TEXT;
        ALTER TABLE tickets ADD COLUMN claimed TEXT NOT NULL DEFAULT '';
        ALTER TABLE tickets ADD COLUMN class_check TEXT NOT NULL DEFAULT '';
        UPDATE tickets SET claimed = priority WHERE priority != ''
        """,
    )


def m006_precheck_agent(db: Database) -> None:
    """代办 in the pre-check statistics (issue 20): whether someone acted for the applicant, in the covering
    index of the statistics queries."""
    run_script(
        db,
        """
        ALTER TABLE prechecks ADD COLUMN agent INTEGER NOT NULL DEFAULT 0;
        DROP INDEX prechecks_stats;
        CREATE INDEX prechecks_stats ON prechecks (at_jd, outcome, matter, agent)
        """,
    )


def m007_owed(db: Database) -> None:
    """The 容缺 register (issue 20, hallserver/owed.py): one row per item a 容缺 ticket owes, with the day it
    is due, whether a 承诺书 was printed, and when (and by whom) it was marked supplied."""
    run_script(
        db,
        """
        CREATE TABLE owed (
            ticket TEXT NOT NULL,
            item TEXT NOT NULL,
            name TEXT NOT NULL,
            matter TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            due TEXT NOT NULL,
            pledge INTEGER NOT NULL,
            supplied_at TEXT,
            supplied_by TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (ticket, item)
        );
        CREATE INDEX owed_owing ON owed (due) WHERE supplied_at IS NULL
        """,
    )


def m008_outbox_dead_letters(db: Database) -> None:
    """Dead letters (issue 18): a row the platform refused for good leaves the queue with its reason, so later
    rows go on; retry puts it back, discard ends it (both audited). The idempotency key sent with the row is
    stored with it (hallserver/outbox.py)."""
    run_script(
        db,
        """
        ALTER TABLE outbox ADD COLUMN key TEXT NOT NULL DEFAULT '';
        ALTER TABLE outbox ADD COLUMN dead_at TEXT;
        ALTER TABLE outbox ADD COLUMN discarded_at TEXT;
        DROP INDEX outbox_unsent;
        -- The uploader reads only what is still to send, oldest first: O(backlog), not O(history).
        CREATE INDEX outbox_pending ON outbox (kind, id)
            WHERE sent_at IS NULL AND dead_at IS NULL AND discarded_at IS NULL;
        CREATE INDEX outbox_dead ON outbox (id) WHERE dead_at IS NOT NULL AND discarded_at IS NULL
        """,
    )


def m009_station_windows(db: Database) -> None:
    """Least privilege (issue 16): the windows a station is approved for, apart from `window`, the window its
    clerk is logged in at (a comma-separated list, "" for none). A station approved before keeps the window it
    was approved for or last logged in at. Pending enrollment requests are counted per address (capped) and
    expired by age; manager sessions are ended by manager."""
    run_script(
        db,
        """
        ALTER TABLE stations ADD COLUMN windows TEXT NOT NULL DEFAULT '';
        UPDATE stations SET windows = CAST(window AS TEXT) WHERE window IS NOT NULL;
        CREATE INDEX IF NOT EXISTS stations_pending ON stations (state, ip) WHERE state = 'pending';
        CREATE INDEX IF NOT EXISTS sessions_username ON sessions (username);
        -- Booking codes are the citizens' secrets (they cancel): no longer in events, nor in the stored ones.
        UPDATE events SET body = json_remove(body, '$.code') WHERE kind = 'booking_changed'
        """,
    )


def m010_keys_out_of_the_database(db: Database) -> None:
    """Issue 25 (docs/security.md). The key itself is moved out of `meta.hmac_secret` by hallserver/keys.py
    (it needs the file). Here: idempotency fingerprints made without a key (a plain hash of a body that may
    hold an ID number, a name and a phone number) are blanked — a blank one matches any repeat, as before
    fingerprints existed, for the two days such rows live —; an approved token waiting in clear for its
    station is dropped (the station collects a new one, made and hashed when it polls)."""
    run_script(
        db,
        """
        UPDATE idempotency SET fingerprint = '' WHERE fingerprint != '';
        UPDATE stations SET token_hash = NULL, pending_token = NULL WHERE pending_token IS NOT NULL
        """,
    )


def m011_audit_chain(db: Database) -> None:
    """The audit log's hash chain (hallserver/audit.py): each row's HMAC link and the HMAC of its details; the
    time the purge scrubbed personal data out of its details. Older rows are chained once by the first process
    that has the key."""
    run_script(
        db,
        """
        ALTER TABLE audit ADD COLUMN detail_hash TEXT NOT NULL DEFAULT '';
        ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT '';
        ALTER TABLE audit ADD COLUMN scrubbed_at TEXT;
        -- The audit view filters by action and actor over time.
        CREATE INDEX IF NOT EXISTS audit_action ON audit (action, at)
        """,
    )


def m012_case_outcomes(db: Database) -> None:
    """Case outcomes (issue 22, hallcore/caseoutcome.py): how each case ended at the window, its reason and
    the business system's case number (办件编号), on the ticket and on its rating (with the matter's
    department), as the provincial 好差评 platform ties a rating to the case. Rows from before have "":
    the statistics show 无数据 for 现场办结率 over days without outcomes."""
    run_script(
        db,
        """
        ALTER TABLE tickets ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
        ALTER TABLE tickets ADD COLUMN outcome_reason TEXT NOT NULL DEFAULT '';
        ALTER TABLE tickets ADD COLUMN case_no TEXT NOT NULL DEFAULT '';
        ALTER TABLE ratings ADD COLUMN outcome TEXT NOT NULL DEFAULT '';
        ALTER TABLE ratings ADD COLUMN case_no TEXT NOT NULL DEFAULT '';
        ALTER TABLE ratings ADD COLUMN department TEXT NOT NULL DEFAULT '';
        -- The statistics' covering index gains the outcome (hallserver/rollup_compute.py OUTCOMES).
        DROP INDEX tickets_stats;
        CREATE INDEX tickets_stats ON tickets
            (day, matter, series, window, staff, state, transfers, hour_utc, wait_min, handle_min, outcome)
        """,
    )


def m013_purge_indexes(db: Database) -> None:
    """The purge (hallserver/purge.py) finds the tickets and bookings that still hold personal data without
    reading every older row each time (partial indexes over just those), and a ticket's audit rows."""
    run_script(
        db,
        """
        CREATE INDEX IF NOT EXISTS tickets_named ON tickets (issued_at) WHERE holder_masked != '';
        -- A named ticket's audit rows are scrubbed with it (by target: the ticket, or its case).
        CREATE INDEX IF NOT EXISTS audit_target ON audit (target);
        CREATE INDEX IF NOT EXISTS bookings_personal ON bookings (day)
            WHERE person_key != '' OR holder_masked != '' OR phone != '' OR id_last4 != ''
        """,
    )


def m014_carded_tickets(db: Database) -> None:
    """刷身份证取号 (issue 27, hallcore/engine/persons.py): a carded ticket's identity ("card", "agent"), the
    keyed HMAC fingerprints it counts against (never the ID number) and the number's last 4 characters, and
    the decade of the holder's age for the statistics. The per-person counts are rebuilt from them at start;
    the purge blanks keys and last 4 after the retention (a partial index finds them)."""
    run_script(
        db,
        """
        ALTER TABLE tickets ADD COLUMN identity TEXT NOT NULL DEFAULT '';
        ALTER TABLE tickets ADD COLUMN person_key TEXT NOT NULL DEFAULT '';
        ALTER TABLE tickets ADD COLUMN agent_key TEXT NOT NULL DEFAULT '';
        ALTER TABLE tickets ADD COLUMN id_last4 TEXT NOT NULL DEFAULT '';
        ALTER TABLE tickets ADD COLUMN age_band INTEGER;
        CREATE INDEX tickets_carded ON tickets (issued_at)
            WHERE person_key != '' OR agent_key != '' OR id_last4 != ''
        """,
    )


def m015_notices(db: Database) -> None:
    """ "快到您了" notices (issue 30; hallserver/notify.py): who opted in for which ticket or booking, with
    consent, and each delivery's result. The number (or openid) sits only in `notice_subs.address`, blanked
    once no rule needs it; the outbox rows (kind `notice`, one per ticket or booking and kind by a unique
    key) name the subscription, never the number. `claimed_at` marks a notice handed to a gateway and not
    yet answered: after a kill, such a row is in doubt (hallserver/notify_send.py)."""
    run_script(
        db,
        """
        CREATE TABLE notice_subs (
            id INTEGER PRIMARY KEY,
            ref TEXT NOT NULL,
            ref_kind TEXT NOT NULL,
            day TEXT NOT NULL,
            channel TEXT NOT NULL,
            address TEXT NOT NULL,
            masked TEXT NOT NULL,
            number_key TEXT NOT NULL,
            lang TEXT NOT NULL,
            via TEXT NOT NULL,
            consent_at TEXT NOT NULL,
            withdrawn_at TEXT,
            purged_at TEXT
        );
        CREATE UNIQUE INDEX notice_subs_one ON notice_subs (ref) WHERE withdrawn_at IS NULL;
        CREATE INDEX notice_subs_live ON notice_subs (id) WHERE address != '';
        CREATE INDEX notice_subs_number ON notice_subs (number_key, day);
        CREATE TABLE notice_results (
            id INTEGER PRIMARY KEY,
            outbox INTEGER NOT NULL,
            at TEXT NOT NULL,
            adapter TEXT NOT NULL,
            ok INTEGER NOT NULL,
            code TEXT NOT NULL,
            detail TEXT NOT NULL,
            provider_id TEXT NOT NULL,
            cost_fen INTEGER NOT NULL
        );
        CREATE INDEX notice_results_at ON notice_results (at);
        ALTER TABLE outbox ADD COLUMN claimed_at TEXT;
        CREATE UNIQUE INDEX outbox_notice_key ON outbox (key) WHERE kind = 'notice';
        CREATE INDEX outbox_notice_sub ON outbox (json_extract(body, '$.sub')) WHERE kind = 'notice'
        """,
    )


def m016_booking_imports(db: Database) -> None:
    """Bookings from outside (hallserver/bookimport.py): each external booking id of a partner bound to the
    hall's booking it made, the keyed fingerprint of its content (the same id with other content is a
    conflict) and the first answer (a repeat gets it back); `cancelled_by` says whose cancellation it was, so
    a partner's own is not reported back to it. The nonces of signed requests are kept for the timestamp
    window, in the request's own transaction, so a replay is refused even after a restart."""
    run_script(
        db,
        """
        CREATE TABLE IF NOT EXISTS booking_imports (
            partner TEXT NOT NULL,
            external_id TEXT NOT NULL,
            code TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            status INTEGER NOT NULL,
            body TEXT NOT NULL,
            source TEXT NOT NULL,
            at TEXT NOT NULL,
            cancelled_by TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (partner, external_id)
        );
        CREATE UNIQUE INDEX IF NOT EXISTS booking_imports_code ON booking_imports (code);
        CREATE TABLE IF NOT EXISTS import_nonces (
            nonce TEXT PRIMARY KEY,
            key_id TEXT NOT NULL,
            at REAL NOT NULL
        );
        CREATE INDEX IF NOT EXISTS import_nonces_at ON import_nonces (at)
        """,
    )
