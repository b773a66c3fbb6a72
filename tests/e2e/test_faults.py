"""The fault suite with the apps attached: the real `hallq server`, counter, kiosk and display as
subprocesses, emulated printer and HQP/1 buses, a peak of API clients.

- kill -9 of the server under load (2 rounds here, 20 in `./dev soak`): nothing acknowledged is lost, no
  number is used twice, no ticket is called twice, and the counter, the display and a stream watcher
  recover by themselves;
- the kiosk's printer runs out of paper in the middle of a ticket during a peak: the kiosk stops issuing,
  no phantom ticket, the dashboard shows it, and it carries on once paper is back;
- the counter's LED bus is unplugged and replugged: the counter keeps working from its keypad, reports
  the strip down, and the strip shows the current text again;
- the link between a counter and the server is cut (5 s here; 30 s, silent and reset, in soak): the
  clerk sees it and the action that was on the wire is applied exactly once;
- broken and half-written configs: a running server keeps the last good one and says why; a server or
  app started with one exits 2 listing every problem.

`tests/server/test_faults.py` covers the store's side (kill -9 without apps, full disk, reload by API in
process); these build on its ledger checks. Durations printed here are figures for the benchmark report,
not assertions.
"""

from __future__ import annotations

import contextlib
import functools
import os
import pathlib
import re
import signal
import subprocess
import sys
import threading
import time
from typing import Any

import httpx
import pytest

from drivers.emulators.bus import EmulatedStrip, HqpBusEmulator
from drivers.emulators.pipes import TcpPipe
from drivers.emulators.printer import EmulatedState, TcpPrinterEmulator
from drivers.protocols import KeyCode
from tests.e2e.fault_support import (
    CLERK_PIN,
    HALL_BOARD,
    KEYPAD_1,
    LED_1,
    MATTER,
    PAD_1,
    ROOT,
    AppProc,
    CutProxy,
    Load,
    Rig,
    Watcher,
    clerk_code,
    hall_config,
    kiosk_client,
    manager_web,
    set_device_url,
    verify_for,
    wait_for,
)
from tests.e2e.support import add_hall_board
from tests.fakes.live_server import Station
from tests.fakes.processes import reap
from tests.server.test_faults import Ledger, caller, check_store

pytestmark = pytest.mark.slow

LOGIN_DIGITS = f"{clerk_code(1)}*{CLERK_PIN}"


def figure(name: str, seconds: float) -> None:
    """A measured duration, printed for the benchmark report (never asserted)."""
    print(f"[fault figure] {name}: {seconds:.2f} s")


def log_in_at_keypad(keys: HqpBusEmulator, strip: EmulatedStrip, counter: AppProc) -> None:
    """The clerk types staff code * PIN and presses login until the window opens (the strip says welcome).

    A press before the app has connected to the hall is refused by the app (it shows "offline"), so the
    clerk presses again, as a person would.
    """
    deadline = time.monotonic() + 45
    while "欢迎" not in strip.text():
        assert counter.alive(), counter.text()[-3000:]
        assert time.monotonic() < deadline, (
            f"the window never opened; strip: {strip.render()}\n{counter.text()[-3000:]}"
        )
        pipe = keys.pipe
        if isinstance(pipe, TcpPipe) and pipe.connected:
            keys.press(KEYPAD_1, KeyCode.LOGIN, LOGIN_DIGITS)
        with contextlib.suppress(AssertionError):
            wait_for(lambda: "欢迎" in strip.text(), 1.5)


def press_next_until(
    keys: HqpBusEmulator, rig: Rig, since_seq: int, what: str, timeout: float = 30.0
) -> tuple[int, str, str, int]:
    """Press "next" on window 1's keypad until the server records a call at window 1 after `since_seq`."""
    deadline = time.monotonic() + timeout
    while True:
        calls = [c for c in rig.hall.calls(since_seq) if c[3] == 1]
        if calls:
            return calls[0]
        assert time.monotonic() < deadline, f"no call at window 1 for {what}"
        keys.press(KEYPAD_1, KeyCode.NEXT)
        with contextlib.suppress(AssertionError):
            wait_for(lambda: any(c[3] == 1 for c in rig.hall.calls(since_seq)), 1.0)


