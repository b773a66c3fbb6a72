"""居民身份证 readers on a serial port, a USB-serial port (`/dev/ttyACM*`), the network (`socket://`) or USB
bulk endpoints, all speaking the SAM frames of PROTOCOLS.md §6.

`SamSession` sends one command on an open link and returns its reply. `CardPoller` runs find → select → read
and reports each placement once. `SamIdCardReader` runs the poller on its own thread at a fixed period,
checks the SAM's status at start and after every error, and survives unplugging: `DeviceUnavailable` inside,
an unavailable state outside, reconnection with backoff, one log line on loss and one on recovery.
`read_one` is the same conversation for a one-off command (`hallq devices read-id`).
"""

from __future__ import annotations

import functools
import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from drivers.base import OK, DeviceState, DeviceUnavailable, DriverError, Health, ProtocolError
from drivers.codecs import idcard as c
from drivers.codecs.idcard import Command, FrameDecoder, IdCard, Outcome, Reply, SamResult
from drivers.devicethread import ReopeningThread
from drivers.idcard_events import CardEvent, CardFailed, CardRead, CardUnsupported
from drivers.listeners import Listeners
from drivers.protocols import Unsubscribe
from drivers.transport import SerialTransport, Transport, drain
from drivers.usb_bulk import UsbBulkTransport

log = logging.getLogger(__name__)

LinkOpener = Callable[[], Transport]
BITS_PER_BYTE = 10  # 8N1
READ_REPLY_LEN = 1295
# A SAM reads a card over the air before it answers a read: 0.3-1.2 s on the readers halls buy.
READ_RADIO_S = 2.0
# Vendors advise polling no faster than every 300 ms: a reader that is asked faster may miss a placement.
DEFAULT_POLL_S = 0.3


def serial_opener(url: str, *, baud: int = 115200, write_timeout_s: float = 1.0) -> LinkOpener:
    """A pyserial URL: `/dev/ttyUSB0`, `/dev/ttyACM0`, a pty, `socket://host:port` (a network reader)."""

    def open_link() -> Transport:
        import serial

        try:
            port = serial.serial_for_url(url, baudrate=baud, timeout=0.1, write_timeout=write_timeout_s)
        except (serial.SerialException, OSError, ValueError) as e:
            raise DeviceUnavailable(f"{url}: cannot open ({e})") from e
        return SerialTransport(port, name=url)

    return open_link


def usb_opener(vendor: int, product: int, **where: Any) -> LinkOpener:
    """A reader on vendor bulk endpoints (pyusb), opened again on each try; `where` is what else
    `UsbBulkTransport.open` takes (out_ep, in_ep, interface, pyusb's backend) and its defaults hold."""
    return functools.partial(UsbBulkTransport.open, vendor, product, **where)


class SamFault(DriverError):
    """The SAM answered a command with a fault of its own (or refused the frame): not the card's doing."""

    def __init__(self, step: str, reply: Reply) -> None:
        super().__init__(f"{step}: {reply.describe()}")
        self.reply = reply


