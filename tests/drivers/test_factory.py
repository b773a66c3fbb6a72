"""The factory builds every device type from config, shares one bus per port, refuses bad combinations and
closes everything it started. The example hall's stations run against emulators on free ports."""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drivers.base import DeviceUnavailable, Health
from drivers.bus import HqpBusMaster, HqpCallKeypad, HqpLedBoard, HqpRatingPad, Vendor485Keypad
from drivers.emulators.bus import HqpBusEmulator, Vendor485Emulator
from drivers.emulators.idcard import SamReaderEmulator
from drivers.emulators.printer import PtyPrinterEmulator, TcpPrinterEmulator
from drivers.factory import AgentOptions, BusRegistry, ConfigurationError, build_station, build_station_by_id
from drivers.fakes import FakeTicketPrinter
from drivers.fakes_bus import FakeCallKeypad, FakeLedBoard, FakeRatingPad, FakeScanner
from drivers.idcard import SamIdCardReader
from drivers.printer import EscposPrinter
from drivers.protocols import KeyCode, KeyEvent
from drivers.scanner import EvdevScanner
from hallcore.config import Device, HallConfig, Station, StationRole
from hallfiles.config import read_config
from tests.drivers.waiting import heard, wait_until

pytestmark = pytest.mark.timeout(60)

ROOT = Path(__file__).resolve().parents[2]
REPLY_S = 0.25


@dataclass
class CountyHall:
    config: HallConfig
    printers: dict[str, TcpPrinterEmulator]  # original url -> emulator
    buses: dict[str, HqpBusEmulator]
    readers: dict[str, SamReaderEmulator]


def county_config() -> HallConfig:
    return read_config(ROOT / "config" / "county.toml")


@pytest.fixture
def county(tmp_path: Path) -> Iterator[CountyHall]:
    """config/county.toml with every device URL pointed at an emulator on a free port."""
    text = (ROOT / "config" / "county.toml").read_text("utf-8")
    urls = sorted(set(re.findall(r'^url = "([^"]+)"', text, flags=re.M)))
    with contextlib.ExitStack() as stack:
        printers: dict[str, TcpPrinterEmulator] = {}
        buses: dict[str, HqpBusEmulator] = {}
        readers: dict[str, SamReaderEmulator] = {}
        for url in urls:
            if url.endswith(("9101", "9102", "9103")):
                printers[url] = stack.enter_context(TcpPrinterEmulator())
                text = text.replace(f'"{url}"', f'"socket://127.0.0.1:{printers[url].port}"')
            elif url.endswith(("9301", "9302", "9303")):
                readers[url] = stack.enter_context(SamReaderEmulator.tcp())
                text = text.replace(f'"{url}"', f'"{readers[url].url}"')
            else:
                emu = HqpBusEmulator.tcp()
                for address in range(1, 29):
                    emu.add_strip(address)
                    emu.add_keypad(60 + address)
                    emu.add_rating_pad(120 + address)
                buses[url] = stack.enter_context(emu)
                text = text.replace(f'"{url}"', f'"{emu.url}"')
        path = tmp_path / "county.toml"
        path.write_text(text, "utf-8")
        yield CountyHall(read_config(path), printers, buses, readers)


def test_every_station_of_the_county_hall_builds_works_and_closes(county: CountyHall) -> None:
    config = county.config
    for station in config.stations:
        with build_station(station, config=config, registry=BusRegistry(reply_timeout_s=REPLY_S)) as devices:
            try:
                if station.printer is not None:
                    assert isinstance(devices.printer, EscposPrinter)
                    assert devices.printer.state().health is Health.OK
                if station.id_reader is not None:
                    reader = devices.id_reader
                    assert isinstance(reader, SamIdCardReader)
                    wait_until(lambda: reader.state().ok)  # noqa: B023
                if station.role is StationRole.COUNTER:
                    assert isinstance(devices.led, HqpLedBoard)
                    assert isinstance(devices.keypad, HqpCallKeypad)
                    assert isinstance(devices.rating_pad, HqpRatingPad)
                    assert devices.led.ping()
            finally:
                assert devices.registry is not None
                devices.registry.close()  # not owned: the test closes it


def test_counter_devices_share_one_bus_and_reach_the_emulator(county: CountyHall) -> None:
    [bus_emu] = [e for url, e in county.buses.items() if url.endswith("9200")]
    with build_station_by_id(county.config, "counter-05") as devices:
        assert devices.registry is not None
        assert len(devices.registry.urls) == 1  # strip, keypad and pad on one master
        assert devices.led is not None
        assert devices.keypad is not None
        devices.led.show("请A012号到5号窗口")
        assert bus_emu.devices[5].render().startswith("[5:0] 请A012号到5号窗口")  # type: ignore[attr-defined]
        keys = heard(devices.keypad)
        bus_emu.press(65, KeyCode.NEXT)
        assert keys.get(timeout=10) == KeyEvent(KeyCode.NEXT)
        assert devices.boards == {5: devices.led}


