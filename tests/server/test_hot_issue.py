"""`POST /api/tickets` answered before the framework (hallserver/hotpath.py) with the route's own logic
(hallserver/issuing.py): a well-formed request from a known station is issued there; its reply, idempotency
record and every refusal are the route's, byte for byte, whichever path a request takes. The hot path reads
only `application/json`; a body sent as `application/x-hallq+json`, which FastAPI parses as JSON all the
same, always goes to the framework: the same request sent both ways shows the two paths agree."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hallserver import issuing
from hallserver.hotpath import HotPaths
from hallserver.limits import public_class
from tests.fakes.live_server import Station
from tests.server.conftest import MATTER, Running, ServerThread, rid, start_server


@pytest.fixture
def srv(tmp_path: Any, county: Any, seeded_db: Any) -> Iterator[tuple[ServerThread, Running]]:
    with start_server(tmp_path, county, seeded_db) as pair:
        yield pair


def hot_paths(st: ServerThread) -> HotPaths:
    hot: Any = st.server.config.app
    while not isinstance(hot, HotPaths):  # under the client-address and security-header wrappers
        hot = hot.app
    return hot


def post(server: Running, st: Station | None, body: bytes, *, hot: bool, **headers: str) -> httpx.Response:
    """POST the raw `body`; `hot`: as `application/json` (the hot path may take it), else as another JSON
    type (the framework answers)."""
    h = dict(st.headers) if st is not None else {}
    h["content-type"] = "application/json" if hot else "application/x-hallq+json"
    h.update(headers)
    return server.http.post("/api/tickets", content=body, headers=h)


def dumps(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


def test_an_issue_is_answered_before_the_framework_with_the_routes_reply(
    srv: tuple[ServerThread, Running],
) -> None:
    st, server = srv
    hot = hot_paths(st)
    desk = server.station("desk")
    warm = server.issue(desk)  # the first request of a station reads its token from the database
    assert warm.status_code == 201, warm.text
    before = hot.issued
    first = dumps({"request_id": rid(), "matter": MATTER})
    r = post(server, desk, first, hot=True)
    assert r.status_code == 201, r.text
    assert hot.issued == before + 1
    assert r.headers["content-type"] == "application/json"
    assert r.headers["x-content-type-options"] == "nosniff"  # the security headers wrap the hot path too
    issued = r.json()
    assert issued["ticket"]["source"] == "desk"
    assert re.fullmatch(r"[A-Za-z0-9_-]{22}", issued["token"])  # secrets.token_urlsafe(16)'s form
    # The same request through the framework: the idempotency record (same fingerprint) gives it back.
    again = post(server, desk, first, hot=False)
    assert again.status_code == 201
    assert again.content == r.content
    assert hot.issued == before + 1
    # And the other way round: issued by the route, repeated on the hot path.
    second = dumps({"request_id": rid(), "matter": MATTER, "holder_name": "张三"})
    by_route = post(server, desk, second, hot=False)
    assert by_route.status_code == 201, by_route.text
    repeat = post(server, desk, second, hot=True)
    assert repeat.content == by_route.content
    assert hot.issued == before + 2
    assert server.count("SELECT COUNT(*) FROM tickets") == 3
    # The request id under another request: refused the same on both paths.
    reused = dumps({"request_id": json.loads(second)["request_id"], "matter": "SB02"})
    refusals = [post(server, desk, reused, hot=h) for h in (True, False)]
    assert {r.status_code for r in refusals} == {422}
    assert refusals[0].content == refusals[1].content
    assert refusals[0].json()["error"] == "request_id_reused"
    assert server.count("SELECT COUNT(*) FROM tickets") == 3


def test_a_kiosk_ticket_waits_for_its_print_on_both_paths(srv: tuple[ServerThread, Running]) -> None:
    st, server = srv
    kiosk = server.station("kiosk")
    passes: dict[str, Any] = {"answers": {"in_person": True}, "present": ["idcard", "hukou", "move_permit"]}
    assert server.issue(kiosk, **passes).status_code == 201
    hot = hot_paths(st)
    before = hot.issued
    # A kiosk's ticket is the kiosk's whatever the body says.
    body = {"matter": MATTER, "source": "phone", **passes}
    replies = [post(server, kiosk, dumps({"request_id": rid(), **body}), hot=h) for h in (True, False)]
    assert hot.issued == before + 1
    for r in replies:
        assert r.status_code == 201, r.text
        assert r.json()["ticket"]["source"] == "kiosk"
        assert r.json()["ticket"]["state"] == "pending_print"


BAD: list[tuple[str, bytes, int, str]] = [
    ("malformed JSON", b'{"request_id": "x", "matter": ', 400, "malformed_json"),
    ("not UTF-8", b'{"request_id": "\xff\xfe", "matter": "HJ01"}', 400, "http_error"),
    ("a wrong type", dumps({"request_id": "r1", "matter": 5}), 422, "invalid_field"),
    ("an unknown field", dumps({"request_id": "r2", "matter": MATTER, "colour": 1}), 422, "invalid_field"),
    ("no request id", dumps({"matter": MATTER}), 422, "invalid_field"),
    ("a list", b"[1, 2]", 422, "invalid_field"),
    (
        "a control character",
        dumps({"request_id": "r3", "matter": MATTER, "holder_name": "a\u202e"}),
        422,
        "invalid_field",
    ),
    (
        "over 64 KiB",
        dumps({"request_id": "r4", "matter": MATTER, "priority": "x" * 70_000}),
        413,
        "body_too_large",
    ),
    ("an unknown matter", dumps({"request_id": "r5", "matter": "NOPE"}), 404, ""),
]


@pytest.mark.parametrize(("what", "body", "status", "error"), BAD, ids=[b[0] for b in BAD])
def test_bad_requests_get_the_routes_refusal_on_both_paths(
    srv: tuple[ServerThread, Running], what: str, body: bytes, status: int, error: str
) -> None:
    st, server = srv
    desk = server.station("desk")
    assert server.issue(desk).status_code == 201  # its token is cached: the hot path would take it
    hot = hot_paths(st)
    before = hot.issued
    tickets = server.count("SELECT COUNT(*) FROM tickets")
    hot_reply = post(server, desk, body, hot=True)
    route_reply = post(server, desk, body, hot=False)
    assert hot_reply.status_code == status, (what, hot_reply.text)
    assert hot_reply.content == route_reply.content, what
    assert hot_reply.status_code == route_reply.status_code
    if error:
        assert hot_reply.json()["error"] == error
    # Only a valid body is issued on the hot path (the engine's own refusal comes back from the writer).
    assert hot.issued == before + (1 if what == "an unknown matter" else 0)
    assert server.count("SELECT COUNT(*) FROM tickets") == tickets


def test_callers_the_route_refuses_are_refused_by_the_route(srv: tuple[ServerThread, Running]) -> None:
    st, server = srv
    hot = hot_paths(st)
    display = server.station("display")
    assert server.http.get("/api/snapshot", headers=display.headers).status_code == 200  # cached now
    body = dumps({"request_id": rid(), "matter": MATTER})
    cases = [
        (None, {}, 401, "unauthorized"),
        (None, {"Authorization": "Bearer not-a-token"}, 401, "unauthorized"),
        (None, {"Authorization": "Basic abc"}, 401, "unauthorized"),
        (display, {}, 403, "forbidden"),
    ]
    for who, extra, status, error in cases:
        r = post(server, who, body, hot=True, **extra)
        assert r.status_code == status, r.text
        assert r.json()["error"] == error
        if status == 401:
            assert r.headers["www-authenticate"] == "Bearer"
    assert hot.issued == 0
    assert server.count("SELECT COUNT(*) FROM tickets") == 0


def test_neither_hot_route_is_public() -> None:
    """No public budget to spend on the hot path: both routes need a station's token."""
    assert public_class("POST", issuing.PATH) is None
    assert public_class("GET", "/api/snapshot") is None


def test_status_tokens_are_unique_and_of_the_usual_form() -> None:
    tokens = issuing.StatusTokens()
    made = [tokens.new() for _ in range(3 * issuing.StatusTokens.BATCH + 7)]  # across several draws
    assert len(set(made)) == len(made)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{22}", t) for t in made)
