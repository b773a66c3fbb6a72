"""What the centre's pages show, always within the viewer's region subtree (`path` prefix).

Every query that returns a hall joins `regions` and filters on the viewer's path here, in SQL, so no page
or API can forget the scope; a hall outside it is "not found", never "forbidden" (its existence is not
told either).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg_pool import AsyncConnectionPool

from hallcore.measures import SATISFIED_SCORES, satisfaction, share

_IN_SCOPE = "r.path LIKE %(scope)s"
#: hallcore's 满意率 scores as a test on `ratings.score`.
_SATISFIED_SQL = f"score IN ({', '.join(str(s) for s in SATISFIED_SCORES)})"


def scope_param(path: str) -> str:
    """A LIKE pattern for the subtree under `path` ('/js/nj/' -> '/js/nj/%')."""
    return path.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def overview(
    pool: AsyncConnectionPool, path: str, now: dt.datetime, offline_after_s: int
) -> list[dict[str, Any]]:
    """One row per approved hall in the subtree: waiting, longest wait, open windows, today's 满意率,
    backlog and its age, offline."""
    q = f"""
        SELECT h.hall_id, h.name, r.id, r.name, r.path, h.acked_seq, h.hall_seq, h.last_seen,
               h.oldest_unshipped_at, h.today, h.clock_offset_s,
               (SELECT count(*) FROM tickets t WHERE t.hall_id = h.hall_id AND t.state = 'waiting'),
               (SELECT min(t.issued_at) FROM tickets t WHERE t.hall_id = h.hall_id AND t.state = 'waiting'),
               (SELECT count(*) FROM windows w WHERE w.hall_id = h.hall_id AND w.state <> 'closed'),
               coalesce(d.rated, 0), coalesce(d.satisfied, 0), coalesce(d.tickets, 0)
        FROM halls h JOIN regions r ON r.id = h.region_id
        LEFT JOIN hall_days d ON d.hall_id = h.hall_id AND d.day = h.today
        WHERE h.state = 'approved' AND {_IN_SCOPE}
        ORDER BY r.path, h.name, h.hall_id
    """  # noqa: S608 - our own fragments; values are bound
    async with pool.connection() as conn:
        cur = await conn.execute(q.encode(), {"scope": scope_param(path)})
        rows = await cur.fetchall()
        await conn.rollback()
    out = []
    for (
        hall_id,
        name,
        region_id,
        region_name,
        region_path,
        acked,
        hall_seq,
        last_seen,
        oldest_unshipped,
        today,
        offset_s,
        waiting,
        oldest_waiting,
        open_windows,
        rated,
        satisfied,
        tickets,
    ) in rows:
        hall_now = now + dt.timedelta(seconds=float(offset_s or 0))
        silent_s = (now - last_seen).total_seconds() if last_seen else None
        offline = silent_s is None or silent_s > offline_after_s
        backlog = max(0, int(hall_seq) - int(acked))
        # The age of the oldest event the hall reported as not yet acknowledged (while it is offline the
        # centre cannot know more: `silent_s` says how long it has not been heard from).
        age_from = oldest_unshipped if backlog else None
        out.append(
            {
                "hall_id": hall_id,
                "name": name,
                "region_id": region_id,
                "region": region_name,
                "region_path": region_path,
                "today": today.isoformat() if today else None,
                "tickets_today": int(tickets),
                "waiting": int(waiting),
                "longest_wait_min": (
                    round((hall_now - oldest_waiting).total_seconds() / 60, 1) if oldest_waiting else None
                ),
                "open_windows": int(open_windows),
                "rated_today": int(rated),
                "satisfaction_today": share(int(satisfied), int(rated)),
                "backlog": backlog,
                "backlog_age_s": round((now - age_from).total_seconds(), 1) if age_from else None,
                "acked_seq": int(acked),
                "last_seen": last_seen.isoformat() if last_seen else None,
                "silent_s": None if silent_s is None else round(silent_s, 1),
                "offline": offline,
            }
        )
    return out


async def visible(pool: AsyncConnectionPool, path: str, hall_id: str) -> bool:
    async with pool.connection() as conn:
        cur = await conn.execute(
            f"SELECT 1 FROM halls h JOIN regions r ON r.id = h.region_id"  # noqa: S608
            f" WHERE h.hall_id = %(hall)s AND h.state = 'approved' AND {_IN_SCOPE}",
            {"hall": hall_id, "scope": scope_param(path)},
        )
        row = await cur.fetchone()
        await conn.rollback()
    return row is not None


async def day_counts(pool: AsyncConnectionPool, hall_id: str, day: dt.date) -> dict[str, Any]:
    """A hall's counts for one business day, by the hall's definitions (tickets = issued and not voided;
    called = with a first call; outcomes = end states; ratings per level, by the ticket's day)."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT count(*), count(first_called_at), count(*) FILTER (WHERE state = 'done'),"
            " count(*) FILTER (WHERE state = 'no_show'), count(*) FILTER (WHERE state = 'expired'),"
            " count(*) FILTER (WHERE state = 'cancelled'), coalesce(sum(transfers), 0)"
            " FROM tickets WHERE hall_id = %s AND day = %s AND state <> 'voided'",
            (hall_id, day),
        )
        t = await cur.fetchone()
        cur = await conn.execute(
            "SELECT score, count(*) FROM ratings WHERE hall_id = %s AND day = %s GROUP BY score",
            (hall_id, day),
        )
        scores = {int(s): int(n) for s, n in await cur.fetchall()}
        cur = await conn.execute(
            "SELECT coalesce(outcome, ''), count(*) FROM tickets WHERE hall_id = %s AND day = %s"
            " AND state = 'done' GROUP BY 1",
            (hall_id, day),
        )
        outcomes = {str(o): int(n) for o, n in await cur.fetchall()}
        cur = await conn.execute(
            "SELECT outcome, n FROM precheck_days WHERE hall_id = %s AND day = %s", (hall_id, day)
        )
        prechecks = {str(o): int(n) for o, n in await cur.fetchall()}
        await conn.rollback()
    assert t is not None
    return {
        "day": day.isoformat(),
        "tickets": int(t[0]),
        "called": int(t[1]),
        "served": int(t[2]),
        "no_shows": int(t[3]),
        "expired": int(t[4]),
        "cancelled": int(t[5]),
        "transfers": int(t[6]),
        "rated": sum(scores.values()),
        "by_score": scores,
        "satisfaction": satisfaction(scores),
        "outcomes": outcomes,
        "prechecks": prechecks,
    }


