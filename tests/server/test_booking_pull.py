"""The pull adapter against the real server and a partner's HTTP server that publishes a list
(docs/integrations.md "The pull adapter"): adds and cancels applied once, a list cut short or malformed
changes nothing, and only a whole, clean list cancels what it no longer names."""

from __future__ import annotations

import asyncio
import json
import pathlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hallcore.config import HallConfig
from hallserver.bookpartners import ListPuller, PullResult
from tests.fakes.partner import FakePartner, entry, person, with_import
from tests.server.conftest import Running, rid, start_server


@pytest.fixture
def hall(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path, partner: FakePartner
) -> Iterator[Running]:
    # poll_s is long: the server's own puller reads the list once at start (empty), the test pulls itself.
    config = with_import(county, tmp_path, list_url=partner.list_url, poll_s=3600)
    with start_server(tmp_path, config, seeded_db) as (_st, running):
        yield running


def pull(hall: Running) -> PullResult:
    puller = ListPuller(hall.app.state.imports)
    p = hall.config.booking_import.partners[0]

    async def once() -> PullResult:
        async with httpx.AsyncClient() as client:
            return await puller.pull(client, p)

    return asyncio.run(once())


def listing(partner: FakePartner, items: list[dict[str, Any]], *, complete_: bool = True) -> None:
    partner.listing = json.dumps({"bookings": items, "complete": complete_}).encode()


def states(hall: Running) -> dict[str, str]:
    import sqlite3

    conn = sqlite3.connect(str(hall.db))
    try:
        cur = conn.execute(
            "SELECT i.external_id, b.state FROM booking_imports i JOIN bookings b ON b.code = i.code"
        )
        return dict(cur.fetchall())
    finally:
        conn.close()


def test_a_list_is_applied_once_and_a_bad_list_changes_nothing(hall: Running, partner: FakePartner) -> None:
    a, b, c = entry("L-A", person(1)), entry("L-B", person(2), slot="10:30"), entry("L-C", person(3))
    listing(partner, [a, b, c])
    res = pull(hall)
    assert (res.ok, res.booked, res.cancelled, res.refused) == (True, 3, 0, [])
    assert states(hall) == {"L-A": "booked", "L-B": "booked", "L-C": "booked"}
    # Read again: nothing new (idempotent on the external id).
    res = pull(hall)
    assert (res.booked, res.cancelled) == (0, 0)
    assert hall.count("SELECT COUNT(*) FROM bookings") == 3
    # Cut short in transit: not JSON, nothing applied, nothing lost.
    partner.listing = json.dumps({"bookings": [a], "complete": True}).encode()[:-7]
    res = pull(hall)
    assert not res.ok
    assert "JSON" in res.error
    # The wrong shape: nothing applied.
    partner.listing = b'[{"external_id": "L-A"}]'
    assert not pull(hall).ok
    # The partner down: nothing applied.
    partner.mode = "down"
    assert pull(hall).error == "HTTP 503"
    partner.mode = "ok"
    assert states(hall) == {"L-A": "booked", "L-B": "booked", "L-C": "booked"}
    # A partial page (not marked complete) that leaves B and C out cancels nothing.
    listing(partner, [a], complete_=False)
    res = pull(hall)
    assert res.ok
    assert res.cancelled == 0
    assert not res.complete
    # A complete list with one bad entry cancels nothing by absence either.
    listing(partner, [a, {**b, "day": "24/11/2026"}])
    res = pull(hall)
    assert res.ok
    assert res.cancelled == 0
    assert res.problems
    assert not res.complete
    assert states(hall) == {"L-A": "booked", "L-B": "booked", "L-C": "booked"}
    # An explicit cancellation, and a whole clean list that no longer names C: both cancelled.
    listing(partner, [a, {**b, "state": "cancelled"}])
    res = pull(hall)
    assert (res.ok, res.complete, res.cancelled) == (True, True, 2), res
    assert states(hall) == {"L-A": "booked", "L-B": "cancelled", "L-C": "cancelled"}
    # The partner's own cancellations are not reported back to it.
    assert hall.count("SELECT COUNT(*) FROM outbox WHERE kind = 'booking_cancel'") == 0


def test_a_listed_booking_the_hall_cannot_take_is_reported_not_lost(
    hall: Running, partner: FakePartner
) -> None:
    quota = hall.config.booking.default_quota
    items = [entry(f"Q-{i}", person(i)) for i in range(quota + 1)]
    listing(partner, items, complete_=False)
    res = pull(hall)
    assert res.booked == quota
    assert res.refused == [f"Q-{quota}: slot_full"]
    # The refused one is not bound: when the partner moves it, the next read books it.
    items[quota] = entry(f"Q-{quota}", person(quota), slot="11:00")
    listing(partner, items, complete_=False)
    res = pull(hall)
    assert (res.booked, res.refused) == (1, [])


def test_a_booking_cancelled_at_the_hall_stays_cancelled_while_the_list_still_names_it(
    hall: Running, partner: FakePartner
) -> None:
    listing(partner, [entry("H-1", person(1))])
    assert pull(hall).booked == 1
    code = _code_of(hall, "H-1")
    r = hall.http.post(f"/api/bookings/{code}/cancel", json={"request_id": rid()})
    assert r.status_code == 200, r.text
    # This partner takes no reports (no report_url): nothing is queued for it, no dead letter to clear.
    assert hall.count("SELECT COUNT(*) FROM outbox") == 0
    res = pull(hall)
    assert (res.booked, res.cancelled, res.refused) == (0, 0, [])
    assert states(hall) == {"H-1": "cancelled"}


def _code_of(hall: Running, external_id: str) -> str:
    import sqlite3

    conn = sqlite3.connect(str(hall.db))
    try:
        row = conn.execute(
            "SELECT code FROM booking_imports WHERE external_id = ?", (external_id,)
        ).fetchone()
        return str(row[0])
    finally:
        conn.close()
