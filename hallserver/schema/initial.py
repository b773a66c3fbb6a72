"""The hall database's first schema (m001): the engine's rows, the event log, auth, idempotency, the outbox.
Never edited: a change is a later migration (hallserver/schema/later.py)."""

from __future__ import annotations

from sqlite_utils import Database

from hallserver.schema.sql import run_script


def m001_initial(db: Database) -> None:
    run_script(
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