class SamSession:
    """Commands and replies on one open link. The protocol is half duplex: each command waits for its reply,
    and whatever arrived before it (a late reply, power-up garbage) is thrown away first."""

    def __init__(
        self,
        link: Transport,
        *,
        reply_timeout_s: float = 1.0,
        seconds_per_byte: float = 0.0,
        read_radio_s: float = READ_RADIO_S,
        name: str = "ID card reader",
    ) -> None:
        self.link = link
        self.name = name
        self._reply_timeout_s = reply_timeout_s
        self._seconds_per_byte = seconds_per_byte
        self._read_radio_s = read_radio_s
        self._decoder = FrameDecoder()

    def transact(self, command: Command) -> Reply:
        """Send `command` and return its reply; DeviceUnavailable when the link fails or nothing answers."""
        self._decoder.reset()
        stale = drain(self.link)
        if stale:
            log.debug(
                "%s: dropped %d stale bytes before %s", self.name, len(stale), c.COMMAND_NAMES.get(command)
            )
        self.link.write(command.encode())
        reading = command == c.READ_TEXT_PHOTO
        budget = (
            self._reply_timeout_s
            + (self._read_radio_s if reading else 0.0)
            + (READ_REPLY_LEN if reading else 32) * self._seconds_per_byte
        )
        deadline = time.monotonic() + budget
        while (remaining := deadline - time.monotonic()) > 0:
            bodies = self._decoder.feed(self.link.read(self._decoder.wanted(), remaining))
            if bodies:
                return c.parse_reply(bodies[0])
        what = c.COMMAND_NAMES.get(command, f"command {command.cmd:02X} {command.para:02X}")
        raise DeviceUnavailable(
            f"{self.name}: no answer to {what} within {budget:.1f} s (is it a SAM reader, switched on, "
            "at the right baud rate?)"
        )

    def check_sam(self) -> None:
        """Ask the SAM's status; SamFault unless it is ready (90)."""
        status = self.transact(c.SAM_STATUS)
        if status.result is not SamResult.OK:
            raise SamFault("SAM status", status)

    def close(self) -> None:
        self.link.close()


class CardPoller:
    """One find → select → read round per `step`; each placement of a card is reported once.

    Readers halt a card they have read, so `find` answers "no card" until it is lifted and placed again, and
    a "found" is a new placement. Should a reader not halt cards, the same card read again with no "no card"
    in between is not reported twice; after a failed read the card is left alone until it is lifted
    (vendors: after a read error, remove the card).
    """

    def __init__(self, session: SamSession) -> None:
        self._session = session
        self._last: str | None = None  # the card read this placement (its number, or its kind's mark)
        self._failed = False

    def step(self) -> CardEvent | None:
        found = self._session.transact(c.FIND_CARD)
        if found.result is SamResult.NO_CARD:
            self._last, self._failed = None, False
            return None
        if found.result is not SamResult.CARD_FOUND:
            raise SamFault("find card", found)
        if self._failed:
            return None
        selected = self._session.transact(c.SELECT_CARD)
        if selected.result is not SamResult.OK:
            return self._fail("select card", selected)
        read = self._session.transact(c.READ_TEXT_PHOTO)
        if read.result is not SamResult.OK:
            return self._fail("read card", read)
        try:
            card = c.parse_read_reply(read)
        except ProtocolError as e:
            self._failed = True
            return CardFailed(f"读卡数据异常 the card's data could not be read ({e})")
        key = card.id_number if isinstance(card, IdCard) else f"mark {card.mark!r}"
        if key == self._last:
            return None
        self._last = key
        return CardRead(card) if isinstance(card, IdCard) else CardUnsupported(card)

    def _fail(self, step: str, reply: Reply) -> CardFailed | None:
        if reply.outcome is not Outcome.CARD_FAULT:
            raise SamFault(step, reply)  # not the card's doing: this placement is tried again after the check
        if self._last is not None:
            return None  # the card already reported, re-read by a reader that does not halt it
        self._failed = True
        return CardFailed(reply.describe(), reply.result)


