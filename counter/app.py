"""One counter station put together: flow, controller, devices, bridge and window (desk tab for a desk).

`__main__` builds the objects a real station needs (config, HttpHall, buses) and calls `assemble`; tests call
it with a live server on 127.0.0.1 and emulated buses, so both run the same wiring.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from counter.bridge import Bridge
from counter.controller import CounterController
from counter.desk.controller import DeskController
from counter.desk.flow import DeskFlow
from counter.devices import WindowDevices
from counter.flow import CounterFlow
from counter.settings import settings_from_config
from counter.views import CounterWindow
from drivers.factory import StationDevices
from hallclient.api import HallApi, new_request_id
from hallclient.enroll import ensure_token, pinned_fingerprint
from hallcore.clock import Clock
from hallcore.config import HallConfig, Station, StationRole
from hallui.i18n import Catalog
from hallui.issuing import Issuer
from hallui.theme import stylesheet


@dataclass
class CounterApp:
    config: HallConfig
    station: Station
    flow: CounterFlow
    controller: CounterController
    devices: WindowDevices
    station_devices: StationDevices
    desk: DeskController | None
    bridge: Bridge
    window: CounterWindow

    async def start(self) -> None:
        await self.controller.start()
        if self.desk is not None:
            self.desk.start()
        self.refresh()

    def refresh(self) -> None:
        self.window.show_flow(self.flow)
        if self.desk is not None and self.window.desk is not None:
            self.window.desk.show_flow(self.desk.flow)

    async def enroll(self, api: HallApi, path: Path, *, server: str = "", poll_s: float = 2.0) -> str:
        """First start: show the enrollment code until the manager approves; returns the token."""

        def on_code(code: str) -> None:
            self.flow.enrolling(code)
            name, role = self.station.name or self.station.id, self.station.role.value
            self.window.enroll.show_code(code, name, role, pinned_fingerprint(path))
            self.refresh()

        token = await ensure_token(
            api,
            path,
            name=self.station.name or self.station.id,
            role=self.station.role.value,
            server=server,
            on_code=on_code,
            poll_s=poll_s,
        )
        self.flow.enrolled()
        self.refresh()
        return token

    async def aclose(self) -> None:
        self.bridge.stop()
        self.bridge.changed.disconnect()
        if self.desk is not None:
            self.bridge.desk_changed.disconnect()
        await self.controller.aclose()
        if self.desk is not None:
            await self.desk.aclose()
        # Buses first: a rating request blocked on a pad returns at once, so the worker threads can be
        # joined and nothing calls back into the loop after it is gone.
        self.station_devices.close()
        await asyncio.get_running_loop().run_in_executor(None, self.devices.close)


def assemble(
    config: HallConfig,
    station: Station,
    api: HallApi,
    clock: Clock,
    catalog: Catalog,
    devices: StationDevices,
    *,
    enrolled: bool = True,
    make_id: Callable[[], str] = new_request_id,
    retry_s: float = 1.0,
) -> CounterApp:
    if station.window is None:
        raise ValueError(f"station {station.id} has no window: a counter or desk station needs one")
    settings = settings_from_config(config, station.window)
    flow = CounterFlow(
        settings, clock, has_rating_pad=devices.rating_pad is not None, make_id=make_id, enrolled=enrolled
    )
    window_devices = WindowDevices(devices.led, devices.keypad, devices.rating_pad)
    controller = CounterController(api, flow, window_devices, retry_s=retry_s)
    desk: DeskController | None = None
    is_desk = station.role is StationRole.DESK
    if is_desk:
        desk = DeskController(
            Issuer(api, devices.printer),
            DeskFlow(config, make_id),
            reader=devices.id_reader,
            clock=clock,
        )
    window = CounterWindow(catalog, desk=is_desk)
    bridge = Bridge(controller, desk, parent=window)  # the window owns every Qt object of the station
    window.setStyleSheet(stylesheet())
    title_key = "app.desk_title" if is_desk else "app.title"
    window.setWindowTitle(catalog.t(title_key, window=station.window))
    app = CounterApp(config, station, flow, controller, window_devices, devices, desk, bridge, window)
    bridge.changed.connect(lambda: window.show_flow(flow))
    if desk is not None and window.desk is not None:
        desk_view, desk_flow = window.desk, desk.flow
        bridge.desk_changed.connect(lambda: desk_view.show_flow(desk_flow))
    window.intent.connect(bridge.request)
    window.desk_intent.connect(bridge.desk_request)
    return app
