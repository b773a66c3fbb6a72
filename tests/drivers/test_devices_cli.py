"""`hallq devices` against the emulators over TCP and ptys: each command, its error paths (clear message, exit
code 1 or 2, never a traceback), the foreground emulators under SIGTERM and Ctrl-C, and every command shown
in docs/devices.md."""

from __future__ import annotations

import contextlib
import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from drivers.codecs.hqp import NackCode
from drivers.emulators.bus import EmulatedStrip, HqpBusEmulator
from drivers.emulators.console import parse_addresses, parse_ports
from drivers.emulators.idcard import SamReaderEmulator
from drivers.emulators.printer import PtyPrinterEmulator, TcpPrinterEmulator
from drivers.factory import ConfigurationError
from drivers.tools import infer_printer_type
from drivers.voice import COMPLETE_MARKER
from hallq.cli import main as cli_main
from hallq.devices import main

pytestmark = pytest.mark.timeout(90)

ROOT = Path(__file__).resolve().parents[2]
PY = sys.executable


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return code, out, err


@pytest.fixture
def printer() -> Iterator[TcpPrinterEmulator]:
    with TcpPrinterEmulator() as emu:
        yield emu


@pytest.fixture
def bus() -> Iterator[HqpBusEmulator]:
    emu = HqpBusEmulator.tcp()
    emu.add_strip(5)
    emu.add_keypad(65)
    emu.add_rating_pad(125)
    with emu:
        yield emu


# --- usage --------------------------------------------------------------------------------------------------


def test_usage_and_unknown_commands(capsys: pytest.CaptureFixture[str]) -> None:
    assert run(capsys, "--help")[0] == 0
    code, out, _ = run(capsys)
    assert code == 2
    code, _, err = run(capsys, "frobnicate")
    assert code == 2
    assert "unknown command" in err
    code, out, _ = run(capsys, "status", "--help")
    assert code == 0
    assert "--url" in out
    code, _, err = run(capsys, "status")
    assert code == 2
    assert "give the printer with --url" in err
    code, _, err = run(capsys, "status", "--url", "printer")
    assert code == 2
    assert "cannot tell what kind of printer" in err
    code, _, err = run(capsys, "ping", "--url", "loop://")
    assert code == 2
    assert "--address" in err
    code, _, err = run(capsys, "ping", "--url", "loop://", "--address", "300")
    assert code == 2
    assert "outside 1..247" in err
    code, _, err = run(capsys, "status", "--config", "x.toml")
    assert code == 2
    assert "go together" in err


def test_the_hallq_dispatcher_routes_devices(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["devices", "--help"]) == 0
    assert "print-test" in capsys.readouterr().out