def call_next_at(rig: Rig, st: Station) -> str:
    """Whatever the window holds (called or serving), finish it and call the next; the label called."""
    for _ in range(3):
        for action in ("start", "finish", "call-next"):
            r = rig.hall.act(st, action)
            if action == "call-next" and r.status_code == 200:
                return str(r.json()["ticket"]["label"])
    raise AssertionError(f"window {st.window} could not call: {r.text}")


def device_health(rig: Rig, station: Station, device: str) -> tuple[str, str] | None:
    rows = rig.hall.query(
        "SELECT health, reason FROM device_health WHERE station = ? AND device = ?", (station.id, device)
    )
    return (str(rows[0][0]), str(rows[0][1])) if rows else None


def reported_down(rig: Rig, station: Station, device: str, timeout: float, what: str) -> float:
    """Wait until `station` has reported `device` unavailable; when it was seen (time.monotonic())."""
    wait_for(lambda: (device_health(rig, station, device) or ("", ""))[0] == "unavailable", timeout, what)
    return time.monotonic()


def dashboard_devices(url: str) -> list[dict[str, Any]]:
    """The devices the manager's dashboard lists, with their health."""
    with contextlib.closing(manager_web(url)) as web:
        devices: list[dict[str, Any]] = web.get("/web/api/dashboard").json()["devices"]
    return devices


# ---- kill -9 under load, with the apps attached ------------------------------------------------------------


def kill_rounds(tmp: pathlib.Path, rounds: int) -> None:
    with contextlib.ExitStack() as stack:
        keys = HqpBusEmulator.tcp()
        strip = keys.add_strip(LED_1)
        keys.add_keypad(KEYPAD_1)
        keys.add_rating_pad(PAD_1)
        board_bus = HqpBusEmulator.tcp()
        board = board_bus.add_strip(HALL_BOARD, hall_board=True)
        for emu in (keys, board_bus):
            emu.start()
            stack.callback(emu.stop)

        def edit(text: str) -> str:
            for dev in ("led", "keypad", "rating_pad"):
                text = set_device_url(text, "counter-01", dev, keys.url)
            return add_hall_board(text, "display-1", board_bus.url, HALL_BOARD)

        rig = stack.enter_context(Rig(tmp, hall_config(edit)))
        _kill_rounds(rig, keys, strip, board, rounds)


