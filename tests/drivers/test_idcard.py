"""The ID card reader driver against the emulated reader over a pty, TCP and pyusb (an emulated device behind
a pyusb backend, driven through the real pyusb `Device`): once per placement, failures without a record,
unplugging mid-read, a SAM that is not ready, power-up garbage, and the build from a station's config."""

from __future__ import annotations

import logging
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from drivers.base import DeviceState, DeviceUnavailable, Health
from drivers.codecs import idcard as c
from drivers.codecs.idcard import SamResult, TextFields
from drivers.emulators.idcard import EmulatedCard, SamReaderEmulator, builtin_cards
from drivers.emulators.pipes import TcpPipe
from drivers.factory import ConfigurationError, build_id_reader, build_station
from drivers.fakes_bus import FakeIdCardReader
from drivers.idcard import LinkOpener, SamIdCardReader, read_one, serial_opener, usb_opener
from drivers.idcard_events import CardEvent, CardFailed, CardRead, CardUnsupported
from drivers.transport import Transport
from hallcore import idnumber
from hallcore.config import Device, Station, StationRole
from tests.drivers.waiting import wait_until

pytestmark = pytest.mark.timeout(60)

TRANSPORTS = ["pty", "tcp", "usb"]
VECTOR_FILES = ("idcard-read-reply.hex", "idcard-read-reply-2.hex")


def emulator(transport: str, tmp_path: Path) -> SamReaderEmulator:
    if transport == "pty":
        return SamReaderEmulator.pty(link=tmp_path / "ttyID")
    if transport == "tcp":
        return SamReaderEmulator.tcp()
    return SamReaderEmulator.usb(0x0400, 0xC35A)


def opener_for(emu: SamReaderEmulator, transport: str) -> LinkOpener:
    if transport == "usb":
        return usb_opener(0x0400, 0xC35A, backend=emu.usb_pipe.backend)
    return serial_opener(emu.url, baud=115200)


@dataclass
class Rig:
    emu: SamReaderEmulator
    reader: SamIdCardReader
    events: queue.Queue[CardEvent] = field(default_factory=queue.Queue)
    states: list[DeviceState] = field(default_factory=list)
    failed_opens: int = 0

    def finds(self) -> int:
        return self.emu.counts[c.FIND_CARD]

    def polls_pass(self, n: int = 3) -> None:
        """Wait until the reader asked `find` `n` more times (so it has seen what lies on the reader now)."""
        start = self.finds()
        wait_until(lambda: self.finds() >= start + n)

    def next_event(self) -> CardEvent:
        return self.events.get(timeout=10)


@pytest.fixture(params=TRANSPORTS)
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    transport = request.param
    emu = emulator(transport, tmp_path)
    with emu:
        inner = opener_for(emu, transport)

        def opener() -> Transport:
            try:
                return inner()
            except DeviceUnavailable:
                r.failed_opens += 1
                raise

        reader = SamIdCardReader(
            opener, name=f"reader ({transport})", poll_s=0.02, backoff_initial_s=0.02, backoff_max_s=0.2
        )
        r = Rig(emu, reader)
        reader.subscribe(r.events.put)
        reader.add_state_listener(r.states.append)
        with reader:
            wait_until(lambda: reader.state().ok)
            yield r


def test_place_lift_place_gives_two_reads(rig: Rig) -> None:
    rig.emu.place(0)
    first = rig.next_event()
    assert isinstance(first, CardRead)
    assert first.card.name == "张三"
    assert first.card.number_ok
    rig.emu.lift()
    rig.polls_pass()
    rig.emu.place(0)
    second = rig.next_event()
    assert isinstance(second, CardRead)
    assert second.card == first.card
    rig.polls_pass()
    assert rig.events.empty()
    assert rig.emu.reads_served == 2


def test_a_card_left_on_is_read_once(rig: Rig) -> None:
    rig.emu.place(1)
    event = rig.next_event()
    assert isinstance(event, CardRead)
    assert (event.card.name, event.card.valid_to) == (
        "王堃喆",
        c.IdCard.from_fields(rig.emu.cards[1].fields).valid_to,
    )
    rig.polls_pass(10)
    assert rig.events.empty()
    assert rig.emu.reads_served == 1
    # Another card laid on in its place between two polls is a new placement.
    rig.emu.place(0)
    swapped = rig.next_event()
    assert isinstance(swapped, CardRead)
    assert swapped.card.name == "张三"


