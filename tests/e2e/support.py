"""Shared by the e2e tests (no tests here): a hall whose every app is a subprocess, on emulated devices.

`running_hall()` starts the hall server over TLS (its own hall CA, which every station pins) on the county
config (the demo's round-the-clock copy, in a time zone where it is midday, so the test runs at any hour),
the printer emulator for `kiosk-1`, one HQP/1 bus with window 1's strip, keypad and rating pad for
`counter-01`, and one more bus with a hall LED board added to `display-1`; it provisions those stations as a
manager would (their tokens and the pinned CA), adds a clerk with `hallq admin add-clerk`, and runs the
counter and the display (voice on, through a recording `aplay` first on PATH). Kiosks are started per test
(`HallRun.kiosk`), since the hidden `--autopilot` taps through one citizen per process.

Every wait checks that the long-running apps are alive, and `HallRun.explain()` prints each process's log
tail and what the emulated devices show when a step fails.
"""

from __future__ import annotations

import asyncio
import contextlib
import csv
import datetime as dt
import io
import os
import re
import signal
import sqlite3
import ssl
import stat
import subprocess
import sys
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from drivers.emulators.bus import EmulatedRatingPad, EmulatedStrip, HqpBusEmulator
from drivers.emulators.printer import RenderedTicket, TcpPrinterEmulator
from drivers.voice import SEGMENT_TEXTS
from hallclient.trust import Pin
from hallcore.config import HallConfig
from hallfiles.config import read_config
from hallq.crowd import Crowd
from hallq.demohall import CLERK_PIN, MANAGER, clerk_code, free_port, rewrite_config
from tests.fakes.live_server import make_tls

ROOT = Path(__file__).resolve().parents[2]
COUNTY = ROOT / "config" / "county.toml"
KIOSK = "kiosk-1"
COUNTER = "counter-01"
DISPLAY = "display-1"
#: The hall board added to display-1 for the test (the county config gives that display none).
HALL_BOARD = 200
#: Processes that run for the whole module; a kiosk comes and goes with its test.
RESIDENTS = ("server", COUNTER, DISPLAY)


def add_hall_board(text: str, station: str, url: str, address: int) -> str:
    """`text` with an HQP/1 hall board (`[stations.led]`) given to `station`, inserted at the end of that
    station's table so the TOML array of tables stays as it was."""
    lines = text.splitlines()
    start = lines.index(f'id = "{station}"')
    end = next((i for i in range(start + 1, len(lines)) if lines[i].startswith("[")), len(lines))
    while end > start and not lines[end - 1].strip():
        end -= 1
    board = ["", "[stations.led]", 'type = "hqp"', f'url = "{url}"', f"address = {address}"]
    return "\n".join(lines[:end] + board + lines[end:]) + "\n"


def midday_timezone(now: dt.datetime) -> str:
    """A fixed-offset zone in which `now` is about noon. The demo's hours run 00:00–23:59 with a one-minute
    cut-off, so in the hall's own zone a run near midnight would meet a closed hall or have its statistics
    split over two days; the test only needs the day not to end while it runs."""
    hours = 12 - now.astimezone(dt.UTC).hour  # -11..12
    # POSIX-style names count the other way: Etc/GMT-8 is UTC+8.
    return "Etc/GMT" if hours == 0 else f"Etc/GMT{'-' if hours > 0 else '+'}{abs(hours)}"


def recording_speaker(folder: Path, record: Path) -> Path:
    """A directory holding an `aplay` that plays nothing and appends the file it was given to `record`:
    the display's loudspeaker for the test (put it first on PATH)."""
    folder.mkdir(parents=True, exist_ok=True)
    aplay = folder / "aplay"
    aplay.write_text(f'#!/bin/sh\nfor a; do last="$a"; done\necho "$last" >> "{record}"\n', "utf-8")
    aplay.chmod(aplay.stat().st_mode | stat.S_IXUSR)
    return folder


def silent_voice_pack(folder: Path, rate: int = 8000) -> Path:
    """Every segment of the voice pack as 50 ms of near-silence, so the display needs no espeak-ng."""
    for key in SEGMENT_TEXTS:
        path = folder / f"{key}.wav"
        path.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(path), "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(b"\x10\x00" * (rate // 20))
    return folder


