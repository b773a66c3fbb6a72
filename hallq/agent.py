"""`hallq devices serve`: the headless device agent for halls that wire every LED to one serial line.

It follows the hall's event stream like a display does and drives, on one HQP/1 bus, the strip of each window
(by the window's `led_address`) and any hall boards. A strip shows what the counter app would show on its
own strip (`hallcore.windowstrip`): the call ("请A012号到5号窗口", `led.calling`), the matter being served,
"暂停服务 <reason>" (`led.paused`), the welcome line when the window is open and free, `led.closed` when it
is closed. Hall boards show the last calls (`display.hallboard`). The strips and boards are built by
`drivers.factory` from the agent station's `led` (the bus) and the windows' `led_address` values.

Survives: a bus unplug (the bus master reopens the port and the strips are written again), a server restart
(the event stream resumes after its last seq, or takes a snapshot), a server that is not up yet at start.

    hallq devices serve --config config/county.toml --station agent-1 [--server URL] [--bus URL]
                        [--window N ...] [--all-windows] [--hall-board ADDR ...] [--state-dir DIR]
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import logging
import sys
import zoneinfo
from collections.abc import Awaitable, Callable, Iterable, Mapping
from concurrent.futures import ThreadPoolExecutor
from dataclasses import replace
from typing import TYPE_CHECKING

from display.flow import DisplayFlow
from display.hallboard import Area, LedSync, brightness_at, hall_board_areas
from drivers.protocols import DeviceState, LedBoard
from hallclient.api import EventFeed, HallApi
from hallclient.errors import HallClientError, ServerUnavailable
from hallclient.types import EventItem, HallSnapshot, Snapshot, StateChange, StreamItem
from hallcore.clock import Clock
from hallcore.config import Device, HallConfig, Led, Station, StationRole
from hallcore.events import TicketChanged, WindowChanged, WindowView
from hallcore.windowstrip import StripText, window_strip
from hallui.stationcli import begin, station_parser

if TYPE_CHECKING:
    from drivers.factory import StationDevices

log = logging.getLogger("hallq.agent")


class StripFlow:
    """Pure: the windows' states from events and snapshots, and which strips changed."""

    def __init__(self, led: Led, windows: Iterable[int]) -> None:
        self.led = led
        self.windows = frozenset(windows)
        self._views: dict[int, WindowView] = {}
        self._matters: dict[int, str] = {}

    def load(self, snap: HallSnapshot) -> set[int]:
        matters = {c.ticket.label: c.ticket.matter_name for c in snap.recent_calls}
        for w in snap.windows:
            if w.number in self.windows:
                self._views[w.number] = w
                self._matters[w.number] = matters.get(w.current, "")
        return set(self.windows)

    def apply(self, item: StreamItem) -> set[int]:
        """The windows whose strip may have changed."""
        if isinstance(item, Snapshot):
            return self.load(item.snapshot)
        if not isinstance(item, EventItem):
            return set()
        ev = item.event
        if isinstance(ev, TicketChanged) and ev.window is not None:
            w = ev.window
            if w.number not in self.windows:
                return set()
            self._views[w.number] = w
            if ev.ticket.label == w.current:
                self._matters[w.number] = ev.ticket.matter_name
            return {w.number}
        if isinstance(ev, WindowChanged) and ev.window.number in self.windows:
            self._views[ev.window.number] = ev.window
            return {ev.window.number}
        return set()

    def strip(self, number: int) -> StripText:
        """What window `number`'s strip shows (the counter app's rule); closed until its state is known."""
        view = self._views.get(number)
        if view is None:
            return window_strip(self.led, number, "closed")
        return window_strip(
            self.led,
            number,
            view.state,
            held=view.current,
            held_state=view.current_state,
            matter=self._matters.get(number, ""),
            pause_reason=view.pause_reason,
        )