def test_unplugged_mid_read_is_unavailable_then_recovered(rig: Rig, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.INFO, logger="drivers.idcard")
    rig.emu.radio_delay_s = 30.0  # the read is in the air when the cable goes
    rig.emu.place(0)
    wait_until(lambda: rig.emu.counts[c.READ_TEXT_PHOTO] == 1)
    rig.emu.unplug()
    wait_until(lambda: rig.reader.state().health is Health.UNAVAILABLE)
    assert "ID card reader unavailable" in rig.reader.state().reason
    wait_until(lambda: rig.failed_opens >= 3)  # it keeps trying (with backoff) while unplugged
    rig.emu.radio_delay_s = 0.0
    rig.emu.plug()
    wait_until(lambda: rig.reader.state().ok)
    # The card still lies there and was never read: it is read now, once.
    event = rig.next_event()
    assert isinstance(event, CardRead)
    assert event.card.name == "张三"
    rig.polls_pass()
    assert rig.events.empty()
    healths = [s.health for s in rig.states]  # the reason may change while it is unavailable
    assert [h for i, h in enumerate(healths) if not i or h != healths[i - 1]] == [
        Health.OK,
        Health.UNAVAILABLE,
        Health.OK,
    ]
    assert rig.reader.losses >= 1
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
    assert len(warnings) == 1, [r.getMessage() for r in warnings]
    assert "unavailable" in warnings[0].getMessage()
    assert [r.getMessage() for r in caplog.records if r.levelno == logging.INFO] == [
        f"{rig.reader.name} is back"
    ]


def test_a_failed_read_is_reported_without_a_record(rig: Rig) -> None:
    rig.emu.fail_reads(1)
    rig.emu.place(0)
    event = rig.next_event()
    assert isinstance(event, CardFailed)
    assert event.result is SamResult.READ_FAILED
    assert "读卡失败" in event.reason
    # The SAM's status is asked after the error (it was at start too); the card is left alone until lifted.
    wait_until(lambda: rig.emu.counts[c.SAM_STATUS] == 2)
    rig.polls_pass(5)
    assert rig.emu.counts[c.SAM_STATUS] == 2
    assert rig.events.empty()
    assert rig.emu.reads_served == 0
    assert rig.reader.state().ok  # a card's fault, not the reader's
    rig.emu.lift()
    rig.polls_pass()
    rig.emu.place(0)
    assert isinstance(rig.next_event(), CardRead)


def test_garbage_on_the_line_is_skipped(rig: Rig) -> None:
    rig.emu.send_garbage(200)
    rig.polls_pass()
    rig.emu.place(0)
    assert isinstance(rig.next_event(), CardRead)
    assert rig.reader.state().ok


def test_another_card_kind_is_refused(rig: Rig) -> None:
    foreign = EmulatedCard.from_fields(TextFields(name="张三", reserved=" " * 14 + "J"))
    rig.emu.place(foreign)
    event = rig.next_event()
    assert isinstance(event, CardUnsupported)
    assert event.card.kind == "港澳台居民居住证"
    assert "不支持" in event.reason


def test_a_sam_that_is_not_ready_makes_the_reader_unavailable(tmp_path: Path) -> None:
    with SamReaderEmulator.pty(link=tmp_path / "ttyID") as emu:
        emu.sam_result = SamResult.SAM_SELF_TEST_FAILED
        emu.place(0)
        reader = SamIdCardReader(
            serial_opener(emu.url), poll_s=0.02, backoff_initial_s=0.02, backoff_max_s=0.1
        )
        events: queue.Queue[CardEvent] = queue.Queue()
        reader.subscribe(events.put)
        with reader:
            wait_until(lambda: "SAM自检失败" in reader.state().reason)
            assert reader.state().health is Health.UNAVAILABLE
            assert events.empty()
            emu.sam_result = SamResult.OK
            wait_until(lambda: reader.state().ok)
            assert isinstance(events.get(timeout=10), CardRead)
            # A SAM fault in the middle of a poll: status is asked, the reader goes unavailable, then back.
            emu.lift()
            emu.sam_result = SamResult.SAM_NOT_AUTHORISED
            wait_until(lambda: "SAM未经授权" in reader.state().reason)
            emu.sam_result = SamResult.OK
            wait_until(lambda: reader.state().ok)


def test_no_reader_there_costs_a_log_line_not_a_loop(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="drivers.idcard")
    opened: list[float] = []
    inner = serial_opener(str(tmp_path / "ttyNone"))

    def opener() -> object:
        opened.append(time.monotonic())
        return inner()

    reader = SamIdCardReader(opener, poll_s=0.02, backoff_initial_s=0.01, backoff_max_s=0.08)  # type: ignore[arg-type]
    with reader:
        wait_until(lambda: len(opened) >= 6)
        assert "cannot open" in reader.state().reason
    assert len([r for r in caplog.records if r.levelno >= logging.WARNING]) == 1
    # Backoff doubles up to its cap: six attempts take at least 10+20+40+80+80 ms.
    assert opened[5] - opened[0] >= 0.2


