"""Least privilege (issue 16): role × endpoint × own/other window × clerk logged in or not.

Findings: any counter or desk station, even with no clerk logged in, could rate, cancel or re-queue any
ticket (a 差评 case was opened on another window's ticket), act for any window, and log its clerk in at any
window.

The world: counters approved for window 1 (one with clerk c1 logged in, one without), desks approved for
window 14 (the county's service desk, 综合窗口 A/B/G; one with clerk c8 logged in, one without), a kiosk, a
display, a device agent; tickets served, marked no-show and waiting at window 1 ("own") and at window 3 or in
series D ("other" — window 3 also serves A; no counter here serves D).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from hallcore.config import HallConfig
from tests.fakes.live_server import PIN, Station, passing, seeded_db
from tests.server.conftest import Running, rid, start_server

OWN, OTHER = 1, 3


@dataclass
class World:
    server: Running
    actors: dict[str, Station]
    tickets: dict[str, str]  # what -> ticket id


def call(
    server: Running, st: Station | None, method: str, path: str, body: dict[str, Any] | None = None
) -> httpx.Response:
    """As station `st` (None: the manager); a POST gets a fresh request id unless it is a login."""
    headers = st.headers if st is not None else server.manager()
    if method == "GET":
        return server.http.get(path, headers=headers)
    extra = {} if path.endswith("/login") else {"request_id": rid()}
    return server.http.post(path, json={**extra, **(body or {})}, headers=headers)


def ok(r: httpx.Response) -> dict[str, Any]:
    assert r.status_code in (200, 201), r.text
    body: dict[str, Any] = r.json()
    return body


def issue(server: Running, desk: Station, matter: str) -> str:
    m = server.config.matter_by_code[matter]
    return str(
        ok(call(server, desk, "POST", "/api/tickets", {**passing(m), "matter": matter}))["ticket"]["id"]
    )


def act(server: Running, window: int, action: str, **body: Any) -> dict[str, Any]:
    """The manager drives a window (managers may act on any window): how the tickets get their history."""
    return ok(call(server, None, "POST", f"/api/windows/{window}/{action}", body))


def serve(server: Running, window: int) -> str:
    t = act(server, window, "call-next")["ticket"]["id"]
    act(server, window, "start")
    act(server, window, "finish")
    return str(t)


def no_show(server: Running, window: int) -> str:
    t = act(server, window, "call-next")["ticket"]["id"]
    for _ in range(server.config.no_show.max_recalls):
        server.clock.advance(server.config.no_show.min_recall_gap_s + 1)
        act(server, window, "recall")
    server.clock.advance(server.config.no_show.min_recall_gap_s + 1)
    act(server, window, "no-show")
    return str(t)


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory, county: HallConfig) -> Iterator[World]:
    tmp = tmp_path_factory.mktemp("scope")
    with start_server(tmp, county, seeded_db()) as (_st, server):
        issuer = server.station("desk", "issuer")  # approved for no window: issues tickets, nothing more
        for w in (OWN, OTHER):
            act(server, w, "open")
        # Window 1 and 3 serve A: a served ticket and a no-show at each.
        for _ in range(4):
            issue(server, issuer, "HJ02")
        tickets = {
            "served_own": serve(server, OWN),
            "served_other": serve(server, OTHER),
            "noshow_own": no_show(server, OWN),
            "noshow_other": no_show(server, OTHER),
            "waiting_own": issue(server, issuer, "HJ02"),  # series A: window 1 calls it
            "waiting_other": issue(server, issuer, "GJ01"),  # series D: only windows 10 and 11
        }
        act(server, OWN, "close")
        actors = {
            "counter+clerk": server.station("counter", "counter in", window=OWN, staff="c1"),
            "counter": server.station("counter", "counter out", window=None),
            "desk+clerk": server.station("desk", "desk in", window=14, staff="c8"),
            "desk": server.station("desk", "desk out", window=None),
            "kiosk": server.station("kiosk"),
            "display": server.station("display"),
            "agent": server.station("agent"),
        }
        # Approve the clerk-less counter and desk for their windows too (what they lack is a clerk).
        for name, w in (("counter", OWN), ("desk", 14)):
            st = actors[name]
            ok(
                server.http.post(
                    f"/api/stations/{st.id}/approve", json={"window": w}, headers=server.manager()
                )
            )
        yield World(server, actors, tickets)


#: What each kind of refusal answers.
ROLE, NOT_APPROVED, NO_CLERK, NOT_HERE = (
    "forbidden",
    "window_not_approved",
    "not_logged_in_here",
    "not_this_window",
)
#: The window each station is approved for ("own"); the other window is one it is not.
HOME = {"counter+clerk": OWN, "counter": OWN, "desk+clerk": 14, "desk": 14}


def expected(actor: str, endpoint: str, where: str) -> str:
    """The refusal policy (docs/api.md "Least privilege"), or "" where the request may go through."""
    window_roles = {"counter+clerk", "counter", "desk+clerk", "desk"}
    if actor not in window_roles:
        return ROLE
    clerk = actor.endswith("+clerk")
    if endpoint in ("call-next", "candidates", "login"):
        if where == "other":
            return NOT_APPROVED
        return "" if endpoint in ("candidates", "login") or clerk else NO_CLERK
    # ticket actions (rate, requeue, cancel): a clerk, and a ticket of that window's
    if not clerk:
        return NO_CLERK
    if actor == "desk+clerk":
        # The desk's window 14 serves A, B and G: it may cancel a waiting A ticket, but served nothing.
        return "" if (endpoint == "cancel" and where == "own") else NOT_HERE
    return "" if where == "own" else NOT_HERE


def attempt(w: World, actor: str, endpoint: str, where: str) -> httpx.Response:
    s, st = w.server, w.actors[actor]
    window = HOME.get(actor, OWN) if where == "own" else OTHER
    t = w.tickets
    match endpoint:
        case "call-next":
            return call(s, st, "POST", f"/api/windows/{window}/call-next")
        case "candidates":
            return call(s, st, "GET", f"/api/windows/{window}/candidates")
        case "login":
            # A wrong PIN: a refusal must come before the PIN is checked (403, not 401).
            return call(
                s, st, "POST", "/api/counter/login", {"staff": "c2", "pin": "000001", "window": window}
            )
        case "rate":
            return call(s, st, "POST", f"/api/tickets/{t['served_' + where]}/rating", {"score": 1})
        case "requeue":
            return call(s, st, "POST", f"/api/tickets/{t['noshow_' + where]}/requeue")
        case "cancel":
            return call(s, st, "POST", f"/api/tickets/{t['waiting_' + where]}/cancel", {"reason": "x"})
    raise AssertionError(endpoint)


ACTORS = ("counter+clerk", "counter", "desk+clerk", "desk", "kiosk", "display", "agent")
ENDPOINTS = ("call-next", "candidates", "login", "rate", "requeue", "cancel")


def test_every_refusal_of_the_matrix_is_a_403_with_its_reason(world: World) -> None:
    s = world.server
    before = {t: s.count(f"SELECT COUNT(*) FROM {t}") for t in ("ratings", "cases", "events", "idempotency")}
    wrong = []
    for actor in ACTORS:
        for endpoint in ENDPOINTS:
            for where in ("own", "other"):
                want = expected(actor, endpoint, where)
                if not want or (endpoint == "login" and where == "own"):
                    continue  # the requests that go through are the next test's
                r = attempt(world, actor, endpoint, where)
                got = r.json().get("error") if r.status_code == 403 else f"{r.status_code} {r.text[:80]}"
                if got != want:
                    wrong.append(f"{actor} {endpoint} {where}: want 403 {want}, got {got}")
                elif not (r.json()["message"] and r.json()["message_en"]):
                    wrong.append(f"{actor} {endpoint} {where}: a 403 without its reason")
    assert not wrong, "\n".join(wrong)
    after = {t: s.count(f"SELECT COUNT(*) FROM {t}") for t in before}
    assert after == before, "a refused request wrote something"
    assert s.count("SELECT COUNT(*) FROM audit WHERE action = 'login_failed'") == 0  # no PIN was checked


def test_what_the_matrix_allows_goes_through(world: World) -> None:
    s, a, t = world.server, world.actors, world.tickets
    counter = a["counter+clerk"]
    ok(call(s, counter, "GET", f"/api/windows/{OWN}/candidates"))
    ok(call(s, counter, "POST", f"/api/tickets/{t['served_own']}/rating", {"score": 1}))
    assert s.count("SELECT COUNT(*) FROM cases") == 1  # the 差评 case, on this window's own ticket
    ok(call(s, counter, "POST", f"/api/tickets/{t['noshow_own']}/requeue"))
    ok(call(s, counter, "POST", f"/api/tickets/{t['waiting_own']}/cancel", {"reason": "left"}))
    ok(call(s, counter, "POST", f"/api/windows/{OWN}/open"))
    ok(call(s, a["desk+clerk"], "GET", "/api/windows/14/candidates"))
    # The clerk-less counter logs its clerk in at its own window, and only then acts there.
    out = a["counter"]
    ok(call(s, out, "POST", "/api/counter/login", {"staff": "c2", "pin": PIN, "window": OWN}))
    ok(call(s, out, "POST", f"/api/windows/{OWN}/call-next"))


def test_changing_a_stations_windows_logs_out_a_clerk_at_a_window_it_lost(world: World) -> None:
    s = world.server
    st = s.station("counter", "moving counter", window=5, staff="c5")
    r = s.http.post(f"/api/stations/{st.id}/approve", json={"windows": [6, 7]}, headers=s.manager())
    assert ok(r)["windows"] == [6, 7]
    r = call(s, st, "POST", "/api/windows/5/open")
    assert r.status_code == 403
    assert r.json()["error"] == NOT_APPROVED
    ok(call(s, st, "POST", "/api/counter/login", {"staff": "c6", "pin": PIN, "window": 6}))
    ok(call(s, st, "POST", "/api/windows/6/open"))


def test_a_desk_cancels_a_ticket_it_issued_itself_and_no_other(world: World) -> None:
    """The desk's print-failure path (hallui/issuing.py): a walk-in its printer could not print is cancelled
    by the desk that issued it, clerk or not; another station's ticket stays out of its reach."""
    s = world.server
    mine, other = s.station("desk", "walk-in desk"), s.station("desk", "other desk")
    ticket = issue(s, mine, "HJ02")
    r = call(s, other, "POST", f"/api/tickets/{ticket}/cancel", {"reason": "x"})
    assert (r.status_code, r.json()["error"]) == (403, NO_CLERK), r.text
    done = ok(call(s, mine, "POST", f"/api/tickets/{ticket}/cancel", {"reason": "打印失败"}))
    assert done["ticket"]["state"] == "cancelled", done