def _kill_rounds(
    rig: Rig, keys: HqpBusEmulator, strip: EmulatedStrip, board: EmulatedStrip, rounds: int
) -> None:
    # The waits are hang guards, generous for a loaded 2-core machine; what each waits for is the check.
    hall = rig.hall
    figure("server start", rig.server.start())
    hall.provision(rig.state, "counter-01", "counter", 1)
    hall.provision(rig.state, "display-1", "display")
    kiosks = [hall.station("kiosk", f"API kiosk {i}") for i in range(2)]
    desk = hall.station("desk", "API desk")
    window2 = hall.station("counter", "API counter 2", 2, login=True)
    assert hall.act(window2, "open").status_code == 200
    watcher = Watcher(hall.url, hall.station("display", "stream watcher").token).start()
    rig.on_close(watcher.stop)
    counter = rig.app("counter", "counter-01")
    display = rig.app("display", "display-1", "--windowed", "--no-voice")
    log_in_at_keypad(keys, strip, counter)
    ledger = Ledger()
    load = Load()
    rig.on_close(load.stop)

    def press_next(stop: threading.Event) -> None:
        while not stop.wait(0.3):
            keys.press(KEYPAD_1, KeyCode.NEXT)

    def one_round(n: int) -> None:
        seq0 = hall.seq()
        issued0, called0 = len(ledger.issued), len(ledger.called)
        for k in kiosks:
            load.add(kiosk_client, hall.url, k, MATTER, ledger, 0.05)
        load.add(kiosk_client, hall.url, desk, MATTER, ledger, 0.05)
        load.add(functools.partial(caller, verify=verify_for(hall.url)), hall.url, window2.token, 2, ledger)
        load.add(press_next)
        wait_for(
            lambda: (
                len(ledger.issued) >= issued0 + 30
                and len(ledger.called) >= called0 + 3
                and any(c[3] == 1 for c in hall.calls(seq0))
            ),
            90,
            f"round {n}: load on the server (issued, called at windows 1 and 2)",
        )
        rig.server.kill9()
        t_dead = time.monotonic()
        load.stop()
        check_store(rig.server.db, ledger)  # every acknowledged ticket and call once, no gap, no number twice
        assert hall.double_calls() == {}, "a ticket was called twice"
        figure(f"round {n}: restart (spawn to listening)", rig.server.start())
        t_up = time.monotonic()
        seq_up = hall.seq()
        # The stream watcher sees events again.
        assert hall.issue(desk).status_code == 201
        wait_for(
            lambda: watcher.received_after(t_up) != [], 60, f"round {n}: the watcher to see events again"
        )
        figure(f"round {n}: watcher back after restart", time.monotonic() - t_up)
        # The display: its stream is back and the hall board shows a call made after the restart.
        display.wait_log(r"event stream \S+ back", 60, count=n)
        label2 = call_next_at(rig, window2)
        wait_for(lambda: label2 in board.render(), 60, f"round {n}: {label2} on the hall board")
        figure(f"round {n}: display board shows a new call after restart", time.monotonic() - t_up)
        # The counter: its next keypad press calls at window 1, and its strip shows that ticket.
        counter.wait_log(r"event stream \S+ back", 60, count=n)
        _, _, label1, _ = press_next_until(keys, rig, seq_up, f"round {n}: the counter after the restart", 60)
        wait_for(lambda: label1 in strip.text(), 30, f"round {n}: {label1} on window 1's strip")
        figure(f"round {n}: counter calls again after kill", time.monotonic() - t_dead)

    for n in range(1, rounds + 1):
        one_round(n)
    assert hall.double_calls() == {}
    assert watcher.error is None, watcher.error
    assert counter.alive()
    assert display.alive()


@pytest.mark.timeout(300)  # a hang guard: ~45 s on a quiet machine, up to ~60 s seen at load 10-15 here
def test_kill9_with_apps_two_rounds(tmp_path: pathlib.Path) -> None:
    kill_rounds(tmp_path, 2)


@pytest.mark.soak
@pytest.mark.timeout(1800)
def test_kill9_with_apps_twenty_rounds(tmp_path: pathlib.Path) -> None:
    kill_rounds(tmp_path, 20)


# ---- printer paper out in the middle of a peak -------------------------------------------------------------

#: The peak's other kiosks and the desk issue a series-B matter; the kiosk app's walk-in is series A, so its
#: tickets are told apart by series.
PEAK_MATTER = "SB02"


