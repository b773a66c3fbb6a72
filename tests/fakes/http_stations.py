"""A station made ready over plain HTTP against a server in another process (benchmarks, fault rounds):
enrolled, approved by the manager (a counter for its window), its token picked up, and a counter's clerk
logged in with its window opened. In-process tests use `LiveServer.station` (live_server.py)."""

from __future__ import annotations

import uuid

import httpx


def enroll_station(
    http: httpx.Client, role: str, manager: tuple[str, str], pin: str, window: int | None = None
) -> str:
    """The new station's token; a counter (`window` given) has clerk c<window> logged in (PIN `pin`) and its
    window open. Any refusal raises `httpx.HTTPStatusError`."""
    r = http.post("/api/manager/login", json={"username": manager[0], "password": manager[1]})
    mh = {"Authorization": f"Bearer {r.raise_for_status().json()['token']}"}
    e = http.post("/api/enroll", json={"name": role, "role": role}).raise_for_status().json()
    # A counter station is approved for its window: a clerk logs in only there (issue 16's window scope).
    approve = {} if window is None else {"window": window}
    http.post(f"/api/stations/{e['station_id']}/approve", json=approve, headers=mh).raise_for_status()
    picked = http.get(f"/api/enroll/{e['station_id']}", params={"poll_secret": e["poll_secret"]})
    token = str(picked.raise_for_status().json()["token"])
    if window is not None:
        h = {"Authorization": f"Bearer {token}"}
        login = {"staff": f"c{window}", "pin": pin, "window": window}
        http.post("/api/counter/login", json=login, headers=h).raise_for_status()
        opened = http.post(f"/api/windows/{window}/open", json={"request_id": uuid.uuid4().hex}, headers=h)
        opened.raise_for_status()
    return token
