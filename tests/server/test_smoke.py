"""Issue → call → finish → rate through the real server; the rows and events are on disk."""

from __future__ import annotations

from tests.server.conftest import Running


def test_issue_call_finish_rate(server: Running) -> None:
    kiosk = server.station("kiosk")
    desk = server.station("desk")
    counter = server.station("counter", window=1)
    r = server.issue(kiosk, answers={"in_person": True}, present=["idcard", "hukou", "move_permit"])
    assert r.status_code == 201, r.text
    issued = r.json()
    assert issued["ticket"]["label"] == "A001"
    assert issued["ticket"]["state"] == "pending_print"
    assert issued["status_url"].endswith(issued["token"])
    tid = issued["ticket"]["id"]
    r = server.http.post(f"/api/tickets/{tid}/printed", json={"request_id": "p1"}, headers=kiosk.headers)
    assert r.status_code == 200, r.text
    r = server.issue(desk)
    assert r.status_code == 201
    assert r.json()["ticket"]["label"] == "A002"
    assert server.act(counter, "open").status_code == 200
    r = server.act(counter, "call-next")
    assert r.status_code == 200, r.text
    assert r.json()["ticket"]["label"] == "A001"
    assert server.act(counter, "start").status_code == 200
    assert server.act(counter, "finish").status_code == 200
    r = server.http.post(
        f"/api/tickets/{tid}/rating", json={"request_id": "r1", "score": 5}, headers=counter.headers
    )
    assert r.status_code == 200, r.text
    s = server.http.get(f"/api/status/{issued['token']}")
    assert s.status_code == 200
    assert s.json()["state"] == "done"
    assert server.count("SELECT COUNT(*) FROM tickets") == 2
    assert server.count("SELECT COUNT(*) FROM estimates WHERE wait_min IS NOT NULL") == 1
    assert server.count("SELECT MAX(seq) FROM events") == server.hall.store.seq