def test_the_agent_drives_the_strips_of_windows_without_a_counter_of_their_own(county: CountyHall) -> None:
    config = county.config
    [agent_bus] = [e for url, e in county.buses.items() if url.endswith("9201")]
    own = {s.window for s in config.stations if s.role is StationRole.COUNTER and s.led is not None}
    expected = {w.number for w in config.windows if w.led_address is not None} - own
    with build_station_by_id(config, "agent-1", registry=BusRegistry(reply_timeout_s=REPLY_S)) as devices:
        try:
            assert set(devices.boards) == expected
            assert devices.led is None
            window = min(expected)
            devices.boards[window].show("欢迎光临")
            address = config.window_by_number[window].led_address
            assert address is not None
            wait_until(lambda: "欢迎光临" in agent_bus.render())
        finally:
            assert devices.registry is not None
            devices.registry.close()


def test_agent_options_narrow_the_windows_and_add_hall_boards(county: CountyHall) -> None:
    config = county.config
    options = AgentOptions(windows={2, 3, 5}, hall_boards=(90, 91))
    with build_station_by_id(
        config, "agent-1", registry=BusRegistry(reply_timeout_s=REPLY_S), agent=options
    ) as devices:
        try:
            assert set(devices.boards) == {2, 3}  # window 5's counter drives its own strip
            assert [b.address for b in devices.hall_boards] == [90, 91]  # type: ignore[attr-defined]
        finally:
            assert devices.registry is not None
            devices.registry.close()
    with build_station_by_id(
        config, "agent-1", registry=BusRegistry(), agent=AgentOptions(windows={5}, all_windows=True)
    ) as devices:
        assert set(devices.boards) == {5}
        assert devices.registry is not None
        devices.registry.close()


def test_an_agent_or_a_display_of_fakes() -> None:
    config = county_config()
    agent = Station("agent-9", StationRole.AGENT, zone="f2", led=Device("fake"))
    display = Station("display-9", StationRole.DISPLAY, led=Device("fake"))
    with build_station(agent, config=config) as devices:
        f2 = {w.number for w in config.windows if w.zone == "f2" and w.led_address is not None}
        own = {s.window for s in config.stations if s.led is not None}
        assert set(devices.boards) == f2 - own
        assert all(isinstance(b, FakeLedBoard) for b in devices.boards.values())
        assert devices.hall_boards == []
    with build_station(display) as devices:
        assert isinstance(devices.led, FakeLedBoard)
        assert devices.boards == {}


def test_agent_without_the_hall_config_is_a_configuration_error(county: CountyHall) -> None:
    agent = county.config.station_by_id["agent-1"]
    with pytest.raises(ConfigurationError, match="led_address"):
        build_station(agent)


def test_serial_printer_vendor_keypad_usb_printer_evdev_scanner_and_fakes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import usb.core

    monkeypatch.setattr(usb.core, "find", lambda **_: None)  # the one discovery call: no USB printer here
    with PtyPrinterEmulator() as printer_emu, Vendor485Emulator.pty(link=tmp_path / "ttyV") as vendor:
        vendor.add_keypad(3)
        serial_station = Station(
            "desk-9",
            StationRole.DESK,
            printer=Device("escpos-serial", url=printer_emu.path, width_mm=58, timeout_s=REPLY_S),
            keypad=Device("vendor485", url=vendor.url, address=3),
            scanner=Device("evdev", path="/dev/input/event-none"),
        )
        with build_station(serial_station) as devices:
            assert devices.printer is not None
            assert devices.printer.state().health is Health.OK
            assert isinstance(devices.keypad, Vendor485Keypad)
            keys = heard(devices.keypad)
            vendor.press(3, 0x0C)
            assert keys.get(timeout=10) == KeyEvent(KeyCode.NEXT)
            assert isinstance(devices.scanner, EvdevScanner)
            assert devices.scanner.state().health is Health.UNAVAILABLE  # no such device: built, waiting

        usb_station = Station(
            "kiosk-9",
            StationRole.KIOSK,
            printer=Device("escpos-usb", usb_vendor=0x0416, usb_product=0x5011, timeout_s=REPLY_S),
        )
        with build_station(usb_station) as devices:
            assert devices.printer is not None
            with pytest.raises(DeviceUnavailable, match="0416:5011"):
                devices.printer.status()

    fake = Station(
        "counter-9",
        StationRole.COUNTER,
        window=9,
        printer=Device("fake"),
        led=Device("fake"),
        keypad=Device("fake"),
        rating_pad=Device("fake"),
        scanner=Device("fake"),
    )
    with build_station(fake) as devices:
        assert isinstance(devices.printer, FakeTicketPrinter)
        assert isinstance(devices.led, FakeLedBoard)
        assert isinstance(devices.keypad, FakeCallKeypad)
        assert isinstance(devices.rating_pad, FakeRatingPad)
        assert isinstance(devices.scanner, FakeScanner)
        assert devices.boards == {9: devices.led}


