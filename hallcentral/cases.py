"""差评 follow-up across halls: the cases past their deadline and still open, by each hall's own "today"
(the hall-local day of its newest event), oldest deadline first."""

from __future__ import annotations

import datetime as dt
from typing import Any

from psycopg import AsyncConnection

from hallcentral.overview import scope_param

#: Rows a page or export shows at most (the count says how many there are).
LIMIT = 1000


async def overdue(conn: AsyncConnection[Any], path: str, limit: int = LIMIT) -> dict[str, Any]:
    """Open 差评 cases past due in the halls under `path`: per hall counts and the cases themselves."""
    where = (
        "h.state = 'approved' AND r.path LIKE %(scope)s AND c.closed_at IS NULL AND c.state <> 'closed'"
        " AND h.today IS NOT NULL AND c.due < h.today"
    )
    p = {"scope": scope_param(path), "limit": limit}
    cur = await conn.execute(
        "SELECT h.hall_id, h.name, r.name, count(*), min(c.due) FROM cases c"  # noqa: S608 - our fragment
        f" JOIN halls h USING (hall_id) JOIN regions r ON r.id = h.region_id WHERE {where}"
        " GROUP BY 1, 2, 3 ORDER BY 4 DESC, 2",
        p,
    )
    per_hall = [
        {"hall_id": h, "name": n, "region": rn, "overdue": int(k), "oldest_due": d.isoformat()}
        for h, n, rn, k, d in await cur.fetchall()
    ]
    cur = await conn.execute(
        "SELECT h.hall_id, h.name, r.name, c.id, c.label, c.day, c.score, c.state, c.due,"  # noqa: S608
        ' c."window", c.matter_name, h.today'
        f" FROM cases c JOIN halls h USING (hall_id) JOIN regions r ON r.id = h.region_id WHERE {where}"
        " ORDER BY c.due, h.name, c.id LIMIT %(limit)s",
        p,
    )
    rows = []
    for hall, name, region, cid, label, day, score, state, due, window, matter, today in await cur.fetchall():
        rows.append(
            {
                "hall_id": hall,
                "hall": name,
                "region": region,
                "case": cid,
                "label": label,
                "day": day.isoformat(),
                "score": int(score),
                "state": state,
                "due": due.isoformat(),
                "days_overdue": (today - due).days if isinstance(today, dt.date) else None,
                "window": int(window),
                "matter_name": matter,
            }
        )
    return {"total": sum(h["overdue"] for h in per_hall), "halls": per_hall, "cases": rows}
