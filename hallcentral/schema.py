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
DISTRIBUTED = ("halls", "events", "tickets", "windows", "ratings", "series_waiting", "precheck_days")
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
)
