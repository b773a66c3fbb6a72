"""Month roll-ups: a hall month's ready day roll-ups merged into one row per dimension and key (sums added,
maxima taken, wait and handle histograms merged), so a month across a province reads one row per hall and
key instead of thirty (a month by hall merged ~4 million histogram buckets from day rows).

`rollup_months.days` lists the days merged. A statistics query uses a hall's month rows only when they are
exactly the month's ready days at that moment (hallcentral/statistics.py): a day counted again since, or
all of a hall's days after a new profile, leave the month rows unused until `merge` runs again, which the
builder does after every day it builds (hallcentral/rollups.py `build_day`). Adding a new day to a month
that is otherwise unchanged merges the month's rows with the day's; anything else merges the month again
from its days.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg import AsyncCursor

from hallcentral.rollups import STAT_COLS

#: The columns that add up (the rest: maxima and histograms).
SUMS = tuple(c for c in STAT_COLS if not c.endswith(("_max", "_b", "_c")))


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def merge_sql(source: str) -> str:
    """INSERT the merge of `source` (rows with dim, key and STAT_COLS) as the hall month's rows; an existing
    row of the same key is replaced."""
    cols = ", ".join(STAT_COLS)
    sums = ", ".join(f"sum({c}) AS {c}" for c in SUMS)
    update = ", ".join(f"{c} = EXCLUDED.{c}" for c in STAT_COLS)
    # In STAT_COLS' order: sums and maxima by name, histograms (none for a key without waits) as '{}'.
    select = ", ".join(f"coalesce({c}, '{{}}')" if c.endswith(("_b", "_c")) else c for c in STAT_COLS)
    return f"""
    WITH src AS ({source}),
    sums AS (SELECT dim, key, {sums}, max(wait_max) AS wait_max, max(handle_max) AS handle_max
             FROM src GROUP BY dim, key),
    wb AS (SELECT dim, key, b, sum(c)::int AS c FROM src, unnest(wait_b, wait_c) AS u(b, c) GROUP BY 1, 2, 3),
    wh AS (SELECT dim, key, array_agg(b ORDER BY b) AS wait_b, array_agg(c ORDER BY b) AS wait_c
           FROM wb GROUP BY 1, 2),
    hb AS (SELECT dim, key, b, sum(c)::int AS c FROM src, unnest(handle_b, handle_c) AS u(b, c)
           GROUP BY 1, 2, 3),
    hh AS (SELECT dim, key, array_agg(b ORDER BY b) AS handle_b, array_agg(c ORDER BY b) AS handle_c
           FROM hb GROUP BY 1, 2)
    INSERT INTO month_stats (hall_id, dim, month, key, {cols})
    SELECT %(hall)s, dim, %(month)s, key, {select}
    FROM sums LEFT JOIN wh USING (dim, key) LEFT JOIN hh USING (dim, key)
    ON CONFLICT (hall_id, dim, month, key) DO UPDATE SET {update}
    """  # noqa: S608 - our own fragments; values are bound


_COLS = "dim, key, " + ", ".join(STAT_COLS)
_FULL = merge_sql(
    f"SELECT s.{_COLS.replace(', ', ', s.')} FROM day_stats s JOIN rollup_days r USING (hall_id, day)"  # noqa: S608
    " WHERE s.hall_id = %(hall)s AND s.day >= %(month)s AND s.day < %(next)s"
)
_ADD = merge_sql(
    f"SELECT {_COLS} FROM month_stats WHERE hall_id = %(hall)s AND month = %(month)s"  # noqa: S608
    f" UNION ALL SELECT {_COLS} FROM day_stats WHERE hall_id = %(hall)s AND day = %(day)s"
)


async def merge(cur: AsyncCursor[Any], hall: str, day: dt.date, now: dt.datetime) -> None:
    """Bring the month of `day` up to its ready days, just after `day` was built (same transaction)."""
    month = day.replace(day=1)
    p = {"hall": hall, "month": month, "next": next_month(month), "day": day}
    await cur.execute(
        "SELECT array_agg(day ORDER BY day) FROM rollup_days WHERE hall_id = %(hall)s AND day >= %(month)s"
        " AND day < %(next)s",
        p,
    )
    row = await cur.fetchone()
    ready: list[dt.date] = list(row[0]) if row and row[0] else []
    await cur.execute("SELECT days FROM rollup_months WHERE hall_id = %(hall)s AND month = %(month)s", p)
    row = await cur.fetchone()
    merged: list[dt.date] = list(row[0]) if row else []
    if day not in merged and sorted([*merged, day]) == ready:
        await cur.execute(_ADD.encode(), p)
        await cur.execute(
            "INSERT INTO month_counts (hall_id, month, kind, key, n)"
            " SELECT %(hall)s, %(month)s, kind, key, sum(n) FROM ("
            " SELECT kind, key, n FROM month_counts WHERE hall_id = %(hall)s AND month = %(month)s"
            " UNION ALL SELECT kind, key, n FROM day_counts WHERE hall_id = %(hall)s AND day = %(day)s) x"
            " GROUP BY kind, key ON CONFLICT (hall_id, month, kind, key) DO UPDATE SET n = EXCLUDED.n",
            p,
        )
    else:
        await cur.execute("DELETE FROM month_stats WHERE hall_id = %(hall)s AND month = %(month)s", p)
        await cur.execute("DELETE FROM month_counts WHERE hall_id = %(hall)s AND month = %(month)s", p)
        await cur.execute(_FULL.encode(), p)
        await cur.execute(
            "INSERT INTO month_counts (hall_id, month, kind, key, n)"
            " SELECT %(hall)s, %(month)s, c.kind, c.key, sum(c.n) FROM day_counts c"
            " JOIN rollup_days r USING (hall_id, day)"
            " WHERE c.hall_id = %(hall)s AND c.day >= %(month)s AND c.day < %(next)s GROUP BY c.kind, c.key",
            p,
        )
    await cur.execute(
        "INSERT INTO rollup_months (hall_id, month, days, built_at)"
        " VALUES (%(hall)s, %(month)s, %(days)s, %(now)s) ON CONFLICT (hall_id, month)"
        " DO UPDATE SET days = EXCLUDED.days, built_at = EXCLUDED.built_at",
        {**p, "days": ready, "now": now},
    )
