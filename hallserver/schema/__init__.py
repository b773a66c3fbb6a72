"""The hall database schema, as sqlite-utils `Migrations` (DESIGN.md §6). Add a migration, never edit one:
the first schema is `initial.py`, every step since is in `later.py`, and `STEPS` is the order they apply in.

Tables:
- `tickets`, `windows`, `bookings`, `ratings`, `cases`: the engine's rows, written in the command's
  transaction.
- `events`: the append-only hall event log (the `ticket_events` of DESIGN.md §6), keyed by the hall-wide seq.
- `prechecks`, `estimates`: for statistics (pre-check outcomes; each estimate joined with the real wait).
- `stations`, `staff`, `managers`, `sessions`, `roster`, `audit`: auth and who-did-what.
- `idempotency`: the first 2xx reply per (station, request id), stored with the command.
- `outbox`: ratings waiting for the provincial 好差评 upload; `device_health`: the last report per device.
- `booking_imports`, `import_nonces`: bookings from outside (hallserver/bookimport.py).
- `meta`: single values: the hall key's check value and file (never the key: hallserver/keys.py).

Indexes keep issue and call O(1) in history size: every statement on the hot path is a primary-key upsert or
an append; the start-up load reads only recent or still-live rows through `day` and `state` indexes.
"""

from __future__ import annotations

from sqlite_utils import Database
from sqlite_utils.migrations import Migrations

from hallserver.schema import initial, later

#: Applied in this order, each once (its function name is recorded in `_sqlite_migrations`): append, never
#: reorder or rename.
STEPS = (
    initial.m001_initial,
    later.m002_web,
    later.m003_numbers_unique_by_label,
    later.m004_rollups,
    later.m005_head_starts,
    later.m006_precheck_agent,
    later.m007_owed,
    later.m008_outbox_dead_letters,
    later.m009_station_windows,
    later.m010_keys_out_of_the_database,
    later.m011_audit_chain,
    later.m012_case_outcomes,
    later.m013_purge_indexes,
    later.m014_carded_tickets,
    later.m015_notices,
    later.m016_booking_imports,
)

migrations = Migrations("hallserver")
for _step in STEPS:
    migrations()(_step)


def migrate(db: Database) -> None:
    """Bring `db` to the current schema (idempotent)."""
    migrations.apply(db)
