"""`/openapi.json` is the reply contract: every reply refers to the schema generated from its
`hallcore.replies` type, every error to `ErrorBody`, guarded operations carry their roles and the bearer
scheme, and a method the schema does not list answers 405 with an `Allow` header. (The fuzz in
tests/e2e/test_fuzz.py checks the server's real answers against this schema.)"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from hallcore.codec import json_schema
from hallserver.openapi import REPLY_TYPES
from tests.fakes.live_server import LiveServer, live_server

REF = "#/components/schemas/"


@pytest.fixture(scope="module")
def hall(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("openapi"), stations=False) as server:
        yield server


@pytest.fixture(scope="module")
def schema(hall: LiveServer) -> dict[str, Any]:
    r = hall.http.get("/openapi.json")
    assert r.status_code == 200
    data: dict[str, Any] = r.json()
    return data


def operations(schema: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, ops in schema["paths"].items():
        for method, op in ops.items():
            yield method.upper(), path, op


def refs(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        if "$ref" in node:
            yield node["$ref"]
        for value in node.values():
            yield from refs(value)
    elif isinstance(node, list):
        for value in node:
            yield from refs(value)


def reply_schema(response: dict[str, Any]) -> dict[str, Any]:
    assert set(response["content"]) == {"application/json"}, response
    schema: dict[str, Any] = response["content"]["application/json"]["schema"]
    items: dict[str, Any] = schema.get("items", schema)
    return items


def test_every_reply_refers_to_its_generated_type(schema: dict[str, Any]) -> None:
    seen = 0
    for method, path, op in operations(schema):
        codes = [int(c) for c in op["responses"]]
        assert any(200 <= c < 300 for c in codes), f"{method} {path}: no success documented"
        for code, response in op["responses"].items():
            target = reply_schema(response).get("$ref", "")
            assert target.startswith(REF), f"{method} {path} {code}: {response}"
            if int(code) >= 400 and (path, code) != ("/api/health", "503"):
                assert target == REF + "ErrorBody", f"{method} {path} {code} answers {target}"
            seen += 1
    assert seen > 100


def test_components_are_the_codec_schemas(schema: dict[str, Any]) -> None:
    components = schema["components"]["schemas"]
    assert "HTTPValidationError" not in components  # FastAPI's own error shape is not what we send
    defs: dict[str, dict[str, Any]] = {}
    for tp in REPLY_TYPES.values():
        json_schema(tp, defs)
    for name, body in defs.items():
        assert components[name] == {k: v for k, v in body.items() if k != "x-python"}, name
    missing = {r for r in refs(schema) if r.removeprefix(REF) not in components}
    assert missing == set()


#: The published component names, pinned. A component is named by its class alone
#: (`hallcore.codec.json_schema`), so moving a reply type between modules (issue 15 split hallcore/replies.py
#: into hallcore/replyschema/) renames nothing a generated client depends on; a new or renamed type changes
#: this set on purpose.
COMPONENT_NAMES = """
    ActiveIn AddedItem ApproveIn BookIn BookingCancelled BookingFound BookingImported BookingMade
    BrightnessStep Calendar CalendarYear CancelIn Candidate CaseView CheckInIn Closure CounterLoginIn
    CounterSession DateHours Department DeviceHealthIn DeviceHealthReply DeviceInfo Empty EnrollIn
    EnrollPoll Enrollment ErrorBody Hall HallSnapshot HallView Health IdentityIn ImportStatus IssueIn
    Issued KeyStatus Kiosk Led ManagerAccount ManagerLoginIn ManagerSession Material Matter MissingItem
    NotIssued NoticeItem NoticePrint NoticeSub NoticeWithdrawn NotifyIn OwedItemView OwedView
    PartnerStatus PersonToday Precheck PrecheckResult PriorityClass Question Rated RatingIn RatingPolicy
    RatingView Reloaded Remaining Req Roster RosterIn Season Series Session Slot StationInfo StationRole
    Supplied SupplyIn TicketChanged TicketPrint TicketReply TicketStatus TicketView Voice VoidIn
    WaitEstimate When Window WindowIn WindowResult WindowView Zone
"""
COMPONENTS = frozenset(COMPONENT_NAMES.split())


def test_the_component_names_are_pinned(schema: dict[str, Any]) -> None:
    names = set(schema["components"]["schemas"])
    assert names - COMPONENTS == set(), "new components: add them to COMPONENTS on purpose"
    assert COMPONENTS - names == set(), "components gone or renamed: a generated client would break"
    assert all("x-python" not in body for body in schema["components"]["schemas"].values())


def test_guarded_operations_name_their_roles(schema: dict[str, Any]) -> None:
    assert schema["components"]["securitySchemes"]["bearer"]["scheme"] == "bearer"
    guarded = {(m, p): op for m, p, op in operations(schema) if "security" in op}
    public = {(m, p) for m, p, op in operations(schema) if "security" not in op}
    assert ("POST", "/api/tickets") in guarded
    assert "Roles: counter, desk, kiosk." in guarded[("POST", "/api/tickets")]["description"]
    assert public >= {("GET", "/api/health"), ("POST", "/api/enroll"), ("POST", "/api/bookings")}
    for (method, path), op in guarded.items():
        assert {"401", "403"} <= set(op["responses"]), f"{method} {path}"


def test_a_body_documents_the_body_errors(schema: dict[str, Any]) -> None:
    for method, path, op in operations(schema):
        if "requestBody" in op:
            assert {"400", "413", "422"} <= set(op["responses"]), f"{method} {path}"


@pytest.mark.parametrize(
    ("method", "path", "allowed"),
    [
        ("GET", "/api/tickets", ["POST"]),
        ("DELETE", "/api/hall", ["GET"]),
        ("TRACE", "/api/health", ["GET"]),
        # Two routes take this path: the candidates list and a window action named "candidates".
        ("PUT", "/api/windows/1/candidates", ["GET", "POST"]),
        ("PATCH", "/api/tickets/2026-11-23%2FA001/printed", ["POST"]),
    ],
)
def test_an_undeclared_method_is_405_with_allow(
    hall: LiveServer, method: str, path: str, allowed: list[str]
) -> None:
    r = hall.http.request(method, path)
    assert r.status_code == 405
    assert r.headers["allow"] == ", ".join(allowed)
    assert r.headers["content-type"] == "application/json"
    body = r.json()
    assert (body["error"], body["detail"]["allowed"]) == ("method_not_allowed", allowed)
