"""The 容缺 register through the real server (docs/api.md "容缺 register"): a 容缺 ticket opens an entry,
the desk or a counter marks items supplied (one, then all), an entry goes overdue on the hall's fake clock
and shows on the dashboard with the masked name only, and the statistics tally a hand-worked day."""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import io
import uuid
from collections.abc import Iterator
from typing import Any

import pytest

from hallcore.calendar import HallCalendar
from hallcore.config import HallConfig
from hallfiles.config import read_config
from tests.fakes.live_server import COUNTY, MONDAY_9, LiveServer, Station, live_server
from tests.server.web_helpers import http_login

#: 新生儿出生登记 with the household booklet tolerable too, so an entry can owe two items.
HJ02 = "HJ02"
TWO_OWED = {"matter": HJ02, "present": ["birth_cert", "idcard"]}  # hukou and marriage_cert owed
#: 社会保障卡申领: the photo receipt is tolerable (容缺), with a 承诺书.
SB02 = {"matter": "SB02", "present": ["idcard"]}


def two_tolerable() -> HallConfig:
    cfg = read_config(COUNTY)
    m = cfg.matter_by_code[HJ02]
    materials = tuple(
        dataclasses.replace(x, tolerable=True) if x.id == "hukou" else x for x in m.precheck.materials
    )
    hj02 = dataclasses.replace(m, precheck=dataclasses.replace(m.precheck, materials=materials))
    return dataclasses.replace(cfg, matters=tuple(hj02 if x.code == HJ02 else x for x in cfg.matters))


@pytest.fixture
def hall() -> Iterator[LiveServer]:
    with live_server(config=two_tolerable()) as h:
        yield h


def issue(hall: LiveServer, st: Station, body: dict[str, Any], **extra: Any) -> dict[str, Any]:
    r = hall.post(st, "/api/tickets", **body, **extra)
    assert r.status_code == 201, r.text
    j: dict[str, Any] = r.json()
    assert j["precheck"]["outcome"] == "容缺", j
    return j


def owed(hall: LiveServer, st: Station, ticket: str | None = None) -> list[dict[str, Any]]:
    params = {"ticket": ticket} if ticket is not None else {}
    r = hall.http.get("/api/owed", params=params, headers=st.headers)
    assert r.status_code == 200, r.text
    out: list[dict[str, Any]] = r.json()
    return out


def supply(hall: LiveServer, st: Station, ticket: str, items: list[str] | None, rid: str = "") -> Any:
    return hall.http.post(
        f"/api/tickets/{ticket}/supplied",
        json={"request_id": rid or uuid.uuid4().hex, "items": items},
        headers=st.headers,
    )


