"""The OpenAPI schema from the reply types: what `/openapi.json` promises is what the server sends.

Routes declare their replies with `documented(...)`: the `hallcore.replies` type of each success status and
the error statuses that depend on what the route does (404 unknown things, 409 state conflicts, 429 rate
limits, 507 when it writes). `install(app)` adds what follows from the route itself: 401 and 403 (with the
bearer security requirement and the roles) where a `roles(...)` guard protects it, 400, 413 and 422 where it
takes a JSON body, 422 where it takes parameters. Every error answers `ErrorBody`. Response schemas come from
`hallcore.codec.json_schema`, the same type hints the codec encodes by, so a client generated from the
schema reads what the server writes. Every public operation may answer 429 (hallserver/limits.py).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterable, Iterator, Mapping
from typing import Any

import fastapi.routing
from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.openapi.utils import get_openapi
from fastapi.routing import APIRoute
from starlette.routing import BaseRoute

from hallcore.codec import json_schema
from hallcore.replies import ErrorBody
from hallserver.deps import RoleGuard
from hallserver.limits import public_class

REF = "#/components/schemas/"
JSON = "application/json"

#: What each error status means across the API (docs/api.md, Conventions).
ERROR_MEANING: dict[int, str] = {
    400: "malformed_json: the body is not JSON",
    401: "unauthorized: no, unknown, expired or revoked token (or a wrong login)",
    403: "forbidden (the token's role may not do this), window_not_approved, not_logged_in_here,"
    " not_this_window (least privilege), not_on_roster, pin_change_required",
    404: "an unknown ticket, window, matter, booking, station or endpoint",
    409: "the current state does not allow it (an engine refusal), nothing changed",
    413: "body_too_large: the body is over 64 KiB",
    422: "invalid_field / missing_field / request_id_reused, or an engine refusal of bad input",
    429: "too_many_attempts (logins), too_many_requests (a public endpoint's budget), too_many_pending"
    " (enrollment): wait `Retry-After` seconds",
    503: "the database cannot be read",
    507: "disk_full: nothing was written; retry when space is freed",
}

#: Wire types named by `documented`, by schema name (their schemas go into `components/schemas`).
REPLY_TYPES: dict[str, Any] = {"ErrorBody": ErrorBody}


def _ref(tp: Any) -> dict[str, Any]:
    """A schema for `tp` (a dataclass, or `list[dataclass]`) that refers to `components/schemas`."""
    args = getattr(tp, "__args__", None)
    if getattr(tp, "__origin__", None) is list and args:
        return {"type": "array", "items": _ref(args[0])}
    name = tp.__name__
    if REPLY_TYPES.setdefault(name, tp) is not tp:
        raise TypeError(f"two reply types are called {name}")
    return {"$ref": REF + name}


def _describe(tp: Any) -> str:
    if getattr(tp, "__origin__", None) is list:
        return f"a list: {_describe(tp.__args__[0])}"
    doc: str = inspect.getdoc(tp) or ""
    if not doc or doc.startswith(f"{tp.__name__}("):  # the signature dataclasses make up
        return str(tp.__name__)
    return doc.split("\n\n", maxsplit=1)[0].replace("\n", " ")


def _error(status: int) -> dict[str, Any]:
    return {"description": ERROR_MEANING[status], "content": {JSON: {"schema": _ref(ErrorBody)}}}


def documented(ok: Mapping[int, Any], *errors: int) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route: the reply type of each success status, and its route-specific errors."""
    out: dict[int | str, dict[str, Any]] = {
        status: {"description": _describe(tp), "content": {JSON: {"schema": _ref(tp)}}}
        for status, tp in ok.items()
    }
    for status in errors:
        out[status] = _error(status)
    return out


def _roles(dependant: Dependant) -> frozenset[str] | None:
    """The roles a `roles(...)` guard lets through, found anywhere in the route's dependencies."""
    for dep in _walk(dependant):
        if isinstance(dep.call, RoleGuard):
            return dep.call.allowed
    return None


def _walk(dependant: Dependant) -> Iterator[Dependant]:
    for dep in dependant.dependencies:
        yield dep
        yield from _walk(dep)


def _implied(route: Any, roles: frozenset[str] | None) -> Iterable[int]:
    if roles is not None:
        yield from (401, 403)
    if route.body_field is not None:
        yield from (400, 413, 422)
    if route.dependant.path_params or route.dependant.query_params:
        yield 422


def flat_routes(routes: Iterable[BaseRoute]) -> Iterator[Any]:
    """Every route, with included routers opened up (FastAPI ≥ 0.160 keeps them as `_IncludedRouter`s); an
    item reads like an `APIRoute` (path_format, methods, dependant, body_field, responses, matches)."""
    contexts = getattr(fastapi.routing, "iter_route_contexts", None)
    if contexts is None:  # older FastAPI: the app's routes are already flat
        yield from routes
        return
    yield from contexts(list(routes))


def _is_api(route: Any) -> bool:
    return isinstance(getattr(route, "original_route", route), APIRoute)


def build(app: FastAPI) -> dict[str, Any]:
    """The schema: FastAPI's paths and request bodies, with the replies and errors of the contract."""
    schema = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    for route in flat_routes(app.routes):
        if not _is_api(route) or not route.include_in_schema:
            continue
        roles = _roles(route.dependant)
        for method in sorted(route.methods or ()):
            op = schema["paths"][route.path_format][method.lower()]
            responses = {
                code: r
                for code, r in op["responses"].items()
                if not _refers_to(r, "HTTPValidationError")
                and code.isdigit()
                and int(code) in _declared(route)
            }
            for status in _implied(route, roles):
                responses.setdefault(str(status), _error(status))
            if public_class(method, route.path_format) is not None:
                responses.setdefault("429", _error(429))
            op["responses"] = dict(sorted(responses.items()))
            if roles is not None:
                op["security"] = [{"bearer": []}]
                who = ", ".join(sorted(roles))
                op["description"] = (op.get("description", "") + f"\n\nRoles: {who}.").strip()
    components = schema.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)
    defs: dict[str, dict[str, Any]] = {}
    for tp in list(REPLY_TYPES.values()):
        json_schema(tp, defs, REF)
    for name, body in defs.items():
        if name in schemas:
            raise TypeError(f"the reply type {name} has the name of a request body")
        schemas[name] = {k: v for k, v in body.items() if k != "x-python"}
    components["securitySchemes"] = {
        "bearer": {"type": "http", "scheme": "bearer", "description": "a station token or manager session"}
    }
    return schema


def _declared(route: Any) -> set[int]:
    return {int(code) for code in route.responses if str(code).isdigit()}


def _refers_to(response: Mapping[str, Any], name: str) -> bool:
    content = response.get("content", {}).get(JSON, {})
    return bool(content.get("schema", {}).get("$ref", "").endswith("/" + name))


def install(app: FastAPI) -> None:
    """Serve `build(app)` at `/openapi.json` (built once, on first request)."""
    cached: list[dict[str, Any]] = []

    def openapi() -> dict[str, Any]:
        if not cached:
            cached.append(build(app))
        return cached[0]

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to replace the schema
