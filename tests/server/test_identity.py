"""刷身份证取号 on the server (issue 27, hallcore/engine/persons.py, hallserver/issuereq.py): a card read sent
with the issue makes the ticket the holder's. The server keeps the keyed fingerprint and the last 4, never
the number; the birth date in the number gives the age class (verified, not claimed); per-person limits hold
across stations and restarts and say when the person may try again; 代办 counts against the agent's own
limit; `POST /api/identity` finds today's booking by the card. Against a real server on 127.0.0.1."""

from __future__ import annotations

import json
import pathlib
import sqlite3
from typing import Any

from hallcore import idnumber
from hallcore.config import HallConfig
from tests.fakes.live_server import Station
from tests.server.conftest import Running, rid, start_server

ELDER = idnumber.complete("11010119500307123")  # born 1950-03-07: 76 on Monday 2026-11-23
YOUNG = idnumber.complete("11010119900307109")
AGENT = idnumber.complete("32010219800101002")
PRINCIPAL = idnumber.complete("32010219400101003")
#: Two matters a desk issues for without pre-check answers.
HJ01, SB02 = "HJ01", "SB02"


def _issue(server: Running, st: Station, matter: str = HJ01, **body: Any) -> dict[str, Any]:
    r = server.issue(st, matter, **body)
    assert r.status_code in (201, 409, 422), r.text
    return {"status": r.status_code, **r.json()}


def _row(server: Running, label: str) -> dict[str, object]:
    conn = sqlite3.connect(str(server.db))
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM tickets WHERE label = ?", (label,)).fetchone()
        return dict(row)
    finally:
        conn.close()


def _everything(db: pathlib.Path) -> str:
    """Every value of every table (and the raw file bytes of the database and its WAL)."""
    conn = sqlite3.connect(str(db))
    try:
        out: list[str] = []
        for (table,) in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'").fetchall():
            out.extend(
                json.dumps(list(r), ensure_ascii=False) for r in conn.execute(f"SELECT * FROM {table}")
            )
    finally:
        conn.close()
    raw = b"".join(p.read_bytes() for p in db.parent.glob(db.name + "*") if p.is_file())
    return "\n".join(out) + raw.decode("latin-1")


def test_a_carded_elder_gets_the_verified_class_and_no_number_is_kept(server: Running) -> None:
    desk = server.station("desk")
    out = _issue(server, desk, id_number=ELDER, holder_name="张三丰")
    assert out["status"] == 201
    t = out["ticket"]
    assert isinstance(t, dict)
    assert (t["priority"], t["class_check"], t["identity"], t["holder_masked"]) == (
        "elderly",
        "verified",
        "card",
        "张**",
    )
    row = _row(server, str(t["label"]))
    assert row["id_last4"] == ELDER[-4:]
    assert row["age_band"] == 70
    assert row["identity"] == "card"
    assert len(str(row["person_key"])) == 64
    assert ELDER not in str(row["person_key"])
    young = _issue(server, desk, id_number=YOUNG, priority="elderly")  # a claim the card contradicts
    assert young["ticket"]["priority"] == ""
    assert young["ticket"]["class_check"] == ""
    assert _row(server, young["ticket"]["label"])["age_band"] == 30
    dump = _everything(server.db)
    assert ELDER not in dump
    assert YOUNG not in dump
    assert "张三丰" not in dump


