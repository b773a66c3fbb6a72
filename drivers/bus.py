"""Serial buses of window devices: the HQP/1 master (strips, keypads, rating pads) and the vendor 485 keypads.

Each bus owns one pyserial port opened with `serial.serial_for_url`, so a USB adapter, an RS-485-to-Ethernet
box (`socket://`), a pty in tests and `loop://` all work from config. All port I/O happens on one thread per
bus; callers get `concurrent.futures.Future`s (blocking `.result()` for a headless agent,
`asyncio.wrap_future` for the qasync apps), so a half-duplex bus never sees two requests at once and no
caller blocks the UI loop.
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Protocol, TypeVar

import serial

from drivers.base import OK, DeviceState, DeviceUnavailable, DriverError, Health, ProtocolError
from drivers.codecs import hqp, vendor485
from drivers.codecs.hqp import Cmd, Color, Effect, Frame, KeyEvent, RateResult
from drivers.listeners import Listeners
from drivers.protocols import Unsubscribe

log = logging.getLogger(__name__)

# A blocking call on a bus never waits longer than this, whatever happens below: a hang guard, not a timeout
# anyone should reach (a request costs at most tries x (reply deadline + transmit time) on the wire).
_CALL_GUARD_S = 30.0


class PortOpener(Protocol):
    def __call__(self, url: str, *, baudrate: int, timeout: float) -> serial.SerialBase: ...


def _open_port(url: str, *, baudrate: int, timeout: float) -> serial.SerialBase:
    port = serial.serial_for_url(url, baudrate=baudrate, timeout=timeout)
    assert isinstance(port, serial.SerialBase)
    return port


class _LinkLostError(Exception):
    """The port itself failed (unplugged, pty closed, TCP box gone): every device on it is unreachable."""


class SerialLink:
    """One port by URL, reopened with bounded exponential backoff. Logs once on loss and once on recovery,
    never once per retry: a hall's log must stay readable through a night with a box switched off."""

    def __init__(
        self,
        url: str,
        *,
        baud: int = 9600,
        name: str = "",
        read_slice_s: float = 0.01,
        backoff_initial_s: float = 0.05,
        backoff_max_s: float = 2.0,
        opener: PortOpener = _open_port,
    ) -> None:
        self.url = url
        self.baud = baud
        self.name = name or url
        self._read_slice_s = read_slice_s
        self._backoff_initial_s = backoff_initial_s
        self._backoff_max_s = backoff_max_s
        self._backoff_s = backoff_initial_s
        self._opener = opener
        self._port: serial.SerialBase | None = None
        self._ever_open = False
        self._loss_logged = False
        self.reason = "not opened yet"
        self.losses = 0

    @property
    def is_open(self) -> bool:
        return self._port is not None

    def try_open(self) -> bool:
        if self._port is not None:
            return True
        try:
            # The port's own timeout is only the slice one read waits; reply deadlines are kept by the caller.
            self._port = self._opener(self.url, baudrate=self.baud, timeout=self._read_slice_s)
        except (serial.SerialException, OSError, ValueError) as e:
            self.reason = f"cannot open {self.url}: {e}"
            if not self._loss_logged:
                self._loss_logged = True
                log.warning("%s unavailable (%s); retrying in the background", self.name, self.reason)
            return False
        if self._loss_logged:
            log.info("%s is back", self.name)
        self._loss_logged = False
        self._ever_open = True
        self._backoff_s = self._backoff_initial_s
        self.reason = ""
        return True

    def next_backoff(self) -> float:
        delay = self._backoff_s
        self._backoff_s = min(self._backoff_s * 2, self._backoff_max_s)
        return delay

    def lost(self, error: BaseException) -> None:
        self.losses += 1
        self.reason = f"{self.url} lost: {error}"
        if not self._loss_logged:
            self._loss_logged = True
            log.warning("%s unavailable (%s); reconnecting in the background", self.name, self.reason)
        self.close()

    def close(self) -> None:
        port, self._port = self._port, None
        if port is not None:
            # A port that is already gone has nothing left to release.
            with contextlib.suppress(serial.SerialException, OSError):
                port.close()

    def write(self, data: bytes) -> None:
        if self._port is None:
            raise _LinkLostError(self.reason)
        try:
            # No flush(): tcdrain on a dead pty raises termios.error, and the reply deadline already allows
            # for the frame's time on the wire.
            self._port.write(data)
        except (serial.SerialException, OSError) as e:
            raise _LinkLostError(str(e)) from e

    def read_some(self) -> bytes:
        """What has arrived, waiting at most one read slice for the first byte."""
        if self._port is None:
            raise _LinkLostError(self.reason)
        try:
            # The stubs' SerialBase lacks in_waiting; every port class serial_for_url returns has it.
            waiting = int(getattr(self._port, "in_waiting", 0))
            return bytes(self._port.read(waiting or 1))
        except (serial.SerialException, OSError) as e:
            raise _LinkLostError(str(e)) from e


