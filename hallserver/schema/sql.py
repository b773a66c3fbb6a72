"""Running a migration's SQL inside the migration's own transaction."""

from __future__ import annotations

from sqlite_utils import Database


def run_script(db: Database, script: str) -> None:
    # Not `executescript`: it commits first, which would break the migration's own transaction.
    for statement in script.split(";\n"):
        if statement.strip():
            db.execute(statement)
