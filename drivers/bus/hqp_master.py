"""The HQP/1 bus master (PROTOCOLS.md §2): the only master of one bus of strips, keypads and rating pads.

All port I/O happens on the bus's own thread; callers get `concurrent.futures.Future`s (blocking `.result()`
for a headless agent, `asyncio.wrap_future` for the qasync apps), so a half-duplex bus never sees two
requests at once and no caller blocks the UI loop.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from concurrent.futures import Future
from dataclasses import dataclass, field

from drivers.base import OK, DeviceState, DeviceUnavailable, DriverError, Health, ProtocolError
from drivers.bus.link import CALL_GUARD_S, LinkLostError, PortOpener, SerialBus, open_port
from drivers.codecs import hqp
from drivers.codecs.hqp import Cmd, Frame
from drivers.listeners import Listeners
from drivers.protocols import Unsubscribe

log = logging.getLogger(__name__)

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


class HqpBusMaster(SerialBus):
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
        opener: PortOpener = open_port,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        name = name or f"HQP/1 bus {url}"
        super().__init__(url, baud=baud, name=name, backoff_max_s=backoff_max_s, opener=opener)
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
        self._state_listeners: Listeners[DeviceState] = Listeners(f"{name} state")
        self._wake = threading.Event()
        self.retries = 0
        self.duplicates_dropped = 0

    # lifecycle

    def close(self) -> None:
        # Stop first, then wake the thread from its backoff wait or its queue: it must see the stop at once.
        self._stop.set()
        self._wake.set()
        self._requests.put(None)
        super().close()

    def _release(self) -> None:
        self._link.close()
        self._fail_queued(DeviceUnavailable(f"{self.name} is closed"))

    # state

    def device_state(self, addr: int) -> DeviceState:
        bus = self.state()
        if not bus.ok:
            return bus
        if self._device_ok.get(addr, True):
            return OK
        return DeviceState(Health.UNAVAILABLE, f"address {addr} on {self._link.url} does not answer")

    def add_state_listener(self, listener: Callable[[DeviceState], None]) -> Unsubscribe:
        """Called on the bus thread when the port is lost or back (e.g. to re-send what a strip showed)."""
        return self._state_listeners.add(listener)

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
        return self.submit(addr, cmd, payload).result(timeout=CALL_GUARD_S)

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
            except LinkLostError as e:
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
                self._state_listeners.emit(OK)
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
            self._state_listeners.emit(DeviceState(Health.UNAVAILABLE, self._link.reason))

    def _on_lost(self, error: LinkLostError) -> None:
        self._link.lost(error)
        self._mark_down()
        self._fail_queued(DeviceUnavailable(self._link.reason))

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
        except LinkLostError as e:
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
