"""From shipped hall events to the centre's derived rows (tickets, windows, ratings, waiting per series,
pre-check counts and missing materials, 差评 cases): the live per-hall state the overview reads and the
rows the roll-ups count (hallcentral/rollups.py).

Pure: `derive(events)` returns what one batch changes, merged per row in seq order, so the ingest writes
each touched row once per batch. Unknown kinds and unknown fields are ignored here (they stay in the event
rows); `outcome` and `department` are taken when a hall sends them.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from hallcore.measures import is_satisfied

#: Ticket actions that end a ticket's stay (the hall's `ended_at`).
_ENDING = frozenset({"finished", "no_show", "expired", "cancelled", "voided"})


@dataclass(frozen=True, slots=True)
class Shipped:
    """One event of a batch as the centre validated it."""

    seq: int
    at: dt.datetime
    kind: str
    body: Mapping[str, Any]

    @property
    def local_day(self) -> dt.date:
        """The hall-local date (the ISO text keeps the hall's offset)."""
        return self.at.date()


@dataclass(slots=True)
class Derived:
    tickets: dict[str, dict[str, Any]] = field(default_factory=dict)
    windows: dict[int, dict[str, Any]] = field(default_factory=dict)
    ratings: dict[str, dict[str, Any]] = field(default_factory=dict)
    waiting: dict[str, int] = field(default_factory=dict)
    prechecks: dict[tuple[dt.date, str], int] = field(default_factory=dict)
    missing: dict[tuple[dt.date, str], int] = field(default_factory=dict)
    cases: dict[str, dict[str, Any]] = field(default_factory=dict)
    # Per hall-local day: [tickets issued − voided, ratings, 满意 ratings] (the overview's running totals).
    totals: dict[dt.date, list[int]] = field(default_factory=dict)

    def _total(self, day: dt.date, i: int, n: int = 1) -> None:
        t = self.totals.setdefault(day, [0, 0, 0])
        t[i] += n

    def days(self) -> set[dt.date]:
        """The hall days this batch changed (their roll-ups, if any, are stale)."""
        out = {t["day"] for t in self.tickets.values()}
        out.update(r["day"] for r in self.ratings.values())
        out.update(c["day"] for c in self.cases.values())
        out.update(day for day, _ in self.prechecks)
        return out


def _day_of(ticket_id: str) -> dt.date:
    return dt.date.fromisoformat(ticket_id[:10])


def _ts(value: Any) -> dt.datetime | None:
    return dt.datetime.fromisoformat(value) if isinstance(value, str) and value else None


def _ticket_patch(e: Shipped, view: Mapping[str, Any]) -> dict[str, Any]:
    issued = _ts(view.get("issued_at")) or e.at
    return {
        "id": str(view["id"]),
        "day": _day_of(str(view["id"])),
        "label": str(view.get("label", "")),
        "series": str(view.get("series", "")),
        "matter": str(view.get("matter", "")),
        "matter_name": str(view.get("matter_name", "")),
        "source": str(view.get("source", "")),
        "priority": str(view.get("priority", "")),
        "state": str(view.get("state", "")),
        "issued_at": issued,
        "first_called_at": None,
        "serving_at": None,
        "ended_at": None,
        "window": view.get("window") if isinstance(view.get("window"), int) else None,
        "staff": "",
        "recalls": int(view.get("recalls", 0) or 0),
        "transfers": int(view.get("transfers", 0) or 0),
        "outcome": view.get("outcome") or e.body.get("outcome"),
        "department": view.get("department") or e.body.get("department"),
        "seq": e.seq,
    }


def _merge_ticket(into: dict[str, dict[str, Any]], patch: dict[str, Any]) -> None:
    old = into.get(patch["id"])
    if old is None:
        into[patch["id"]] = patch
        return
    first = old["first_called_at"] or patch["first_called_at"]
    for key in ("serving_at", "ended_at", "outcome", "department"):
        if patch[key] is None:
            patch[key] = old[key]
    if not patch["staff"]:
        patch["staff"] = old["staff"]
    patch["first_called_at"] = first
    into[patch["id"]] = patch


def _window_row(e: Shipped, w: Mapping[str, Any]) -> dict[str, Any]:
    return {
        "number": int(w["number"]),
        "name": str(w.get("name", "")),
        "state": str(w.get("state", "")),
        "zone": str(w.get("zone", "")),
        "staff": str(w.get("staff", "")),
        "pause_reason": str(w.get("pause_reason", "")),
        "current": str(w.get("current", "")),
        "current_state": str(w.get("current_state", "")),
        "since": e.at,
    }


def derive(events: Sequence[Shipped]) -> Derived:
    out = Derived()
    for e in events:
        b = e.body
        if e.kind in ("ticket_issued", "ticket_changed"):
            view = b.get("ticket")
            if isinstance(view, Mapping) and view.get("id"):
                patch = _ticket_patch(e, view)
                action = b.get("action", "")
                if e.kind == "ticket_issued":
                    out._total(patch["day"], 0)
                elif action == "voided":
                    out._total(patch["day"], 0, -1)
                if action == "called":
                    patch["first_called_at"] = e.at
                elif action == "serving":
                    patch["serving_at"] = e.at
                elif action in _ENDING:
                    patch["ended_at"] = e.at
                w = b.get("window")
                if isinstance(w, Mapping) and "number" in w:
                    patch["staff"] = str(w.get("staff", ""))
                    out.windows[int(w["number"])] = _window_row(e, w)
                _merge_ticket(out.tickets, patch)
            waiting = b.get("waiting")
            if isinstance(waiting, Mapping):
                for series, n in waiting.items():
                    if isinstance(n, int):
                        out.waiting[str(series)] = n
        elif e.kind == "window_changed":
            w = b.get("window")
            if isinstance(w, Mapping) and "number" in w:
                out.windows[int(w["number"])] = _window_row(e, w)
        elif e.kind == "rating_recorded" and b.get("ticket"):
            ticket = str(b["ticket"])
            score = int(b.get("score", 0))
            out._total(_day_of(ticket), 1)
            out._total(_day_of(ticket), 2, int(is_satisfied(score)))
            out.ratings[ticket] = {
                "ticket": ticket,
                "day": _day_of(ticket),
                "score": score,
                "matter": str(b.get("matter", "")),
                "window": int(b.get("window", 0)),
                "staff": str(b.get("staff", "")),
                "at": e.at,
            }
        elif e.kind == "precheck_recorded":
            outcome = str(b.get("outcome", ""))
            key = (e.local_day, outcome)
            out.prechecks[key] = out.prechecks.get(key, 0) + 1
            missing = b.get("missing")
            # The hall counts the missing items of the pre-checks that did not pass (容缺, 不通过).
            if outcome != "通过" and isinstance(missing, list):
                for m in missing:
                    mk = (e.local_day, str(m))
                    out.missing[mk] = out.missing.get(mk, 0) + 1
        elif e.kind == "case_changed" and b.get("case") and b.get("ticket"):
            _case(out.cases, e, b)
    return out


def _case(into: dict[str, dict[str, Any]], e: Shipped, b: Mapping[str, Any]) -> None:
    """A case as the hall keeps it: opened once, closed_at set by a close and cleared by any later step."""
    cid = str(b["case"])
    old = into.get(cid)
    due = b.get("due")
    state = str(b.get("state", ""))
    into[cid] = {
        "id": cid,
        "ticket": str(b["ticket"]),
        "day": _day_of(str(b["ticket"])),
        "label": str(b.get("label", "")),
        "score": int(b.get("score", 0) or 0),
        "state": state,
        "due": dt.date.fromisoformat(due) if isinstance(due, str) and due else _day_of(str(b["ticket"])),
        "window": int(b.get("window", 0) or 0),
        "matter_name": str(b.get("matter_name", "")),
        "opened_at": (old["opened_at"] if old else None) or (e.at if b.get("action") == "opened" else None),
        "closed_at": e.at if state == "closed" else None,
        "at": e.at,
    }
