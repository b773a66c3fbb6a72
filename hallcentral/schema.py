"""The centre's PostgreSQL schema as numbered migrations (add one, never edit one); how it would be sharded.

Distribution (docs/central.md): every table holding a hall's data has `hall_id` as the first column of its
primary key, so a distributed PostgreSQL (Citus) could shard them all on `hall_id` and every per-hall query
and the ingest transaction stay on one shard. The small tables that are not per hall (the region tree,
central users, their sessions, the audit log, the migration list) would be reference tables, copied to
every node. `tests/central/test_schema.py` checks both lists against the live catalogue.

Dedup: `events` is partitioned by month (of the event's hall-local date) and PostgreSQL requires the
partition key in every unique key, so its key is (hall_id, month, seq). Exactly-once does not rest on it:
`halls.acked_seq` is the per-hall cursor, locked (`SELECT … FOR UPDATE`) and moved in the same
transaction that inserts the events and applies them to the derived tables, and the centre accepts only
the events after it, in order. A second (hall_id, seq) receipt table would cost a second index write per
event for a guarantee the cursor already gives, and would stop old months from being dropped whole.
"""

from __future__ import annotations

#: Tables sharded by hall_id (first column of the primary key).
DISTRIBUTED = (
    "halls",
    "events",
    "tickets",
    "windows",
    "ratings",
    "series_waiting",
    "precheck_days",
    "precheck_missing",
    "cases",
    "hall_profiles",
    "hall_series",
    "hall_matters",
    "hall_departments",
    "hall_windows",
    "rollup_days",
    "rollup_queue",
    "day_stats",
    "day_counts",
    "hall_days",
    "rollup_months",
    "month_stats",
    "month_counts",
)
#: Small tables copied to every node.
REFERENCE = ("regions", "users", "sessions", "audit", "schema_migrations")

