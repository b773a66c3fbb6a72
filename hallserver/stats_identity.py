"""刷身份证取号 in the statistics (issue 27): carded tickets against anonymous ones, and the age structure of
the card holders by decade — never an identity. Read live over the tickets' `day` (the fingerprints and last
4 digits are not read at all; the decade is all the ticket keeps of a birth date)."""

from __future__ import annotations

import datetime as dt
import sqlite3
from typing import Any

from hallcore import measures
from hallcore.identity import AGENT, CARD


def identity_tally(conn: sqlite3.Connection, first: dt.date, last: dt.date) -> dict[str, Any]:
    """Tickets of days `first`…`last` (voided ones not counted): by the holder's own card, by an agent's
    card (代办), without a card; the card holders' ages by decade, youngest first."""
    rows = conn.execute(
        "SELECT identity, age_band, COUNT(*) FROM tickets WHERE day >= ? AND day <= ? AND state != 'voided'"
        " GROUP BY identity, age_band",
        (first.isoformat(), last.isoformat()),
    ).fetchall()
    counts = {CARD: 0, AGENT: 0, "": 0}
    decades: dict[int, int] = {}
    for kind, band, n in rows:
        counts[kind if kind in counts else ""] += n
        if kind == CARD and band is not None:
            decades[int(band)] = decades.get(int(band), 0) + n
    total = sum(counts.values())
    return {
        "carded": counts[CARD],
        "agent": counts[AGENT],
        "anonymous": counts[""],
        "carded_share": measures.share(counts[CARD] + counts[AGENT], total),
        "decades": sorted(decades.items()),
    }


def decade_name(band: int) -> str:
    """0 → "0–9 岁", 60 → "60–69 岁", 100 → "100 岁以上"."""
    return "100 岁以上" if band >= 100 else f"{band}–{band + 9} 岁"