def tail(path: Path, lines: int = 40) -> str:
    try:
        text = path.read_text("utf-8", errors="replace")
    except OSError as exc:
        return f"(no log: {exc})"
    return "\n".join(text.splitlines()[-lines:])


def parse_stats_csv(data: bytes) -> dict[str, list[dict[str, str]]]:
    """The statistics export by table: {"按matter": [{"key": …, "办结数": …}, …], "预审": […], …}."""
    tables: dict[str, list[dict[str, str]]] = {}
    rows = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    i = 0
    while i < len(rows):
        row = rows[i]
        if len(row) == 1 and row[0].startswith("# "):
            headers = rows[i + 1]
            body: list[dict[str, str]] = []
            i += 2
            while i < len(rows) and rows[i]:
                body.append(dict(zip(headers, rows[i], strict=False)))
                i += 1
            tables[row[0][2:]] = body
        i += 1
    return tables


@dataclass
class HallRun:
    state: Path
    url: str
    config: HallConfig
    db: Path
    printer: TcpPrinterEmulator
    window_bus: HqpBusEmulator
    board_bus: HqpBusEmulator
    spoken: Path
    env: dict[str, str]
    ca_pem: str = ""  # the hall CA: the server serves TLS, every station pins it
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    logs: dict[str, Path] = field(default_factory=dict)

    # ---- the window's devices -------------------------------------------------------------------------

    @property
    def window(self) -> int:
        window = self.config.station_by_id[COUNTER].window
        assert window is not None
        return window

    def _address(self, slot: str) -> int:
        device = getattr(self.config.station_by_id[COUNTER], slot)
        assert device is not None
        assert device.address is not None
        return int(device.address)

    @property
    def keypad(self) -> int:
        return self._address("keypad")

    def strip_text(self) -> str:
        with self.window_bus.lock:
            strip = self.window_bus.devices[self._address("led")]
            return strip.text(0) if isinstance(strip, EmulatedStrip) else ""

    def board_text(self, area: int) -> str:
        with self.board_bus.lock:
            board = self.board_bus.devices[HALL_BOARD]
            return board.text(area) if isinstance(board, EmulatedStrip) else ""

    def pad(self) -> EmulatedRatingPad:
        pad = self.window_bus.devices[self._address("rating_pad")]
        assert isinstance(pad, EmulatedRatingPad)
        return pad

    def pad_pending(self) -> str | None:
        with self.window_bus.lock:
            return self.pad().pending

    def rate(self, score: int) -> None:
        self.window_bus.rate(self._address("rating_pad"), score)

    def papers(self) -> list[RenderedTicket]:
        return list(self.printer.tickets)

    # ---- processes ------------------------------------------------------------------------------------

    def spawn(self, name: str, *args: str) -> subprocess.Popen[bytes]:
        """`hallq ARGS…` in its own session, output to STATE/NAME.log."""
        log = self.state / f"{name}.log"
        with log.open("ab") as out:
            proc = subprocess.Popen(
                [sys.executable, "-m", "hallq.cli", *args],
                cwd=ROOT,
                stdout=out,
                stderr=subprocess.STDOUT,
                env=self.env,
                start_new_session=True,
            )
        self.procs[name] = proc
        self.logs[name] = log
        return proc

    def app_args(self, station: str) -> list[str]:
        return [
            "--config", str(self.state / "hall.toml"), "--server", self.url,
            "--state-dir", str(self.state), "--station", station,
        ]  # fmt: skip

    def kiosk(self, matter: str, *, answer: str = "yes") -> subprocess.Popen[bytes]:
        """A kiosk that taps one citizen through `matter` (answering every question `answer`)."""
        self.stop("kiosk")
        return self.spawn(
            "kiosk", "kiosk", *self.app_args(KIOSK), "--windowed",
            "--autopilot", matter, "--autopilot-answer", answer,
        )  # fmt: skip

    def stop(self, name: str, timeout: float = 10.0) -> None:
        """SIGTERM to the process group, SIGKILL if it lingers."""
        proc = self.procs.get(name)
        if proc is None or proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()

    def stop_all(self) -> None:
        for name in reversed(list(self.procs)):
            self.stop(name)

    def log_text(self, name: str) -> str:
        return self.logs[name].read_text("utf-8", errors="replace")

    # ---- waiting and diagnosis ------------------------------------------------------------------------

    def check_alive(self, extra: tuple[str, ...] = ()) -> None:
        for name in (*RESIDENTS, *extra):
            proc = self.procs.get(name)
            if proc is not None and proc.poll() is not None:
                raise AssertionError(f"{name} exited with code {proc.returncode}")

    def wait_for(
        self, cond: Callable[[], object], what: str, timeout: float = 20.0, also: tuple[str, ...] = ()
    ) -> None:
        """Poll `cond` (bounded, 50 ms apart) until true; fail early if an app died."""
        deadline = time.monotonic() + timeout
        while True:
            self.check_alive(also)
            if cond():
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"waited {timeout:.0f} s for {what}")
            time.sleep(0.05)

    def diagnosis(self) -> str:
        parts = []
        for name, path in self.logs.items():
            proc = self.procs[name]
            code = "running" if proc.poll() is None else f"exit {proc.returncode}"
            parts.append(f"----- {name} ({code}) {path}\n{tail(path)}")
        parts.append(f"----- window bus\n{self.window_bus.render()}\npad pending: {self.pad_pending()}")
        parts.append(f"----- hall board bus\n{self.board_bus.render()}")
        papers = "\n\n".join(t.text for t in self.papers()) or "(nothing printed)"
        parts.append(f"----- printer\n{papers}")
        return "\n".join(parts)

    @contextlib.contextmanager
    def explain(self) -> Iterator[None]:
        """On a failure inside, print every log's tail and the devices (pytest shows it with the failure)."""
        try:
            yield
        except BaseException:
            print(self.diagnosis(), flush=True)  # captured by pytest, shown with the failure
            raise

    # ---- the hall's records ---------------------------------------------------------------------------

    def query(self, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
        conn = sqlite3.connect(f"file:{self.db}?mode=ro", uri=True, timeout=10)
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    @property
    def tls(self) -> ssl.SSLContext | bool:
        """What a client of this hall verifies with: the pinned hall CA, as the stations do."""
        return Pin.of(self.ca_pem).context() if self.ca_pem else True

    def health(self) -> dict[str, Any]:
        with contextlib.suppress(httpx.HTTPError, ValueError):
            r = httpx.get(f"{self.url}/api/health", timeout=2.0, verify=self.tls)
            if r.status_code == 200:
                body = r.json()
                return dict(body) if isinstance(body, dict) else {}
        return {}

    def manager(self) -> httpx.Client:
        """An HTTP client logged in to the manager's web pages (the login form, as a browser does)."""
        c = httpx.Client(base_url=self.url, timeout=10, verify=self.tls)
        try:
            token = re.search(r'name="csrf" value="([^"]+)"', c.get("/web/login").text)
            assert token is not None
            form = {"csrf": token.group(1), "username": MANAGER[0], "password": MANAGER[1]}
            r = c.post("/web/login", data=form)
            assert r.status_code == 303, r.text
            assert r.headers["location"] == "/web/dashboard", r.text
        except BaseException:
            c.close()
            raise
        return c

    def statistics(self) -> dict[str, list[dict[str, str]]]:
        """Today's statistics by matter, as the manager exports them (CSV)."""
        c = self.manager()
        try:
            r = c.get("/web/stats.csv", params={"period": "day", "by": "matter"})
        finally:
            c.close()
        assert r.status_code == 200, r.text
        return parse_stats_csv(r.content)


def _prepare(state: Path, stack: contextlib.ExitStack) -> HallRun:
    from hallserver import admin

    base = read_config(COUNTY)
    printer = stack.enter_context(TcpPrinterEmulator())
    window_bus = stack.enter_context(HqpBusEmulator.tcp())
    board_bus = stack.enter_context(HqpBusEmulator.tcp())
    counter = base.station_by_id[COUNTER]
    kiosk = base.station_by_id[KIOSK]
    assert kiosk.printer is not None
    led, keypad, pad = counter.led, counter.keypad, counter.rating_pad
    assert led is not None
    assert keypad is not None
    assert pad is not None
    assert led.address is not None
    assert keypad.address is not None
    assert pad.address is not None
    urls = {(KIOSK, kiosk.printer.url): f"socket://127.0.0.1:{printer.port}"}
    for dev in (led, keypad, pad):
        urls[(COUNTER, dev.url)] = window_bus.url
    window_bus.add_strip(led.address)
    window_bus.add_keypad(keypad.address)
    window_bus.add_rating_pad(pad.address)
    board_bus.add_strip(HALL_BOARD, hall_board=True)

    # Over TLS with the hall's own CA (`hallq admin tls init`), as a hall runs; the stations pin it.
    tls = make_tls(state / "tls")
    url = f"https://127.0.0.1:{free_port()}"
    text = rewrite_config(COUNTY.read_text("utf-8"), urls, url)
    zone = midday_timezone(dt.datetime.now(dt.UTC))
    text = re.sub(r'(?m)^timezone = ".*"$', f'timezone = "{zone}"', text, count=1)
    config_path = state / "hall.toml"
    config_path.write_text(add_hall_board(text, DISPLAY, board_bus.url, HALL_BOARD), "utf-8")
    config = read_config(config_path)
    db = state / "hall.db"
    admin.create_manager(db, *MANAGER)
    spoken = state / "spoken.log"
    speaker = recording_speaker(state / "bin", spoken)
    env = dict(
        os.environ,
        PYTHONUNBUFFERED="1",
        QT_QPA_PLATFORM="offscreen",
        QT_API="pyside6",
        PATH=f"{speaker}{os.pathsep}{os.environ.get('PATH', '')}",
    )
    return HallRun(state, url, config, db, printer, window_bus, board_bus, spoken, env, tls.ca_pem())


@contextlib.contextmanager
def running_hall(state: Path) -> Iterator[HallRun]:
    """The hall up, its counter and display running; everything stopped and closed on the way out."""
    state.mkdir(parents=True, exist_ok=True)
    with contextlib.ExitStack() as stack:
        hall = _prepare(state, stack)
        stack.callback(hall.stop_all)
        with hall.explain():
            code = clerk_code(hall.window)
            add = subprocess.run(
                [sys.executable, "-m", "hallq.cli", "admin", "--db", str(hall.db), "add-clerk", code,
                 "一号窗口工作人员", "--pin-file", "-"], input=CLERK_PIN + "\n",
                cwd=ROOT, env=hall.env, capture_output=True, text=True, timeout=60, check=False,
            )  # fmt: skip
            assert add.returncode == 0, add.stdout + add.stderr
            port = hall.url.rsplit(":", 1)[1]
            hall.spawn(
                "server", "server", "--config", str(state / "hall.toml"), "--db", str(hall.db),
                "--host", "127.0.0.1", "--port", port, "--mdns-interface", "127.0.0.1",
                "--durability", "normal", "--tls-dir", str(state / "tls"),
            )  # fmt: skip
            hall.wait_for(lambda: hall.health().get("ok"), "the server to answer /api/health", 60)
            crowd = Crowd(
                hall.config, hall.url, MANAGER, CLERK_PIN, clerk_code, lambda _t: None, ca_pem=hall.ca_pem
            )
            asyncio.run(crowd.provision([KIOSK, COUNTER, DISPLAY], state))
            voice = silent_voice_pack(state / "voice-pack")
            hall.spawn(COUNTER, "counter", *hall.app_args(COUNTER))
            hall.spawn(DISPLAY, "display", *hall.app_args(DISPLAY), "--windowed", "--voice-pack", str(voice))
            # Both follow the hall's event stream before anyone takes a number: the display only reads
            # out calls it sees live, and the counter shows its strip once its keypad is subscribed.
            hall.wait_for(
                lambda: (hall.health().get("subscribers") or 0) >= 2 and hall.strip_text() != "",
                "the counter and the display to follow the hall",
                60,
            )
        yield hall
