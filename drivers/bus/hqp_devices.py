"""The devices on an HQP/1 bus, each a driver of its protocol role: `HqpLedBoard` (a `LedBoard`),
`HqpCallKeypad` (a `CallKeypad`) and `HqpRatingPad` (a `RatingPad`)."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future

from drivers.base import DeviceState, DeviceUnavailable
from drivers.bus.hqp_master import HqpBusMaster
from drivers.bus.link import CALL_GUARD_S
from drivers.codecs import hqp
from drivers.codecs.hqp import Cmd, Color, Effect, Frame, RateResult
from drivers.keys import KeyEvent
from drivers.listeners import Listeners
from drivers.protocols import Unsubscribe

log = logging.getLogger(__name__)


def _result(future: Future[Frame | None]) -> Frame | None:
    return future.result(timeout=CALL_GUARD_S)


class HqpLedBoard:
    """A window strip or hall board on an HQP/1 bus. Remembers what each area shows and shows it again when
    the bus comes back, because a replugged adapter usually means the strip lost power too."""

    def __init__(self, bus: HqpBusMaster, address: int, *, replacement: str = "?") -> None:
        self._bus = bus
        self.address = address
        self._replacement = replacement
        self._shown: dict[int, bytes] = {}
        self._brightness: bytes | None = None
        self._unsubscribe = bus.add_state_listener(self._on_bus_state)

    def show(
        self,
        text: str,
        *,
        area: int = 0,
        color: int = Color.RED,
        effect: int = Effect.STATIC,
        speed: int = 5,
        hold_s: int = 0,
    ) -> None:
        payload = hqp.encode_led_text(
            hqp.LedText(text, area, color, effect, speed, hold_s), replacement=self._replacement
        )
        self._shown[area] = payload
        _result(self._bus.submit(self.address, Cmd.LED_TEXT, payload))

    def clear(self, area: int = 0) -> None:
        self._shown.pop(area, None)
        _result(self._bus.submit(self.address, Cmd.LED_CLEAR, hqp.encode_led_clear(area)))

    def brightness(self, level: int) -> None:
        self._brightness = hqp.encode_led_bright(level)
        _result(self._bus.submit(self.address, Cmd.LED_BRIGHT, self._brightness))

    def ping(self) -> bool:
        try:
            reply = _result(self._bus.submit(self.address, Cmd.PING))
        except DeviceUnavailable:
            return False
        return reply is not None

    def info(self) -> hqp.PingInfo:
        reply = _result(self._bus.submit(self.address, Cmd.PING))
        if reply is None:
            raise DeviceUnavailable("a broadcast address has no PING reply")
        return hqp.parse_ping_reply(reply.payload)

    def state(self) -> DeviceState:
        return self._bus.device_state(self.address)

    def close(self) -> None:
        self._unsubscribe()

    def _on_bus_state(self, state: DeviceState) -> None:
        # Runs on the bus thread: queue the frames, never wait for them here.
        if state.ok:
            if self._brightness is not None:
                self._bus.submit(self.address, Cmd.LED_BRIGHT, self._brightness)
            for payload in self._shown.values():
                self._bus.submit(self.address, Cmd.LED_TEXT, payload)


class HqpCallKeypad:
    """A call keypad on an HQP/1 bus: polled by the bus; each key press reaches listeners exactly once."""

    def __init__(self, bus: HqpBusMaster, address: int) -> None:
        self._bus = bus
        self.address = address
        self._listeners: Listeners[KeyEvent] = Listeners(f"keypad {address}")
        self._remove_poller = bus.add_poller(address, self._on_event)

    def subscribe(self, listener: Callable[[KeyEvent], None]) -> Unsubscribe:
        return self._listeners.add(listener)

    def show(self, ticket: str, waiting: int) -> None:
        _result(self._bus.submit(self.address, Cmd.KP_SHOW, hqp.encode_kp_show(ticket, waiting)))

    def beep(self) -> None:
        _result(self._bus.submit(self.address, Cmd.BEEP))

    def state(self) -> DeviceState:
        return self._bus.device_state(self.address)

    def close(self) -> None:
        self._remove_poller()

    def _on_event(self, event: hqp.Event) -> None:
        if isinstance(event, KeyEvent):
            self._listeners.emit(event)
        else:
            log.warning(
                "keypad %d sent a rating result %r; is a rating pad set to this address?", self.address, event
            )


class HqpRatingPad:
    """A rating pad on an HQP/1 bus. One request at a time; a new request supersedes a pending one."""

    def __init__(self, bus: HqpBusMaster, address: int, *, grace_s: float = 2.0) -> None:
        self._bus = bus
        self.address = address
        # The pad times out by itself and reports score 0; the grace covers polling delay before we give up.
        self._grace_s = grace_s
        self._lock = threading.Lock()
        self._pending: tuple[str, Future[int | None]] | None = None
        self._remove_poller = bus.add_poller(address, self._on_event)

    def request_future(self, ticket: str, timeout_s: float) -> Future[int | None]:
        """The score 1..5, or None on timeout; resolves on the bus thread (`asyncio.wrap_future` it)."""
        result: Future[int | None] = Future()
        with self._lock:
            previous, self._pending = self._pending, (ticket, result)
        if previous is not None and not previous[1].done():
            previous[1].set_result(None)
        sent = self._bus.submit(self.address, Cmd.RATE_REQ, hqp.encode_rate_req(ticket, round(timeout_s)))

        def on_sent(f: Future[Frame | None]) -> None:
            error = f.exception()
            if error is not None:
                self._finish(result, error)

        sent.add_done_callback(on_sent)
        timer = threading.Timer(timeout_s + self._grace_s, self._finish, (result, None))
        timer.daemon = True
        timer.start()
        result.add_done_callback(lambda _f: timer.cancel())
        return result

    def request(self, ticket: str, timeout_s: float) -> int | None:
        return self.request_future(ticket, timeout_s).result(timeout=timeout_s + self._grace_s + CALL_GUARD_S)

    def state(self) -> DeviceState:
        return self._bus.device_state(self.address)

    def close(self) -> None:
        self._remove_poller()
        with self._lock:
            pending, self._pending = self._pending, None
        if pending is not None:
            self._finish(pending[1], None)

    def _finish(self, result: Future[int | None], value: int | BaseException | None) -> None:
        with self._lock:
            if self._pending is not None and self._pending[1] is result:
                self._pending = None
        if result.done():
            return
        with contextlib.suppress(Exception):  # lost the race against another resolver: already done
            if isinstance(value, BaseException):
                result.set_exception(value)
            else:
                result.set_result(value)

    def _on_event(self, event: hqp.Event) -> None:
        if not isinstance(event, RateResult):
            log.warning("rating pad %d sent a key event %r", self.address, event)
            return
        with self._lock:
            pending = self._pending
        if pending is None or pending[0] != event.ticket:
            # A result for an older request (e.g. the clerk asked again): that citizen's rating is gone.
            log.info(
                "rating pad %d: result for %s, which is not the pending ticket; ignored", self.address, event
            )
            return
        self._finish(pending[1], event.score if 1 <= event.score <= 5 else None)