def test_a_rongque_ticket_opens_an_entry_and_items_are_supplied_one_then_all(hall: LiveServer) -> None:
    desk = hall.station("desk", "desk-1")
    hall.login_counter()
    j = issue(hall, desk, TWO_OWED, holder_name="张三丰")
    tid, label = j["ticket"]["id"], j["ticket"]["label"]
    # 20 working days after Monday 23 November 2026, no holidays in between: Monday 21 December.
    due = HallCalendar(hall.config.hall).add_working_days(MONDAY_9.date(), 20)
    assert due == dt.date(2026, 12, 21) == dt.date.fromisoformat(j["precheck"]["due"])
    (entry,) = owed(hall, desk)
    assert {k: entry[k] for k in ("ticket", "label", "matter", "holder", "due", "pledge", "state")} == {
        "ticket": tid,
        "label": label,
        "matter": HJ02,
        "holder": "张**",
        "due": "2026-12-21",
        "pledge": True,
        "state": "open",
    }
    assert [(i["id"], i["name"], i["supplied_at"]) for i in entry["items"]] == [
        ("hukou", "居民户口簿", None),
        ("marriage_cert", "结婚证", None),
    ]
    # The ticket's own print lists the same items, and the 承诺书 names them.
    printed = j["print"]["zh"]
    assert printed["tolerance_items"] == ["居民户口簿", "结婚证"]
    assert "居民户口簿、结婚证" in printed["pledge"]

    # One item at a counter, a week later.
    hall.clock.set(MONDAY_9 + dt.timedelta(days=7))
    r = supply(hall, hall.counter, tid, ["marriage_cert"], rid="supply-1")
    assert r.status_code == 200, r.text
    assert r.json()["supplied"] == ["marriage_cert"]
    after_one = r.json()["entry"]
    assert after_one["state"] == "open"
    assert [(i["id"], i["supplied_at"] is not None) for i in after_one["items"]] == [
        ("hukou", False),
        ("marriage_cert", True),
    ]
    assert after_one["items"][1]["supplied_by"] == "staff:c1"
    # The same request again is the same reply; the item again is not supplied twice.
    again = supply(hall, hall.counter, tid, ["marriage_cert"], rid="supply-1")
    assert (again.status_code, again.json()) == (200, r.json())
    twice = supply(hall, hall.counter, tid, ["marriage_cert"])
    assert twice.json()["supplied"] == []
    assert twice.json()["entry"]["items"][1]["supplied_at"] == after_one["items"][1]["supplied_at"]
    # An item the ticket does not owe: refused, nothing marked.
    bad = supply(hall, desk, tid, ["hukou", "birth_cert"])
    assert bad.status_code == 422, bad.text
    assert bad.json()["detail"] == {"owed": ["hukou", "marriage_cert"], "unknown": ["birth_cert"]}
    assert owed(hall, desk, tid)[0]["items"][0]["supplied_at"] is None

    # All that is left, at the desk.
    r = supply(hall, desk, tid, None)
    assert r.status_code == 200, r.text
    assert r.json()["supplied"] == ["hukou"]
    assert r.json()["entry"]["state"] == "on_time"
    assert owed(hall, desk) == []  # nothing owed any more
    assert owed(hall, desk, tid)[0]["state_name"] == "按期补齐"
    audit = hall.query(
        "SELECT actor, action, target, detail FROM audit WHERE action = 'owed_supplied' ORDER BY id"
    )
    assert [(a, t, d) for a, _, t, d in audit] == [
        ("staff:c1", tid, '{"items":["marriage_cert"]}'),
        (f"station:{desk.id}", tid, '{"items":["hukou"]}'),
    ]


def test_who_may_mark_and_what_owes_nothing(hall: LiveServer) -> None:
    desk = hall.station("desk", "desk-1")
    passed = hall.post(desk, "/api/tickets", matter="SB02", present=["idcard", "photo_receipt"])
    assert passed.json()["precheck"]["outcome"] == "通过"
    r = supply(hall, desk, passed.json()["ticket"]["id"], None)
    assert (r.status_code, r.json()["error"]) == (404, "not_owed")
    assert supply(hall, desk, "2026-11-23/Z999", None).status_code == 404
    # A kiosk ticket that never printed: voided, nobody holds it, nothing is owed.
    j = issue(hall, hall.kiosk, SB02)
    assert hall.post(hall.kiosk, f"/api/tickets/{j['ticket']['id']}/void").status_code == 200
    assert owed(hall, desk) == []
    assert supply(hall, desk, j["ticket"]["id"], None).status_code == 404
    # The kiosk and the display neither read nor mark the register.
    k = issue(hall, hall.kiosk, SB02)["ticket"]["id"]
    assert supply(hall, hall.kiosk, k, None).status_code == 403
    assert hall.http.get("/api/owed", headers=hall.display.headers).status_code == 403
    assert [e["ticket"] for e in owed(hall, desk)] == [k]


def test_an_entry_goes_overdue_and_the_dashboard_lists_it_masked(hall: LiveServer) -> None:
    desk = hall.station("desk", "desk-1")
    tid = issue(hall, desk, SB02, holder_name="欧阳娜娜")["ticket"]["id"]
    hall.clock.set(dt.datetime(2026, 12, 21, 17, 0, tzinfo=MONDAY_9.tzinfo))  # the due day: still in time
    web = http_login(hall.url)
    try:

        def dashboard() -> list[dict[str, Any]]:
            r = web.get("/web/api/dashboard")
            assert r.status_code == 200, r.text
            out: list[dict[str, Any]] = r.json()["overdue_owed"]
            return out

        assert owed(hall, desk)[0]["state"] == "open"
        assert dashboard() == []
        hall.clock.set(dt.datetime(2026, 12, 22, 9, 0, tzinfo=MONDAY_9.tzinfo))
        # 16 hours later the manager's session (12 h) has expired: a new login, as in the hall next morning.
        web.close()
        web = http_login(hall.url)
        (entry,) = owed(hall, desk)
        assert (entry["state"], entry["days_left"]) == ("overdue", -1)
        (shown,) = dashboard()
        assert (shown["holder"], shown["matter_name"], shown["state_name"]) == (
            "欧***",
            "社会保障卡申领",
            "逾期未补齐",
        )
        assert "ticket" not in shown
        assert "欧阳娜娜" not in str(shown)
        # Supplied late: off the list, and counted late.
        assert supply(hall, desk, tid, None).json()["entry"]["state"] == "late"
        assert dashboard() == []
    finally:
        web.close()


