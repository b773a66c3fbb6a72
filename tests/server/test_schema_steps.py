"""The migrations apply in their numbered order, none is left out of `STEPS` (a step defined in initial.py or
later.py but not listed would silently never run), and a fresh database records every one of them."""

from __future__ import annotations

import inspect
import re
import sqlite3

from sqlite_utils import Database

from hallserver import schema
from hallserver.schema import initial, later


def test_steps_are_numbered_in_order_and_none_is_left_out() -> None:
    names = [step.__name__ for step in schema.STEPS]
    assert [int(re.match(r"m(\d{3})_", n).group(1)) for n in names] == list(range(1, len(names) + 1))  # type: ignore[union-attr]
    defined = {
        name
        for module in (initial, later)
        for name, fn in inspect.getmembers(module, inspect.isfunction)
        if re.match(r"m\d{3}_", name) and fn.__module__ == module.__name__
    }
    assert defined == set(names)


def test_a_fresh_database_records_every_step_once() -> None:
    conn = sqlite3.connect(":memory:")
    db = Database(conn)
    schema.migrate(db)
    schema.migrate(db)  # idempotent
    done = [r[0] for r in conn.execute("SELECT name FROM _sqlite_migrations ORDER BY rowid")]
    assert done == [step.__name__ for step in schema.STEPS]