def test_nothing_is_opened_at_build_time() -> None:
    station = Station(
        "counter-1",
        StationRole.COUNTER,
        window=1,
        printer=Device("escpos-network", url="tcp://127.0.0.1:1", timeout_s=REPLY_S),
        led=Device("hqp", url="/nonexistent/ttyUSB9", address=1),
        keypad=Device("hqp", url="/nonexistent/ttyUSB9", address=61),
    )
    devices = build_station(station)  # no port, no printer: builds anyway, the app shows them unavailable
    try:
        assert devices.registry is not None
        [url] = devices.registry.urls
        assert url == "/nonexistent/ttyUSB9"
        devices.start()
        assert devices.led is not None
        with pytest.raises(DeviceUnavailable, match="cannot open"):
            devices.led.show("x")
    finally:
        devices.close()
    devices.close()  # twice is fine


def counter(
    *,
    led: Device | None = None,
    keypad: Device | None = None,
    rating_pad: Device | None = None,
    scanner: Device | None = None,
) -> Station:
    """Counter station "c" with these devices: the table below is about the devices."""
    return Station("c", StationRole.COUNTER, led=led, keypad=keypad, rating_pad=rating_pad, scanner=scanner)


BAD: list[tuple[Station, str]] = [
    (
        Station("k", StationRole.KIOSK, printer=Device("hqp", url="/dev/ttyUSB0", address=1)),
        "cannot be a printer",
    ),
    (counter(keypad=Device("escpos-usb")), "cannot be a keypad"),
    (counter(led=Device("vendor485", url="loop://", address=1)), "keypads only"),
    (
        counter(rating_pad=Device("vendor485", url="loop://", address=1)),
        "serial pads use HQP/1",
    ),
    (counter(scanner=Device("hqp", url="loop://")), "cannot be a scanner"),
    (counter(keypad=Device("blinkenlights")), "unknown device type"),
    (counter(keypad=Device("hqp", url="loop://")), "needs address"),
    (counter(keypad=Device("hqp", address=3)), "needs url"),
    (counter(keypad=Device("hqp", url="loop://", address=250)), "outside 1..247"),
    (counter(scanner=Device("evdev")), "needs path"),
    (
        counter(
            keypad=Device("hqp", url="loop://", address=5),
            rating_pad=Device("hqp", url="loop://", address=5),
        ),
        "already used by c.keypad",
    ),
    (
        counter(
            led=Device("hqp", url="loop://", address=5),
            keypad=Device("vendor485", url="loop://", address=6),
        ),
        "one port speaks one framing",
    ),
    (
        counter(
            led=Device("hqp", url="loop://", address=5),
            keypad=Device("hqp", url="loop://", address=6, baud=19200),
        ),
        "same rate",
    ),
]


@pytest.mark.parametrize(("station", "message"), BAD, ids=[m for _, m in BAD])
def test_bad_combinations_are_refused_at_build_time(station: Station, message: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(message)):
        build_station(station)


def test_a_shared_registry_outlives_its_stations_and_shares_ports_across_them() -> None:
    with HqpBusEmulator.tcp() as emu:
        emu.add_strip(1)
        emu.add_strip(2)
        with BusRegistry(reply_timeout_s=REPLY_S) as registry:
            one = build_station(
                Station("a", StationRole.COUNTER, led=Device("hqp", url=emu.url, address=1)),
                registry=registry,
            )
            two = build_station(
                Station("b", StationRole.COUNTER, led=Device("hqp", url=emu.url, address=2)),
                registry=registry,
            )
            assert registry.urls == [emu.url]
            assert isinstance(registry.hqp(emu.url), HqpBusMaster)
            one.close()
            assert two.led is not None
            assert two.led.ping()  # the bus is still there
            two.close()
        with pytest.raises(ConfigurationError, match="closed"):
            registry.hqp(emu.url)
