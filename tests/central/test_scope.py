"""A user scoped to one city never sees another city's hall, on any page or API: every route of the centre's
app is requested as city A's user with city B's hall in the path, and nothing of hall B comes back. The
route list comes from the app itself, so a route added later without a check here fails this test."""

from __future__ import annotations

import json
import pathlib
import re
from contextlib import closing

import httpx
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import connect

from hallcentral import config as central_config
from hallcentral.app import create_app, routes_summary
from hallcentral.devcluster import Cluster
from tests.central.support import ADMIN, CITY_A, CITY_B, CentreProc, SimHall, centre

DAY = "2026-11-23"
# Everything a response could carry that tells of hall B.
B_ID, B_NAME = "hall-b-secret-id", "乙市秘密大厅"
C_ID, C_NAME = "hall-c-pending", "丙待批大厅"


def _halls(c: CentreProc) -> tuple[SimHall, SimHall]:
    a = SimHall(c.url, "hall-a", "甲市一县大厅")
    b = SimHall(c.url, B_ID, B_NAME)
    for h, region in ((a, "county-a1"), (b, "city-b")):
        h.enroll()
        c.approve(h.hall_id, region)
        h.ship(h.window(1, "open", 0), h.issue(1), h.issue(2), h.call("A001", 1, 5), h.rate("A001", 5, 9))
    SimHall(c.url, C_ID, C_NAME).enroll()  # pending: no region yet
    return a, b


def _csrf(client: httpx.Client) -> str:
    m = re.search(r'<meta name="csrf" content="([^"]+)"', client.get("/overview").text)
    assert m is not None
    return m.group(1)


def _no_b(text: str, where: str) -> None:
    for secret in (B_ID, B_NAME, C_ID, C_NAME):
        assert secret not in text, f"{where} shows {secret!r}: {text[:300]}"


def _ws_text(c: CentreProc, path: str, cookie: str) -> str:
    url = f"ws://127.0.0.1:{c.port}{path}"
    try:
        with connect(url, additional_headers={"Cookie": cookie}, open_timeout=10) as ws:
            return str(ws.recv(timeout=10))
    except ConnectionClosed as exc:
        return f"closed {exc.rcvd.code if exc.rcvd else ''}"
    except InvalidStatus as exc:  # closed before accepting: the handshake answers 403
        return f"refused {exc.response.status_code}"


def test_city_user_never_sees_another_citys_hall(cluster: Cluster, tmp_path: pathlib.Path) -> None:
    with centre(cluster, tmp_path) as c:
        c.add_users()
        _halls(c)
        routes = routes_summary(create_app(central_config.load(c.config)))
        with closing(c.login(CITY_A)) as client, closing(c.login(ADMIN)) as boss:
            cookie = f"hallq_central={client.cookies['hallq_central']}"
            csrf = _csrf(client)
            covered = set()
            # Logging out goes last: until then every request is made with city A's live session.
            for route in sorted(routes, key=lambda r: r["path"] == "/logout"):
                path, methods = route["path"], route["methods"]
                url = (
                    path.replace("{hall_id}", B_ID)
                    .replace("{region_id}", "city-b")
                    .replace("{day}", DAY)
                    .replace("{path:path}", "style.css")
                )
                foreign = "{hall_id}" in path or "{region_id}" in path
                for method in methods:
                    if method in ("HEAD", "OPTIONS"):
                        continue
                    if method == "WS":
                        text = _ws_text(c, url, cookie)
                        if foreign:
                            assert text == "refused 403", text
                    elif method == "GET":
                        r = client.get(url)
                        text = r.text
                        if foreign:
                            assert r.status_code == 404, (url, r.status_code)
                    else:
                        r = client.request(
                            method,
                            url,
                            data={"csrf": csrf, "region": "city-a"},
                            headers={"x-csrf-token": csrf},
                        )
                        text = r.text + r.headers.get("location", "")
                        if foreign:
                            assert r.status_code in (403, 404), (url, r.status_code)
                    _no_b(text, f"{method} {url}")
                    covered.add((path, method))
                    if path != "/logout":
                        assert client.get("/api/overview").status_code == 200, f"logged out by {method} {url}"
            assert len(covered) == len([m for r in routes for m in r["methods"] if m != "HEAD"]) >= 20, (
                covered
            )
        with closing(c.login(CITY_A)) as client, closing(c.login(ADMIN)) as boss:
            cookie = f"hallq_central={client.cookies['hallq_central']}"
            # Hall B is still approved in city B (the approve POST above changed nothing).
            assert c.sql("SELECT region_id, state FROM halls WHERE hall_id = %s", (B_ID,)) == [
                ("city-b", "approved")
            ]
            # Positive controls: the same routes do show what is in scope, so the checks above can fail.
            over = client.get("/api/overview").json()
            assert [h["hall_id"] for h in over["halls"]] == ["hall-a"]
            assert client.get("/api/halls/hall-a").json()["name"] == "甲市一县大厅"
            assert client.get(f"/api/halls/hall-a/days/{DAY}").json()["rated"] == 1
            assert json.loads(_ws_text(c, "/ws/overview", cookie))["halls"][0]["hall_id"] == "hall-a"
            # The statistics routes of the user's own region and hall answer, with hall A only.
            for path in ("/api/stats/city-a", "/api/stats/county-a1", "/api/rankings/city-a"):
                got = client.get(path, params={"period": "day", "day": DAY})
                assert got.status_code == 200, path
                _no_b(got.text, path)
            lines = client.get("/api/stats/city-a", params={"period": "day", "day": DAY}).json()["lines"]
            assert [(x["key"], x["rated"]) for x in lines] == [("hall-a", 1)]
            assert client.get("/api/halls/hall-a/stats", params={"day": DAY}).status_code == 200
            for section in ("stats", "rankings", "cases"):  # each section's home: the user's own region
                home = client.get(f"/{section}", follow_redirects=False)
                assert (home.status_code, home.headers["location"]) == (303, f"/{section}/city-a")
            assert B_NAME in boss.get("/stats/prov", params={"period": "day", "day": DAY}).text
            assert B_NAME in boss.get("/overview").text
            assert C_NAME in boss.get("/admin").text  # pending halls: the province's administrators only
            with closing(c.login(CITY_B)) as bee:
                assert [h["name"] for h in bee.get("/api/overview").json()["halls"]] == [B_NAME]
                assert "甲市一县大厅" not in bee.get("/overview").text


