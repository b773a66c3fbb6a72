"""Issue 23: the counter's controls read at a glance, measured as painted (a grab of the real window against
a real hall server): in every window state every button's text reaches 4.5:1 on its own fill; a button's
disabled look is at least 3:1 from its enabled look; a disabled button says why in its tooltip; the action the
state expects next is drawn apart (its own fill in an amber ring, once); the held ticket's state sits on its
colour."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtGui import QImage
from PySide6.QtWidgets import QPushButton

from counter import guidance
from counter.actions import Action
from hallui.a11y import colours_in, painted
from hallui.theme import MIN_CONTRAST, MIN_UI_CONTRAST, PALETTE, contrast_ratio, hex_rgb
from tests.fakes.live_server import LiveServer
from tests.fakes.live_server import Station as LiveStation
from tests.fakes.shots import docs_dir
from tests.gui.counter_rig import Counter, bus, clerk

__all__ = ["bus", "clerk"]  # fixtures this module uses

RGB = tuple[int, int, int]


class Looks:
    """Each button's painted fill, enabled and disabled, over the states seen."""

    def __init__(self) -> None:
        self.fills: dict[str, dict[bool, RGB]] = {}

    def add(self, name: str, enabled: bool, fill: RGB) -> None:
        self.fills.setdefault(name, {})[enabled] = fill


def _buttons(c: Counter) -> dict[str, QPushButton]:
    m = c.app.window.main
    out = {b.objectName(): b for b in m.buttons.values()}
    out.update({b.objectName(): b for b in m.outcomes.values()})
    return {n: b for n, b in out.items() if b.isVisibleTo(c.app.window)}


def snap(c: Counter, looks: Looks, state: str, artifacts: Path, expect: Action | None) -> None:
    """Measure every visible button of the window in this state."""
    w = c.app.window
    nxt = w.main.buttons[expect] if expect is not None else None
    # The view redraws on the flow's change: wait until it shows this state.
    c.until(lambda: not c.flow.busy and guidance.expected(c.flow) is expect)
    c.until(lambda: nxt is None or nxt.property("role") == "next")
    image: QImage = w.grab().toImage()
    image.save(str(artifacts / f"counter-look-{state}.png"))
    image.save(str(docs_dir() / f"counter-look-{state}.png"))
    ring = hex_rgb(PALETTE.next_ring)
    for name, b in _buttons(c).items():
        p = painted(image, w, b)
        assert p is not None, name
        assert p.ratio >= MIN_CONTRAST, f"{state}: {name} text {p.ratio:.2f}:1 on {p.background}"
        looks.add(name, b.isEnabled(), p.background)
        if b.isEnabled():
            assert b.toolTip() == "", f"{state}: enabled {name} still gives a reason: {b.toolTip()!r}"
        else:
            assert b.toolTip(), f"{state}: disabled {name} does not say why"
        stands_out = ring in colours_in(image, w, b)
        assert stands_out == (b is nxt), f"{state}: {name} ring {stands_out}, next is {expect}"
        if b is nxt:
            assert b.isEnabled()
            assert p.background == hex_rgb(PALETTE.next), f"{state}: next {name} fill {p.background}"
    hint = w.main.next_hint.text()
    assert (expect is None) == (hint == ""), f"{state}: next hint {hint!r}"


def test_every_state_reads_at_a_glance(
    clerk: Counter, desk: LiveStation, live: LiveServer, artifacts: Path
) -> None:
    c = clerk
    w = c.app.window
    looks = Looks()
    snap(c, looks, "idle", artifacts, None)  # open, nobody waiting: nothing is due
    assert w.main.buttons[Action.START].toolTip() == "当前无号，请先叫号"
    assert w.main.buttons[Action.OPEN].toolTip() == "窗口已开放"
    a1, _a2 = c.queue(desk, 2)
    snap(c, looks, "waiting", artifacts, Action.CALL_NEXT)
    c.click("call_next")
    c.until(lambda: c.flow.held_label == a1)
    snap(c, looks, "called", artifacts, Action.START)
    assert (
        w.main.buttons[Action.NO_SHOW].toolTip() == f"还需重呼 {live.config.no_show.max_recalls} 次才能过号"
    )
    assert w.main.buttons[Action.CALL_NEXT].toolTip() == f"请先办结或转办 {a1}"
    held_state(c, PALETTE.called)
    c.click("start")
    c.until(lambda: c.flow.held_state == "serving")
    snap(c, looks, "serving", artifacts, Action.FINISH)
    held_state(c, PALETTE.serving)
    c.click("finish")
    c.until(lambda: c.flow.held_state == "")
    c.click("pause")
    w.main.form_ok.click()
    c.until(lambda: c.flow.window_state == "paused")
    snap(c, looks, "paused", artifacts, Action.RESUME)
    assert w.main.buttons[Action.CALL_NEXT].toolTip() == "窗口暂停中，请先恢复"
    c.click("resume")
    c.until(lambda: c.flow.window_state == "open")
    c.click("close")
    c.until(lambda: c.flow.window_state == "closed")
    snap(c, looks, "closed", artifacts, Action.OPEN)
    assert w.main.buttons[Action.CALL_NEXT].toolTip() == "窗口已关闭，请先开窗"
    # Enabled and disabled looks of one button apart by >= 3:1, for every button seen both ways.
    both = {n: f for n, f in looks.fills.items() if len(f) == 2}
    assert len(both) >= 10, sorted(looks.fills)
    for name, f in both.items():
        ratio = contrast_ratio(f[True], f[False])
        assert ratio >= MIN_UI_CONTRAST, f"{name}: enabled {f[True]} vs disabled {f[False]}: {ratio:.2f}:1"


def held_state(c: Counter, colour: str) -> None:
    """The state line of a held ticket sits on its own colour, its text readable on it."""
    w = c.app.window
    image = w.grab().toImage()
    p = painted(image, w, w.main.state)
    assert p is not None
    assert p.background == hex_rgb(colour), p
    assert p.ratio >= MIN_CONTRAST, p
