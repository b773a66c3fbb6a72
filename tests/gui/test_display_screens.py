"""The display's hall LED board on an emulated HQP/1 bus, and the board's two layouts as screenshots
(accessibility-checked: sizes, contrast as painted, no clipped text, every glyph in the font)."""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from pytestqt.qtbot import QtBot

from display.views import SIZES, Orientation
from drivers.bus import HqpBusMaster, HqpLedBoard
from drivers.emulators.bus import HqpBusEmulator
from hallclient.types import ConnectionState
from hallcore.windowstrip import call_text
from hallui import a11y
from tests.fakes.live_server import LiveServer, Station
from tests.fakes.shots import docs_dir
from tests.gui.display_rig import Board, Boards, boards, call_next, open_window
from tests.gui.qtloop import issue, run_until

__all__ = ["boards"]  # a fixture this module uses

HALL_BOARD = 90


def test_the_hall_led_board_matches_the_screen_after_each_call(
    live: LiveServer, desk: Station, boards: Boards, tmp_path: Path, qtbot: QtBot
) -> None:
    emu = HqpBusEmulator.pty(link=tmp_path / "ttyHALL").start()
    strip = emu.add_strip(HALL_BOARD, hall_board=True)
    bus = HqpBusMaster(emu.url, reply_timeout_s=0.25).start()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hall board")
    rows = live.config.led.hall_rows

    def led_rows() -> list[str]:
        with emu.lock:
            return [strip.text(i + 1) for i in range(rows)]

    def screen_rows() -> list[str]:
        """The screen's calls, newest first, as the LED board words them."""
        latest = b.flow.state().latest
        shown = [latest] if latest is not None else []
        shown += list(b.flow.state().recent)
        assert b.latest()[0] == (shown[0].label if shown else "")
        texts = [call_text(live.config.led, c.label, c.window) for c in shown[:rows]]
        return texts + [""] * (rows - len(texts))

    try:
        with boards(led=HqpLedBoard(bus, HALL_BOARD), executor=executor) as b:
            run_until(qtbot, lambda: strip.text(rows + 1) == live.config.led.welcome)
            assert led_rows() == [""] * rows
            windows = [open_window(live, n) for n in (1, 2, 5, 6, 10)]
            for st in windows:
                issue(live, desk, live.config.window_by_number[st.window or 0].series[0])
            for st in windows:
                label = call_next(live, st)

                def shown(label: str = label) -> bool:
                    return b.latest()[0] == label

                run_until(qtbot, shown)
                run_until(qtbot, lambda: led_rows() == screen_rows())
            assert led_rows()[0] == "请D001号到10号窗口"
            assert strip.level == 12  # 09:00: the 08:00 step of led.brightness
            (tmp_path / "led.txt").write_text(emu.render(), encoding="utf-8")
    finally:
        bus.close()
        executor.shutdown(wait=True)
        emu.stop()


def _screenshot(board: Board, name: str, artifacts: Path, repo_root: Path) -> None:
    path = artifacts / f"{name}.png"
    assert board.view.grab().save(str(path))
    docs = docs_dir()
    shutil.copy(path, docs / f"{name}.png")


@pytest.mark.parametrize("orientation", list(Orientation))
def test_both_layouts_with_chinese_text(
    orientation: Orientation,
    live: LiveServer,
    desk: Station,
    boards: Boards,
    qtbot: QtBot,
    artifacts: Path,
    repo_root: Path,
) -> None:
    with boards(orientation=orientation) as b:
        windows = [open_window(live, n) for n in (1, 5, 10, 12, 3, 6, 14)]
        for series in "ABDGABGAEC":
            issue(live, desk, series)
        issue(live, desk, "C")
        for st in windows:
            call_next(live, st)
        run_until(qtbot, lambda: len(b.flow.calls()) == len(windows))
        b.view.show()
        qtbot.waitExposed(b.view)
        assert (b.view.width(), b.view.height()) == SIZES[orientation]  # nothing forces it wider
        for tile in b.view.tiles:
            if tile.text():  # both lines fit: wrapped text is not clipped at the bottom
                assert tile.heightForWidth(tile.width()) <= tile.height(), tile.text()
        assert b.view.subtitle.text().startswith("请A001号到1号窗口办理")
        # 14 is a 综合窗口 (A, B, G) merging its series by the order key: G002 came before A003.
        assert b.latest() == ("G002", "请到 14 号窗口")
        findings = a11y.check(b.view, min_pt=18)
        assert findings == [], findings
        _screenshot(b, f"display-{orientation.value}", artifacts, repo_root)

        b.controller.on_connection(ConnectionState.RECONNECTING)  # the line to the server is down
        live.clock.advance(b.flow.stale_after_s + 1)
        b.controller.tick()
        assert b.view.middle.currentWidget() is b.view.stale_panel
        assert a11y.check(b.view, min_pt=18) == []
        _screenshot(b, f"display-{orientation.value}-stale", artifacts, repo_root)
