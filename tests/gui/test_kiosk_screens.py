"""Every kiosk screen in Chinese, English, Tibetan (the machine-drafted catalogue), the pseudo-locale (every
text ~40% longer, to catch clipping) and elder mode, each portrait (1080×1920) and landscape (1920×1080):
font sizes, touch targets, contrast as painted, no text clipped (sideways, below, or by its parent) and
glyph coverage (no tofu); screenshots of the failed and the key screens into the artifacts folder (every one
with HALLQ_ALL_SHOTS=1), the key ones into docs/screenshots as kiosk-<mode>-<screen>.png (HALLQ_DOCS_SHOTS=1).

Screens are reached through the app against a real hall server on 127.0.0.1 (one for all the modes) with a
`FakeTicketPrinter`; the printing paths are in test_kiosk_paths.py. What matters here is how each screen
looks. One window per mode is re-rendered for every screen and size (a new app per screen costs seconds).
"""

from __future__ import annotations

import asyncio
import datetime as dt
import os
import pathlib
import shutil
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from PySide6.QtWidgets import QApplication

from drivers.fakes import FakeTicketPrinter
from drivers.protocols import DeviceState, Health
from hallclient.http import HttpHall
from hallclient.types import BookingFound, Issued, NotIssued
from hallcore import idnumber
from hallui import a11y
from hallui.cardread import CardVisit
from hallui.issuing import PrintResult
from hallui.theme import BASE_PT, ELDER_PT
from kiosk.app import KioskApp, assemble
from kiosk.flow import Screen
from kiosk.info import Message
from kiosk.texts import catalog
from tests.fakes.live_server import LiveServer, live_server
from tests.fakes.shots import docs_dir
from tests.gui.kiosk_rig import dispose

MODES = ("zh", "en", "bo", "pseudo", "elder")
#: HALLQ_ALL_SHOTS=1 saves every screen into the artifacts folder, not only the failed and documented ones.
ALL_SHOTS = os.environ.get("HALLQ_ALL_SHOTS") == "1"
#: Portrait is the common 立式取号机; landscape the wall-mounted one. Every screen is checked at both.
SIZES = {"portrait": (1080, 1920), "landscape": (1920, 1080)}
#: Screens copied to docs/screenshots as kiosk-<mode>-<screen>.png (portrait; landscape adds "_landscape").
KEY_SHOTS = {
    *((m, s) for m in ("zh", "en", "bo", "elder") for s in ("welcome", "question", "materials", "ticket")),
    ("zh", "matters_search"),
    ("zh", "confirm"),
    ("zh", "ticket_tolerated"),
    ("zh", "notice"),
    ("zh", "desk"),
    ("zh", "welcome_landscape"),
    ("bo", "welcome_landscape"),
}


def _issue(loop: asyncio.AbstractEventLoop, hall: HttpHall, matter: str, **kw: Any) -> Issued | NotIssued:
    return loop.run_until_complete(hall.issue_ticket(matter, **kw))


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    with live_server(tmp_path_factory.mktemp("kiosk-screens"), tls=True) as live:
        yield live


@pytest.mark.parametrize("mode", MODES)
def test_every_screen_is_accessible(
    mode: str, server: LiveServer, qtbot: Any, qloop: asyncio.AbstractEventLoop, artifacts: pathlib.Path
) -> None:
    """One window per mode, every screen drawn at both sizes (a new app per screen would cost seconds)."""
    config, clock = server.config, server.clock
    hall = HttpHall(server.url, server.kiosk.token, clock=clock, verify=server.ssl)
    printer = FakeTicketPrinter()
    app = assemble(config, hall, printer, clock, catalog(), tick_ms=3_600_000)
    view = app.view
    view.speaks = True  # the bar as a kiosk with spoken guidance has it: 读给我听 is checked on every screen
    view.resize(*SIZES["portrait"])
    view.show()
    qtbot.waitExposed(view)
    app.show()
    # Live figures as the home tiles show them: people waiting, and a wait told for one series.
    app.controller.info.waiting = {"A": 12, "B": 0, "C": 3}
    app.controller.info.estimates = {"A": (15, 30), "C": (5, 10)}
    flow = app.flow
    elder = mode == "elder"
    language = "zh" if elder else mode
    min_pt = ELDER_PT if elder else BASE_PT
    problems: dict[str, list[str]] = {}
    seen: list[str] = []
    tickets = _tickets(qloop, hall)
    for size, (width, height) in SIZES.items():
        view.resize(width, height)
        suffix = "" if size == "portrait" else "_landscape"

        def shot(name: str, suffix: str = suffix) -> None:
            flow.language, flow.elder = language, elder
            app.render()
            QApplication.processEvents()
            assert view.current_screen is not None
            found = a11y.check(view, min_pt=min_pt)
            if found:
                problems[name + suffix] = [f"{f.widget}: {f.problem}" for f in found]
            seen.append(name)
            # A PNG costs 0.1 s to save: the failed screens and the documented ones (all on demand).
            key = (mode, name + suffix) in KEY_SHOTS
            if found or key or ALL_SHOTS:
                path = artifacts / f"kiosk-{mode}-{name}{suffix}.png"
                assert view.grab().save(str(path))
                if key:
                    shutil.copy(path, docs_dir() / path.name)

        walk(app, shot, tickets)
    app.bridge.stop_ticking()
    dispose(app)
    qloop.run_until_complete(hall.aclose())

    assert {s.value for s in Screen} <= {n.split("_")[0] for n in seen}, seen
    assert problems == {}, "\n".join(f"{k}: {v}" for k, v in problems.items())