def test_paper_out_mid_ticket_during_a_peak(tmp_path: pathlib.Path) -> None:
    with contextlib.ExitStack() as stack:
        emu = stack.enter_context(TcpPrinterEmulator())
        printer_url = f"socket://127.0.0.1:{emu.port}"
        config = hall_config(lambda t: set_device_url(t, "kiosk-1", "printer", printer_url))
        rig = stack.enter_context(Rig(tmp_path, config))
        hall = rig.hall
        rig.server.start()
        kiosk_st = hall.provision(rig.state, "kiosk-1", "kiosk")
        peak, ledger = Load(), Ledger()
        stack.callback(peak.stop)
        for i in range(2):
            peak.add(
                kiosk_client, hall.url, hall.station("kiosk", f"peak kiosk {i}"), PEAK_MATTER, ledger, 0.1
            )
        peak.add(kiosk_client, hall.url, hall.station("desk", "peak desk"), PEAK_MATTER, ledger, 0.1)
        wait_for(lambda: len(ledger.issued) >= 20, 30, "the peak to get going")

        def kiosk_tickets() -> list[tuple[str, str]]:
            return [
                (str(a), str(b)) for a, b in hall.query("SELECT label, state FROM tickets WHERE series = 'A'")
            ]

        # The paper runs out when the kiosk app's ticket starts printing.
        emu.printer.interrupt_next_job(EmulatedState.PAPER_OUT)
        first = rig.app("kiosk", "kiosk-1", "--windowed", "--autopilot", MATTER, "--printer", emu.url)
        first.wait_log("autopilot: final tap", 60)
        t0 = time.monotonic()
        wait_for(
            lambda: [s for _, s in kiosk_tickets()] == ["voided"], 30, "the half-printed ticket to be voided"
        )
        figure("paper out mid-ticket: final tap to ticket voided", time.monotonic() - t0)
        voided = kiosk_tickets()[0][0]
        seen = reported_down(rig, kiosk_st, "printer", 15, "the kiosk to report its printer")
        figure("paper out mid-ticket: final tap to device health reported", seen - t0)
        devices = dashboard_devices(hall.url)
        down = [d for d in devices if d["station"] == kiosk_st.id and d["device"] == "printer"]
        assert down, devices
        assert down[0]["health"] == "unavailable", devices
        assert "缺纸" in down[0]["reason"] or "paper" in down[0]["reason"].lower(), down

        # A fresh walk-in at the same kiosk while the paper is still out: nothing is issued, the peak goes on.
        first.stop()
        second = rig.app("kiosk", "kiosk-1", "--windowed", "--autopilot", MATTER, "--printer", emu.url)
        second.wait_log(r"POST \S+/api/devices/health", 60)  # up, and it has looked at its printer
        issued_before = len(ledger.issued)
        with contextlib.suppress(AssertionError):
            wait_for(lambda: len(kiosk_tickets()) > 1, 4, "")
        assert kiosk_tickets() == [(voided, "voided")], "the kiosk issued with no paper"
        assert len(ledger.issued) > issued_before, "the peak stopped too"
        assert emu.tickets == []

        # Paper back: the waiting walk-in gets a new number, printed; the voided one is never printed.
        t1 = time.monotonic()
        emu.set_state(EmulatedState.READY)
        wait_for(
            lambda: len(emu.tickets) == 1 and len(kiosk_tickets()) == 2,
            30,
            "the walk-in's ticket after refill",
        )
        wait_for(lambda: kiosk_tickets()[1][1] == "waiting", 15, "the print to be confirmed")
        figure("paper refilled to the next ticket printed", time.monotonic() - t1)
        fresh = kiosk_tickets()[1][0]
        assert fresh != voided
        assert fresh in emu.tickets[0].text
        assert voided not in emu.tickets[0].text
        wait_for(
            lambda: (device_health(rig, kiosk_st, "printer") or ("", ""))[0] == "ok", 15, "printer ok again"
        )
        peak.stop()
        # No phantom: nothing left half-issued, and the voided number was never printed.
        assert hall.query("SELECT label FROM tickets WHERE state = 'pending_print'") == []
        assert all(voided not in t.text for t in emu.tickets)
        assert hall.double_calls() == {}
        assert second.alive(), second.text()[-3000:]


# ---- the LED bus unplugged and replugged -------------------------------------------------------------------


