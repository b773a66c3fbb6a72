"""Every entry point builds its devices through `drivers.factory`: a device config that passes the config
check but cannot work (two framings on one port, a printer URL that names no port, one bus address used
twice) stops the kiosk, the counter and the device agent at `--check-config` — and so at start — with exit
code 2 and the reason; the example hall's stations pass."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from counter.__main__ import main as counter_main
from display.__main__ import main as display_main
from hallq.agent import main as agent_main
from kiosk.__main__ import main as kiosk_main

ROOT = Path(__file__).resolve().parents[2]
COUNTY = ROOT / "config" / "county.toml"

Main = Callable[[list[str]], int]


def county_with(tmp_path: Path, old: str, new: str) -> Path:
    text = COUNTY.read_text("utf-8")
    assert text.count(old) == 1, old
    path = tmp_path / "hall.toml"
    path.write_text(text.replace(old, new), "utf-8")
    return path


BAD: list[tuple[str, Main, list[str], str, str, str]] = [
    (
        "counter",
        counter_main,
        ["--station", "counter-05"],
        'type = "hqp"\nurl = "socket://127.0.0.1:9200"\naddress = 65\n',
        'type = "vendor485"\nurl = "socket://127.0.0.1:9200"\naddress = 65\n',
        "counter-05.keypad: socket://127.0.0.1:9200 is already a hqp bus (counter-05.led); one port speaks",
    ),
    (
        "kiosk",
        kiosk_main,
        ["--station", "kiosk-1"],
        'url = "socket://127.0.0.1:9101"',
        'url = "tcp://127.0.0.1:99999"',
        "kiosk-1.printer: printer url 'tcp://127.0.0.1:99999' is not host:port",
    ),
    (
        "agent",
        agent_main,
        ["--station", "agent-1", "--hall-board", "2"],
        'name = "窗口条屏总线"',
        'name = "窗口条屏总线"',
        "agent-1.led (hall board 2): address 2 on socket://127.0.0.1:9201 is already used by agent-1.led (wi",
    ),
]


@pytest.mark.parametrize(("app", "main", "args", "old", "new", "message"), BAD, ids=[b[0] for b in BAD])
def test_a_device_config_the_factory_refuses_stops_the_app_with_the_reason(
    capsys: pytest.CaptureFixture[str],
    tmp_path: Path,
    app: str,
    main: Main,
    args: list[str],
    old: str,
    new: str,
    message: str,
) -> None:
    path = county_with(tmp_path, old, new)
    assert main(["--config", str(path), *args, "--check-config"]) == 2
    out, err = capsys.readouterr()
    assert message in err
    assert "Traceback" not in err
    assert out == ""


GOOD: list[tuple[Main, list[str]]] = [
    (kiosk_main, ["--station", "kiosk-1"]),
    (kiosk_main, ["--station", "kiosk-2", "--printer", "tcp://127.0.0.1:9109"]),
    (counter_main, ["--station", "counter-05"]),
    (counter_main, ["--station", "desk-1"]),
    (display_main, ["--station", "display-2"]),
    (agent_main, ["--station", "agent-1", "--window", "2", "--hall-board", "90"]),
]


@pytest.mark.parametrize(("main", "args"), GOOD, ids=[f"{m.__module__}:{a[1]}" for m, a in GOOD])
def test_the_example_halls_stations_pass_check_config(
    capsys: pytest.CaptureFixture[str], main: Main, args: list[str]
) -> None:
    assert main(["--config", str(COUNTY), *args, "--check-config"]) == 0
    out, err = capsys.readouterr()
    assert out.strip()
    assert "Traceback" not in err