MIGRATIONS: tuple[tuple[int, str], ...] = (
    (
        1,
        """
        CREATE TABLE regions (
            id text PRIMARY KEY,
            parent text REFERENCES regions (id),
            name text NOT NULL,
            level text NOT NULL,            -- province | city | county | district
            path text NOT NULL              -- '/js/nj/gl/': a subtree is a path prefix
        );
        CREATE INDEX regions_path ON regions (path text_pattern_ops);

        CREATE TABLE halls (
            hall_id text NOT NULL,
            name text NOT NULL,
            region_id text REFERENCES regions (id),
            state text NOT NULL,            -- pending | approved | revoked
            public_key bytea NOT NULL,
            code text NOT NULL,
            enrolled_at timestamptz NOT NULL,
            approved_at timestamptz,
            approved_by text,
            acked_seq bigint NOT NULL DEFAULT 0,
            hall_seq bigint NOT NULL DEFAULT 0,
            oldest_unshipped_at timestamptz,
            last_seen timestamptz,
            last_event_at timestamptz,
            today date,                     -- the hall-local day of its newest event ("today" there)
            clock_offset_s double precision NOT NULL DEFAULT 0,  -- hall clock - centre clock at last batch
            format integer NOT NULL DEFAULT 1,
            PRIMARY KEY (hall_id)
        );

        CREATE TABLE events (
            hall_id text NOT NULL,
            month date NOT NULL,            -- first day of the event's hall-local month
            seq bigint NOT NULL,
            at timestamptz NOT NULL,
            kind text NOT NULL,
            body jsonb NOT NULL,
            received_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (hall_id, month, seq)
        ) PARTITION BY RANGE (month);

        -- Derived from the events (hallcentral/derive.py), in the ingest transaction.
        CREATE TABLE tickets (
            hall_id text NOT NULL,
            id text NOT NULL,               -- '2026-11-23/A012'
            day date NOT NULL,
            label text NOT NULL,
            series text NOT NULL,
            matter text NOT NULL,
            matter_name text NOT NULL,
            source text NOT NULL,
            priority text NOT NULL,
            state text NOT NULL,
            issued_at timestamptz NOT NULL,
            first_called_at timestamptz,
            serving_at timestamptz,
            ended_at timestamptz,
            "window" integer,
            staff text NOT NULL DEFAULT '',
            recalls integer NOT NULL DEFAULT 0,
            transfers integer NOT NULL DEFAULT 0,
            outcome text,
            department text,
            seq bigint NOT NULL,            -- the last event applied
            PRIMARY KEY (hall_id, id)
        );
        CREATE INDEX tickets_waiting ON tickets (hall_id, issued_at) WHERE state = 'waiting';
        CREATE INDEX tickets_day ON tickets (hall_id, day);

        CREATE TABLE windows (
            hall_id text NOT NULL,
            number integer NOT NULL,
            name text NOT NULL,
            state text NOT NULL,
            zone text NOT NULL DEFAULT '',
            staff text NOT NULL DEFAULT '',
            pause_reason text NOT NULL DEFAULT '',
            current text NOT NULL DEFAULT '',
            current_state text NOT NULL DEFAULT '',
            since timestamptz NOT NULL,
            PRIMARY KEY (hall_id, number)
        );

        CREATE TABLE ratings (
            hall_id text NOT NULL,
            ticket text NOT NULL,
            day date NOT NULL,
            score integer NOT NULL,
            matter text NOT NULL,
            "window" integer NOT NULL,
            staff text NOT NULL,
            at timestamptz NOT NULL,
            PRIMARY KEY (hall_id, ticket)
        );
        CREATE INDEX ratings_day ON ratings (hall_id, day);

        CREATE TABLE series_waiting (
            hall_id text NOT NULL,
            series text NOT NULL,
            waiting integer NOT NULL,
            PRIMARY KEY (hall_id, series)
        );

        CREATE TABLE precheck_days (
            hall_id text NOT NULL,
            day date NOT NULL,
            outcome text NOT NULL,
            n integer NOT NULL,
            PRIMARY KEY (hall_id, day, outcome)
        );

        CREATE TABLE users (
            username text PRIMARY KEY,
            password_hash text NOT NULL,
            region_id text NOT NULL REFERENCES regions (id),
            admin boolean NOT NULL DEFAULT false,
            active boolean NOT NULL DEFAULT true,
            created_at timestamptz NOT NULL
        );

        CREATE TABLE sessions (
            token_hash text PRIMARY KEY,
            username text NOT NULL REFERENCES users (username),
            created_at timestamptz NOT NULL,
            expires_at timestamptz NOT NULL,
            revoked boolean NOT NULL DEFAULT false
        );

        CREATE TABLE audit (
            id bigserial PRIMARY KEY,
            at timestamptz NOT NULL,
            actor text NOT NULL,
            action text NOT NULL,
            target text NOT NULL,
            detail jsonb NOT NULL DEFAULT '{}'
        );
        CREATE INDEX audit_at ON audit (at);
        """,
    ),
    (
        2,
        """
        -- The hall profile (hallcore.shipping.hall_profile): the configuration the hall's figures are
        -- counted with. The latest one per hall, and its parts as tables the roll-up SQL joins.
        CREATE TABLE hall_profiles (
            hall_id text NOT NULL,
            fingerprint text NOT NULL,
            received_at timestamptz NOT NULL,
            timezone text NOT NULL,
            targets jsonb NOT NULL,
            profile jsonb NOT NULL,
            PRIMARY KEY (hall_id)
        );
        CREATE TABLE hall_series (
            hall_id text NOT NULL,
            prefix text NOT NULL,
            name text NOT NULL,
            target_wait_min integer NOT NULL,
            PRIMARY KEY (hall_id, prefix)
        );
        CREATE TABLE hall_matters (
            hall_id text NOT NULL,
            code text NOT NULL,
            name text NOT NULL,
            series text NOT NULL,
            department text NOT NULL,
            immediate boolean NOT NULL,
            PRIMARY KEY (hall_id, code)
        );
        CREATE TABLE hall_departments (
            hall_id text NOT NULL,
            id text NOT NULL,
            name text NOT NULL,
            PRIMARY KEY (hall_id, id)
        );
        CREATE TABLE hall_windows (
            hall_id text NOT NULL,
            number integer NOT NULL,
            name text NOT NULL,
            department text NOT NULL,
            zone text NOT NULL,
            PRIMARY KEY (hall_id, number)
        );

        -- 差评 follow-up cases, derived from case_changed events (hallcentral/derive.py).
        CREATE TABLE cases (
            hall_id text NOT NULL,
            id text NOT NULL,
            ticket text NOT NULL,
            day date NOT NULL,              -- the ticket's business day (the hall counts cases by it)
            label text NOT NULL,
            score integer NOT NULL,
            state text NOT NULL,
            due date NOT NULL,
            "window" integer NOT NULL,
            matter_name text NOT NULL,
            opened_at timestamptz,
            closed_at timestamptz,          -- as the hall's: set by a close, cleared by an appeal
            at timestamptz NOT NULL,        -- last change
            PRIMARY KEY (hall_id, id)
        );
        CREATE INDEX cases_day ON cases (hall_id, day);
        CREATE INDEX cases_open ON cases (hall_id, due) WHERE closed_at IS NULL AND state <> 'closed';

        -- Missing materials of pre-checks that did not pass, per hall-local day (with precheck_days).
        CREATE TABLE precheck_missing (
            hall_id text NOT NULL,
            day date NOT NULL,
            material text NOT NULL,
            n integer NOT NULL,
            PRIMARY KEY (hall_id, day, material)
        );

        -- Roll-ups of finished hall days (hallcentral/rollups.py). A day's row in rollup_days says its
        -- day_stats and day_counts rows are ready; ingest deletes it when a batch changes that day, and
        -- a new profile deletes all of the hall's, so a query never reads a stale roll-up.
        CREATE TABLE rollup_days (
            hall_id text NOT NULL,
            day date NOT NULL,
            fingerprint text NOT NULL,      -- of the profile it was counted with
            built_at timestamptz NOT NULL,
            PRIMARY KEY (hall_id, day)
        );
        -- Hall days changed since their roll-up (or never rolled up): built once the day is over.
        CREATE TABLE rollup_queue (
            hall_id text NOT NULL,
            day date NOT NULL,
            PRIMARY KEY (hall_id, day)
        );
        CREATE INDEX rollup_queue_day ON rollup_queue (day);
        CREATE TABLE day_stats (
            hall_id text NOT NULL,
            dim text NOT NULL,              -- hall | matter | series | department | window | clerk | hour
            day date NOT NULL,
            key text NOT NULL,
            tickets integer NOT NULL,
            served integer NOT NULL,
            no_shows integer NOT NULL,
            transfers integer NOT NULL,
            expired integer NOT NULL,
            cancelled integer NOT NULL,
            called integer NOT NULL,
            wait_sum_ms bigint NOT NULL,
            wait_max double precision,
            within integer NOT NULL,
            handle_n integer NOT NULL,
            handle_sum_ms bigint NOT NULL,
            handle_max double precision,
            done_immediate integer NOT NULL,
            onsite_done integer NOT NULL,   -- 办结 of 即办件
            onsite_accepted integer NOT NULL,  -- 受理 of 即办件
            s1 integer NOT NULL,            -- ratings per level (非常不满意 … 非常满意)
            s2 integer NOT NULL,
            s3 integer NOT NULL,
            s4 integer NOT NULL,
            s5 integer NOT NULL,
            wait_b integer[] NOT NULL,      -- waits in tenths of a minute (value, count)
            wait_c integer[] NOT NULL,
            handle_b integer[] NOT NULL,
            handle_c integer[] NOT NULL,
            PRIMARY KEY (hall_id, dim, day, key)
        );
        CREATE TABLE day_counts (
            hall_id text NOT NULL,
            day date NOT NULL,
            kind text NOT NULL,             -- case (opened/closed/on_time) | outcome (办结/受理/…)
            key text NOT NULL,
            n integer NOT NULL,
            PRIMARY KEY (hall_id, day, kind, key)
        )
        """,
    ),
    (
        3,
        """
        -- A hall day's running totals for the overview (tickets not voided, ratings, 满意), added to by each
        -- batch's events (hallcentral/derive.py): the overview reads one row per hall instead of counting
        -- every ticket of every hall's day on each refresh.
        CREATE TABLE hall_days (
            hall_id text NOT NULL,
            day date NOT NULL,
            tickets integer NOT NULL DEFAULT 0,
            rated integer NOT NULL DEFAULT 0,
            satisfied integer NOT NULL DEFAULT 0,
            PRIMARY KEY (hall_id, day)
        );
        INSERT INTO hall_days (hall_id, day, tickets)
            SELECT hall_id, day, count(*) FILTER (WHERE state <> 'voided') FROM tickets GROUP BY hall_id, day;
        INSERT INTO hall_days AS d (hall_id, day, rated, satisfied)
            -- 满意: measures.SATISFIED_SCORES
            SELECT hall_id, day, count(*), count(*) FILTER (WHERE score IN (3, 4, 5)) FROM ratings
            GROUP BY hall_id, day
            ON CONFLICT (hall_id, day) DO UPDATE SET rated = EXCLUDED.rated, satisfied = EXCLUDED.satisfied
        """,
    ),
    (
        4,
        """
        -- Month roll-ups (hallcentral/rollup_months.py): a hall month's day roll-ups merged, and the ready
        -- days they merged. A query uses them where those days are exactly the month's ready days now, so a
        -- day counted again (or a new profile) makes them unused until they are merged again.
        CREATE TABLE rollup_months (
            hall_id text NOT NULL,
            month date NOT NULL,
            days date[] NOT NULL,
            built_at timestamptz NOT NULL,
            PRIMARY KEY (hall_id, month)
        );
        CREATE TABLE month_stats (LIKE day_stats INCLUDING DEFAULTS);
        ALTER TABLE month_stats RENAME COLUMN day TO month;
        ALTER TABLE month_stats ADD PRIMARY KEY (hall_id, dim, month, key);
        CREATE TABLE month_counts (
            hall_id text NOT NULL,
            month date NOT NULL,
            kind text NOT NULL,
            key text NOT NULL,
            n integer NOT NULL,
            PRIMARY KEY (hall_id, month, kind, key)
        )
        """,
    ),
)
