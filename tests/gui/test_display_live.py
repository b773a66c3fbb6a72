"""The hall display against a real hall server (uvicorn on 127.0.0.1, SQLite in tmp): calls on the board,
voice in order and never cut off, recalls, zones, resync after a cut line, stale data, first-start enrollment.

The server, the display's flow and the fake voice player share the server's `FakeClock`, so "how long ago"
and "how long it played" are exact; the network and the Qt loop are real (`run_until` drives the qasync loop,
`qtbot.waitUntil` checks what the view shows). The rig is tests/gui/display_rig.py.
"""

from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from drivers.voice import VoicePack, wav_duration
from hallclient.enroll import save_pin
from hallclient.http import HttpHall
from hallclient.types import ConnectionState
from hallcore.windowstrip import call_text
from tests.fakes.live_server import LiveServer, Station
from tests.fakes.tcp_line import Line
from tests.gui.display_rig import (
    Board,
    Boards,
    board,
    boards,
    call_next,
    call_one,
    make_board,
    open_window,
    start,
    stop,
)
from tests.gui.qtloop import complete, issue, run_until

__all__ = ["board", "boards"]  # fixtures this module uses


def test_a_call_appears_on_the_board_with_its_window(
    live: LiveServer, desk: Station, board: Board, running: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    assert call_one(live, desk, 5, "B")[1] == "B001"
    run_until(qtbot, lambda: board.latest()[0] == "B001")
    qtbot.waitUntil(lambda: board.latest() == ("B001", "请到 5 号窗口"))
    assert board.view.latest_window_name.text() == "5号社保窗口"
    assert board.view.latest_matter.text()  # the matter's name, from the event
    assert board.view.latest_holder.text() == ""  # county hall: no names on boards
    tile = next(t.text() for t in board.view.tiles if t.text().startswith("B "))
    assert "等候 0 人" in tile


def test_three_calls_in_100_ms_are_announced_in_order_none_cut_off(
    live: LiveServer, desk: Station, board: Board, running: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    windows = [open_window(live, n) for n in (1, 2, 3)]
    for _ in windows:
        issue(live, desk, "A")
    labels = [call_next(live, w) for w in windows]  # back to back: a few ms apart
    assert labels == ["A001", "A002", "A003"]
    run_until(qtbot, lambda: len(board.flow.calls()) == 3)
    first = board.voice.started[0].subtitle
    assert board.view.subtitle.text() == first  # the text being spoken is shown
    assert first.startswith("请A001号到1号窗口办理")
    board.scheduler.run_all()
    spoken = [a.subtitle.split(" / ")[0] for a in board.voice.started]
    assert spoken == ["请A001号到1号窗口办理", "请A002号到2号窗口办理", "请A003号到3号窗口办理"]
    played = board.player.played
    assert len(played) == 3
    for wav, began, ended in played:
        assert ended - began == pytest.approx(wav_duration(wav))  # played to its end
    for (_, _, ended), (_, began, _) in itertools.pairwise(played):
        assert began >= ended  # the next starts only after the previous finished
    assert board.view.subtitle.text() == ""  # nothing playing, no subtitle
    assert board.voice.dropped == []


def test_a_recall_is_announced_again(
    live: LiveServer, desk: Station, board: Board, running: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    w1, _ = call_one(live, desk, 1, "A")
    run_until(qtbot, lambda: len(board.voice.started) == 1)
    board.scheduler.run_all()
    live.clock.advance(live.config.no_show.min_recall_gap_s)  # people need time to walk to the window
    r = live.act(w1, "recall")
    assert r.status_code == 200, r.text
    run_until(qtbot, lambda: len(board.voice.started) == 2)
    assert board.voice.started[1].subtitle == board.voice.started[0].subtitle
    qtbot.waitUntil(lambda: board.view.now_calling.text() == "再次呼叫")
    assert board.latest() == ("A001", "请到 1 号窗口")
    board.scheduler.run_all()
    assert len(board.player.played) == 2


def test_a_zone_display_ignores_other_floors(
    live: LiveServer, desk: Station, boards: Boards, qtbot: QtBot
) -> None:
    with boards(zone="f2") as upstairs:
        w3, w16 = open_window(live, 3), open_window(live, 16)
        issue(live, desk, "A")
        issue(live, desk, "E")
        call_next(live, w3)  # first floor
        call_next(live, w16)  # second floor
        run_until(qtbot, lambda: upstairs.latest()[0] == "E001")
        qtbot.waitUntil(lambda: upstairs.latest() == ("E001", "请到 16 号窗口"))
        assert [c.label for c in upstairs.flow.calls()] == ["E001"]
        assert upstairs.recent() == []
        assert [a.subtitle[:12] for a in upstairs.voice.started] == ["请E001号到16号窗口"]
        assert upstairs.view.zone_name.text() == "本屏显示：二楼 企业不动产区"
        shown = {t.text().split(" ")[0] for t in upstairs.view.tiles if t.text()}
        assert shown == {"C", "E", "F"}  # the series served upstairs


def test_calls_made_during_a_disconnect_appear_after_resync(
    live: LiveServer, desk: Station, boards: Boards, running: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    line = Line(live.port, scheme="https")  # the server speaks TLS; the line passes the bytes
    complete(qtbot, running, line.start())
    try:
        with boards(url=line.url) as b:
            w1, w2 = open_window(live, 1), open_window(live, 2)
            for _ in range(3):
                issue(live, desk, "A")
            call_next(live, w1)
            run_until(qtbot, lambda: b.latest()[0] == "A001")
            line.hold()
            run_until(qtbot, lambda: b.flow.state().connection is not ConnectionState.LIVE)
            call_next(live, w2)  # made while the display cannot hear the server
            assert live.act(w1, "start").status_code == 200
            assert live.act(w1, "finish").status_code == 200
            call_next(live, w1)
            line.restore()
            run_until(qtbot, lambda: b.latest()[0] == "A003")
            assert [c.label for c in b.flow.calls()] == ["A003", "A002", "A001"]
            assert b.recent() == ["A002  →  2号窗口", "A001  →  1号窗口"]
            assert b.flow.state().connection is ConnectionState.LIVE
    finally:
        complete(qtbot, running, line.aclose())


def test_the_board_says_so_when_the_server_is_gone(
    live: LiveServer, desk: Station, board: Board, running: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    call_one(live, desk, 1, "A")
    run_until(qtbot, lambda: board.latest()[0] == "A001")
    complete(qtbot, running, asyncio.to_thread(live.stop))
    run_until(qtbot, lambda: board.flow.state().connection is not ConnectionState.LIVE)
    board.controller.tick()
    assert board.view.middle.currentWidget() is board.view.calls_page  # a blip is not an alarm yet
    live.clock.advance(board.flow.stale_after_s + 1)
    board.controller.tick()
    qtbot.waitUntil(lambda: board.view.middle.currentWidget() is board.view.stale_panel)
    assert board.view.stale_title.text() == "叫号信息暂停更新"
    assert "最后更新 09:00:00" in board.view.stale_body.text()
    assert "A001" not in board.view.visible_texts()  # old calls are not shown as if live
    assert board.view.banner.text().startswith(("与服务器断开", "无法连接服务器"))
    live.start()
    run_until(qtbot, lambda: board.flow.state().connection is ConnectionState.LIVE, 30)
    qtbot.waitUntil(lambda: board.view.middle.currentWidget() is board.view.calls_page)
    assert board.latest()[0] == "A001"


def test_first_start_shows_the_enrollment_code_until_approved(
    live: LiveServer, voice_pack: VoicePack, tmp_path: Path, running: asyncio.AbstractEventLoop, qtbot: QtBot
) -> None:
    b = make_board(qtbot, live.config, live.clock, voice_pack, tmp_path / "cache")
    anonymous = HttpHall(live.url, clock=live.clock, verify=live.ssl)
    token_file = tmp_path / "state" / "display-1.json"
    assert live.pin is not None
    save_pin(token_file, live.url, live.pin)  # what `hallclient.link.locate` does over TLS before enrolling
    enrolling = running.create_task(
        b.controller.enroll(anonymous, token_file, name="一楼大厅叫号屏", server=live.url, poll_s=0.05)
    )
    run_until(qtbot, lambda: b.flow.state().enroll_code != "")
    code = b.flow.state().enroll_code
    qtbot.waitUntil(lambda: b.view.pages.currentWidget() is b.view.enrollment)
    assert b.view.enrollment.code.text() == code
    assert live.pin.short in b.view.enrollment.fingerprint.text()  # beside the code, as on the dashboard
    assert not enrolling.done()  # waits for the manager
    live.approve_code(code)
    run_until(qtbot, enrolling.done)
    token = enrolling.result()
    assert token_file.exists()
    api = HttpHall(live.url, token, clock=live.clock, verify=live.ssl)
    start(b, qtbot, running, api)
    try:
        qtbot.waitUntil(lambda: b.view.pages.currentWidget() is b.view.board_page)
    finally:
        stop(b, qtbot, running)
        complete(qtbot, running, api.aclose())
        complete(qtbot, running, anonymous.aclose())


def test_call_text_for_the_led_board_uses_the_halls_template(live: LiveServer) -> None:
    assert call_text(live.config.led, "A012", 5) == "请A012号到5号窗口"