def test_list_never_tracebacks(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert "Serial ports" in out
    assert "USB printers" in out
    assert "Input devices" in out


def test_list_without_libusb_says_how_to_install_it(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import usb.core

    def no_backend(**_: object) -> None:
        raise usb.core.NoBackendError("No backend available")

    monkeypatch.setattr(usb.core, "find", no_backend)
    code, out, _ = run(capsys, "list")
    assert code == 0
    assert "apt-get install libusb-1.0-0" in out


# --- printers -----------------------------------------------------------------------------------------------


def test_status_over_tcp_in_hall_words(
    capsys: pytest.CaptureFixture[str], printer: TcpPrinterEmulator
) -> None:
    code, out, _ = run(capsys, "status", "--url", printer.url)
    assert code == 0
    assert "就绪 ready" in out
    printer.set_state("near_end")
    code, out, _ = run(capsys, "status", "--url", printer.url)
    assert code == 0
    assert "纸将用尽 paper near end" in out
    printer.set_state("paper_out")
    code, out, _ = run(capsys, "status", "--url", printer.url)
    assert code == 1
    assert "缺纸 paper out" in out
    assert "paper: out" in out


def test_status_and_print_test_over_a_pty(capsys: pytest.CaptureFixture[str]) -> None:
    with PtyPrinterEmulator() as emu:
        code, out, _ = run(capsys, "status", "--url", emu.path, "--timeout", "0.3")
        assert code == 0
        assert "就绪 ready" in out
        code, out, _ = run(capsys, "print-test", "--url", emu.path, "--width", "58")
        assert code == 0
        assert "printer confirmed it" in out
        [ticket] = emu.tickets
        assert "A001" in ticket.text
        assert "测试：喆 堃 镕（全角标点）。" in ticket.text


def test_print_test_over_tcp_and_refused_when_not_ready(
    capsys: pytest.CaptureFixture[str], printer: TcpPrinterEmulator
) -> None:
    code, _, _ = run(capsys, "print-test", "--url", printer.url)
    assert code == 0
    assert len(printer.tickets) == 1
    printer.set_state("cover_open")
    code, _, err = run(capsys, "print-test", "--url", printer.url)
    assert code == 1
    assert "纸仓盖未关 cover open" in err
    assert len(printer.tickets) == 1


def test_silent_printer_and_nothing_there(
    capsys: pytest.CaptureFixture[str], printer: TcpPrinterEmulator
) -> None:
    printer.set_state("silent")
    code, _, err = run(capsys, "status", "--url", printer.url, "--timeout", "0.2")
    assert code == 1
    assert "no answer to DLE EOT 1" in err
    code, _, err = run(capsys, "status", "--url", "/nonexistent/ttyUSB9")
    assert code == 1
    assert "cannot open" in err
    assert "hallq devices list" in err
    code, _, err = run(capsys, "print-test", "--url", "usb://0416:5011", "--timeout", "0.2")
    assert code == 1  # no such USB device here (or no permission): unavailable, never a traceback


# --- bus devices --------------------------------------------------------------------------------------------


def test_ping_and_led_show_over_tcp(capsys: pytest.CaptureFixture[str], bus: HqpBusEmulator) -> None:
    code, out, _ = run(capsys, "ping", "--url", bus.url, "--address", "5")
    assert code == 0
    assert "LED strip (type 1), firmware 1" in out
    code, out, _ = run(capsys, "ping", "--url", bus.url, "--address", "125")
    assert "rating pad (type 3)" in out
    code, out, _ = run(
        capsys, "led-show", "--url", bus.url, "--address", "5", "请A012号到5号窗口", "--color", "green"
    )
    assert code == 0
    strip = bus.devices[5]
    assert isinstance(strip, EmulatedStrip)
    assert strip.text() == "请A012号到5号窗口"


def test_silent_address_and_nack(capsys: pytest.CaptureFixture[str], bus: HqpBusEmulator) -> None:
    code, _, err = run(capsys, "ping", "--url", bus.url, "--address", "6", "--timeout", "0.05")
    assert code == 1
    assert "did not answer" in err
    code, _, err = run(capsys, "led-show", "--url", bus.url, "--address", "65", "hello")
    assert code == 1  # a keypad refuses LED text
    assert f"NACK code {NackCode.UNKNOWN_CMD.value} = unknown command" in err


def test_ping_over_a_pty_and_an_unplugged_port(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    emu = HqpBusEmulator.pty(link=tmp_path / "ttyHQP")
    emu.add_strip(1)
    with emu:
        code, out, _ = run(capsys, "ping", "--url", emu.url, "--address", "1")
        assert code == 0
        assert "LED strip" in out
    code, _, err = run(capsys, "ping", "--url", str(tmp_path / "ttyHQP"), "--address", "1")
    assert code == 1
    assert "cannot open" in err


def test_station_config_variants(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with hall_emulators(tmp_path) as hall:
        code, out, _ = run(capsys, "ping", "--config", str(hall.config), "--station", "counter-05")
        assert code == 0
        assert [line.split(": ")[1].split(" (")[0] for line in out.splitlines()] == [
            "LED strip",
            "call keypad",
            "rating pad",
        ]
        code, out, _ = run(capsys, "print-test", "--config", str(hall.config), "--station", "desk-1")
        assert code == 0
        assert "58 mm" in out
        code, _, err = run(capsys, "status", "--config", str(hall.config), "--station", "counter-05")
        assert code == 2
        assert "has no printer" in err
        code, _, err = run(capsys, "status", "--config", str(hall.config), "--station", "nowhere")
        assert code == 2
        assert "no station 'nowhere'" in err


def test_parsers() -> None:
    assert parse_addresses("1-3,7") == [1, 2, 3, 7]
    assert parse_ports("9101-9103") == [9101, 9102, 9103]
    assert infer_printer_type("0416:5011") == "escpos-usb"
    assert infer_printer_type("192.168.1.50:9100") == "escpos-network"
    assert infer_printer_type("/dev/ttyUSB0") == "escpos-serial"
    for bad in ("0-5", "5-1", "x"):
        with pytest.raises(ConfigurationError):
            parse_addresses(bad)


# --- voice and agent ----------------------------------------------------------------------------------------


def test_voice_pack_is_built_once_then_quick(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    out_dir = tmp_path / "voice"
    code, out, _ = run(capsys, "voice-pack", "--out", str(out_dir))
    assert code == 0
    assert (out_dir / COMPLETE_MARKER).exists()
    assert (out_dir / "zh" / "digit_0.wav").exists()
    t0 = time.monotonic()
    code, out, _ = run(capsys, "voice-pack", "--out", str(out_dir))
    assert code == 0
    assert "already complete" in out
    assert time.monotonic() - t0 < 2  # generous: a check of files, no espeak-ng run


def test_voice_pack_without_espeak_is_a_clear_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))  # no espeak-ng on it
    code, _, err = run(capsys, "voice-pack", "--out", str(tmp_path / "voice"))
    assert code == 1
    assert "espeak-ng not found" in err
    assert not (tmp_path / "voice" / COMPLETE_MARKER).exists()


def test_serve_delegates_to_the_agent(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    import types

    seen: list[list[str]] = []

    def agent_main(argv: list[str]) -> int:
        seen.append(argv)
        return 0

    agent = types.ModuleType("hallq.agent")
    agent.main = agent_main  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "hallq.agent", agent)
    assert main(["serve", "--station", "agent-1"]) == 0
    assert seen == [["--station", "agent-1"]]


# --- foreground emulators (subprocesses: signals and stdout as an installer sees them) ----------------------


class Foreground:
    """`python -m hallq.cli devices emulate …`, its stdout read line by line on a thread (joined in kill)."""

    def __init__(self, *argv: str) -> None:
        self.proc = subprocess.Popen(
            [PY, "-m", "hallq.cli", "devices", "emulate", *argv],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self.err = ""
        self._reader: threading.Thread | None = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            self.lines.put(line)

    def expect(self, pattern: str, timeout: float = 20.0) -> re.Match[str]:
        rx = re.compile(pattern)
        for line in self.seen:
            if m := rx.search(line):
                return m
        deadline = time.monotonic() + timeout
        while (remaining := deadline - time.monotonic()) > 0:
            try:
                line = self.lines.get(timeout=remaining)
            except queue.Empty:
                break
            self.seen.append(line)
            if m := rx.search(line):
                return m
        raise AssertionError(f"{pattern!r} not in output:\n{''.join(self.seen)}")

    def send(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def stop(self, sig: int = signal.SIGTERM) -> tuple[int, str]:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=20)
        self.kill()
        assert "Traceback" not in self.err, self.err
        return code, "".join(self.seen)

    def kill(self) -> None:
        if self._reader is None:
            return
        if self.proc.poll() is None:
            self.proc.kill()
        assert self.proc.stdin is not None
        assert self.proc.stderr is not None
        self.proc.stdin.close()
        self.proc.wait(timeout=20)
        self.err = self.proc.stderr.read()
        self.proc.stderr.close()
        self._reader.join(timeout=20)
        self._reader = None
        assert self.proc.stdout is not None
        self.proc.stdout.close()
        while not self.lines.empty():
            self.seen.append(self.lines.get())


@contextlib.contextmanager
def foreground(*argv: str) -> Iterator[Foreground]:
    fg = Foreground(*argv)
    try:
        yield fg
    finally:
        fg.kill()


def test_emulate_printer_prints_what_was_printed_and_takes_states(capsys: pytest.CaptureFixture[str]) -> None:
    with foreground("printer", "--port", "0", "--width", "58") as fg:
        url = fg.expect(r"on (tcp://127\.0\.0\.1:\d+)")[1]
        fg.expect("Ctrl-C stops")
        assert run(capsys, "print-test", "--url", url, "--width", "58")[0] == 0
        fg.expect(r"ticket on tcp://")
        fg.expect(r"\[QR\] http://127\.0\.0\.1:8700/t/print-test")
        fg.expect("--- cut ---")
        fg.send("paper_out")
        fg.expect("now paper_out")
        assert run(capsys, "status", "--url", url)[0] == 1
        code, out = fg.stop(signal.SIGTERM)
    assert code == 0
    assert "stopped" in out


def test_emulate_bus_renders_changes_and_plays_the_clerk(capsys: pytest.CaptureFixture[str]) -> None:
    with foreground("bus", "--port", "0", "--strips", "1-3", "--keypads", "61-63", "--pads", "121") as fg:
        url = fg.expect(
            r"on (socket://127\.0\.0\.1:\d+): 3 strips \(1-3\), 3 keypads \(61-63\), 1 rating pads"
        )[1]
        fg.expect("Ctrl-C stops")
        # --timeout: the emulator is another process (see test_emulate_bus_over_a_pty).
        assert (
            run(capsys, "led-show", "--url", url, "--address", "2", "--timeout", "5", "请A012号到2号窗口")[0]
            == 0
        )
        fg.expect(r"\[2:0\] 请A012号到2号窗口 \(red, static")
        fg.send("press 61 next")
        fg.expect("keypad 61: pressed next")
        fg.send("rate 121 5")
        fg.expect("has no pending request")
        fg.send("bogus")
        fg.expect("commands: press ADDR KEY")
        code, _ = fg.stop(signal.SIGINT)  # Ctrl-C
    assert code == 0


def test_emulate_bus_over_a_pty(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    link = tmp_path / "ttyHQP"
    with foreground("bus", "--pty", "--link", str(link), "--keypads", "61") as fg:
        fg.expect(rf"on {re.escape(str(link))}: 1 keypads")
        # The emulator is another process: on a loaded machine it can take longer than the 0.2 s a hall's
        # bus is given to answer (the CLI's default), so the deadline here is a hang guard, not the check.
        code, out, _ = run(capsys, "ping", "--url", str(link), "--address", "61", "--timeout", "5")
        assert code == 0
        assert "call keypad" in out
        assert fg.stop()[0] == 0


def emulate_and_exit(*argv: str) -> subprocess.CompletedProcess[str]:
    """`hallq devices emulate ARGV` in a process of its own that is expected to stop by itself (an error)."""
    return subprocess.run(
        [PY, "-m", "hallq.cli", "devices", "emulate", *argv],
        check=False,
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=30,
        stdin=subprocess.DEVNULL,
    )


def test_emulate_errors_exit_2_without_a_traceback() -> None:
    for argv in (
        ["bus", "--port", "0"],
        ["bus", "--port", "0", "--strips", "0-3"],
        ["printer", "--state", "x"],
    ):
        proc = emulate_and_exit(*argv)
        assert proc.returncode == 2, proc
        assert "Traceback" not in proc.stderr
        assert proc.stderr.strip()


def test_emulate_printer_on_a_port_in_use_is_a_clear_error(printer: TcpPrinterEmulator) -> None:
    proc = emulate_and_exit("printer", "--port", str(printer.port))
    assert proc.returncode == 1
    assert "is another emulator running?" in proc.stderr
    assert "Traceback" not in proc.stderr


# --- docs/devices.md ----------------------------------------------------------------------------------------


@dataclass
class Hall:
    config: Path
    ports: dict[str, str]  # "127.0.0.1:9101" in the docs -> where the emulator listens


@contextlib.contextmanager
def hall_emulators(tmp_path: Path) -> Iterator[Hall]:
    """Emulators for every device of config/county.toml on free ports (each reader with a card on it), and a
    copy of the file using them."""
    text = (ROOT / "config" / "county.toml").read_text("utf-8")
    with contextlib.ExitStack() as stack:
        ports: dict[str, str] = {}
        for port in (9101, 9102, 9103):
            emu = stack.enter_context(TcpPrinterEmulator())
            ports[f"127.0.0.1:{port}"] = f"127.0.0.1:{emu.port}"
        for port in (9301, 9302, 9303):
            reader = stack.enter_context(SamReaderEmulator.tcp())
            reader.place(0)
            ports[f"127.0.0.1:{port}"] = reader.url.removeprefix("socket://")
        for port in (9200, 9201):
            bus = HqpBusEmulator.tcp()
            for address in range(1, 29):
                bus.add_strip(address)
                bus.add_keypad(60 + address)
                bus.add_rating_pad(120 + address)
            stack.enter_context(bus)
            ports[f"127.0.0.1:{port}"] = bus.url.removeprefix("socket://")
        for old, new in ports.items():
            text = text.replace(old, new)
        config = tmp_path / "county.toml"
        config.write_text(text, "utf-8")
        yield Hall(config, ports)


def doc_commands() -> list[str]:
    text = (ROOT / "docs" / "devices.md").read_text("utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, flags=re.S)
    return [
        line.strip() for block in blocks for line in block.splitlines() if line.startswith("hallq devices")
    ]


def test_the_docs_show_every_command() -> None:
    shown = {shlex.split(c)[2] for c in doc_commands()}
    assert shown == {"list", "emulate", "status", "print-test", "ping", "led-show", "read-id", "voice-pack"}


@pytest.mark.parametrize("command", doc_commands())
def test_every_documented_command_runs(
    command: str, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    argv = shlex.split(command)[2:]
    if argv[0] == "emulate":
        # The documented ports may be taken on this machine (a demo): the same command on free ports.
        argv = [("0" if prev == "--port" else a) for prev, a in zip(["", *argv[:-1]], argv, strict=True)]
        with foreground(*argv[1:]) as fg:
            fg.expect("Ctrl-C stops")
            code, _ = fg.stop()
        assert code == 0
        return
    monkeypatch.chdir(tmp_path)  # voice-pack --out var/voice lands here
    with hall_emulators(tmp_path) as hall:
        args = []
        for arg in argv:
            mapped = arg
            for old, new in hall.ports.items():
                mapped = mapped.replace(old, new)
            args.append(str(hall.config) if mapped == "config/county.toml" else mapped)
        code, out, err = run(capsys, *args)
    assert code == 0, err
    assert out.strip()
