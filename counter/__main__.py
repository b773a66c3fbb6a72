"""`hallq counter`: a clerk's counter station (or a 导办台 desk station) — wiring only."""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys
from typing import TYPE_CHECKING

from hallcore.config import HallConfig, Station, StationRole
from hallui.stationcli import begin, station_parser

if TYPE_CHECKING:
    from PySide6.QtWidgets import QApplication

    from drivers.factory import StationDevices

log = logging.getLogger("counter")


def _parser() -> argparse.ArgumentParser:
    p = station_parser(
        "hallq counter",
        "Run a counter (clerk) or desk station.",
        station_help="this station's id in the config (e.g. counter-05, desk-1)",
    )
    p.add_argument("--language", choices=("zh", "en"), default="zh")
    return p


def pick_station(config: HallConfig, station_id: str | None) -> Station:
    """The station by id, or the only counter/desk station of the config; raises ValueError with advice."""
    staffed = [s for s in config.stations if s.role in (StationRole.COUNTER, StationRole.DESK)]
    if station_id is None:
        if len(staffed) == 1:
            return staffed[0]
        ids = ", ".join(s.id for s in staffed) or "none"
        raise ValueError(f"pass --station with one of: {ids}")
    station = config.station_by_id.get(station_id)
    if station is None or station.role not in (StationRole.COUNTER, StationRole.DESK):
        ids = ", ".join(s.id for s in staffed) or "none"
        raise ValueError(f"no counter or desk station {station_id!r} in the config; stations: {ids}")
    if station.window is None:
        raise ValueError(f"station {station_id} has no window number")
    return station


def main(argv: list[str]) -> int:
    got = begin("hallq counter", _parser(), argv)
    if isinstance(got, int):
        return got
    args, config = got
    try:
        station = pick_station(config, args.station)
    except ValueError as exc:
        sys.stderr.write(f"hallq counter: {exc}\n")
        return 2
    from drivers.factory import ConfigurationError, build_station

    try:
        devices = build_station(station, config=config)  # opens nothing yet
    except ConfigurationError as exc:
        sys.stderr.write(f"hallq counter: {exc}\n")
        return 2
    if args.check_config:
        devices.close()
        sys.stdout.write(
            f"OK  {args.config}: station {station.id} ({station.role.value}, window {station.window})\n"
        )
        return 0

    from hallui.runner import run_qt

    async def run(qapp: QApplication) -> int:
        return await _run(qapp, config, station, devices, args)

    return run_qt(run)


async def _run(
    qapp: QApplication,
    config: HallConfig,
    station: Station,
    devices: StationDevices,
    args: argparse.Namespace,
) -> int:
    from counter.app import assemble
    from counter.texts import catalog
    from hallclient.enroll import load_token
    from hallclient.http import HttpHall
    from hallcore.clock import SystemClock
    from hallui.trust import find_hall_server

    clock = SystemClock()
    token_path = args.state_dir / f"{station.id}.json"
    # Its own server only: the pinned hall CA's certificate, wherever mDNS says it is (hallclient/link.py).
    link = await find_hall_server(
        token_path, config, args.server or "", full_screen=False, interfaces=args.mdns_interface
    )
    server = link.url
    api = HttpHall(server, load_token(token_path), clock=clock, verify=link.context())
    devices.start()  # buses open on their own threads and keep retrying: an unplugged strip never stops us
    app = assemble(
        config, station, api, clock, catalog(args.language), devices, enrolled=api.token is not None
    )
    app.window.show()
    try:
        if api.token is None:
            api.set_token(await app.enroll(api, token_path, server=server))
        await app.start()
        closed = asyncio.get_running_loop().create_future()

        def window_closed() -> None:
            if not closed.done():
                closed.set_result(None)

        qapp.lastWindowClosed.connect(window_closed)
        await closed
    finally:
        await app.aclose()
        await api.aclose()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
