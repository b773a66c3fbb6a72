"""`hallq demo`: a whole hall on this machine.

It starts the hall server on the county hall config (its own SQLite file under `var/demo/`), the printer and
HQP/1 bus emulators, one kiosk, two counters, one display and the LED-bus agent (real windows when there is a
screen, offscreen otherwise), and a crowd of simulated citizens and clerks (`--crowd`, on by default) so the
board, strips, dashboard and statistics move. It prints the dashboard, phone and booking URLs and the manager
login, and stops every process on Ctrl-C.

`hallq demo --simulate` instead prints a simulated morning run on the engine alone (no processes).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import os
import shutil
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from hallq.crowd import Crowd, CrowdStation
from hallq.demohall import CLERK_PIN, CONFIG_DIR, MANAGER, ROOT, clerk_code, free_port, rewrite_config

#: Stations the demo runs as apps; the crowd drives the other windows through the API.
KIOSK = "kiosk-1"
COUNTERS = ("counter-01", "counter-05")
DISPLAY = "display-1"
AGENT = "agent-1"


@dataclass
class Demo:
    config_src: Path
    state: Path
    port: int
    crowd: bool
    duration: float | None
    timezone: str | None = None
    central: bool = False
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)
    stack: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)

    def log(self, text: str) -> None:
        print(f"[demo] {text}", flush=True)

    # ---- processes ----

    def env(self) -> dict[str, str]:
        env = dict(os.environ, PYTHONUNBUFFERED="1", QT_API="pyside6")
        if not env.get("DISPLAY") and not env.get("WAYLAND_DISPLAY"):
            env["QT_QPA_PLATFORM"] = "offscreen"
        return env

    def spawn(self, name: str, *args: str) -> None:
        logf = (self.state / f"{name}.log").open("wb")
        self.stack.callback(logf.close)
        cmd = [sys.executable, "-m", "hallq.cli", *args]
        self.procs[name] = subprocess.Popen(
            cmd, stdout=logf, stderr=subprocess.STDOUT, env=self.env(), start_new_session=True
        )

    def stop_all(self) -> None:
        for p in reversed(list(self.procs.values())):
            if p.poll() is None:
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGTERM)
        deadline = time.monotonic() + 10
        for name, p in self.procs.items():
            try:
                p.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                self.log(f"{name} did not stop in time: killed")
                with contextlib.suppress(ProcessLookupError):
                    os.killpg(p.pid, signal.SIGKILL)
                p.wait()
        self.stack.close()

    # ---- set-up ----

    def prepare(self) -> tuple[Path, Path, dict[str, object]]:
        from drivers.emulators.bus import HqpBusEmulator
        from drivers.emulators.idcard import SamReaderEmulator
        from drivers.emulators.printer import TcpPrinterEmulator
        from hallcore.windowstrip import agent_windows
        from hallfiles.config import read_config

        if self.state.exists():
            shutil.rmtree(self.state)
        self.state.mkdir(parents=True)
        base = read_config(self.config_src)
        printer = TcpPrinterEmulator().start()
        self.stack.callback(printer.stop)
        urls: dict[tuple[str, str], str] = {}
        buses: dict[str, HqpBusEmulator] = {}
        # The demo kiosk's 居民身份证 reader: the emulator on TCP, where the crowd lays its citizens' cards.
        reader = SamReaderEmulator.tcp().start()
        self.stack.callback(reader.stop)
        for st in base.stations:
            if st.id == KIOSK and st.printer:
                urls[(st.id, st.printer.url)] = f"socket://127.0.0.1:{printer.port}"
            if st.id == KIOSK and st.id_reader:
                urls[(st.id, st.id_reader.url)] = reader.url
            if st.id in COUNTERS:
                bus = HqpBusEmulator.tcp().start()
                self.stack.callback(bus.stop)
                buses[st.id] = bus
                for dev in (st.led, st.keypad, st.rating_pad):
                    if dev is None:
                        continue
                    urls[(st.id, dev.url)] = bus.url
                    if dev is st.led and dev.address is not None:
                        bus.add_strip(dev.address)
                    elif dev is st.keypad and dev.address is not None:
                        bus.add_keypad(dev.address)
                    elif dev.address is not None:
                        bus.add_rating_pad(dev.address)
            if st.id == AGENT and st.led:
                bus = HqpBusEmulator.tcp().start()
                self.stack.callback(bus.stop)
                buses[st.id] = bus
                urls[(st.id, st.led.url)] = bus.url
                for address in agent_windows(base, st).values():  # the strips the agent will drive
                    bus.add_strip(address)
        public = f"http://127.0.0.1:{self.port}"
        config = self.state / "hall.toml"
        config.write_text(
            rewrite_config(self.config_src.read_text(encoding="utf-8"), urls, public, self.timezone), "utf-8"
        )
        db = self.state / "hall.db"
        from hallserver import admin

        admin.create_manager(db, *MANAGER)
        for w in base.windows:
            admin.add_clerk(db, clerk_code(w.number), f"{w.name}工作人员", CLERK_PIN)
        return config, db, {"printer": printer, "buses": buses, "reader": reader}

    def wait_for_server(self, url: str, timeout: float = 60.0) -> None:
        import httpx

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            server = self.procs["server"]
            if server.poll() is not None:
                raise RuntimeError(
                    f"the server exited ({server.returncode}); see {self.state / 'server.log'}"
                )
            with contextlib.suppress(httpx.HTTPError):
                if httpx.get(f"{url}/api/health", timeout=1.0).status_code == 200:
                    return
            time.sleep(0.2)
        raise RuntimeError(f"the server did not answer within {timeout:.0f} s")

    def run(self) -> int:
        config, db, devices = self.prepare()
        url = f"http://127.0.0.1:{self.port}"
        centre = None
        if self.central:
            from hallq.democentral import CentralDemo, central_section

            centre = CentralDemo(self)
            with config.open("a", encoding="utf-8") as f:
                f.write(central_section(centre.start()))
        self.spawn(
            "server", "server", "--config", str(config), "--db", str(db), "--host", "127.0.0.1",
            "--port", str(self.port), "--mdns-interface", "127.0.0.1", "--durability", "normal",
        )  # fmt: skip
        self.wait_for_server(url)
        from hallfiles.config import read_config

        cfg = read_config(config)
        sims: list[Crowd] = []
        if centre is not None:
            from hallq.democentral import DEMO_REGION

            centre.approve(cfg.hall.id, DEMO_REGION)
            sims = centre.sim_halls()
        crowd = Crowd(cfg, url, MANAGER, CLERK_PIN, clerk_code, self.log)
        crowd.reader = devices["reader"]
        app_stations = [KIOSK, *COUNTERS, DISPLAY, AGENT]
        tokens = asyncio.run(crowd.provision(app_stations, self.state))
        self.log(f"stations approved: {', '.join(sorted(tokens))}")
        common = ["--config", str(config), "--server", url, "--state-dir", str(self.state)]
        self.spawn("kiosk", "kiosk", *common, "--station", KIOSK, "--windowed")
        for sid in COUNTERS:
            self.spawn(sid, "counter", *common, "--station", sid)
        self.spawn("display", "display", *common, "--station", DISPLAY, "--windowed")
        self.spawn("agent", "devices", "serve", *common, "--station", AGENT)
        headless = self.env().get("QT_QPA_PLATFORM") == "offscreen"
        print(
            "\n".join(
                [
                    "",
                    f"hallq demo — {cfg.hall.name} ({'headless, offscreen Qt' if headless else 'on screen'})",
                    "  transport     plain HTTP on 127.0.0.1 only (a hall runs TLS: docs/install.md)",
                    f"  API           {url}/openapi.json (docs/api.md)",
                    f"  dashboard     {url}/web/dashboard   (manager login: {MANAGER[0]} / {MANAGER[1]})",
                    f"  statistics    {url}/web/stats",
                    f"  booking       {url}/book",
                    "  phone page    printed below for the first ticket the crowd takes",
                    f"  clerks        staff code 1000+window (e.g. 1005), PIN {CLERK_PIN}",
                    *(centre.lines() if centre is not None else []),
                    f"  logs          {self.state}/*.log",
                    "  Ctrl-C stops every process.",
                    "",
                ]
            ),
            flush=True,
        )
        buses = devices["buses"]
        assert isinstance(buses, dict)
        keypads = [
            CrowdStation(sid, st.window or 0, buses[sid], st.keypad.address if st.keypad else None,
                         st.rating_pad.address if st.rating_pad else None)
            for sid in COUNTERS
            if (st := cfg.station_by_id[sid]) is not None
        ]  # fmt: skip
        stop_at = time.monotonic() + self.duration if self.duration else None

        async def everyone() -> None:
            runs = [crowd.run(keypads, enabled=self.crowd, stop_at=stop_at, watch=self.procs)]
            runs += [s.run([], enabled=self.crowd, stop_at=stop_at, watch={}) for s in sims]
            await asyncio.gather(*runs)

        with contextlib.suppress(KeyboardInterrupt):
            asyncio.run(everyone())
        return 0


def simulate_main(args: argparse.Namespace) -> int:
    from hallfiles.config import read_config
    from hallq.sim import SimParams, simulate, summary

    config = read_config(args.config)
    start = dt.time(9, 0)
    end = (dt.datetime.combine(args.day, start) + dt.timedelta(hours=1)).time()
    print(f"hallq demo --simulate: {config.hall.name}, a simulated morning {start:%H:%M}–{end:%H:%M}\n")
    result = simulate(config, SimParams(args.day, start, end, seed=7), on_call=print)
    print()
    print(summary(result))
    return 0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="hallq demo", description="Run the demo hall.")
    ap.add_argument("--config", type=Path, default=CONFIG_DIR / "county.toml")
    ap.add_argument("--port", type=int, default=8700, help="server port (another free one if taken)")
    ap.add_argument("--state", type=Path, default=ROOT / "var" / "demo", help="demo files (wiped at start)")
    ap.add_argument("--crowd", action=argparse.BooleanOptionalAction, default=True,
                    help="simulated citizens and clerks (default on)")  # fmt: skip
    ap.add_argument("--duration", type=float, default=None, help="stop by itself after this many seconds")
    ap.add_argument(
        "--timezone",
        default=None,
        help="run the demo hall in this time zone (e.g. Etc/GMT-8); the hall stops issuing in the last "
        "two minutes before its midnight, so a test run at that time picks a zone where it is day",
    )
    ap.add_argument("--simulate", action="store_true", help="print a simulated morning on the engine alone")
    ap.add_argument(
        "--central",
        action="store_true",
        help="also run a centre (hallq central, on a throw-away PostgreSQL cluster) that the demo hall and "
        "two simulated halls ship their events to",
    )
    ap.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2026, 11, 23))
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    if args.simulate:
        return simulate_main(args)
    demo = Demo(
        args.config, args.state, free_port(args.port), args.crowd, args.duration, args.timezone, args.central
    )

    def on_term(_sig: int, _frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, on_term)
    # Ctrl-C stops the demo even when it was started with SIGINT ignored: a shell script's `hallq demo &`, or
    # a test run under nohup, passes SIG_IGN down, Python then installs no KeyboardInterrupt handler, and
    # asyncio.run leaves SIGINT alone, so the demo ran on after the signal.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        return demo.run()
    except KeyboardInterrupt:
        return 0
    except RuntimeError as exc:
        print(f"hallq demo: {exc}", file=sys.stderr)
        return 1
    finally:
        demo.log("stopping")
        demo.stop_all()
        demo.log("stopped")