class SamIdCardReader(ReopeningThread):
    """An `IdCardReader`: polls on its own thread and hands each placement to the listeners (on that thread).

    Building opens nothing; `start()` starts the thread, which opens the link in the background and keeps
    retrying, so an unplugged reader never stops an app from starting.
    """

    def __init__(
        self,
        opener: LinkOpener,
        *,
        name: str = "ID card reader",
        poll_s: float = DEFAULT_POLL_S,
        reply_timeout_s: float = 1.0,
        seconds_per_byte: float = 0.0,
        read_radio_s: float = READ_RADIO_S,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 5.0,
    ) -> None:
        super().__init__(name, backoff_initial_s=backoff_initial_s, backoff_max_s=backoff_max_s)
        self._opener = opener
        self._poll_s = poll_s
        self._session_args: dict[str, Any] = {
            "reply_timeout_s": reply_timeout_s,
            "seconds_per_byte": seconds_per_byte,
            "read_radio_s": read_radio_s,
            "name": name,
        }
        # A card is personal data: a failed delivery is logged by its kind only.
        self._listeners: Listeners[CardEvent] = Listeners(name, lambda event: type(event).__name__)
        self._state_listeners: Listeners[DeviceState] = Listeners(name)
        self._session: SamSession | None = None
        self._poller: CardPoller | None = None
        self._state = DeviceState(Health.UNAVAILABLE, "not opened yet")
        self._loss_logged = False
        self.opens = 0
        self.losses = 0
        self.events = 0

    def _release(self) -> None:
        self._drop_session()

    def subscribe(self, listener: Callable[[CardEvent], None]) -> Unsubscribe:
        return self._listeners.add(listener)

    def add_state_listener(self, listener: Callable[[DeviceState], None]) -> Unsubscribe:
        """Called on every change of `state()` (on the reader's thread)."""
        return self._state_listeners.add(listener)

    def state(self) -> DeviceState:
        return self._state

    # --- the reader's thread ---

    def _serve(self) -> None:
        while (poller := self._poller) is not None and not self._stop.is_set():
            started = time.monotonic()
            try:
                event = poller.step()
                if isinstance(event, CardFailed):
                    self._emit(event)
                    event = None
                    self._checked().check_sam()  # SAM status after every error
            except (DeviceUnavailable, SamFault, ProtocolError) as e:
                self._lost(str(e))
                return
            if event is not None:
                self._emit(event)
            self._stop.wait(max(0.0, started + self._poll_s - time.monotonic()))

    def _checked(self) -> SamSession:
        assert self._session is not None
        return self._session

    def _open(self) -> bool:
        try:
            session = SamSession(self._opener(), **self._session_args)
        except DeviceUnavailable as e:
            self._down(str(e))
            return False
        try:
            session.check_sam()
        except (DeviceUnavailable, SamFault, ProtocolError) as e:
            session.close()
            self._down(str(e))
            return False
        self._session, self._poller = session, CardPoller(session)
        self.opens += 1
        if self._loss_logged:
            log.info("%s is back", self.name)
            self._loss_logged = False
        self._set_state(OK)
        return True

    def _lost(self, reason: str) -> None:
        self.losses += 1
        self._drop_session()
        self._down(reason)

    def _down(self, reason: str) -> None:
        if not self._loss_logged:
            self._loss_logged = True
            log.warning("%s unavailable (%s); retrying in the background", self.name, reason)
        self._set_state(
            DeviceState(Health.UNAVAILABLE, f"身份证阅读器不可用 ID card reader unavailable: {reason}")
        )

    def _drop_session(self) -> None:
        session, self._session, self._poller = self._session, None, None
        if session is not None:
            session.close()

    def _set_state(self, state: DeviceState) -> None:
        if state != self._state:
            self._state = state
            self._state_listeners.emit(state)

    def _emit(self, event: CardEvent) -> None:
        self.events += 1
        self._listeners.emit(event)


def read_one(
    opener: LinkOpener,
    *,
    timeout_s: float,
    poll_s: float = DEFAULT_POLL_S,
    reply_timeout_s: float = 1.0,
    seconds_per_byte: float = 0.0,
    name: str = "ID card reader",
    stop: threading.Event | None = None,
) -> CardEvent | None:
    """The first card placed within `timeout_s` (or lying there already), or None (also once `stop` is set);
    DeviceUnavailable or SamFault when the reader cannot be used."""
    stop = stop or threading.Event()
    session = SamSession(
        opener(), reply_timeout_s=reply_timeout_s, seconds_per_byte=seconds_per_byte, name=name
    )
    try:
        session.check_sam()
        poller = CardPoller(session)
        deadline = time.monotonic() + timeout_s
        while True:
            started = time.monotonic()
            event = poller.step()
            if event is not None:
                return event
            if started + poll_s >= deadline or stop.wait(max(0.0, started + poll_s - time.monotonic())):
                return None
    finally:
        session.close()