class Agent:
    """Follows `api`'s events and keeps `strips` (window number -> board) and `hall_boards` showing them."""

    def __init__(
        self,
        config: HallConfig,
        api: HallApi,
        clock: Clock,
        *,
        strips: Mapping[int, LedBoard],
        hall_boards: Iterable[LedBoard] = (),
        executor: ThreadPoolExecutor,
        zone: str = "",
        tz: dt.tzinfo = dt.UTC,
        retry_s: float = 2.0,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.config = config
        self.api = api
        self.clock = clock
        self.tz = tz
        self._retry_s = retry_s
        self._sleep = sleep
        self.flow = StripFlow(config.led, strips)
        self.strips = {
            n: LedSync(b, executor=executor, name=f"window {n} strip", on_state=self._health("strip", n))
            for n, b in strips.items()
        }
        self.calls = DisplayFlow(config, clock, zone=zone, tz=tz, speak_max_age_s=float("inf"))
        self.hall_boards = [
            LedSync(b, executor=executor, name=f"hall board {i + 1}", on_state=self._health("board", i + 1))
            for i, b in enumerate(hall_boards)
        ]
        self._feed: EventFeed | None = None
        self._reports: set[asyncio.Task[None]] = set()

    def _health(self, kind: str, n: int) -> Callable[[DeviceState], None]:
        def report(state: DeviceState) -> None:
            task = asyncio.get_running_loop().create_task(self._report(f"{kind}-{n}", state))
            self._reports.add(task)
            task.add_done_callback(self._reports.discard)

        return report

    async def _report(self, device: str, state: DeviceState) -> None:
        with contextlib.suppress(HallClientError):
            await self.api.report_device_health(device, state.health.value, state.reason)

    def brightness(self) -> int | None:
        return brightness_at(self.config.led.brightness, self.clock.now().astimezone(self.tz).time())

    def refresh(self, windows: Iterable[int] | None = None) -> None:
        level = self.brightness()
        for n in self.strips if windows is None else windows:
            self.strips[n].want({0: Area.of(self.flow.strip(n))}, brightness=level)
        calls = [(c.label, c.window) for c in self.calls.calls()]
        areas = hall_board_areas(self.config.led, calls, stale=self.calls.stale)
        for board in self.hall_boards:
            board.want(areas, brightness=level)

    async def first_snapshot(self) -> HallSnapshot:
        while True:
            try:
                return await self.api.snapshot()
            except ServerUnavailable as e:
                log.info("agent: server not reachable yet (%s); retrying", e)
                await self._sleep(self._retry_s)

    async def run(self) -> None:
        """Until `aclose()`: snapshot, then events (the feed resumes by itself after every loss)."""
        snap = await self.first_snapshot()
        self.flow.load(snap)
        self.calls.load_snapshot(snap)
        self.refresh()
        feed = self.api.events(since=snap.seq)
        self._feed = feed
        remove = feed.add_state_listener(self._on_state)
        ticker = asyncio.get_running_loop().create_task(self._tick())
        try:
            async for item in feed:
                changed = self.flow.apply(item)
                self.calls.apply(item)
                self.refresh(changed)
        finally:
            remove()
            ticker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await ticker

    def _on_state(self, change: StateChange) -> None:
        self.calls.connection_changed(change.state)
        self.refresh(())

    async def _tick(self) -> None:
        """Once a minute: brightness by time of day, and the hall boards' stale check."""
        while True:
            await self._sleep(60.0)
            self.refresh(())

    async def idle(self) -> None:
        for sync in [*self.strips.values(), *self.hall_boards]:
            await sync.idle()

    async def aclose(self) -> None:
        feed, self._feed = self._feed, None
        if feed is not None:
            await feed.aclose()
        for sync in [*self.strips.values(), *self.hall_boards]:
            await sync.aclose()
        for task in list(self._reports):
            task.cancel()


# ---- wiring -----------------------------------------------------------------------------------------------


def parser() -> argparse.ArgumentParser:
    p = station_parser(
        "hallq devices serve",
        "Run the device agent (shared LED bus).",
        station_help="the agent's station id (default: the first agent in the config)",
    )
    p.add_argument("--bus", help="the bus's pyserial URL (default: the station's led.url)")
    p.add_argument("--window", type=int, action="append", default=[], help="drive only these windows")
    p.add_argument("--all-windows", action="store_true", help="also windows whose counter has a strip")
    p.add_argument("--hall-board", type=int, action="append", default=[], metavar="ADDR")
    return p


def main(argv: list[str]) -> int:
    got = begin("hallq devices serve", parser(), argv)
    if isinstance(got, int):
        return got
    args, config = got
    agents = [s for s in config.stations if s.role is StationRole.AGENT]
    station = config.station_by_id.get(args.station) if args.station else (agents[0] if agents else None)
    if station is None or station.role is not StationRole.AGENT:
        print(
            f"hallq devices serve: no agent station {args.station or ''!r} in {args.config}", file=sys.stderr
        )
        return 2
    if args.bus:
        led = replace(station.led, url=args.bus) if station.led is not None else Device("hqp", url=args.bus)
        station = replace(station, led=led)
    if station.led is None or not station.led.url:
        print(
            f"hallq devices serve: station {station.id} has no [stations.led] url; pass --bus",
            file=sys.stderr,
        )
        return 2
    from drivers.factory import AgentOptions, ConfigurationError, build_station

    options = AgentOptions(
        windows=set(args.window) if args.window else None,
        all_windows=args.all_windows,
        hall_boards=tuple(args.hall_board),
    )
    try:
        devices = build_station(station, config=config, agent=options)  # opens nothing yet
    except ConfigurationError as exc:
        print(f"hallq devices serve: {exc}", file=sys.stderr)
        return 2
    if args.check_config:
        devices.close()
        print(f"OK  {args.config}: agent {station.id} on {station.led.url}")
        return 0
    try:
        return asyncio.run(serve(args, config, station, devices))
    except KeyboardInterrupt:
        return 0
    finally:
        devices.close()


async def serve(
    args: argparse.Namespace, config: HallConfig, station: Station, devices: StationDevices
) -> int:
    from hallclient.enroll import ensure_token, pinned_fingerprint
    from hallclient.http import HttpHall
    from hallclient.link import TrustPolicy, Where, locate_until_found
    from hallclient.trust import UNTRUSTED_TEXT
    from hallcore.clock import SystemClock

    clock = SystemClock()
    tz = zoneinfo.ZoneInfo(config.hall.timezone)  # the config check refused an unknown zone
    cred_path = args.state_dir / f"{station.id}.json"
    # Its own server only: the pinned hall CA's certificate, wherever mDNS says it is (hallclient/link.py).
    link = await locate_until_found(
        cred_path,
        Where(config.hall.id, config.hall.public_base_url, args.server or "", args.mdns_interface),
        TrustPolicy(config.tls.required, config.tls.pin_on_first_contact),
        on_untrusted=lambda reason: log.error("%s: %s", UNTRUSTED_TEXT[1], reason),
        on_found=lambda found: log.info("hall server %s", found.url),
    )
    base, tls = link.url, link.context()
    anonymous = HttpHall(base, clock=clock, verify=tls)

    def show_code(code: str) -> None:
        fp = pinned_fingerprint(cred_path)
        pinned = f" (server certificate {fp}: compare it with the dashboard's)" if fp else ""
        log.warning("enrollment code %s: ask the hall manager to approve it%s", code, pinned)

    try:
        token = await ensure_token(
            anonymous,
            cred_path,
            name=station.name or station.id,
            role="agent",
            server=base,
            on_code=show_code,
        )
    finally:
        await anonymous.aclose()
    executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="led bus")
    devices.start()
    api = HttpHall(base, token, clock=clock, verify=tls)
    agent = Agent(
        config,
        api,
        clock,
        strips=devices.boards,
        hall_boards=devices.hall_boards,
        executor=executor,
        zone=station.zone,
        tz=tz,
    )
    where = station.led.url if station.led is not None else "?"
    log.info(
        "agent %s: %d window strips and %d hall boards on %s",
        station.id,
        len(devices.boards),
        len(devices.hall_boards),
        where,
    )
    try:
        await agent.run()
    finally:
        await agent.aclose()
        await api.aclose()
        devices.close()
        executor.shutdown(wait=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