def test_a_reader_that_answers_nothing_is_unavailable(tmp_path: Path) -> None:
    with SamReaderEmulator.tcp() as emu:
        emu.radio_delay_s = 0.0
        # Not a SAM reader: it listens but never answers (the wrong port, the wrong baud rate).
        silent = TcpPipe(lambda data: None)
        silent.start()
        try:
            with pytest.raises(DeviceUnavailable, match=r"no answer to SAM status within 0\.2 s"):
                read_one(serial_opener(silent.url), timeout_s=1, reply_timeout_s=0.2)
        finally:
            silent.stop()
        assert read_one(serial_opener(emu.url), timeout_s=0.1, poll_s=0.02) is None
        emu.place(1)
        event = read_one(serial_opener(emu.url), timeout_s=5, poll_s=0.02)
        assert isinstance(event, CardRead)
        assert event.card.name == "王堃喆"


def test_the_built_in_cards_are_the_vectors_byte_for_byte() -> None:
    vectors = Path(__file__).parent / "vectors"
    replies = [bytes.fromhex((vectors / name).read_text("ascii")) for name in VECTOR_FILES]
    assert [card.read_reply() for card in builtin_cards()] == replies


# --- USB specifics ------------------------------------------------------------------------------------------


def test_usb_reader_not_there_or_wrong_endpoints() -> None:
    with SamReaderEmulator.usb(0x0400, 0xC35A) as emu:
        backend = emu.usb_pipe.backend
        with pytest.raises(DeviceUnavailable, match="usb 0400:c35b: not found"):
            usb_opener(0x0400, 0xC35B, backend=backend)()
        with pytest.raises(DeviceUnavailable, match=r"no IN endpoint 0x82 on interface 0 .* usb_in_ep"):
            usb_opener(0x0400, 0xC35A, in_ep=0x82, backend=backend)()
        emu.place(0)
        event = read_one(usb_opener(0x0400, 0xC35A, backend=backend), timeout_s=5, poll_s=0.02)
        assert isinstance(event, CardRead)
        # The read reply is 1,295 bytes in 64-byte packets: it arrived whole through pyusb's bulk reads.
        assert event.card.id_number == "341524195503151231"


# --- built from config, and the fake ------------------------------------------------------------------------


def test_built_from_a_station_config(tmp_path: Path) -> None:
    with SamReaderEmulator.pty(link=tmp_path / "ttyID") as emu:
        station = Station(
            "kiosk-1",
            StationRole.KIOSK,
            id_reader=Device("idcard-serial", url=emu.url, baud=115200, poll_s=0.05),
        )
        with build_station(station) as devices:
            reader = devices.id_reader
            assert reader is not None
            events: queue.Queue[CardEvent] = queue.Queue()
            reader.subscribe(events.put)
            wait_until(lambda: reader.state().ok)
            emu.place(0)
            assert isinstance(events.get(timeout=10), CardRead)
    with SamReaderEmulator.usb(0x0400, 0xC35A) as emu:
        usb_reader = build_id_reader(
            Device("idcard-usb", usb_vendor=0x0400, usb_product=0xC35A, poll_s=0.05),
            usb_backend=emu.usb_pipe.backend,
        )
        assert isinstance(usb_reader, SamIdCardReader)
        with usb_reader:
            wait_until(lambda: usb_reader.state().ok)
    with pytest.raises(ConfigurationError, match="needs usb_vendor and usb_product"):
        build_id_reader(Device("idcard-usb"))
    with pytest.raises(ConfigurationError, match="needs url"):
        build_id_reader(Device("idcard-serial"))
    with pytest.raises(ConfigurationError, match="cannot be a id reader"):
        build_id_reader(Device("hqp", url="loop://"))
    assert isinstance(build_id_reader(Device("fake")), FakeIdCardReader)


def test_the_fake_reader_reports_like_the_real_one() -> None:
    fake = FakeIdCardReader()
    events: list[CardEvent] = []
    unsubscribe = fake.subscribe(events.append)
    number = idnumber.complete("11010119900307123")
    card = c.IdCard.from_fields(
        TextFields(name="李四", sex="1", nation="01", birth="19900307", id_number=number)
    )
    fake.place(card)
    fake.place(c.UnsupportedCard("港澳台居民居住证", "J"))
    fake.place_unreadable()
    fake.unplug()
    fake.place(card)  # nothing: unplugged
    assert fake.state().health is Health.UNAVAILABLE
    fake.plug()
    unsubscribe()
    fake.place(card)  # nothing: nobody listens
    assert [type(e) for e in events] == [CardRead, CardUnsupported, CardFailed]
    failed = events[2]
    assert isinstance(failed, CardFailed)
    assert failed.result is SamResult.READ_FAILED
