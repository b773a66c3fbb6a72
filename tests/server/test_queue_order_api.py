"""Issue 19 through the real server: the candidate list names the rule, a clerk revokes a claimed class
(audited, in the ticket's row), recall has a minimum gap, a transfer to a closed window is refused with the
open alternatives."""

from __future__ import annotations

import json
import sqlite3

from tests.server.conftest import Running


def row(server: Running, sql: str, params: tuple[object, ...] = ()) -> tuple[object, ...]:
    conn = sqlite3.connect(str(server.db))
    try:
        found = conn.execute(sql, params).fetchone()
    finally:
        conn.close()
    assert found is not None, sql
    return tuple(found)


def test_head_starts_revoke_recall_gap_and_closed_transfer(server: Running) -> None:
    desk = server.station("desk")
    counter = server.station("counter", window=1)
    assert server.act(counter, "open").status_code == 200
    normal = server.issue(desk).json()["ticket"]
    server.clock.advance(60)
    elderly = server.issue(desk, priority="elderly").json()["ticket"]

    r = server.http.get("/api/windows/1/candidates", headers=counter.headers)
    assert r.status_code == 200, r.text
    first, second = r.json()
    assert (first["ticket"]["label"], first["reason"], first["head_start_min"]) == (
        elderly["label"],
        "优先: 老年人（70周岁以上）（提前 15 分钟）",
        15,
    )
    assert (second["ticket"]["label"], second["head_start_min"]) == (normal["label"], 0)
    assert second["reason"].startswith("按顺序")

    called = server.act(counter, "call-next").json()["ticket"]
    assert (called["label"], called["call_reason"]) == (elderly["label"], first["reason"])
    too_soon = server.act(counter, "recall")
    assert too_soon.status_code == 409
    assert too_soon.json()["error"] == "recall_too_soon"
    assert too_soon.json()["detail"]["wait_s"] == server.config.no_show.min_recall_gap_s

    # The clerk sees the citizen is not 70: revoked, with the reason, in the audit table and the ticket's row.
    assert server.act(counter, "revoke-class", ticket=elderly["label"]).status_code == 422  # reason needed
    r = server.act(counter, "revoke-class", ticket=elderly["label"], reason="未满 70 周岁")
    assert r.status_code == 200, r.text
    assert (r.json()["ticket"]["priority"], r.json()["ticket"]["class_check"]) == ("", "revoked")
    actor, station, target, detail = row(
        server, "SELECT actor, station, target, detail FROM audit WHERE action = 'revoke_class'"
    )
    assert (actor, station, target) == ("staff:c1", counter.id, elderly["id"])
    assert json.loads(str(detail)) == {"window": 1, "reason": "未满 70 周岁", "class": "elderly"}
    revoked = row(server, "SELECT priority, claimed, class_check FROM tickets WHERE id = ?", (elderly["id"],))
    assert revoked == ("", "elderly", "revoked")
    no_class = server.act(counter, "confirm-class", ticket=normal["label"])
    assert (no_class.status_code, no_class.json()["error"]) == (409, "no_class")

    # Window 3 (出入境, series A) is closed: refused, with the open windows that could take it.
    r = server.act(counter, "transfer", to_window=3)
    assert (r.status_code, r.json()["error"], r.json()["detail"]["open_windows"]) == (
        409,
        "window_closed",
        [],
    )
    other = server.station("counter", window=2)
    assert server.act(other, "open").status_code == 200
    r = server.act(counter, "transfer", to_window=3)
    assert r.json()["detail"]["open_windows"] == [2]
    assert "2 号窗口" in r.json()["message"]