#: The routes anyone may request: the login page and its POST, the health check, the static files, the halls'
#: signed API (its own signature check, tested in test_protocol.py) and its description (FastAPI's).
PUBLIC = {
    "/",
    "/login",
    "/healthz",
    "/static/{path:path}",
    "/web/static/{path:path}",
    "/api/v1/enroll",
    "/api/v1/batches",
    "/api/v1/formats",
    "/openapi.json",
    "/docs",
    "/docs/oauth2-redirect",
    "/redoc",
}


def test_every_route_without_a_session_answers_401_or_the_login_page(
    cluster: Cluster, tmp_path: pathlib.Path
) -> None:
    """One check (`hallcentral.web.signed_in`) stands before every page, export and JSON answer: without a
    session a page sends the browser to the login page, the JSON API and a POST answer 401, and a POST with a
    live session but the wrong CSRF token is refused the same way. The route list comes from the app."""
    with centre(cluster, tmp_path) as c:
        c.add_users()
        _halls(c)
        routes = routes_summary(create_app(central_config.load(c.config)))
        checked = 0
        with httpx.Client(base_url=c.url, timeout=10) as anon, closing(c.login(CITY_A)) as client:
            for route in routes:
                path = route["path"]
                if path in PUBLIC:
                    continue
                url = (
                    path.replace("{hall_id}", "hall-a").replace("{region_id}", "city-a").replace("{day}", DAY)
                )
                for method in route["methods"]:
                    if method in ("HEAD", "OPTIONS"):
                        continue
                    if method == "WS":
                        assert _ws_text(c, url, "") in ("refused 403", "closed 4401"), url
                    elif method == "GET" and not path.startswith("/api/"):
                        r = anon.get(url, follow_redirects=False)
                        assert (r.status_code, r.headers.get("location")) == (303, "/login"), (url, r.text)
                    else:
                        r = anon.request(method, url, follow_redirects=False)
                        assert (r.status_code, r.json()["error"]) == (401, "unauthorized"), (method, url)
                        if method != "GET":
                            r = client.request(method, url, data={"csrf": "wrong"}, follow_redirects=False)
                            assert (r.status_code, r.json()["error"]) == (401, "unauthorized"), (method, url)
                    checked += 1
            # The positive control: the same session reaches the pages and the API.
            assert client.get("/api/overview").status_code == 200
            assert client.get("/overview", follow_redirects=False).status_code == 200
            # A bad query parameter is refused the same way everywhere (`web_query.BadQuery`: 400, and what).
            for path, params in (
                ("/api/stats/city-a", {"period": "decade"}),
                ("/stats/city-a/export", {"format": "pdf"}),
                ("/rankings/city-a", {"metric": "speed"}),
                ("/cases/city-a/export", {"format": "pdf"}),
            ):
                r = client.get(path, params=params)
                assert (r.status_code, r.json()["error"]) == (400, "bad_query"), (path, r.text)
        assert checked >= 20, checked