def test_led_bus_unplugged_and_replugged(tmp_path: pathlib.Path) -> None:
    """The strip on its own USB-RS485 adapter (a pty behind a stable by-id style link); keypad and rating pad
    on another bus, so the clerk's buttons go on working while the strip's adapter is out."""
    with contextlib.ExitStack() as stack:
        link = tmp_path / "ttyLED"
        led_bus = HqpBusEmulator.pty(link=link)
        strip = led_bus.add_strip(LED_1)
        keys = HqpBusEmulator.tcp()
        keys.add_keypad(KEYPAD_1)
        keys.add_rating_pad(PAD_1)
        for emu in (led_bus, keys):
            emu.start()
            stack.callback(emu.stop)

        def edit(text: str) -> str:
            text = set_device_url(text, "counter-01", "led", str(link))
            text = set_device_url(text, "counter-01", "keypad", keys.url)
            return set_device_url(text, "counter-01", "rating_pad", keys.url)

        rig = stack.enter_context(Rig(tmp_path, hall_config(edit)))
        hall = rig.hall
        rig.server.start()
        st = hall.provision(rig.state, "counter-01", "counter", 1)
        desk = hall.station("desk", "desk")
        counter = rig.app("counter", "counter-01")
        log_in_at_keypad(keys, strip, counter)
        for _ in range(3):
            assert hall.issue(desk).status_code == 201
        _, _, first, _ = press_next_until(keys, rig, hall.seq(), "the first call")
        wait_for(lambda: first in strip.text(), 10, f"{first} on the strip")

        t0 = time.monotonic()
        led_bus.pty_pipe.unplug()
        # The keypad still works: start serving, then finish and call the next one. The strip's bus has no
        # keypad to poll, so the counter learns the adapter is gone when it next writes to the strip.
        seq = hall.seq()
        _, _, second, _ = press_next_until(keys, rig, seq, "a call with the strip unplugged")
        assert second != first
        seen = reported_down(rig, st, "led", 20, "the strip reported down")
        figure("LED bus unplugged to reported down (with the next call)", seen - t0)
        devices = dashboard_devices(hall.url)
        assert any(
            d["station"] == st.id and d["device"] == "led" and d["health"] == "unavailable" for d in devices
        )
        # The strip lost power with its bus: it comes back blank, and must be told what to show.
        with led_bus.lock:
            strip.areas.clear()
        t1 = time.monotonic()
        led_bus.pty_pipe.plug()
        wait_for(lambda: second in strip.text(), 20, f"{second} on the strip after replug")
        figure("LED bus replugged to current text shown", time.monotonic() - t1)
        wait_for(
            lambda: (device_health(rig, st, "led") or ("", ""))[0] == "ok", 20, "the strip reported back"
        )
        assert hall.double_calls() == {}
        assert counter.count("window LED strip: cannot show") == 1, "log once on loss"
        assert counter.count("window LED strip works again") == 1, "and once on recovery"


# ---- the network between a counter and the server cut ------------------------------------------------------


def network_cut(tmp: pathlib.Path, mode: str, cut_s: float) -> None:
    """Cut the counter's link right after its "call next" left, before the reply came back."""
    with contextlib.ExitStack() as stack:
        keys = HqpBusEmulator.tcp()
        strip = keys.add_strip(LED_1)
        keys.add_keypad(KEYPAD_1)
        keys.add_rating_pad(PAD_1)
        keys.start()
        stack.callback(keys.stop)

        def edit(text: str) -> str:
            for dev in ("led", "keypad", "rating_pad"):
                text = set_device_url(text, "counter-01", dev, keys.url)
            return text

        # Plain HTTP on this one link: `cut_on` finds the call-next request in the bytes it forwards, which
        # TLS would hide (every other fault test runs over TLS).
        rig = stack.enter_context(Rig(tmp, hall_config(edit), tls=False))
        hall = rig.hall
        rig.server.start()
        hall.provision(rig.state, "counter-01", "counter", 1)
        desk = hall.station("desk", "desk")
        proxy = CutProxy(rig.server.port, scheme="http")
        stack.callback(proxy.close)
        counter = rig.app("counter", "counter-01", server=proxy.url)
        # A board's event stream behind the same link: cut with it, and resumed with `since` after it.
        watcher = Watcher(proxy.url, hall.station("display", "watcher behind the link").token).start()
        stack.callback(watcher.stop)
        log_in_at_keypad(keys, strip, counter)
        labels = [hall.issue(desk).json()["ticket"]["label"] for _ in range(3)]
        seq0 = hall.seq()

        proxy.cut_on(b"/api/windows/1/call-next", mode)
        keys.press(KEYPAD_1, KeyCode.NEXT)
        assert proxy.triggered.wait(10), "the counter never sent call-next"
        t_cut = proxy.cuts[-1][1]
        # The server applied it; the counter never heard back.
        wait_for(lambda: len(hall.calls(seq0)) == 1, 10, "the call to be applied on the server")
        assert hall.calls(seq0)[0][2:] == (labels[0], 1)
        # The clerk sees it: the connection banner follows the event stream, which is lost.
        # A reset link is noticed at once; a silent one after the stream's 20 s without a message (plus its
        # close handshake, which waits up to 10 s on a dead link).
        counter.wait_log(r"event stream \S+ lost", 45)
        figure(f"network cut ({mode}): cut to the clerk seeing it", time.monotonic() - t_cut)
        # The clerk presses again meanwhile: the counter holds the unanswered call and sends nothing new.
        keys.press(KEYPAD_1, KeyCode.NEXT)
        wait_for(lambda: time.monotonic() >= t_cut + cut_s, cut_s + 1, "the end of the cut", step=0.1)
        proxy.heal()
        t_heal = time.monotonic()
        counter.wait_log(r"event stream \S+ back", 40)
        figure(f"network cut ({mode}, {cut_s:.0f} s): link back to stream back", time.monotonic() - t_heal)
        # The call that was on the wire is the counter's current ticket, applied once.
        wait_for(lambda: labels[0] in strip.text(), 20, f"{labels[0]} on the strip after the cut")
        figure(f"network cut ({mode}): link back to the clerk's call resolved", time.monotonic() - t_heal)
        counter.wait_log(r"call-next \"HTTP/1.1 200", 20)  # its retry, same request id, answered by replay
        assert [c[2:] for c in hall.calls(seq0)] == [(labels[0], 1)], "an action was applied twice"
        # And the counter carries on: start serving, then finish and call the next, each once.
        _, _, nxt, _ = press_next_until(keys, rig, hall.calls(seq0)[0][0], "a call after the cut")
        assert nxt == labels[1]
        assert [c[2:] for c in hall.calls(seq0)] == [(labels[0], 1), (labels[1], 1)]
        assert hall.double_calls() == {}
        # The watcher behind the link got every event once, in order, across the cut: one snapshot when it
        # first connected, then a gap-free run of seqs (a resume that missed anything would have ended in a
        # second snapshot or a hole).
        last = hall.seq()
        wait_for(lambda: bool(watcher.seen) and watcher.seen[-1][0] >= last, 20, "the watcher to catch up")
        seqs = [seq for seq, _ in watcher.seen]
        assert seqs == list(range(seqs[0], last + 1)), (
            "the stream behind the cut link lost or repeated events"
        )
        assert watcher.connections >= 2, "the cut should have broken the watcher's stream too"
        # The reply-lost call was kept and sent again after the cut with its own request id: the server
        # had it on record from the first time and answered with the same result.
        not_delivered = set(re.findall(r"call_next \(request ([\w-]+)\) not delivered", counter.text()))
        assert len(not_delivered) == 1, counter.text()[-3000:]
        assert hall.query("SELECT status FROM idempotency WHERE request_id = ?", tuple(not_delivered)) == [
            (200,)
        ]