def pairs(rows: list[list[str]]) -> dict[str, str]:
    return {row[0]: row[1] for row in rows}


def sheet(csv_bytes: bytes, name: str) -> list[list[str]]:
    rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    at = rows.index([f"# {name}"])
    out = []
    for row in rows[at + 2 :]:
        if not row:
            break
        out.append(row)
    return out


def test_statistics_of_a_hand_worked_day(hall: LiveServer) -> None:
    """Monday: four 容缺 tickets (three SB02, one HJ02 owing two items), three 代办 pre-checks (HJ01: one with
    the papers, two without), one plain pass. By Tuesday 22 December (the day after the due day) the first
    SB02 was supplied on time, the HJ02 late (its second item after the due day), the second SB02 never; the
    third SB02 was voided at the kiosk and owes nothing."""
    desk = hall.station("desk", "desk-1")
    on_time = issue(hall, desk, SB02)["ticket"]["id"]
    late = issue(hall, desk, TWO_OWED)["ticket"]["id"]
    issue(hall, desk, SB02)  # never supplied
    voided = issue(hall, hall.kiosk, SB02)["ticket"]["id"]
    assert hall.post(hall.kiosk, f"/api/tickets/{voided}/void").status_code == 200
    papers = ["idcard", "hukou", "move_permit"]
    agent = {"matter": "HJ01", "present": papers}
    r = hall.post(desk, "/api/tickets", **agent, answers={"in_person": False, "agent_docs": True})
    assert r.json()["precheck"]["outcome"] == "通过"
    for _ in range(2):
        r = hall.post(desk, "/api/tickets", **agent, answers={"in_person": False, "agent_docs": False})
        assert r.json()["precheck"]["outcome"] == "不通过"
    assert hall.post(desk, "/api/tickets", **agent, answers={"in_person": True}).status_code == 201
    hall.clock.set(dt.datetime(2026, 12, 1, 10, 0, tzinfo=MONDAY_9.tzinfo))
    assert supply(hall, desk, on_time, None).status_code == 200
    assert supply(hall, desk, late, ["hukou"]).status_code == 200
    hall.clock.set(dt.datetime(2026, 12, 22, 10, 0, tzinfo=MONDAY_9.tzinfo))
    assert supply(hall, desk, late, ["marriage_cert"]).status_code == 200

    web = http_login(hall.url)
    try:
        r = web.get("/web/stats.csv", params={"period": "day", "date": "2026-11-23"})
        assert r.status_code == 200, r.text
        page = web.get("/web/stats", params={"period": "day", "date": "2026-11-23"}).text
    finally:
        web.close()
    # Eight pre-checks: two passed (the agent with the papers, the one in person), four 容缺, two failed.
    assert pairs(sheet(r.content, "预审")) == {"通过": "2", "容缺": "4", "不通过": "2"}
    # 代办: three of the eight, one passed and two failed.
    assert pairs(sheet(r.content, "代办")) == {"通过": "1", "容缺": "0", "不通过": "2"}
    assert 'id="precheck-agent">3<' in page
    assert 'id="precheck-agent-share">37.5%<' in page
    # Most missing by matter, the matter missing most first: the agents' two papers twice each at HJ01
    # (4); the photo receipt three times at SB02 (the voided ticket's pre-check counts: it was made);
    # HJ02's two items once each.
    assert sheet(r.content, "各事项缺少材料") == [
        ["HJ01", "户口迁入登记", "代理人身份证", "2"],
        ["HJ01", "户口迁入登记", "授权委托书", "2"],
        ["SB02", "社会保障卡申领", "数码相片回执", "3"],
        ["HJ02", "新生儿出生登记", "居民户口簿", "1"],
        ["HJ02", "新生儿出生登记", "结婚证", "1"],
    ]
    # The register, as it stands on 22 December: the voided ticket is not in it.
    assert pairs(sheet(r.content, "容缺补齐")) == {
        "opened": "3",
        "on_time": "1",
        "late": "1",
        "never": "1",
        "open": "0",
    }
    for key, n in (("opened", 3), ("on_time", 1), ("late", 1), ("never", 1), ("open", 0)):
        assert f'id="register-{key}">{n}<' in page