def test_the_limit_holds_across_stations_and_says_when_to_come_back(server: Running) -> None:
    desk, other = server.station("desk"), server.station("desk")
    assert _issue(server, desk, id_number=YOUNG)["status"] == 201
    again = _issue(server, other, id_number=YOUNG)  # another station, the same matter
    assert again["status"] == 409
    assert again["error"] == "person_limit"
    detail = again["detail"]
    assert isinstance(detail, dict)
    assert str(detail["next_opening"]).startswith("2026-11-24T")  # Tuesday's opening
    assert "11-24" in str(again["message"])
    # Another matter is fine, up to tickets_per_day (3) in all.
    assert _issue(server, other, SB02, id_number=YOUNG)["status"] == 201
    assert _issue(server, other, "SB03", id_number=YOUNG)["status"] == 201
    full = _issue(server, desk, "HJ02", id_number=YOUNG)
    assert full["status"] == 409
    assert full["error"] == "person_limit"
    left = server.http.post("/api/identity", json={"id_number": YOUNG}, headers=desk.headers).json()
    assert left["tickets_left"] == 0
    assert left["next_opening"].startswith("2026-11-24T")
    # Without a card nothing is counted (the touch path still serves).
    assert _issue(server, desk, "HJ02")["status"] == 201


def test_a_voided_kiosk_ticket_does_not_count(server: Running) -> None:
    kiosk = server.station("kiosk")
    first = _issue(server, kiosk, SB02, id_number=YOUNG, answers={}, present=["idcard", "photo_receipt"])
    assert first["status"] == 201, first
    tid = first["ticket"]["id"]
    r = server.http.post(
        f"/api/tickets/{tid}/void", json={"request_id": rid(), "reason": "paper out"}, headers=kiosk.headers
    )
    assert r.status_code == 200, r.text
    again = _issue(server, kiosk, SB02, id_number=YOUNG, answers={}, present=["idcard", "photo_receipt"])
    assert again["status"] == 201, again


