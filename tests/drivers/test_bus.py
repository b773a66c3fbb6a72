"""HQP/1 bus master and drivers against the emulated bus over a real pty and TCP; vendor 485 keypads."""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import serial

from drivers.base import DeviceUnavailable, Health, ProtocolError
from drivers.bus import (
    HqpBusMaster,
    HqpCallKeypad,
    HqpLedBoard,
    HqpRatingPad,
    Vendor485Bus,
    Vendor485Keypad,
    open_port,
)
from drivers.codecs import hqp, vendor485
from drivers.codecs.hqp import Cmd
from drivers.emulators.bus import HqpBusEmulator, TcpPipe, Vendor485Emulator
from drivers.protocols import KeyCode, KeyEvent
from tests.drivers.waiting import heard, wait_until

# Threads left running fail a test through conftest.py's no_leaked_threads.
# Generous: a loaded CI machine may take a while to schedule the emulator thread; a slow reply only costs a
# retry, which the tests tolerate.
REPLY_S = 0.25


@pytest.fixture
def emu(tmp_path: Path) -> Iterator[HqpBusEmulator]:
    with HqpBusEmulator.pty(link=tmp_path / "ttyHQP") as emulator:
        yield emulator


@pytest.fixture
def bus(emu: HqpBusEmulator) -> Iterator[HqpBusMaster]:
    with HqpBusMaster(emu.url, reply_timeout_s=REPLY_S, poll_gap_s=0.01) as master:
        yield master


def test_led_text_is_shown_on_the_emulated_strip_over_a_pty(emu: HqpBusEmulator, bus: HqpBusMaster) -> None:
    strip = emu.add_strip(5)
    board = HqpLedBoard(bus, 5)
    board.show("请A012号到5号窗口", effect=hqp.Effect.SCROLL_LEFT)
    board.show("欢迎光临", area=1, color=hqp.Color.GREEN)
    board.brightness(8)
    assert strip.text() == "请A012号到5号窗口"
    assert strip.render() == (
        "[5:0] 请A012号到5号窗口 (red, scroll_left, brightness 8)\n"
        "[5:1] 欢迎光临 (green, static, brightness 8)"
    )
    board.clear(area=1)
    assert strip.text(1) == ""
    assert board.ping()
    assert board.info() == hqp.PingInfo(hqp.DeviceType.STRIP, 1, 0)
    # The exact bytes of the PROTOCOLS.md vector reach the strip (SEQ aside).
    assert strip.log[0].payload == bytes.fromhex(
        "00 00 01 05 00 00 C7 EB 41 30 31 32 BA C5 B5 BD 35 BA C5 B4 B0 BF DA"
    )
    assert board.state().ok
    board.close()


def test_unencodable_text_is_replaced_and_broadcast_reaches_every_strip(
    emu: HqpBusEmulator, bus: HqpBusMaster
) -> None:
    strips = [emu.add_strip(1), emu.add_strip(2, hall_board=True)]
    HqpLedBoard(bus, 1).show("张\U00020000办理")
    assert strips[0].text() == "张?办理"
    HqpLedBoard(bus, hqp.BROADCAST).show("暂停服务")
    wait_until(lambda: all(s.text() == "暂停服务" for s in strips))


def test_keypad_over_tcp_shows_beeps_and_reports_keys() -> None:
    with HqpBusEmulator.tcp() as emu, HqpBusMaster(emu.url, reply_timeout_s=REPLY_S, poll_gap_s=0.01) as bus:
        pad = emu.add_keypad(3)
        keypad = HqpCallKeypad(bus, 3)
        events = heard(keypad)
        keypad.show("A012", 17)
        keypad.beep()
        assert (pad.ticket, pad.waiting, pad.beeps) == ("A012", 17, 1)
        emu.press(3, KeyCode.NEXT)
        emu.press(3, KeyCode.TRANSFER, "12")
        assert events.get(timeout=10) == KeyEvent(KeyCode.NEXT, "")
        assert events.get(timeout=10) == KeyEvent(KeyCode.TRANSFER, "12")
        keypad.close()


