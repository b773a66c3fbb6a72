"""One display put together: flow, controller, bridge and board view (the counter's shape). `__main__`
builds what a real display needs (config, HttpHall, devices, the voice) and calls `assemble`; tests and the
benchmark call it with a live server on 127.0.0.1, a fake voice player and emulated boards."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from display.bridge import DisplayBridge
from display.controller import DisplayController
from display.flow import DisplayFlow
from display.hallboard import LedSync
from display.views import BoardView, Orientation
from display.voice import VoiceCaller
from drivers.protocols import Announcer
from hallclient.api import HallApi
from hallcore.clock import Clock
from hallcore.config import HallConfig
from hallui.i18n import Catalog


@dataclass
class DisplayApp:
    flow: DisplayFlow
    controller: DisplayController
    bridge: DisplayBridge
    view: BoardView
    voice: VoiceCaller | None

    def refresh(self) -> None:
        self.view.show_state(self.controller.state)

    async def run(self, api: HallApi) -> None:
        """Follow the hall until `aclose()` (the clock and the stale check tick every second)."""
        self.bridge.start_ticking()
        await self.controller.run(api)

    async def aclose(self) -> None:
        self.bridge.stop_ticking()
        await self.controller.aclose()


def assemble(
    config: HallConfig,
    clock: Clock,
    catalog: Catalog,
    *,
    zone: str = "",
    tz: dt.tzinfo = dt.UTC,
    orientation: Orientation = Orientation.LANDSCAPE,
    announcer: Announcer | None = None,
    hall_board: LedSync | None = None,
    voice_problem: str = "",
    tick_ms: int = 1000,
) -> DisplayApp:
    flow = DisplayFlow(config, clock, zone=zone, tz=tz, speak_max_age_s=config.voice.max_age_s)
    if voice_problem:
        flow.set_voice_problem(voice_problem)
    view = BoardView(catalog, orientation)
    bridge = DisplayBridge(tick_ms, parent=view)  # the view owns every Qt object of the display
    voice = VoiceCaller(announcer, post=bridge.post) if announcer is not None else None
    controller = DisplayController(flow, led=config.led, voice=voice, hall_board=hall_board)
    bridge.attach(controller)
    app = DisplayApp(flow, controller, bridge, view, voice)
    bridge.changed.connect(app.refresh)
    app.refresh()
    return app