def test_network_cut_between_counter_and_server(tmp_path: pathlib.Path) -> None:
    network_cut(tmp_path, "reset", 5.0)


@pytest.mark.soak
@pytest.mark.timeout(600)
def test_network_cut_thirty_seconds_silent(tmp_path: pathlib.Path) -> None:
    """Packets dropped for 30 s: nothing tells the counter; its stream notices the silence."""
    network_cut(tmp_path, "silent", 30.0)


@pytest.mark.soak
@pytest.mark.timeout(600)
def test_network_cut_thirty_seconds_reset(tmp_path: pathlib.Path) -> None:
    network_cut(tmp_path, "reset", 30.0)


# ---- corrupt or half-written config ------------------------------------------------------------------------


def broken_config(good: str) -> tuple[str, list[str]]:
    """Three mistakes in one file, and what each error must name."""
    text = good.replace("cutoff_min = 1", 'cutoff_min = "thirty"\nnot_a_key = 1', 1)
    text = text.replace('type = "escpos-network"', 'type = "escpos-netwrok"', 1)
    return text, ["hall.cutoff_min", "hall.not_a_key", "stations[0].printer.type"]


def half_written(good: str) -> str:
    """The file as a writer that died mid-save left it: cut inside a quoted string."""
    return good[: good.index('name = "一楼自助取号机"') + len('name = "一楼')]