def test_lost_poll_reply_then_retry_delivers_the_key_exactly_once(
    emu: HqpBusEmulator, bus: HqpBusMaster
) -> None:
    pad = emu.add_keypad(7)
    keypad = HqpCallKeypad(bus, 7)
    events = heard(keypad)
    with emu.lock:
        # Under the emulator's lock, so the lost reply is exactly the one carrying the key press.
        emu.drop_next_reply(1, address=7)
        emu.press(7, KeyCode.NEXT)
    assert events.get(timeout=10) == KeyEvent(KeyCode.NEXT, "")
    retries = bus.retries
    assert retries >= 1
    with emu.lock:
        emu.duplicate_next_reply(1, address=7)
        emu.press(7, KeyCode.RECALL)
    assert events.get(timeout=10) == KeyEvent(KeyCode.RECALL, "")
    wait_until(lambda: bus.duplicates_dropped >= 1)
    # The device saw both events acknowledged by later POLLs with new SEQs, and nothing came twice.
    wait_until(lambda: len(pad.delivered) == 2)
    assert events.empty()
    keypad.close()


def test_silent_poll_is_repeated_with_the_same_seq_so_the_event_survives(
    emu: HqpBusEmulator, bus: HqpBusMaster
) -> None:
    emu.add_keypad(4)
    keypad = HqpCallKeypad(bus, 4)
    events = heard(keypad)
    with emu.lock:
        # Every try of one POLL is lost: the master gives up, then polls again later. With a new SEQ the
        # device would discard the event it believes delivered; the master reuses the SEQ, so it does not.
        emu.drop_next_reply(3, address=4)
        emu.press(4, KeyCode.NO_SHOW)
    assert events.get(timeout=15) == KeyEvent(KeyCode.NO_SHOW, "")
    assert keypad.state().ok
    keypad.close()


def test_rating_pad_returns_the_score_or_none_on_timeout(emu: HqpBusEmulator, bus: HqpBusMaster) -> None:
    pad = emu.add_rating_pad(9)
    rating = HqpRatingPad(bus, 9)
    result = rating.request_future("A012", 30)
    wait_until(lambda: pad.pending == "A012")
    emu.rate(9, 4)
    assert result.result(timeout=10) == 4
    assert pad.requests == [("A012", 30)]

    result = rating.request_future("A013", 30)
    wait_until(lambda: pad.pending == "A013")
    with emu.lock:
        pad.time_out()
    assert result.result(timeout=10) is None
    rating.close()


def test_rating_pad_times_out_on_its_own_clock(emu: HqpBusEmulator, bus: HqpBusMaster) -> None:
    now = [0.0]
    pad = emu.add_rating_pad(10, monotonic=lambda: now[0])
    rating = HqpRatingPad(bus, 10)
    result = rating.request_future("B001", 20)
    wait_until(lambda: pad.pending == "B001")
    now[0] = 21.0
    assert result.result(timeout=10) is None
    rating.close()


def test_nack_and_silence_raise_typed_errors(emu: HqpBusEmulator, bus: HqpBusMaster) -> None:
    emu.add_strip(5)
    with pytest.raises(ProtocolError, match="NACK"):
        bus.request(5, Cmd.KP_SHOW, hqp.encode_kp_show("A1", 1))
    board = HqpLedBoard(bus, 6)
    with pytest.raises(DeviceUnavailable, match="address 6 did not answer"):
        board.show("x")
    assert not board.ping()
    assert board.state().health is Health.UNAVAILABLE
    emu.add_strip(6)
    assert board.ping()
    assert board.state().ok


