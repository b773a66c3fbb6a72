"""`hallq kiosk`: build the config, hall client, devices (`drivers.factory`), views and flow; run on qasync.

    hallq kiosk --config config/county.toml --station kiosk-1 [--server URL] [--state-dir DIR]

Without `--server` the hall server is found by mDNS, else the config's `public_base_url` is used; over TLS
only a server with the hall CA pinned at enrollment is taken (hallclient/link.py). The token
from enrollment is kept in `<state-dir>/kiosk-<station>.json` (mode 0600).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gc
import logging
import sys
from dataclasses import replace
from pathlib import Path

from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication

from drivers.factory import ConfigurationError, StationDevices, build_speaker, build_station
from hallclient.enroll import load_token
from hallclient.http import HttpHall
from hallcore.clock import SystemClock
from hallcore.config import Device, HallConfig, Station, StationRole
from hallui.configfile import read_config_or_report
from hallui.runner import run_qt
from kiosk.app import KioskApp, assemble
from kiosk.info import FlowSettings
from kiosk.texts import catalog, language_problem

log = logging.getLogger("kiosk")


def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="hallq kiosk", description="Run a ticket kiosk (pre-check, then the ticket)."
    )
    p.add_argument("--config", required=True, type=Path, help="the hall's TOML file")
    p.add_argument("--check-config", action="store_true", help="validate the config and exit (0 or 2)")
    p.add_argument("--server", default="", help="hall server URL (default: mDNS, then the config's address)")
    p.add_argument(
        "--mdns-interface",
        action="append",
        help="look for the server by mDNS on this interface address only (repeatable; default: every one)",
    )
    p.add_argument("--station", default="", help="this kiosk's station id in the config (default: the first)")
    p.add_argument("--state-dir", type=Path, default=Path.home() / ".local/state/hallq", help="token storage")
    p.add_argument("--printer", default="", help="override the printer URL (e.g. tcp://127.0.0.1:9101)")
    p.add_argument("--windowed", action="store_true", help="a window instead of full screen")
    p.add_argument(
        "--offline-delay-s", type=float, default=5.0, help="server gone this long → out of service"
    )
    # For tests and the benchmark: tap through one walk-in for this matter once the kiosk is ready.
    p.add_argument("--autopilot", default="", help=argparse.SUPPRESS)
    # For the e2e tests: "no" answers every question no, so the pre-check fails (一次性告知单, no ticket).
    p.add_argument("--autopilot-answer", choices=("yes", "no"), default="yes", help=argparse.SUPPRESS)
    return p.parse_args(argv)


def kiosk_station(config: HallConfig, station_id: str) -> Station | None:
    kiosks = [s for s in config.stations if s.role is StationRole.KIOSK]
    if station_id:
        return next((s for s in kiosks if s.id == station_id), None)
    return kiosks[0] if kiosks else None


def kiosk_devices(station: Station | None, printer_url: str = "") -> StationDevices | None:
    """The kiosk's devices from its station (nothing is opened yet); `printer_url` (`--printer`) replaces
    the printer by a network printer at that URL. Raises `ConfigurationError` for a config that cannot work.
    """
    if station is None:
        if not printer_url:
            return None
        station = Station("kiosk", StationRole.KIOSK)
    if printer_url:
        old = station.printer
        printer = (
            replace(old, type="escpos-network", url=printer_url)
            if old is not None
            else Device("escpos-network", printer_url)
        )
        station = replace(station, printer=printer)
    return build_station(station)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(list(sys.argv[1:] if argv is None else argv))
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = read_config_or_report("hallq kiosk", args.config)
    if config is None:
        return 2
    if problem := language_problem(config.kiosk.languages):
        print(f"hallq kiosk: {args.config}: {problem}", file=sys.stderr)  # noqa: T201
        return 2
    station = kiosk_station(config, args.station)
    if args.station and station is None:
        print(f"hallq kiosk: no kiosk station {args.station!r} in {args.config}", file=sys.stderr)  # noqa: T201
        return 2
    try:
        devices = kiosk_devices(station, args.printer)
    except ConfigurationError as exc:
        print(f"hallq kiosk: {exc}", file=sys.stderr)  # noqa: T201
        return 2
    if args.check_config:
        if devices is not None:
            devices.close()
        print(f"{args.config}: OK")  # noqa: T201
        return 0

    async def run(qapp: QApplication) -> int:
        return await run_kiosk(qapp, args, config, station, devices)

    return run_qt(run)


async def run_kiosk(
    qapp: QApplication,
    args: argparse.Namespace,
    config: HallConfig,
    station: Station | None,
    devices: StationDevices | None,
) -> int:
    from hallui.trust import find_hall_server

    # Qt objects must die on the Qt thread; the cyclic collector may run on any thread (printer, scanner,
    # executor), so it runs here on a timer instead.
    gc.disable()
    collector = QTimer()
    collector.setInterval(10_000)
    collector.timeout.connect(gc.collect)
    collector.start()
    clock = SystemClock()
    sid = station.id if station is not None else "kiosk"
    cred_path = args.state_dir / f"{sid}.json"
    # Its own server only: the pinned hall CA's certificate, wherever mDNS says it is (hallclient/link.py).
    link = await find_hall_server(
        cred_path, config, args.server, full_screen=not args.windowed, interfaces=args.mdns_interface
    )
    server = link.url
    api = HttpHall(server, load_token(cred_path), clock=clock, verify=link.context())
    if devices is not None:
        devices.start()  # the scanner's thread opens it in the background; the printer on first use
    printer = devices.printer if devices is not None else None
    scanner = devices.scanner if devices is not None else None
    if printer is None:
        log.warning("no printer configured: the kiosk sends citizens to the service desk")
    speaker = None
    if station is not None:
        # The hall's recordings of the prompts beside its config (prompts/<lang>/<key>.wav), preferred.
        speaker, why = build_speaker(
            station, args.state_dir / f"{sid}-speech", recordings=args.config.resolve().parent / "prompts"
        )
        if speaker is None:
            log.info("no spoken guidance: %s", why)
    k = config.kiosk
    app = assemble(
        config,
        api,
        printer,
        clock,
        catalog(),
        scanner=scanner,
        reader=devices.id_reader if devices is not None else None,
        settings=FlowSettings(float(k.idle_reset_s), float(k.elder_idle_reset_s), args.offline_delay_s),
        speaker=speaker,
    )
    controller, view = app.controller, app.view
    controller.info.station_name = (station.name or station.id) if station is not None else "kiosk"
    if args.windowed:
        view.resize(1080, 1920)
        view.show()
    else:
        view.showFullScreen()
    app.show()
    try:
        if api.token is None:
            api.set_token(await controller.enroll(cred_path, controller.info.station_name, server))
        controller.start()
        if args.autopilot:
            await autopilot(app, args.autopilot, answer=args.autopilot_answer == "yes")
        await asyncio.Event().wait()
    finally:
        collector.stop()
        gc.enable()
        await app.aclose()
        await api.aclose()
        if devices is not None:
            devices.close()
        qapp.quit()
    return 0


async def autopilot(app: KioskApp, matter: str, *, answer: bool = True) -> None:
    """Tap through one walk-in (answer every question asked `answer`, tick every material shown) by clicking
    the real widgets."""
    from PySide6.QtWidgets import QPushButton

    from kiosk.flow import Screen

    async def tap(name: str) -> None:
        for _ in range(500):
            b = app.view.findChild(QPushButton, name)
            if b is not None and b.isEnabled():
                b.click()
                return
            await asyncio.sleep(0.01)
        raise RuntimeError(f"autopilot: no button {name}")

    while app.flow.screen is not Screen.WELCOME or app.controller.printer_state is None:
        await asyncio.sleep(0.02)
    m = app.config.matter_by_code[matter]
    await tap("welcomeStart")
    app.view.query_changed.emit(m.pinyin or m.code)
    await tap(f"matter_{m.code}")

    def asking() -> tuple[int, int] | None:
        """Which question is on screen (and how many are answered), None once the questions are over."""
        f = app.flow
        return (f.question, len(f.answers)) if f.screen is Screen.QUESTION else None

    # Questions may follow earlier answers: answer while the kiosk asks.
    while (shown := asking()) is not None:
        await tap("questionYes" if answer else "questionNo")
        for _ in range(500):
            if asking() != shown:
                break
            await asyncio.sleep(0.01)
    for mat in app.flow.materials_shown:
        await tap(f"material_{mat.id}")
    if app.flow.materials_shown:
        await tap("materialsDone")
    log.info("autopilot: final tap for %s", matter)
    await tap("confirmNormal")


if __name__ == "__main__":
    with contextlib.suppress(KeyboardInterrupt):
        sys.exit(main())
