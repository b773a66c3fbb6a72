"""`hallq display`: the hall's call board. Wiring only: config, server, enrollment, devices, views, flow.

hallq display --config config/county.toml --station display-1 [--server http://10.0.0.2:8700]
              [--state-dir ~/.local/state/hallq] [--orientation landscape|portrait|auto]
              [--voice-pack DIR] [--no-voice] [--windowed] [--check-config]
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
import zoneinfo
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QApplication

from display.app import assemble
from display.hallboard import LedSync
from display.texts import catalog
from display.views import Orientation
from drivers.factory import ConfigurationError, StationDevices, build_station, build_voice
from hallcore.clock import SystemClock
from hallcore.config import HallConfig, Station, StationRole
from hallui.stationcli import begin, station_parser

log = logging.getLogger("display")


def parser() -> argparse.ArgumentParser:
    p = station_parser(
        "hallq display",
        "Run a hall display (call board).",
        station_help="this display's station id in the config (default: the first display)",
    )
    p.add_argument("--orientation", choices=["landscape", "portrait", "auto"], default="auto")
    p.add_argument("--language", choices=["zh", "en"], default="zh")
    p.add_argument("--voice-pack", type=Path, help="folder of voice segments (default: STATE_DIR/voice)")
    p.add_argument("--no-voice", action="store_true", help="show calls without reading them out")
    p.add_argument("--windowed", action="store_true", help="not full screen (for set-up)")
    return p


def pick_station(config: HallConfig, station_id: str | None) -> Station:
    displays = [s for s in config.stations if s.role is StationRole.DISPLAY]
    if station_id is not None:
        st = config.station_by_id.get(station_id)
        if st is None or st.role is not StationRole.DISPLAY:
            names = ", ".join(s.id for s in displays) or "none"
            raise SystemExit(f"hallq display: no display station {station_id!r} in the config ({names})")
        return st
    if displays:
        return displays[0]
    return Station(id="display", role=StationRole.DISPLAY, name="叫号屏", voice=True)


def orientation_for(choice: str, app: QApplication) -> Orientation:
    if choice != "auto":
        return Orientation(choice)
    screen = app.primaryScreen()
    if screen is not None and screen.size().height() > screen.size().width():
        return Orientation.PORTRAIT
    return Orientation.LANDSCAPE


def main(argv: list[str]) -> int:
    got = begin("hallq display", parser(), argv)
    if isinstance(got, int):
        return got
    args, config = got
    try:
        station = pick_station(config, args.station)
        devices = build_station(station, config=config)  # the hall board, if any; opens nothing yet
    except SystemExit as exc:
        sys.stderr.write(f"{exc}\n")
        return 2
    except ConfigurationError as exc:
        sys.stderr.write(f"hallq display: {exc}\n")
        return 2
    if args.check_config:
        devices.close()
        sys.stdout.write(catalog(args.language).t("check.ok", path=args.config) + "\n")
        return 0

    from hallui.runner import run_qt

    async def run(app: QApplication) -> int:
        return await amain(app, args, config, station, devices)

    return run_qt(run)


async def amain(
    app: QApplication, args: argparse.Namespace, config: HallConfig, station: Station, devices: StationDevices
) -> int:
    from hallclient.http import HttpHall
    from hallui.theme import FONT_FAMILY
    from hallui.trust import find_hall_server

    clock = SystemClock()
    tz = zoneinfo.ZoneInfo(config.hall.timezone)  # the config check refused an unknown zone
    app.setFont(QFont(FONT_FAMILY))
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="hall board")
    devices.start()
    board = devices.led
    hall_board = LedSync(board, executor=executor, name="hall LED board") if board is not None else None

    announcer, problem = None, ""
    if station.voice and not args.no_voice:
        folder = args.voice_pack or args.state_dir / "voice"
        announcer, problem = await asyncio.to_thread(
            build_voice, config.voice, folder, clock=clock, cache_dir=args.state_dir / "voice-cache"
        )
        if announcer is None:
            log.warning("voice off: %s", problem)
    display = assemble(
        config,
        clock,
        catalog(args.language),
        zone=station.zone,
        tz=tz,
        orientation=orientation_for(args.orientation, app),
        announcer=announcer,
        hall_board=hall_board,
        voice_problem=problem if announcer is None else "",
    )
    view = display.view
    if args.windowed:
        view.show()
    else:
        view.showFullScreen()

    token_file = args.state_dir / f"{station.id}.json"
    # Its own server only: the pinned hall CA's certificate, wherever mDNS says it is (hallclient/link.py).
    link = await find_hall_server(
        token_file, config, args.server or "", full_screen=not args.windowed, interfaces=args.mdns_interface
    )
    base, tls = link.url, link.context()
    anonymous = HttpHall(base, clock=clock, verify=tls)
    try:
        token = await display.controller.enroll(
            anonymous, token_file, name=station.name or station.id, server=base
        )
    finally:
        await anonymous.aclose()
    api = HttpHall(base, token, clock=clock, verify=tls)
    try:
        await display.run(api)
    finally:
        await display.aclose()
        await api.aclose()
        devices.close()
        executor.shutdown(wait=False)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