def _tickets(loop: asyncio.AbstractEventLoop, hall: HttpHall) -> tuple[Issued, Issued, NotIssued]:
    """A 容缺 ticket, a passed one with a priority, and a failed pre-check, issued once for both sizes."""
    tolerated = _issue(loop, hall, "SB02", answers={}, present=frozenset({"idcard"}))
    passed = _issue(
        loop,
        hall,
        "CR01",
        priority="elderly",
        answers={"in_person_only": True, "adult": True},
        present=frozenset({"idcard", "photo_receipt"}),
    )
    failed = _issue(
        loop, hall, "HJ01", answers={"in_person": False, "agent_docs": False}, present=frozenset({"idcard"})
    )
    assert isinstance(tolerated, Issued)
    assert isinstance(passed, Issued)
    assert isinstance(failed, NotIssued)
    return tolerated, passed, failed


def walk(app: KioskApp, shot: Callable[[str], None], tickets: tuple[Issued, Issued, NotIssued]) -> None:
    """Every screen of the kiosk, each shot once (some in several states)."""
    flow, clock = app.flow, app.controller.clock
    tolerated, passed, failed = tickets
    now = clock.monotonic()
    shot("welcome")
    flow.start(now)
    shot("matters_groups")
    flow.set_group("gongan", now)
    shot("matters_group")
    flow.set_group("", now)
    flow.set_query("gjj", now)
    shot("matters_search")
    flow.set_query("", now)
    flow.choose_matter("CR01", now)
    shot("question")
    flow.answer(True, now)
    flow.answer(True, now)
    flow.toggle_material("idcard", now)
    shot("materials")
    flow.toggle_material("photo_receipt", now)
    flow.materials_done(now)
    shot("confirm")
    flow.home(now)
    flow.start(now)
    flow.choose_matter("SB02", now)
    flow.toggle_material("idcard", now)
    flow.materials_done(now)
    shot("confirm_tolerated")
    flow.submit("", now)
    shot("issuing")
    flow.issued_ticket(tolerated, PrintResult(printed=True), now)
    shot("ticket_tolerated")
    flow.home(now)
    flow.start(now)
    flow.choose_matter("CR01", now)
    flow.answer(True, now)
    flow.answer(True, now)
    flow.toggle_material("idcard", now)
    flow.toggle_material("photo_receipt", now)
    flow.materials_done(now)
    flow.submit("elderly", now)
    flow.issued_ticket(passed, PrintResult(printed=True), now)
    shot("ticket")
    flow.open_notify(now)  # "快到您了": the number pad (issue 30), half typed, masked
    assert flow.notify is not None
    for key in "1381234":
        flow.notify.press(key)
    shot("notify")
    flow.back(now)
    flow.issued_ticket(passed, PrintResult(printed=False), now)
    shot("ticket_not_printed")
    flow.issued_ticket(passed, PrintResult(printed=False, withdrawn=True), now)
    shot("ticket_voided")
    flow.home(now)
    flow.start(now)
    flow.choose_matter("HJ01", now)
    flow.answer(False, now)
    shot("question_agent")
    flow.answer(False, now)
    flow.materials_done(now)
    shot("confirm_fail")
    flow.submit("", now)
    flow.refused_ticket(failed, True, now)
    shot("notice")
    flow.home(now)
    flow.start_booking(now)
    shot("booking")
    flow.refused(Message("booking.too_early", "请于 14:30 后签到（预约时段 15:00）", offer_walk_in=True), now)
    shot("message_booking")
    flow.home(now)
    flow.start(now)
    flow.choose_matter("BD01", now)
    flow.refused(Message("message.full", "不动产登记今日号已取完（每日 120 个）", "2026-11-24 08:30"), now)
    shot("message_full")
    flow.home(now)
    # 刷身份证: the welcome's invitation while a reader works, and the greeting after a card read (an expired
    # card served anyway, a booking to check in, the numbers left).
    flow.reader_ok = True
    shot("welcome_card")
    sw03 = app.config.matter_by_code["SW03"]
    booked = BookingFound("ABCD2345", "SW03", sw03.name, sw03.name_en, dt.time(9, 30), dt.time(10))
    number = idnumber.complete("34152419500315123")
    flow.card_read(CardVisit("张**", "elderly", True, number, (booked,), 2), now)
    shot("card")
    flow.reader_ok = False
    flow.home(now)
    app.controller.printer_changed(DeviceState(Health.UNAVAILABLE, "缺纸 paper out"))
    shot("desk")
    app.controller.printer_changed(DeviceState(Health.OK))
    flow.server_failed(now)
    shot("offline")
    flow.set_server(True, now)
    app.controller.info.enroll_code = "482913"
    app.controller.info.station_name = "一楼自助取号机"
    flow.set_enrolled(False, now)
    shot("enroll")
    flow.set_enrolled(True, now)