async def hall_live(
    pool: AsyncConnectionPool, hall_id: str, now: dt.datetime, offline_after_s: int
) -> dict[str, Any]:
    """A hall's live view (the caller checked `visible`): windows, waiting per series, recent calls, today."""
    async with pool.connection() as conn:
        cur = await conn.execute(
            "SELECT h.name, r.name, h.today, h.clock_offset_s, h.last_seen, h.acked_seq, h.hall_seq"
            " FROM halls h JOIN regions r ON r.id = h.region_id WHERE h.hall_id = %s",
            (hall_id,),
        )
        head = await cur.fetchone()
        assert head is not None
        cur = await conn.execute(
            "SELECT number, name, state, zone, staff, pause_reason, current, current_state, since"
            " FROM windows WHERE hall_id = %s ORDER BY number",
            (hall_id,),
        )
        windows = [
            {
                "number": n,
                "name": nm,
                "state": st,
                "zone": z,
                "staff": sf,
                "pause_reason": pr,
                "current": cu,
                "current_state": cs,
                "since": si.isoformat(),
            }
            for n, nm, st, z, sf, pr, cu, cs, si in await cur.fetchall()
        ]
        cur = await conn.execute(
            "SELECT t.series, count(*), min(t.issued_at) FROM tickets t"
            " WHERE t.hall_id = %s AND t.state = 'waiting' GROUP BY t.series ORDER BY t.series",
            (hall_id,),
        )
        waiting_rows = await cur.fetchall()
        cur = await conn.execute(
            "SELECT body FROM events WHERE hall_id = %s AND kind = 'ticket_changed'"
            " AND body->>'action' IN ('called', 'recalled') ORDER BY seq DESC LIMIT 10",
            (hall_id,),
        )
        calls = [b for (b,) in await cur.fetchall()]
        await conn.rollback()
    name, region, today, offset_s, last_seen, acked, hall_seq = head
    hall_now = now + dt.timedelta(seconds=float(offset_s or 0))
    series = [
        {
            "series": s,
            "waiting": int(n),
            "longest_wait_min": round((hall_now - oldest).total_seconds() / 60, 1),
        }
        for s, n, oldest in waiting_rows
    ]
    silent = (now - last_seen).total_seconds() if last_seen else None
    return {
        "hall_id": hall_id,
        "name": name,
        "region": region,
        "offline": silent is None or silent > offline_after_s,
        "last_seen": last_seen.isoformat() if last_seen else None,
        "backlog": max(0, int(hall_seq) - int(acked)),
        "windows": windows,
        "series": series,
        "calls": [
            {
                "label": c.get("ticket", {}).get("label", ""),
                "window": (c.get("window") or {}).get("number"),
                "window_name": (c.get("window") or {}).get("name", ""),
                "at": c.get("at", ""),
            }
            for c in calls
        ],
        "today": await day_counts(pool, hall_id, today) if today else None,
    }