def test_the_counts_survive_a_restart(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    with start_server(tmp_path, county, seeded_db) as (_st, server):
        assert _issue(server, server.station("desk"), id_number=YOUNG)["status"] == 201
        clock = server.clock
    with start_server(tmp_path, county, seeded_db, clock=clock, db=tmp_path / "hall.db") as (_st, server):
        again = _issue(server, server.station("desk"), id_number=YOUNG)
        assert again["status"] == 409
        assert again["error"] == "person_limit"


def test_agent_counts_against_the_agent_limit_without_age_class(server: Running) -> None:
    desk = server.station("desk")
    # HJ01's pre-check: not in person, with the agent's papers: 代办, said by the answers themselves.
    answers = {"in_person": False, "agent_docs": True}
    present = ["idcard", "hukou", "move_permit"]
    first = _issue(server, desk, id_number=PRINCIPAL, answers=answers, present=present)
    t = first["ticket"]
    assert isinstance(t, dict)
    # The card read is the agent's (here an old one): no age class, and it is not the person's count.
    assert (t["identity"], t["priority"]) == ("agent", "")
    assert _row(server, str(t["label"]))["age_band"] is None
    assert _issue(server, desk, id_number=PRINCIPAL)["status"] == 201  # their own HJ01 is still free
    # An agent takes many numbers a day (agent_tickets_per_day = 20), for one principal each matter once.
    with_principal = _issue(server, desk, id_number=AGENT, agent=True, principal_id_number=YOUNG)
    assert with_principal["status"] == 201
    twice = _issue(server, desk, id_number=AGENT, agent=True, principal_id_number=YOUNG)
    assert twice["status"] == 409
    assert twice["error"] == "person_limit"
    for matter in ("HJ02", "HJ03", "SB02", "SB03"):
        assert _issue(server, desk, matter, id_number=AGENT, agent=True)["status"] == 201
    bad = server.issue(desk, HJ01, principal_id_number=YOUNG)
    assert bad.status_code == 422
    assert YOUNG not in bad.text


def test_agent_limit(tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path) -> None:
    import dataclasses

    config = dataclasses.replace(county, persons=dataclasses.replace(county.persons, agent_tickets_per_day=2))
    with start_server(tmp_path, config, seeded_db) as (_st, server):
        desk = server.station("desk")
        for matter in (HJ01, SB02):
            assert _issue(server, desk, matter, id_number=AGENT, agent=True)["status"] == 201
        over = _issue(server, desk, "SB03", id_number=AGENT, agent=True)
        assert over["status"] == 409
        assert "代办" in str(over["message"])


def test_booking_is_found_by_the_card(server: Running) -> None:
    kiosk = server.station("kiosk")
    r = server.book("2026-11-23", "09:30", YOUNG)
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    found = server.http.post("/api/identity", json={"id_number": YOUNG.lower()}, headers=kiosk.headers)
    assert found.status_code == 200, found.text
    body = found.json()
    assert [b["code"] for b in body["bookings"]] == [code]
    assert body["tickets_left"] == 3
    assert body["next_opening"] is None
    assert YOUNG not in found.text
    other = server.http.post("/api/identity", json={"id_number": ELDER}, headers=kiosk.headers).json()
    assert other["bookings"] == []


def test_bad_numbers_and_callers_are_refused_without_echo(server: Running) -> None:
    kiosk = server.station("kiosk")
    wrong = YOUNG[:17] + ("0" if YOUNG[17] != "0" else "1")  # check character off
    r = server.http.post("/api/identity", json={"id_number": wrong}, headers=kiosk.headers)
    assert r.status_code == 422
    assert wrong not in r.text
    assert "id_number" in r.text
    r = server.issue(kiosk, HJ01, id_number=wrong)
    assert r.status_code == 422
    assert wrong not in r.text
    r = server.http.post("/api/identity", json={"id_number": YOUNG})  # no station token
    assert r.status_code == 401
    display = server.station("display")
    r = server.http.post("/api/identity", json={"id_number": YOUNG}, headers=display.headers)
    assert r.status_code == 403


def test_a_carded_issue_takes_the_hot_path_and_the_route_alike(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    """Both ways into `issuing.issue` (issue 26) build the same carded command: the hot path answers a carded
    request (and refuses a bad number as the route does, without echoing it)."""
    from tests.server.test_hot_issue import dumps, hot_paths, post

    with start_server(tmp_path, county, seeded_db) as (st, server):
        hot = hot_paths(st)
        desk = server.station("desk")
        assert server.issue(desk, SB02).status_code == 201  # the first request reads the station's token
        before = hot.issued
        body = {"request_id": rid(), "matter": HJ01, "id_number": ELDER, "holder_name": "张三丰"}
        r = post(server, desk, dumps(body), hot=True)
        assert r.status_code == 201, r.text
        assert hot.issued == before + 1
        t = r.json()["ticket"]
        assert (t["identity"], t["priority"], t["class_check"]) == ("card", "elderly", "verified")
        again = post(server, desk, dumps({**body, "request_id": rid()}), hot=False)  # by the route
        assert again.status_code == 409
        assert again.json()["error"] == "person_limit"
        wrong = ELDER[:17] + ("0" if ELDER[17] != "0" else "1")
        bad = post(server, desk, dumps({**body, "request_id": rid(), "id_number": wrong}), hot=True)
        assert bad.status_code == 422
        assert wrong not in bad.text
        assert ELDER not in _everything(server.db)


def test_statistics_count_carded_tickets_and_ages_by_decade(server: Running) -> None:
    """Carded vs anonymous and the holders' decades on the statistics page; never an identity."""
    from hallserver.stats import fmt_pct
    from tests.server.web_helpers import http_login

    desk = server.station("desk")
    assert _issue(server, desk, id_number=ELDER)["status"] == 201
    assert _issue(server, desk, id_number=YOUNG)["status"] == 201
    assert _issue(server, desk, SB02, id_number=AGENT, agent=True)["status"] == 201
    assert _issue(server, desk, SB02)["status"] == 201
    web = http_login(server.url)
    try:
        page = web.get("/web/stats").text
    finally:
        web.close()
    for key, n in (("carded", 2), ("agent", 1), ("anonymous", 1)):
        assert f'id="identity-{key}">{n}<' in page
    assert f'id="identity-share">{fmt_pct(0.75)}<' in page
    assert "<td>30–39 岁</td><td>1</td>" in page
    assert "<td>70–79 岁</td><td>1</td>" in page
    assert YOUNG[-4:] not in page
    assert ELDER not in page