def test_unplugged_pty_gives_device_unavailable_then_recovers_without_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    opens = [0]

    def counting_opener(url: str, *, baudrate: int, timeout: float) -> serial.SerialBase:
        opens[0] += 1
        return open_port(url, baudrate=baudrate, timeout=timeout)

    caplog.set_level(logging.INFO, logger="drivers.bus")
    with (
        HqpBusEmulator.pty(link=tmp_path / "ttyHQP") as emu,
        HqpBusMaster(
            emu.url, reply_timeout_s=REPLY_S, poll_gap_s=0.01, backoff_max_s=0.4, opener=counting_opener
        ) as bus,
    ):
        strip = emu.add_strip(5)
        emu.add_keypad(2)
        board = HqpLedBoard(bus, 5)
        keypad = HqpCallKeypad(bus, 2)
        events = heard(keypad)
        board.show("请A001号到5号窗口")
        assert strip.text() == "请A001号到5号窗口"

        emu.pty_pipe.unplug()
        strip.areas.clear()  # the strip lost power with the adapter
        # The keypad's polling notices the loss; requests then fail at once.
        wait_until(lambda: not bus.state().ok)
        with pytest.raises(DeviceUnavailable):
            board.show("请A002号到5号窗口")
        assert keypad.state().health is Health.UNAVAILABLE

        wall, cpu = time.monotonic(), time.process_time()
        opened_before = opens[0]
        wait_until(lambda: opens[0] >= opened_before + 4)
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        assert cpu < 0.5 * wall, f"{cpu:.3f} s CPU in {wall:.3f} s while unplugged: a busy loop?"

        emu.pty_pipe.plug()
        wait_until(lambda: bus.state().ok)
        # The board shows by itself the last text it was asked for (the one that failed), and everything
        # works without a restart.
        wait_until(lambda: strip.text() == "请A002号到5号窗口")
        board.show("请A003号到5号窗口")
        assert strip.text() == "请A003号到5号窗口"
        emu.press(2, KeyCode.NEXT)
        assert events.get(timeout=10) == KeyEvent(KeyCode.NEXT, "")

    losses = [r for r in caplog.records if "unavailable" in r.getMessage()]
    recoveries = [r for r in caplog.records if "is back" in r.getMessage()]
    assert len(losses) == 1, [r.getMessage() for r in losses]
    assert len(recoveries) == 1


def test_requests_fail_when_the_port_never_existed(tmp_path: Path) -> None:
    with HqpBusMaster(str(tmp_path / "missing"), backoff_max_s=0.2) as bus:
        wait_until(lambda: bus.state().health is Health.UNAVAILABLE)
        with pytest.raises(DeviceUnavailable, match="missing"):
            HqpLedBoard(bus, 1).show("x")


def test_closed_bus_refuses_requests(emu: HqpBusEmulator) -> None:
    bus = HqpBusMaster(emu.url).start()
    bus.close()
    with pytest.raises(DeviceUnavailable, match="closed"):
        bus.request(1, Cmd.PING)


# --- vendor 485 ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("transport", ["pty", "tcp"])
def test_vendor_keypad_keys_echo_ack_display_and_beep(tmp_path: Path, transport: str) -> None:
    emu = Vendor485Emulator.pty(link=tmp_path / "ttyV") if transport == "pty" else Vendor485Emulator.tcp()
    with emu, Vendor485Bus(emu.url) as bus:
        emulated = emu.add_keypad(1)
        keypad = Vendor485Keypad(bus, 1)
        events = heard(keypad)
        wait_until(lambda: bus.state().ok)
        if transport == "tcp":
            # The TCP pipe only forwards to a connected client: wait for the bus's connection.
            pipe = emu.pipe
            assert isinstance(pipe, TcpPipe)
            wait_until(lambda: pipe.connected)

        raw = emu.press(1, 0x0C)
        assert events.get(timeout=10) == KeyEvent(KeyCode.NEXT, "")
        # The ACK is the received frame, unchanged.
        wait_until(lambda: not emulated.unacked)
        assert emu.received[0] == raw

        emu.press(1, 0x06, 0x0F, func=0x07)
        assert events.get(timeout=10) == KeyEvent(KeyCode.NO_SHOW, "")

        keypad.show("A012", 5)
        keypad.beep()
        wait_until(lambda: emulated.beeps == 1)
        assert emulated.digits == bytes([0, 0, 5, 0, 1, 2])
        assert emulated.render() == "[1] waiting 005 ticket 012"
        assert emu.received[-2:] == [
            vendor485.encode_display(1, waiting=5, ticket="A012"),
            vendor485.encode_beep(1),
        ]


def test_vendor_frame_with_bad_checksum_is_not_echoed(tmp_path: Path) -> None:
    with Vendor485Emulator.pty(link=tmp_path / "ttyV") as emu, Vendor485Bus(emu.url) as bus:
        emu.add_keypad(2)
        keypad = Vendor485Keypad(bus, 2)
        events = heard(keypad)
        wait_until(lambda: bus.state().ok)
        bad = bytearray(vendor485.encode_frame(2, 1, b"\x0c"))
        bad[-2] ^= 0x01
        emu.send_raw(bytes(bad))
        good = emu.press(2, 0x0D)
        assert events.get(timeout=10) == KeyEvent(KeyCode.RECALL, "")
        wait_until(lambda: emu.received == [good])
