"""The hall database schema, as sqlite-utils `Migrations` (DESIGN.md §6). Add a migration, never edit one.

Tables:
- `tickets`, `windows`, `bookings`, `ratings`, `cases`: the engine's rows, written in the command's
  transaction.
- `events`: the append-only hall event log (the `ticket_events` of DESIGN.md §6), keyed by the hall-wide seq.
- `prechecks`, `estimates`: for statistics (pre-check outcomes; each estimate joined with the real wait).
- `stations`, `staff`, `managers`, `sessions`, `roster`, `audit`: auth and who-did-what.
- `idempotency`: the first 2xx reply per (station, request id), stored with the command.
- `outbox`: ratings waiting for the provincial 好差评 upload; `device_health`: the last report per device.
- `meta`: single values: the hall key's check value and file (never the key: hallserver/keys.py).

Indexes keep issue and call O(1) in history size: every statement on the hot path is a primary-key upsert or
an append; the start-up load reads only recent or still-live rows through `day` and `state` indexes.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

migrations = Migrations("hallserver")


@migrations()
def m001_initial(db: Database) -> None:
    _run(
        db,
        """
        CREATE TABLE tickets (
            id TEXT PRIMARY KEY,
            day TEXT NOT NULL,
            series TEXT NOT NULL,
            number INTEGER NOT NULL,
            label TEXT NOT NULL,
            matter TEXT NOT NULL,
            source TEXT NOT NULL,
            priority TEXT NOT NULL,
            state TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            since TEXT NOT NULL,
            key_ts REAL NOT NULL,
            key_seq INTEGER NOT NULL,
            key_rq INTEGER NOT NULL,
            token TEXT NOT NULL,
            precheck TEXT NOT NULL,
            missing TEXT NOT NULL,
            due TEXT,
            holder_masked TEXT NOT NULL,
            booking TEXT NOT NULL,
            target_window INTEGER,
            window INTEGER,
            staff TEXT NOT NULL,
            called_at TEXT,
            first_called_at TEXT,
            serving_at TEXT,
            ended_at TEXT,
            recalls INTEGER NOT NULL,
            transfers INTEGER NOT NULL,
            requeues INTEGER NOT NULL,
            call_reason TEXT,
            ahead_at_issue INTEGER NOT NULL,
            estimate_low INTEGER,
            estimate_high INTEGER,
            rated INTEGER NOT NULL,
            qtoken INTEGER NOT NULL
        );
        -- A number is unique per business day and series (DESIGN.md §4): no writer could ever reuse one.
        CREATE UNIQUE INDEX tickets_number ON tickets (day, series, number);
        CREATE INDEX tickets_token ON tickets (token);
        CREATE INDEX tickets_state ON tickets (state);
        CREATE INDEX tickets_issued_at ON tickets (issued_at);
        -- Start-up warms the handle-time estimates from the last finished tickets of each series.
        CREATE INDEX tickets_done ON tickets (series, ended_at) WHERE state = 'done';

        CREATE TABLE windows (
            number INTEGER PRIMARY KEY,
            state TEXT NOT NULL,
            staff TEXT NOT NULL,
            pause_reason TEXT NOT NULL,
            paused_at TEXT,
            opened_at TEXT,
            current TEXT,
            priority_streak INTEGER NOT NULL,
            taken_over TEXT NOT NULL
        );

        CREATE TABLE bookings (
            code TEXT PRIMARY KEY,
            matter TEXT NOT NULL,
            day TEXT NOT NULL,
            slot_start TEXT NOT NULL,
            slot_end TEXT NOT NULL,
            person_key TEXT NOT NULL,
            state TEXT NOT NULL,
            booked_at TEXT,
            ticket TEXT NOT NULL,
            holder_masked TEXT NOT NULL,
            id_last4 TEXT NOT NULL DEFAULT '',
            phone TEXT NOT NULL DEFAULT ''
        );
        CREATE INDEX bookings_day ON bookings (day);
        CREATE INDEX bookings_state ON bookings (state);

        CREATE TABLE ratings (
            ticket TEXT PRIMARY KEY,
            score INTEGER NOT NULL,
            matter TEXT NOT NULL,
            window INTEGER NOT NULL,
            staff TEXT NOT NULL,
            at TEXT NOT NULL,
            issued_at TEXT NOT NULL,
            called_at TEXT,
            serving_at TEXT,
            finished_at TEXT,
            source TEXT NOT NULL
        );

        CREATE TABLE cases (
            id TEXT PRIMARY KEY,
            ticket TEXT NOT NULL,
            score INTEGER NOT NULL,
            window INTEGER NOT NULL,
            staff TEXT NOT NULL,
            matter TEXT NOT NULL,
            opened_at TEXT NOT NULL,
            due TEXT NOT NULL,
            state TEXT NOT NULL,
            steps TEXT NOT NULL,
            closed_at TEXT
        );

        CREATE TABLE events (
            seq INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            body TEXT NOT NULL
        );

        CREATE TABLE prechecks (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            matter TEXT NOT NULL,
            outcome TEXT NOT NULL,
            missing TEXT NOT NULL,
            source TEXT NOT NULL
        );
        CREATE INDEX prechecks_at ON prechecks (at);

        CREATE TABLE estimates (
            ticket TEXT PRIMARY KEY,
            issued_at TEXT NOT NULL,
            series TEXT NOT NULL,
            ahead INTEGER NOT NULL,
            low_min INTEGER,
            high_min INTEGER,
            point_min INTEGER,
            called_at TEXT,
            wait_min REAL
        );
        CREATE INDEX estimates_issued_at ON estimates (issued_at);

        CREATE TABLE stations (
            id TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            role TEXT NOT NULL,
            state TEXT NOT NULL,
            code TEXT NOT NULL,
            poll_secret_hash TEXT NOT NULL,
            token_hash TEXT,
            pending_token TEXT,
            window INTEGER,
            staff TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL,
            approved_at TEXT,
            revoked_at TEXT,
            ip TEXT NOT NULL DEFAULT ''
        );
        CREATE UNIQUE INDEX stations_token ON stations (token_hash);

        CREATE TABLE staff (
            code TEXT PRIMARY KEY,
            name TEXT NOT NULL,
            pin_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        );

        CREATE TABLE managers (
            username TEXT PRIMARY KEY,
            password_hash TEXT NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            created_at TEXT NOT NULL
        );

        CREATE TABLE sessions (
            token_hash TEXT PRIMARY KEY,
            username TEXT NOT NULL,
            created_at TEXT NOT NULL,
            expires_at TEXT NOT NULL,
            revoked INTEGER NOT NULL DEFAULT 0
        );

        CREATE TABLE roster (
            window INTEGER NOT NULL,
            staff TEXT NOT NULL,
            PRIMARY KEY (window, staff)
        );

        CREATE TABLE audit (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            actor TEXT NOT NULL,
            station TEXT NOT NULL,
            action TEXT NOT NULL,
            target TEXT NOT NULL,
            detail TEXT NOT NULL
        );
        CREATE INDEX audit_at ON audit (at);

        CREATE TABLE outbox (
            id INTEGER PRIMARY KEY,
            at TEXT NOT NULL,
            kind TEXT NOT NULL,
            body TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            sent_at TEXT
        );

        CREATE TABLE idempotency (
            station TEXT NOT NULL,
            request_id TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            status INTEGER NOT NULL,
            body TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (station, request_id)
        );
        CREATE INDEX idempotency_at ON idempotency (at);

        CREATE TABLE device_health (
            station TEXT NOT NULL,
            device TEXT NOT NULL,
            health TEXT NOT NULL,
            reason TEXT NOT NULL,
            at TEXT NOT NULL,
            PRIMARY KEY (station, device)
        );

        CREATE TABLE meta (
            key TEXT PRIMARY KEY,
            value TEXT NOT NULL
        );
        """,
    )


@migrations()
def m002_web(db: Database) -> None:
    """Web dashboard, statistics, 差评 follow-up and the 好差评 uploader (docs/web.md)."""
    _run(
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


@migrations()
def m003_numbers_unique_by_label(db: Database) -> None:
    # A transfer keeps the ticket's number but moves it to another series (DESIGN.md §4), so (day, series,
    # number) is not unique: A001 transferred to B sits beside B001. The number a citizen holds is the
    # label, unique per business day, which is what the engine guarantees.
    _run(
        db,
        """
        DROP INDEX tickets_number;
        CREATE UNIQUE INDEX tickets_label ON tickets (day, label);
        """,
    )


@migrations()
def m004_rollups(db: Database) -> None:
    """Per-day statistics roll-ups of finished business days (hallserver/rollups.py, docs/web.md).

    `rollup_days` says which days are rolled up (`state` 'ready') and under which config fingerprint `fp`
    (targets, 即办件 matters, time zone, format version); the data tables hold that day's counts, sums and
    0.1-minute histograms per (dimension, key). Triggers drop a day's `rollup_days` row in the same
    transaction as any later change to its rows (a late rating, a case step, an expiry the next morning),
    so the next statistics query rebuilds it; for today's rows (never rolled up) the trigger's WHEN clause
    is one primary-key probe of `rollup_days` and writes nothing."""
    _run(
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


@migrations()
def m005_head_starts(db: Database) -> None:
    """Head starts (issue 19): the slot start of a booking checked in early (its key changes then), and the
    class a ticket claimed with what staff made of it at the window (confirmed or revoked, audited). Rows from
    before keep their claim in `priority`; `claimed` is filled from it."""
    _run(
        db,
        """
        ALTER TABLE tickets ADD COLUMN slot_at TEXT;
        ALTER TABLE tickets ADD COLUMN claimed TEXT NOT NULL DEFAULT '';
        ALTER TABLE tickets ADD COLUMN class_check TEXT NOT NULL DEFAULT '';
        UPDATE tickets SET claimed = priority WHERE priority != ''
        """,
    )


@migrations()
def m006_precheck_agent(db: Database) -> None:
    """代办 in the pre-check statistics (issue 20): whether someone acted for the applicant, in the covering
    index of the statistics queries."""
    _run(
        db,
        """
        ALTER TABLE prechecks ADD COLUMN agent INTEGER NOT NULL DEFAULT 0;
        DROP INDEX prechecks_stats;
        CREATE INDEX prechecks_stats ON prechecks (at_jd, outcome, matter, agent)
        """,
    )


@migrations()
def m007_owed(db: Database) -> None:
    """The 容缺 register (issue 20, hallserver/owed.py): one row per item a 容缺 ticket owes, with the day it
    is due, whether a 承诺书 was printed, and when (and by whom) it was marked supplied."""
    _run(
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


@migrations()
def m008_outbox_dead_letters(db: Database) -> None:
    """Dead letters (issue 18): a row the platform refused for good leaves the queue with its reason, so later
    rows go on; retry puts it back, discard ends it (both audited). The idempotency key sent with the row is
    stored with it (hallserver/outbox.py)."""
    _run(
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


@migrations()
def m009_station_windows(db: Database) -> None:
    """Least privilege (issue 16): the windows a station is approved for, apart from `window`, the window its
    clerk is logged in at (a comma-separated list, "" for none). A station approved before keeps the window it
    was approved for or last logged in at. Pending enrollment requests are counted per address (capped) and
    expired by age; manager sessions are ended by manager."""
    _run(
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


@migrations()
def m010_keys_out_of_the_database(db: Database) -> None:
    """Issue 25 (docs/security.md). The key itself is moved out of `meta.hmac_secret` by hallserver/keys.py
    (it needs the file). Here: idempotency fingerprints made without a key (a plain hash of a body that may
    hold an ID number, a name and a phone number) are blanked — a blank one matches any repeat, as before
    fingerprints existed, for the two days such rows live —; an approved token waiting in clear for its
    station is dropped (the station collects a new one, made and hashed when it polls)."""
    _run(
        db,
        """
        UPDATE idempotency SET fingerprint = '' WHERE fingerprint != '';
        UPDATE stations SET token_hash = NULL, pending_token = NULL WHERE pending_token IS NOT NULL
        """,
    )


@migrations()
def m011_audit_chain(db: Database) -> None:
    """The audit log's hash chain (hallserver/audit.py): each row's HMAC link and the HMAC of its details; the
    time the purge scrubbed personal data out of its details. Older rows are chained once by the first process
    that has the key."""
    _run(
        db,
        """
        ALTER TABLE audit ADD COLUMN detail_hash TEXT NOT NULL DEFAULT '';
        ALTER TABLE audit ADD COLUMN hash TEXT NOT NULL DEFAULT '';
        ALTER TABLE audit ADD COLUMN scrubbed_at TEXT;
        -- The audit view filters by action and actor over time.
        CREATE INDEX IF NOT EXISTS audit_action ON audit (action, at)
        """,
    )


@migrations()
def m012_case_outcomes(db: Database) -> None:
    """Case outcomes (issue 22, hallcore/caseoutcome.py): how each case ended at the window, its reason and
    the business system's case number (办件编号), on the ticket and on its rating (with the matter's
    department), as the provincial 好差评 platform ties a rating to the case. Rows from before have "":
    the statistics show 无数据 for 现场办结率 over days without outcomes."""
    _run(
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


@migrations()
def m013_purge_indexes(db: Database) -> None:
    """The purge (hallserver/purge.py) finds the tickets and bookings that still hold personal data without
    reading every older row each time (partial indexes over just those), and a ticket's audit rows."""
    _run(
        db,
        """
        CREATE INDEX IF NOT EXISTS tickets_named ON tickets (issued_at) WHERE holder_masked != '';
        -- A named ticket's audit rows are scrubbed with it (by target: the ticket, or its case).
        CREATE INDEX IF NOT EXISTS audit_target ON audit (target);
        CREATE INDEX IF NOT EXISTS bookings_personal ON bookings (day)
            WHERE person_key != '' OR holder_masked != '' OR phone != '' OR id_last4 != ''
        """,
    )


@migrations()
def m014_carded_tickets(db: Database) -> None:
    """刷身份证取号 (issue 27, hallcore/engine/persons.py): a carded ticket's identity ("card", "agent"), the
    keyed HMAC fingerprints it counts against (never the ID number) and the number's last 4 characters, and
    the decade of the holder's age for the statistics. The per-person counts are rebuilt from them at start;
    the purge blanks keys and last 4 after the retention (a partial index finds them)."""
    _run(
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


def _run(db: Database, script: str) -> None:
    # Not `executescript`: it commits first, which would break the migration's own transaction.
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)


def migrate(db: Database) -> None:
    """Bring `db` to the current schema (idempotent)."""
    migrations.apply(db)
