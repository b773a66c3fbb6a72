"""Acceptance: 8 concurrent clients issue 500 tickets while 4 windows call, on a real server over loopback.

0 duplicate numbers, 0 tickets called twice, and an unfiltered subscriber sees every seq once, in order.
Also: a repeated request id returns the first reply and issues nothing.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import httpx
from websockets.asyncio.client import connect

from tests.fakes.live_server import Station
from tests.server.conftest import MATTER, Running, rid

ISSUERS = 8
TICKETS = 500
WINDOWS = (1, 2, 3, 4)  # series A


async def issue_many(url: str, st: Station, n: int, labels: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, headers=st.headers, timeout=30) as http:
        for _ in range(n):
            r = await http.post("/api/tickets", json={"request_id": rid(), "matter": MATTER})
            assert r.status_code == 201, r.text
            labels.append(r.json()["ticket"]["label"])


async def call_until_done(url: str, st: Station, issuing: asyncio.Event, called: list[str]) -> None:
    async with httpx.AsyncClient(base_url=url, headers=st.headers, timeout=30) as http:

        async def act(action: str) -> httpx.Response:
            return await http.post(f"/api/windows/{st.window}/{action}", json={"request_id": rid()})

        while True:
            r = await act("call-next")
            if r.status_code == 409 and r.json()["error"] == "nothing_waiting":
                if not issuing.is_set():
                    return
                await asyncio.sleep(0.005)
                continue
            assert r.status_code == 200, r.text
            called.append(r.json()["ticket"]["id"])
            assert (await act("start")).status_code == 200
            assert (await act("finish")).status_code == 200


async def follow(url: str, token: str, last: list[int], seqs: list[int]) -> None:
    """Collect event seqs until `last[0]` (set when the load is over) has been seen."""
    async with connect(
        f"{url}/events?since=0", additional_headers={"Authorization": f"Bearer {token}"}
    ) as ws:
        while not (last and seqs and seqs[-1] >= last[0]):
            try:
                msg: dict[str, Any] = json.loads(await asyncio.wait_for(ws.recv(), 1.0))
            except TimeoutError:
                continue
            if msg["kind"] not in ("heartbeat", "snapshot"):
                seqs.append(msg["seq"])


def test_concurrent_issue_and_call(server: Running) -> None:
    desks = [server.station("desk") for _ in range(ISSUERS)]
    counters = [server.station("counter", window=w) for w in WINDOWS]
    display = server.station("display")
    for c in counters:
        assert server.act(c, "open").status_code == 200

    async def main() -> tuple[list[str], list[str], list[int]]:
        labels: list[str] = []
        called: list[str] = []
        seqs: list[int] = []
        issuing = asyncio.Event()
        issuing.set()
        last: list[int] = []
        follower = asyncio.create_task(follow(server.ws_url, display.token, last, seqs))
        await asyncio.sleep(0.2)  # let the subscriber register before the load starts (it also replays)
        callers = [asyncio.create_task(call_until_done(server.url, c, issuing, called)) for c in counters]
        shares = [TICKETS // ISSUERS + (i < TICKETS % ISSUERS) for i in range(ISSUERS)]
        await asyncio.gather(
            *(issue_many(server.url, d, n, labels) for d, n in zip(desks, shares, strict=True))
        )
        issuing.clear()
        await asyncio.gather(*callers)
        last.append(server.hall.store.seq)
        await asyncio.wait_for(follower, 30)
        return labels, called, seqs

    labels, called, seqs = asyncio.run(main())
    assert len(labels) == TICKETS
    assert len(set(labels)) == TICKETS, "a number was issued twice"
    assert len(called) == TICKETS
    assert len(set(called)) == TICKETS, "a ticket was called twice"
    assert seqs == list(range(1, server.hall.store.seq + 1)), "the stream skipped, repeated or reordered"
    assert server.count("SELECT COUNT(*) FROM tickets WHERE state = 'done'") == TICKETS
    assert server.count("SELECT COUNT(DISTINCT day || series || number) FROM tickets") == TICKETS


def test_repeated_request_id_returns_the_first_reply(server: Running) -> None:
    desk = server.station("desk")
    body = {"request_id": "same-tap", "matter": MATTER}
    first = server.http.post("/api/tickets", json=body, headers=desk.headers)
    again = server.http.post("/api/tickets", json=body, headers=desk.headers)
    assert first.status_code == again.status_code == 201
    assert first.json() == again.json()
    assert server.count("SELECT COUNT(*) FROM tickets") == 1
    other = server.http.post("/api/tickets", json={**body, "matter": "HJ02"}, headers=desk.headers)
    assert other.status_code == 422
    assert other.json()["error"] == "request_id_reused"
    # The same request id from another station is a different request.
    desk2 = server.station("desk")
    assert server.http.post("/api/tickets", json=body, headers=desk2.headers).status_code == 201
    assert server.count("SELECT COUNT(*) FROM tickets") == 2
