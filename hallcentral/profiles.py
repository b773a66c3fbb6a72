"""Hall profiles at the centre: the configuration a hall counts its figures with (series target waits, 即办件
matters, which department owns a matter and a window, time zone, targets), as the hall sent it in a batch
(`hallcore.shipping.hall_profile`; docs/central.md "The hall profile").

The latest profile per hall is kept, with its parts as small tables the roll-up SQL joins. A profile with
another fingerprint makes every roll-up of that hall stale: the hall's own statistics count every day with its
current configuration, and so does the centre.
"""

from __future__ import annotations

import datetime as dt
import json
import zoneinfo
from typing import Any

from psycopg import AsyncConnection

from hallcore.shipping import HallProfile, ProfileError, parse_profile


def read(data: Any) -> HallProfile:
    """Parse and check a received profile (its time zone must be one the centre knows)."""
    profile = parse_profile(data)
    try:
        zoneinfo.ZoneInfo(profile.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError) as exc:
        raise ProfileError(f"profile.timezone {profile.timezone!r} is not a known time zone") from exc
    return profile


async def store(
    conn: AsyncConnection[Any], hall: str, profile: HallProfile, raw: Any, now: dt.datetime
) -> bool:
    """Keep `profile` as the hall's (inside the batch's transaction); True when it changed."""
    cur = await conn.execute("SELECT fingerprint FROM hall_profiles WHERE hall_id = %s", (hall,))
    row = await cur.fetchone()
    if row is not None and row[0] == profile.fingerprint:
        return False
    await conn.execute(
        "INSERT INTO hall_profiles (hall_id, fingerprint, received_at, timezone, targets, profile)"
        " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT (hall_id) DO UPDATE SET"
        " fingerprint = EXCLUDED.fingerprint, received_at = EXCLUDED.received_at,"
        " timezone = EXCLUDED.timezone, targets = EXCLUDED.targets, profile = EXCLUDED.profile",
        (
            hall,
            profile.fingerprint,
            now,
            profile.timezone,
            json.dumps(profile.targets),
            json.dumps(raw, ensure_ascii=False),
        ),
    )
    async with conn.cursor() as cur:
        for table in ("hall_series", "hall_matters", "hall_departments", "hall_windows"):
            await cur.execute(f"DELETE FROM {table} WHERE hall_id = %s", (hall,))  # noqa: S608 - ours
        await cur.executemany(
            "INSERT INTO hall_series (hall_id, prefix, name, target_wait_min) VALUES (%s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            [(hall, s.prefix, s.name, s.target_wait_min) for s in profile.series],
        )
        await cur.executemany(
            "INSERT INTO hall_matters (hall_id, code, name, series, department, immediate)"
            " VALUES (%s, %s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
            [(hall, m.code, m.name, m.series, m.department, m.immediate) for m in profile.matters],
        )
        await cur.executemany(
            "INSERT INTO hall_departments (hall_id, id, name) VALUES (%s, %s, %s) ON CONFLICT DO NOTHING",
            [(hall, i, n) for i, n in profile.departments],
        )
        await cur.executemany(
            "INSERT INTO hall_windows (hall_id, number, name, department, zone) VALUES (%s, %s, %s, %s, %s)"
            " ON CONFLICT DO NOTHING",
            [(hall, w.number, w.name, w.department, w.zone) for w in profile.windows],
        )
        # Every day of this hall is counted again with the new configuration (within target, 即办件).
        await cur.execute(
            "INSERT INTO rollup_queue (hall_id, day) SELECT hall_id, day FROM rollup_days WHERE hall_id = %s"
            " ON CONFLICT DO NOTHING",
            (hall,),
        )
        await cur.execute("DELETE FROM rollup_days WHERE hall_id = %s", (hall,))
    return True
