"""The centre's schema on a real PostgreSQL: hall_id leads every hall table's key (so the tables could be
sharded by hall), the other tables are the listed reference tables, events are partitioned by month, and
retention drops whole old months while the derived rows stay."""

from __future__ import annotations

import datetime as dt
import pathlib

from hallcentral.devcluster import Cluster
from hallcentral.schema import DISTRIBUTED, MIGRATIONS, REFERENCE
from tests.central.support import SimHall, centre, wait_for

TODAY = dt.datetime.now(dt.timezone(dt.timedelta(hours=8))).date()

PK_COLUMNS = """
    SELECT c.relname, array_agg(a.attname ORDER BY k.i)
    FROM pg_constraint p
    JOIN pg_class c ON c.oid = p.conrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    CROSS JOIN LATERAL unnest(p.conkey) WITH ORDINALITY AS k(attnum, i)
    JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
    WHERE p.contype = 'p' AND n.nspname = 'public' AND NOT c.relispartition
    GROUP BY c.relname
"""


def test_every_hall_table_is_keyed_by_hall_id_first(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    with centre(cluster, tmp_path) as c:
        tables = {
            r[0]
            for r in c.sql(
                "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
                " WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND NOT c.relispartition"
            )
        }
        assert tables == set(DISTRIBUTED) | set(REFERENCE)
        keys = {name: list(cols) for name, cols in c.sql(PK_COLUMNS)}
        assert set(keys) == tables  # every table has a primary key
        for name in DISTRIBUTED:
            assert keys[name][0] == "hall_id", (name, keys[name])
        with_hall_id = {
            r[0]
            for r in c.sql(
                "SELECT table_name FROM information_schema.columns WHERE table_schema = 'public'"
                " AND column_name = 'hall_id'"
            )
        }
        assert with_hall_id & tables == set(DISTRIBUTED)
        assert c.sql("SELECT partstrat, partattrs::text FROM pg_partitioned_table") == [("r", "2")]  # month
        # Migrations are idempotent: a second run changes nothing.
        r = c.cli("migrate")
        assert r.returncode == 0, r.stderr
        assert c.sql("SELECT version FROM schema_migrations ORDER BY version") == [
            (v,) for v, _ in MIGRATIONS
        ]


def test_retention_drops_old_months_keeps_derived_rows(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    with centre(cluster, tmp_path) as c:
        old = SimHall(c.url, "hall-old", "旧数据大厅", day=TODAY.replace(day=1) - dt.timedelta(days=800))
        old.enroll()
        c.approve("hall-old", "city-a")
        old.ship(old.issue(1), old.issue(2))
        new = SimHall(c.url, "hall-old", "旧数据大厅", day=TODAY)
        new.key, new.seq, new.numbers = old.key, old.seq, 0
        new.ship(new.issue(3))
        assert c.sql("SELECT count(*) FROM events") == [(3,)]
        c.stop()
        c.start()  # housekeeping runs at start (then hourly): the default keeps 24 months
        wait_for(lambda: c.sql("SELECT count(*) FROM events") == [(1,)], what="retention")
        assert c.sql(
            "SELECT count(*) FROM pg_inherits i JOIN pg_class p ON p.oid = i.inhparent"
            " WHERE p.relname = 'events'"
        ) == [(1,)]
        assert c.sql("SELECT count(*) FROM tickets WHERE hall_id = 'hall-old'") == [(3,)]
        assert c.acked("hall-old") == 3
