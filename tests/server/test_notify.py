"""Notices through the outbox on a real server (log adapter): opt-in rules (who may, for what, how often),
each rule once per ticket, the number masked in replies and logs and purged when no rule needs it, caps,
quiet hours and withdrawal."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import pathlib
from collections.abc import Iterator
from typing import Any

import pytest

from hallcore.config import HallConfig
from hallcore.confignotify import NoticeRules, Notify
from tests.fakes.live_server import wait_for
from tests.server.conftest import Running, start_server

PHONE = "13812345678"
MASKED = "138****5678"


def notify_config(county: HallConfig, **kw: Any) -> HallConfig:
    n = Notify(enabled=True, batch_s=0.05, rules=NoticeRules(ahead=2, within_min=0), **kw)
    return dataclasses.replace(county, notify=n)


@pytest.fixture
def hall(tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path) -> Iterator[Running]:
    with start_server(tmp_path, notify_config(county), seeded_db) as (_st, running):
        yield running


def notices(r: Running) -> list[tuple[str, str]]:
    """(key, state) of every notice row."""
    found = r.rows(
        "SELECT key, CASE WHEN sent_at IS NOT NULL THEN 'sent' WHEN dead_at IS NOT NULL THEN 'dead'"
        " WHEN discarded_at IS NOT NULL THEN 'discarded' ELSE 'pending' END FROM outbox WHERE kind = 'notice'"
        " ORDER BY id",
    )
    return [(str(k), str(s)) for k, s in found]


def done(r: Running, counter: Any) -> None:
    """The ticket at the window is served and finished."""
    assert r.act(counter, "start").status_code == 200
    assert r.act(counter, "finish").status_code == 200


def opt_in(r: Running, headers: dict[str, str], ticket: str, phone: str = PHONE, **kw: Any) -> Any:
    body = {"phone": phone, "consent": True, **kw}
    return r.http.post(f"/api/tickets/{ticket}/notify", json=body, headers=headers)


def test_desk_opt_in_fires_each_rule_once_and_purges_the_number(
    hall: Running, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="hallq.notices")
    desk = hall.station("desk")
    counter = hall.station("counter", window=1)
    ids = [hall.issue(desk).json()["ticket"]["id"] for _ in range(4)]
    mine = ids[3]
    r = opt_in(hall, desk.headers, mine)
    assert r.status_code == 200, r.text
    assert r.json()["masked"] == MASKED
    assert PHONE not in r.text
    assert hall.act(counter, "open").status_code == 200
    # Three ahead: nothing yet. One call: two ahead, the "ahead" rule fires.
    assert notices(hall) == []
    assert hall.act(counter, "call-next").status_code == 200
    key = f"{hall.config.hall.id}:{mine}"
    wait_for(lambda: notices(hall) == [(f"{key}:ahead", "sent")], what="the ahead notice sent")
    for _ in range(3):
        done(hall, counter)
        assert hall.act(counter, "call-next").status_code == 200
    wait_for(
        lambda: notices(hall) == [(f"{key}:ahead", "sent"), (f"{key}:called", "sent")],
        what="the called notice sent, the ahead one not again",
    )
    # No rule needs the number any more: blanked (masked form and the keyed hash stay).
    wait_for(lambda: hall.rows("SELECT address FROM notice_subs")[0][0] == "", what="the number purged")
    assert hall.rows("SELECT masked FROM notice_subs") == [(MASKED,)]
    logged = "\n".join(rec.getMessage() for rec in caplog.records)
    assert "1号" in logged or "窗口" in logged
    assert MASKED in logged
    assert PHONE not in logged
    results = hall.rows("SELECT adapter, ok FROM notice_results")
    assert results == [("log", 1), ("log", 1)]
    assert PHONE.encode() not in b"".join(str(x).encode() for x in hall.rows("SELECT * FROM audit"))


def test_who_may_opt_in_and_how_often(hall: Running) -> None:
    desk = hall.station("desk")
    kiosk = hall.station("kiosk")
    counter = hall.station("counter", window=1)
    from_desk = hall.issue(desk).json()["ticket"]["id"]
    r = opt_in(hall, kiosk.headers, from_desk)
    assert r.status_code == 403
    assert r.json()["error"] == "not_issued_here"
    assert opt_in(hall, counter.headers, from_desk).status_code == 403
    assert opt_in(hall, desk.headers, from_desk, phone="12345").status_code == 422
    r = hall.http.post(
        f"/api/tickets/{from_desk}/notify", json={"phone": PHONE, "consent": False}, headers=desk.headers
    )
    assert r.status_code == 422
    assert r.json()["error"] == "consent_required"
    # The kiosk may for its own ticket.
    own = hall.issue(kiosk, answers={"in_person": True}, present=["idcard", "hukou", "move_permit"])
    own = own.json()["ticket"]["id"]
    assert opt_in(hall, kiosk.headers, own).status_code == 200
    # One number for at most 3 tickets a day, whoever types it.
    more = [hall.issue(desk).json()["ticket"]["id"] for _ in range(3)]
    assert opt_in(hall, desk.headers, more[0]).status_code == 200
    assert opt_in(hall, desk.headers, more[1]).status_code == 200
    r = opt_in(hall, desk.headers, more[2])
    assert r.status_code == 429
    assert r.json()["error"] == "number_limit"
    assert opt_in(hall, desk.headers, more[2], phone="13900001111").status_code == 200
    # Consent recorded and audited, masked.
    audit = hall.rows("SELECT action, detail FROM audit WHERE action = 'notice_optin'")
    assert len(audit) == 4
    assert all(PHONE not in d for _, d in audit)
    # A language the hall has no texts for, a booking opted in anywhere but the desk: refused, nothing kept.
    r = opt_in(hall, desk.headers, more[2], phone="13700002222", lang="fr")
    assert (r.status_code, r.json()["error"]) == (422, "invalid_field")
    r = opt_in(hall, kiosk.headers, own, phone="13700002222", booking=True)
    assert (r.status_code, r.json()["error"]) == (403, "desk_only")
    assert "13700002222" not in str(hall.rows("SELECT * FROM notice_subs"))


def test_a_station_opts_in_at_most_its_hourly_allowance(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    # A desk (or a stolen desk token) cannot opt the hall's tickets in by the hundred: the station's own
    # budget, whatever the numbers typed; another station is not held by it.
    with start_server(tmp_path, notify_config(county, optin_per_station_hour=2), seeded_db) as (_st, hall):
        desk = hall.station("desk")
        other = hall.station("desk", name="导办台2")
        ids = [hall.issue(desk).json()["ticket"]["id"] for _ in range(4)]
        assert opt_in(hall, desk.headers, ids[0], phone="13800000001").status_code == 200
        assert opt_in(hall, desk.headers, ids[1], phone="13800000002").status_code == 200
        r = opt_in(hall, desk.headers, ids[2], phone="13800000003")
        assert r.status_code == 429
        assert int(r.headers["retry-after"]) > 0
        assert opt_in(hall, other.headers, ids[2], phone="13800000003").status_code == 200
        assert len(hall.rows("SELECT id FROM notice_subs")) == 3


def test_a_hall_without_notices_refuses_opt_ins(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    off = dataclasses.replace(county, notify=Notify(enabled=False))
    with start_server(tmp_path, off, seeded_db) as (_st, hall):
        desk = hall.station("desk")
        issued = hall.issue(desk).json()
        r = opt_in(hall, desk.headers, issued["ticket"]["id"])
        assert (r.status_code, r.json()["error"]) == (409, "notices_off")
        assert hall.rows("SELECT COUNT(*) FROM notice_subs") == [(0,)]


def test_withdrawing_consent_stops_sending(hall: Running) -> None:
    desk = hall.station("desk")
    counter = hall.station("counter", window=1)
    ids = [hall.issue(desk).json()["ticket"]["id"] for _ in range(4)]
    assert opt_in(hall, desk.headers, ids[3]).status_code == 200  # three ahead: nothing due yet
    r = hall.http.delete(f"/api/tickets/{ids[3]}/notify", headers=desk.headers)
    assert r.status_code == 200, r.text
    assert hall.rows("SELECT address, withdrawn_at IS NOT NULL FROM notice_subs") == [("", 1)]
    notifier = hall.app.state.notifier
    assert hall.act(counter, "open").status_code == 200
    for _ in range(3):  # the rules would have sent "ahead", then "called"
        assert hall.act(counter, "call-next").status_code == 200
        done(hall, counter)
    assert hall.act(counter, "call-next").status_code == 200  # ids[3] at the window
    # Nobody is subscribed, so the rules do not run; another opt-in makes them run over the hall as it is.
    other = hall.issue(desk).json()["ticket"]["id"]
    assert opt_in(hall, desk.headers, other, phone="13900001111").status_code == 200
    seq = hall.hall.store.seq
    wait_for(lambda: notifier.state.seq_done >= seq, what="the rules ran after the opt-in")
    assert [k for k, _ in notices(hall) if ids[3] in k] == []
    assert hall.http.delete(f"/api/tickets/{ids[3]}/notify", headers=desk.headers).status_code == 404


def test_quiet_hours_hold_queue_notices_and_caps_hold(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    # Quiet from 08:00 to 10:00 (the fake clock is at 09:00), one notice per ticket at most.
    cfg = notify_config(county, quiet_start=dt.time(8), quiet_end=dt.time(10), per_ticket=1)
    with start_server(tmp_path, cfg, seeded_db) as (_st, hall):
        desk = hall.station("desk")
        counter = hall.station("counter", window=1)
        notifier = hall.app.state.notifier
        ids = [hall.issue(desk).json()["ticket"]["id"] for _ in range(3)]
        assert opt_in(hall, desk.headers, ids[2]).status_code == 200
        assert hall.act(counter, "open").status_code == 200
        assert hall.act(counter, "call-next").status_code == 200  # one ahead of ids[2]: "ahead" is due
        seq = hall.hall.store.seq
        wait_for(lambda: notifier.state.seq_done >= seq, what="the rules ran after the call")
        assert notices(hall) == []  # quiet hours: a queue notice is not queued
        hall.clock.advance(3660)  # 10:01
        done(hall, counter)
        key = f"{hall.config.hall.id}:{ids[2]}"
        wait_for(
            lambda: notices(hall) == [(f"{key}:ahead", "sent")], what="the ahead notice after quiet hours"
        )
        assert hall.act(counter, "call-next").status_code == 200
        done(hall, counter)
        assert hall.act(counter, "call-next").status_code == 200  # ids[2] at the window
        # "called" was due, but the ticket's cap (1) is reached: recorded as discarded, never sent.
        wait_for(lambda: len(notices(hall)) == 2, what="the capped called notice recorded")
        assert notices(hall)[1] == (f"{key}:called", "discarded")
        assert hall.rows("SELECT last_error FROM outbox WHERE key = ?", (f"{key}:called",)) == [
            ("cap: 1 notices for this ticket",)
        ]


def test_the_estimate_rule_fires_under_m_minutes_only(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path
) -> None:
    """`within_min` alone (`ahead` 0): a ticket whose estimate is under M is told, one further back is not
    (the batch stops estimating a line at the first estimate over M)."""
    cfg = dataclasses.replace(
        county, notify=Notify(enabled=True, batch_s=0.05, rules=NoticeRules(ahead=0, within_min=25))
    )
    with start_server(tmp_path, cfg, seeded_db) as (_st, hall):
        desk = hall.station("desk")
        counter = hall.station("counter", window=1)
        assert hall.act(counter, "open").status_code == 200
        issued = [hall.issue(desk).json() for _ in range(12)]
        near, far = issued[1], issued[11]
        assert near["estimate"]["point_min"] is not None
        assert near["estimate"]["point_min"] <= 25 < far["estimate"]["point_min"]
        assert opt_in(hall, desk.headers, near["ticket"]["id"]).status_code == 200
        assert opt_in(hall, desk.headers, far["ticket"]["id"], phone="13900001111").status_code == 200
        key = f"{hall.config.hall.id}:{near['ticket']['id']}:ahead"
        wait_for(lambda: notices(hall) == [(key, "sent")], what="the near ticket told, the far one not")


def test_a_tolerated_ticket_keeps_its_number_until_the_owed_reminder(hall: Running) -> None:
    """容缺: the number outlives the visit while an item is owed, the reminder comes when the due day (20
    working days after issue, the hall calendar) is 3 working days away, and then the number goes."""
    desk = hall.station("desk")
    window = next(w.number for w in hall.config.windows if "B" in w.series and w.number <= 8)
    counter = hall.station("counter", window=window)
    issued = hall.issue(desk, "SB02", present=["idcard"]).json()  # the photo receipt is owed
    tid = issued["ticket"]["id"]
    assert opt_in(hall, desk.headers, tid).status_code == 200
    assert hall.act(counter, "open").status_code == 200
    assert hall.act(counter, "call-next").status_code == 200
    key = f"{hall.config.hall.id}:{tid}"
    wait_for(lambda: notices(hall) == [(f"{key}:called", "sent")], what="the called notice")
    done(hall, counter)
    due = hall.rows("SELECT due FROM owed WHERE ticket = ?", (tid,))[0][0]
    assert due == "2026-12-21"
    # Three weeks on, nothing owed is due yet within 3 working days: the number is still kept.
    assert hall.rows("SELECT address FROM notice_subs") == [(PHONE,)]
    hall.clock.advance(24 * 86400)  # Thursday 2026-12-17: two working days before the due day
    wait_for(lambda: (f"{key}:owed", "sent") in notices(hall), what="the owed reminder")
    wait_for(lambda: hall.rows("SELECT address FROM notice_subs") == [("",)], what="the number purged")


def test_a_booking_is_reminded_the_day_before(hall: Running) -> None:
    desk = hall.station("desk")
    r = hall.book("2026-11-24", "09:00", "110101199003071233", name="李四光")
    assert r.status_code == 201, r.text
    code = r.json()["code"]
    r = opt_in(hall, desk.headers, code, booking=True)
    assert r.status_code == 200, r.text
    key = f"{hall.config.hall.id}:{code}:booking"
    wait_for(lambda: notices(hall) == [(key, "sent")], what="the booking reminder")
    wait_for(lambda: hall.rows("SELECT address FROM notice_subs") == [("",)], what="the number purged")


def test_the_phone_page_opts_only_its_own_ticket_in(hall: Running) -> None:
    desk = hall.station("desk")
    mine, other = (hall.issue(desk).json() for _ in range(2))
    base = f"/web/api/status/{mine['token']}/notify"
    assert hall.http.get(base).json() == {"enabled": True, "wechat": False, "sub": None}
    r = hall.http.post(base, json={"phone": PHONE, "consent": True})
    assert r.status_code == 200, r.text
    assert r.json()["ref"] == mine["ticket"]["id"]
    assert hall.http.get(base).json()["sub"]["masked"] == MASKED
    assert (
        hall.http.post(
            "/web/api/status/not-a-token-at-all/notify", json={"phone": PHONE, "consent": True}
        ).status_code
        == 404
    )
    assert hall.rows("SELECT ref FROM notice_subs") == [(mine["ticket"]["id"],)]
    assert other["ticket"]["id"] not in str(hall.rows("SELECT * FROM notice_subs"))
    # No WeChat in this hall: its OAuth entry says so.
    assert hall.http.get(f"/s/{mine['token']}/wechat", follow_redirects=False).status_code == 409
    assert hall.http.post(f"{base}/withdraw", json={}).status_code == 200
    assert hall.http.get(base).json()["sub"] is None