def test_broken_config_on_reload_keeps_the_last_good_one(tmp_path: pathlib.Path) -> None:
    with Rig(tmp_path, hall_config()) as rig:
        hall = rig.hall
        good = rig.config.read_text(encoding="utf-8")
        rig.server.start()
        desk = hall.station("desk", "desk")
        assert hall.issue(desk).json()["ticket"]["label"] == "A001"
        manager = hall.manager_headers()

        def reload() -> httpx.Response:
            with hall.client() as c:
                return c.post("/api/admin/reload", headers=manager)

        def notice() -> str:
            with hall.client() as c:
                return str(c.get("/api/hall", headers=desk.headers).json()["hall"]["notice"])

        old_notice = notice()
        # SIGHUP with a half-written file: refused, logged with the reason, the server serves on.
        rig.config.write_text(half_written(good), encoding="utf-8")
        rig.server.signal(signal.SIGHUP)
        wait_for(
            lambda: "keeping the running config" in rig.server.log_text(), 15, "the refused reload in the log"
        )
        assert "Unterminated string" in rig.server.log_text()
        r = reload()
        assert r.status_code == 422, r.text
        assert r.json()["error"] == "config_invalid"
        assert any("valid TOML" in e for e in r.json()["detail"]["errors"]), r.text
        # A file with three mistakes: every one of them is listed.
        text, keys = broken_config(good)
        rig.config.write_text(text, encoding="utf-8")
        r = reload()
        assert r.status_code == 422, r.text
        errors = r.json()["detail"]["errors"]
        assert len(errors) == 3, errors
        assert all(any(k in e for e in errors) for k in keys), errors
        rig.server.signal(signal.SIGHUP)
        wait_for(lambda: "not_a_key" in rig.server.log_text(), 15, "the second refused reload in the log")
        assert rig.server.running
        assert hall.issue(desk).json()["ticket"]["label"] == "A002"  # the last good config still serves
        assert notice() == old_notice
        # Fixed: a SIGHUP takes the new file, and the queue goes on.
        rig.config.write_text(good.replace(old_notice, "新公告：今日系统维护后恢复正常"), encoding="utf-8")
        rig.server.signal(signal.SIGHUP)
        wait_for(lambda: "config reloaded from" in rig.server.log_text(), 15, "the good reload")
        assert notice() == "新公告：今日系统维护后恢复正常"
        assert hall.issue(desk).json()["ticket"]["label"] == "A003"
        assert hall.query("SELECT COUNT(*) FROM audit WHERE action = 'reload_config_failed'") == [(2,)]


def test_server_and_apps_refuse_to_start_on_a_broken_config(tmp_path: pathlib.Path) -> None:
    good = hall_config()
    text, keys = broken_config(good)
    broken = tmp_path / "broken.toml"
    broken.write_text(text, encoding="utf-8")
    cut = tmp_path / "half.toml"
    cut.write_text(half_written(good), encoding="utf-8")
    commands = {
        "server": ["server", "--port", "0", "--no-mdns", "--db", str(tmp_path / "never.db")],
        "kiosk": ["kiosk", "--station", "kiosk-1"],
        "counter": ["counter", "--station", "counter-01"],
        "display": ["display", "--station", "display-1"],
        "agent": ["devices", "serve", "--station", "agent-1"],
    }
    env = {"QT_QPA_PLATFORM": "offscreen", "QT_API": "pyside6"}
    runs: dict[tuple[str, str], subprocess.Popen[str]] = {}
    try:
        for name, args in commands.items():
            # Every program with the broken file; the half-written one with one program of each kind.
            for kind, path in (("broken", broken), ("half", cut)):
                if kind == "half" and name not in ("server", "kiosk"):
                    continue
                cmd = [sys.executable, "-m", "hallq.cli", *args, "--config", str(path)]
                runs[(name, kind)] = subprocess.Popen(
                    cmd, cwd=ROOT, env={**os.environ, **env}, text=True,
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                )  # fmt: skip
        for (name, kind), p in runs.items():
            out, err = p.communicate(timeout=60)
            assert p.returncode == 2, f"{name} with the {kind} config: exit {p.returncode}\n{out}\n{err}"
            if kind == "broken":
                assert all(k in err for k in keys), f"{name} did not list every error:\n{err}"
            else:
                assert "valid TOML" in err, f"{name}:\n{err}"
                assert "Unterminated string" in err, f"{name}:\n{err}"
            assert str(broken if kind == "broken" else cut) in err, f"{name} did not name the file:\n{err}"
            assert "Traceback" not in err, f"{name}:\n{err}"
    finally:
        for p in runs.values():
            reap(p)
