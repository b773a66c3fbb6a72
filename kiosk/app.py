"""One kiosk put together: flow, controller, bridge and view (the counter's shape). `__main__` builds what a
real kiosk needs (config, HttpHall, devices) and calls `assemble`; tests and the benchmark call it with a
live server on 127.0.0.1 and an emulated printer, so all run the same wiring."""

from __future__ import annotations

from dataclasses import dataclass

from drivers.protocols import IdCardReader, Scanner, Speaker, TicketPrinter
from hallclient.api import HallApi
from hallcore.clock import Clock
from hallcore.config import HallConfig
from hallui.i18n import Catalog
from hallui.issuing import Issuer
from kiosk.bridge import KioskBridge
from kiosk.controller import KioskController
from kiosk.flow import KioskFlow
from kiosk.info import FlowSettings
from kiosk.speech import Guide
from kiosk.views import KioskView


@dataclass
class KioskApp:
    config: HallConfig
    flow: KioskFlow
    controller: KioskController
    bridge: KioskBridge
    view: KioskView
    catalog: Catalog
    guide: Guide | None = None  # spoken guidance, when the station has it

    def speak(self) -> None:
        """读给我听."""
        if self.guide is not None:
            self.guide.speak(self.flow)

    def render(self) -> None:
        self.catalog.language = self.flow.language
        self.controller.clock_tick()
        self.view.show_flow(self.flow, self.catalog, self.controller.info)
        self.countdown()
        if self.guide is not None:
            self.guide.follow(self.flow)  # elder mode says the new screen; any screen change stops speech

    def countdown(self) -> None:
        self.view.set_countdown(self.flow.seconds_left(self.controller.now()))
        self.view.set_clock(self.controller.info)

    def show(self) -> None:
        """Draw the first page and start the idle timer (the controller's watches start separately)."""
        self.flow.touch(self.controller.now())
        self.render()
        self.bridge.start_ticking()

    async def aclose(self) -> None:
        self.bridge.stop_ticking()
        if self.guide is not None:
            self.guide.close()
        await self.controller.aclose()


def assemble(
    config: HallConfig,
    api: HallApi,
    printer: TicketPrinter | None,
    clock: Clock,
    catalog: Catalog,
    *,
    scanner: Scanner | None = None,
    reader: IdCardReader | None = None,
    settings: FlowSettings | None = None,
    tick_ms: int = 1000,
    printer_poll_s: float = 2.0,
    health_poll_s: float = 2.0,
    speaker: Speaker | None = None,
) -> KioskApp:
    k = config.kiosk
    flow = KioskFlow(
        settings=settings or FlowSettings(float(k.idle_reset_s), float(k.elder_idle_reset_s)),
        matters=config.matters,
        priority_classes=config.priority_classes,
        languages=k.languages,
        language=k.languages[0] if k.languages else "zh",
    )
    controller = KioskController(
        config,
        api,
        Issuer(api, printer),
        flow,
        clock,
        scanner=scanner,
        reader=reader,
        printer_poll_s=printer_poll_s,
        health_poll_s=health_poll_s,
    )
    view = KioskView()
    view.speaks = speaker is not None
    bridge = KioskBridge(controller, tick_ms=tick_ms, parent=view)  # the view owns every Qt object
    bridge.attach(view)
    app = KioskApp(config, flow, controller, bridge, view, catalog, Guide(speaker) if speaker else None)
    view.speak_requested.connect(app.speak)
    bridge.changed.connect(app.render)
    bridge.ticked.connect(app.countdown)
    return app