T = TypeVar("T")

# --- HQP/1 master ------------------------------------------------------------------------------------------

EventHandler = Callable[[hqp.Event], None]


@dataclass(eq=False)
class _Request:
    addr: int
    cmd: int
    payload: bytes
    future: Future[Frame | None] = field(default_factory=Future)


@dataclass
class _Poller:
    handler: EventHandler
    next_at: float = 0.0
    backoff_s: float = 0.0


class HqpBusMaster:
    """The only master of one HQP/1 bus. Thread-safe; start() it, close() it (or use it as a context manager).

    - One request on the wire at a time, a per-frame reply deadline, `tries` attempts with the same SEQ.
    - Keypads and pads are polled round-robin when no request waits; a silent device is polled less often.
    - POLL events are delivered exactly once: a device repeats an event while it sees the same SEQ, so the
      master drops repeats by (address, SEQ), and re-sends a POLL that got no answer with the *same* SEQ so
      the device never discards an event the master did not get.
    - A lost port fails requests at once with `DeviceUnavailable` and is reopened in the background.
    """

    def __init__(
        self,
        url: str,
        *,
        baud: int = 9600,
        reply_timeout_s: float = 0.05,
        tries: int = 3,
        poll_gap_s: float = 0.02,
        dead_poll_backoff_max_s: float = 5.0,
        backoff_max_s: float = 2.0,
        name: str = "",
        opener: PortOpener = _open_port,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name or f"HQP/1 bus {url}"
        self._link = SerialLink(url, baud=baud, name=self.name, backoff_max_s=backoff_max_s, opener=opener)
        self._reply_timeout_s = reply_timeout_s
        self._tries = tries
        self._poll_gap_s = poll_gap_s
        self._dead_poll_backoff_max_s = dead_poll_backoff_max_s
        self._now = monotonic
        self._decoder = hqp.FrameDecoder()
        self._requests: queue.Queue[_Request | None] = queue.Queue()
        self._lock = threading.Lock()  # guards the dicts below against callers on other threads
        self._pollers: dict[int, _Poller] = {}
        self._poll_order: list[int] = []
        self._poll_index = 0
        self._seq: dict[int, int] = {}
        self._unanswered_poll_seq: dict[int, int] = {}
        self._delivered: dict[int, set[int]] = {}
        self._device_ok: dict[int, bool] = {}
        self._state_listeners: list[Callable[[DeviceState], None]] = []
        self._down = False
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self.retries = 0
        self.duplicates_dropped = 0

    # lifecycle

    def start(self) -> HqpBusMaster:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._requests.put(None)
        if self._thread is not None:
            self._thread.join(timeout=_CALL_GUARD_S)
            self._thread = None
        self._link.close()
        self._fail_queued(DeviceUnavailable(f"{self.name} is closed"))

    def __enter__(self) -> HqpBusMaster:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    # state

    def state(self) -> DeviceState:
        if self._down or not self._link.is_open:
            return DeviceState(Health.UNAVAILABLE, self._link.reason)
        return OK

    def device_state(self, addr: int) -> DeviceState:
        bus = self.state()
        if not bus.ok:
            return bus
        if self._device_ok.get(addr, True):
            return OK
        return DeviceState(Health.UNAVAILABLE, f"address {addr} on {self._link.url} does not answer")

    def add_state_listener(self, listener: Callable[[DeviceState], None]) -> Unsubscribe:
        """Called on the bus thread when the port is lost or back (e.g. to re-send what a strip showed)."""
        with self._lock:
            self._state_listeners.append(listener)

        def remove() -> None:
            with self._lock, contextlib.suppress(ValueError):
                self._state_listeners.remove(listener)

        return remove

    # requests

    def submit(self, addr: int, cmd: int, payload: bytes = b"") -> Future[Frame | None]:
        """Queue one request; the future gives the reply frame (None for broadcast) or raises
        `DeviceUnavailable` (port lost, device silent) or `ProtocolError` (NACK)."""
        request = _Request(addr, cmd, payload)
        if self._stop.is_set():
            request.future.set_exception(DeviceUnavailable(f"{self.name} is closed"))
        elif self._down:
            # Fail fast: the caller shows a degraded state now rather than after the reconnect backoff.
            request.future.set_exception(DeviceUnavailable(self._link.reason))
        else:
            self._requests.put(request)
        return request.future

    def request(self, addr: int, cmd: int, payload: bytes = b"") -> Frame | None:
        return self.submit(addr, cmd, payload).result(timeout=_CALL_GUARD_S)

    def add_poller(self, addr: int, handler: EventHandler) -> Unsubscribe:
        """Poll `addr` and hand each event to `handler`, on the bus thread (keep it short, never block)."""
        if not 1 <= addr <= hqp.MAX_ADDRESS:
            raise ValueError(f"HQP/1 polled devices have addresses 1..{hqp.MAX_ADDRESS}, got {addr}")
        with self._lock:
            if addr in self._pollers:
                raise ValueError(f"{self.name}: address {addr} is already polled by another driver")
            self._pollers[addr] = _Poller(handler)
            self._poll_order.append(addr)
        self._wake.set()

        def remove() -> None:
            with self._lock:
                if self._pollers.pop(addr, None) is not None:
                    self._poll_order.remove(addr)

        return remove

    # bus thread

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if not self._link.is_open and not self._reopen():
                    continue
                request = self._next_request()
                if request is not None:
                    self._execute(request)
                elif not self._stop.is_set():
                    self._poll_due()
            except _LinkLostError as e:
                self._on_lost(e)
            except Exception:
                # A bug must not kill the bus thread silently; wait a moment so a repeating bug cannot spin.
                log.exception("%s: unexpected error on the bus thread", self.name)
                self._stop.wait(0.5)

    def _reopen(self) -> bool:
        if self._link.try_open():
            self._decoder.reset()
            if self._down:
                self._down = False
                self._notify_state(OK)
            return True
        self._mark_down()
        self._fail_queued(DeviceUnavailable(self._link.reason))
        # Wait on an event, not a loop: no CPU while the port is gone, and close() still wakes us at once.
        self._wake.wait(self._link.next_backoff())
        self._wake.clear()
        return False

    def _mark_down(self) -> None:
        if not self._down:
            self._down = True
            self._notify_state(DeviceState(Health.UNAVAILABLE, self._link.reason))

    def _on_lost(self, error: _LinkLostError) -> None:
        self._link.lost(error)
        self._mark_down()
        self._fail_queued(DeviceUnavailable(self._link.reason))

    def _notify_state(self, state: DeviceState) -> None:
        with self._lock:
            listeners = list(self._state_listeners)
        for listener in listeners:
            try:
                listener(state)
            except Exception:
                log.exception("%s: state listener failed", self.name)

    def _fail_queued(self, error: DriverError) -> None:
        while True:
            try:
                request = self._requests.get_nowait()
            except queue.Empty:
                return
            if request is not None and request.future.set_running_or_notify_cancel():
                request.future.set_exception(error)

    def _next_request(self) -> _Request | None:
        with self._lock:
            due = min((p.next_at for p in self._pollers.values()), default=None)
        wait = 0.5 if due is None else max(0.0, due - self._now())
        try:
            return self._requests.get(timeout=wait) if wait > 0 else self._requests.get_nowait()
        except queue.Empty:
            return None

    def _execute(self, request: _Request) -> None:
        if not request.future.set_running_or_notify_cancel():
            return
        try:
            reply = self._transact(request.addr, request.cmd, request.payload)
        except _LinkLostError as e:
            request.future.set_exception(DeviceUnavailable(f"{self.name}: {e}"))
            raise
        except DriverError as e:
            request.future.set_exception(e)
            return
        request.future.set_result(reply)

    def _poll_due(self) -> None:
        with self._lock:
            if not self._poll_order:
                return
            now = self._now()
            # Round-robin from where the last poll stopped, so one chatty keypad cannot starve the others.
            for i in range(len(self._poll_order)):
                index = (self._poll_index + i) % len(self._poll_order)
                addr = self._poll_order[index]
                poller = self._pollers[addr]
                if poller.next_at <= now:
                    self._poll_index = index + 1
                    break
            else:
                return
        try:
            self._transact(addr, Cmd.POLL, b"")
        except DeviceUnavailable:
            # A silent keypad costs tries x deadline per round: poll it less often until it answers again.
            poller.backoff_s = min(max(poller.backoff_s * 2, 0.5), self._dead_poll_backoff_max_s)
            poller.next_at = self._now() + poller.backoff_s
            return
        poller.backoff_s = 0.0
        poller.next_at = self._now() + self._poll_gap_s

    def _next_seq(self, addr: int, cmd: int) -> int:
        if cmd == Cmd.POLL and addr in self._unanswered_poll_seq:
            # Same SEQ again: the device may hold an event it already sent under this SEQ (PROTOCOLS.md §2).
            return self._unanswered_poll_seq.pop(addr)
        seq = (self._seq.get(addr, 0) + 1) & 0xFF
        self._seq[addr] = seq
        # This SEQ was last used 256 requests ago; any reply to that one is long gone, so a new event that
        # arrives under it is not a duplicate.
        self._delivered.get(addr, set()).discard(seq)
        return seq

    def _transact(self, addr: int, cmd: int, payload: bytes) -> Frame | None:
        seq = self._next_seq(addr, cmd) if addr != hqp.BROADCAST else 0
        raw = hqp.encode_frame(addr, cmd, seq, payload)
        if addr == hqp.BROADCAST:
            self._link.write(raw)
            return None
        # The deadline starts once the frame is on the wire: 10 bits a byte at the line's baud rate.
        deadline_s = self._reply_timeout_s + len(raw) * 10 / self._link.baud
        for attempt in range(self._tries):
            if attempt:
                self.retries += 1
            self._link.write(raw)
            deadline = self._now() + deadline_s
            while self._now() < deadline:
                match: Frame | None = None
                # Every frame of the read is handled, also those after the reply: a duplicate or a late
                # event must not be lost because it arrived in the same chunk.
                for frame in self._decoder.feed(self._link.read_some()):
                    self._on_frame(frame)
                    if (
                        frame.addr == addr
                        and frame.seq == seq
                        and frame.cmd in (cmd | hqp.REPLY_BIT, Cmd.NACK)
                    ):
                        match = match or frame
                if match is None:
                    continue
                self._device_answered(addr)
                if match.cmd == Cmd.NACK:
                    code = match.payload[0] if match.payload else -1
                    raise ProtocolError(
                        f"{self.name}: address {addr} refused command {cmd:02X} (NACK code {code})"
                    )
                return match
        if cmd == Cmd.POLL:
            self._unanswered_poll_seq[addr] = seq
        self._device_silent(addr)
        raise DeviceUnavailable(
            f"{self.name}: address {addr} did not answer command {cmd:02X} after {self._tries} tries; "
            "check its power, address and the bus wiring"
        )

    def _on_frame(self, frame: Frame) -> None:
        """Any POLL reply that arrives, even late for an earlier try, delivers its event once."""
        if frame.cmd != Cmd.POLL | hqp.REPLY_BIT or not frame.payload:
            return
        delivered = self._delivered.setdefault(frame.addr, set())
        if frame.seq in delivered:
            self.duplicates_dropped += 1
            return
        try:
            event = hqp.parse_poll_reply(frame.payload)
        except ProtocolError as e:
            log.warning("%s: %s", self.name, e)
            return
        delivered.add(frame.seq)
        with self._lock:
            poller = self._pollers.get(frame.addr)
        if event is None or poller is None:
            return
        try:
            poller.handler(event)
        except Exception:
            log.exception("%s: handler of address %d failed on %r", self.name, frame.addr, event)

    def _device_answered(self, addr: int) -> None:
        if not self._device_ok.get(addr, True):
            log.info("%s: address %d answers again", self.name, addr)
        self._device_ok[addr] = True

    def _device_silent(self, addr: int) -> None:
        if self._device_ok.get(addr, True):
            log.warning("%s: address %d does not answer", self.name, addr)
        self._device_ok[addr] = False


def _result(future: Future[Frame | None]) -> Frame | None:
    return future.result(timeout=_CALL_GUARD_S)


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
        return self.request_future(ticket, timeout_s).result(
            timeout=timeout_s + self._grace_s + _CALL_GUARD_S
        )

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


# --- vendor 485 keypads ------------------------------------------------------------------------------------


class Vendor485Bus:
    """A bus of vendor 485 call keypads (PROTOCOLS.md §3). Keypads send on their own; the host reads, echoes
    every valid frame back unchanged as its ACK, and writes display/beep frames between reads."""

    def __init__(
        self,
        url: str,
        *,
        baud: int = 9600,
        backoff_max_s: float = 2.0,
        name: str = "",
        opener: PortOpener = _open_port,
    ) -> None:
        self.name = name or f"vendor 485 bus {url}"
        self._link = SerialLink(url, baud=baud, name=self.name, backoff_max_s=backoff_max_s, opener=opener)
        self._decoder = vendor485.VendorDecoder()
        self._write_lock = threading.Lock()
        self._keypads: dict[int, Listeners[KeyEvent]] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._down = False

    def start(self) -> Vendor485Bus:
        if self._thread is None:
            self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
            self._thread.start()
        return self

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=_CALL_GUARD_S)
            self._thread = None
        with self._write_lock:
            self._link.close()

    def __enter__(self) -> Vendor485Bus:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def state(self) -> DeviceState:
        if self._down or not self._link.is_open:
            return DeviceState(Health.UNAVAILABLE, self._link.reason)
        return OK

    def listeners(self, addr: int) -> Listeners[KeyEvent]:
        return self._keypads.setdefault(addr, Listeners(f"vendor keypad {addr}"))

    def write(self, data: bytes) -> None:
        with self._write_lock:
            try:
                self._link.write(data)
            except _LinkLostError as e:
                raise DeviceUnavailable(f"{self.name}: {e}") from e

    def _run(self) -> None:
        while not self._stop.is_set():
            if not self._link.is_open:
                with self._write_lock:
                    opened = self._link.try_open()
                if not opened:
                    self._down = True
                    self._stop.wait(self._link.next_backoff())
                    continue
                self._down = False
                self._decoder.reset()
            try:
                with self._write_lock:
                    data = self._link.read_some()
                for frame in self._decoder.feed(data):
                    self._on_frame(frame)
            except _LinkLostError as e:
                with self._write_lock:
                    self._link.lost(e)
                self._down = True
            except Exception:
                log.exception("%s: unexpected error on the bus thread", self.name)
                self._stop.wait(0.5)

    def _on_frame(self, frame: vendor485.VendorFrame) -> None:
        # ACK first: the keypad waits for its echo and resends otherwise, whatever we do with the key.
        with self._write_lock:
            self._link.write(frame.raw)
        event = vendor485.key_event(frame)
        listeners = self._keypads.get(frame.addr)
        if event is None:
            return
        if listeners is None:
            log.info("%s: key %r from address %d, which no window uses", self.name, event, frame.addr)
            return
        listeners.emit(event)


class Vendor485Keypad:
    """A `CallKeypad` on a vendor 485 bus."""

    def __init__(self, bus: Vendor485Bus, address: int) -> None:
        self._bus = bus
        self.address = address

    def subscribe(self, listener: Callable[[KeyEvent], None]) -> Unsubscribe:
        return self._bus.listeners(self.address).add(listener)

    def show(self, ticket: str, waiting: int) -> None:
        self._bus.write(vendor485.encode_display(self.address, waiting=waiting, ticket=ticket))

    def beep(self) -> None:
        self._bus.write(vendor485.encode_beep(self.address))

    def state(self) -> DeviceState:
        return self._bus.state()
