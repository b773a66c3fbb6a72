"""Keyboard-wedge barcode/QR scanners read with evdev (PROTOCOLS.md §5).

`ScanDecoder` is pure: (type, code, value) events in, complete codes out, so tests use recorded events.
`EvdevScanner` grabs the device (codes never reach the UI as keystrokes) and survives unplugging.
"""

from __future__ import annotations

import contextlib
import errno
import logging
import select
import threading
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Protocol

from drivers.base import OK, DeviceState, Health
from drivers.devicethread import ReopeningThread
from drivers.listeners import Listeners
from drivers.protocols import Unsubscribe

log = logging.getLogger(__name__)

EV_KEY = 1
KEY_UP, KEY_DOWN, KEY_REPEAT = 0, 1, 2
KEY_LEFTSHIFT, KEY_RIGHTSHIFT = 42, 54
KEY_CAPSLOCK = 58
KEY_ENTER, KEY_KPENTER = 28, 96

# Linux input key codes (linux/input-event-codes.h) to (plain, shifted) characters on a US layout. Numbers,
# not evdev.ecodes names, so decoding needs no evdev install; a test checks them against evdev.ecodes.
US_LAYOUT: dict[int, tuple[str, str]] = {
    2: ("1", "!"),
    3: ("2", "@"),
    4: ("3", "#"),
    5: ("4", "$"),
    6: ("5", "%"),
    7: ("6", "^"),
    8: ("7", "&"),
    9: ("8", "*"),
    10: ("9", "("),
    11: ("0", ")"),
    12: ("-", "_"),
    13: ("=", "+"),
    15: ("\t", "\t"),
    16: ("q", "Q"),
    17: ("w", "W"),
    18: ("e", "E"),
    19: ("r", "R"),
    20: ("t", "T"),
    21: ("y", "Y"),
    22: ("u", "U"),
    23: ("i", "I"),
    24: ("o", "O"),
    25: ("p", "P"),
    26: ("[", "{"),
    27: ("]", "}"),
    30: ("a", "A"),
    31: ("s", "S"),
    32: ("d", "D"),
    33: ("f", "F"),
    34: ("g", "G"),
    35: ("h", "H"),
    36: ("j", "J"),
    37: ("k", "K"),
    38: ("l", "L"),
    39: (";", ":"),
    40: ("'", '"'),
    41: ("`", "~"),
    43: ("\\", "|"),
    44: ("z", "Z"),
    45: ("x", "X"),
    46: ("c", "C"),
    47: ("v", "V"),
    48: ("b", "B"),
    49: ("n", "N"),
    50: ("m", "M"),
    51: (",", "<"),
    52: (".", ">"),
    53: ("/", "?"),
    55: ("*", "*"),  # keypad
    57: (" ", " "),
    71: ("7", "7"),
    72: ("8", "8"),
    73: ("9", "9"),
    74: ("-", "-"),
    75: ("4", "4"),
    76: ("5", "5"),
    77: ("6", "6"),
    78: ("+", "+"),
    79: ("1", "1"),
    80: ("2", "2"),
    81: ("3", "3"),
    82: ("0", "0"),
    83: (".", "."),
    98: ("/", "/"),
}


class ScanDecoder:
    """Turns key events into codes: key-down only (a held key's repeats and key-ups add nothing), shift and
    caps lock tracked, Enter ends a code. Unknown keys are skipped rather than guessed."""

    def __init__(self, max_length: int = 4096) -> None:
        self._chars: list[str] = []
        self._shift: set[int] = set()
        self._caps = False
        # A scanner that never sends Enter must not grow memory without bound.
        self._max_length = max_length

    def feed(self, ev_type: int, code: int, value: int) -> str | None:
        """One event; the complete code when this event was its Enter, else None."""
        if ev_type != EV_KEY:
            return None
        if code in (KEY_LEFTSHIFT, KEY_RIGHTSHIFT):
            if value == KEY_UP:
                self._shift.discard(code)
            else:
                self._shift.add(code)
            return None
        if value != KEY_DOWN:
            return None
        if code == KEY_CAPSLOCK:
            self._caps = not self._caps
            return None
        if code in (KEY_ENTER, KEY_KPENTER):
            text, self._chars = "".join(self._chars), []
            return text or None
        chars = US_LAYOUT.get(code)
        if chars is None:
            return None
        plain, shifted = chars
        upper = bool(self._shift)
        if plain.isalpha() and self._caps:
            upper = not upper
        if len(self._chars) < self._max_length:
            self._chars.append(shifted if upper else plain)
        return None

    def feed_all(self, events: Iterable[tuple[int, int, int]]) -> list[str]:
        return [code for e in events if (code := self.feed(*e)) is not None]


def decode(events: Iterable[tuple[int, int, int]]) -> list[str]:
    return ScanDecoder().feed_all(events)


class InputDevice(Protocol):
    """The part of `evdev.InputDevice` we use (tests pass a fake with a pipe's fd)."""

    @property
    def fd(self) -> int: ...

    def read(self) -> Iterator[Any]: ...

    def grab(self) -> None: ...

    def close(self) -> None: ...


DeviceOpener = Callable[[], InputDevice | None]


def evdev_opener(path_or_name: str) -> DeviceOpener:
    """Open by /dev/input path, or by (part of) the device name, since event numbers change on replug."""

    def open_device() -> InputDevice | None:
        import evdev

        if path_or_name.startswith("/dev/"):
            try:
                device: InputDevice = evdev.InputDevice(path_or_name)
            except OSError:
                return None
            return device
        for path in evdev.list_devices():
            try:
                candidate = evdev.InputDevice(path)
            except OSError:
                continue
            if path_or_name.lower() in str(candidate.name).lower():
                found: InputDevice = candidate
                return found
            candidate.close()
        return None

    return open_device


class EvdevScanner(ReopeningThread):
    """Reads one scanner on its own thread and hands each code to the listeners (on that thread).

    On unplug reads raise OSError ENODEV while select() keeps reporting the fd readable: the device is closed
    at once and looked for again with a bounded backoff, so a missing scanner costs no CPU.
    """

    join_s = 10.0

    def __init__(
        self,
        opener: DeviceOpener,
        *,
        name: str = "scanner",
        select_timeout_s: float = 0.5,
        backoff_initial_s: float = 0.1,
        backoff_max_s: float = 5.0,
    ) -> None:
        super().__init__(name, backoff_initial_s=backoff_initial_s, backoff_max_s=backoff_max_s)
        self._opener = opener
        self._select_timeout_s = select_timeout_s
        self._listeners: Listeners[str] = Listeners(name)
        self._lock = threading.Lock()
        self._device: InputDevice | None = None
        self._lost_logged = False
        self._state = DeviceState(Health.UNAVAILABLE, "not opened yet")
        self.opens = 0
        self.losses = 0

    @classmethod
    def for_device(cls, path_or_name: str, **kwargs: Any) -> EvdevScanner:
        return cls(evdev_opener(path_or_name), name=f"scanner {path_or_name}", **kwargs)

    def _release(self) -> None:
        self._drop_device()

    def subscribe(self, listener: Callable[[str], None]) -> Unsubscribe:
        return self._listeners.add(listener)

    def state(self) -> DeviceState:
        return self._state

    @property
    def has_device(self) -> bool:
        return self._device is not None

    def _serve(self) -> None:
        device = self._device
        assert device is not None
        decoder = ScanDecoder()
        try:
            while not self._stop.is_set():
                ready, _, _ = select.select([device.fd], [], [], self._select_timeout_s)
                if not ready:
                    continue
                for event in device.read():
                    code = decoder.feed(event.type, event.code, event.value)
                    if code is not None:
                        self._emit(code)
        except OSError as e:
            self._lost(e)
        except Exception:
            log.exception("%s: unexpected error; reopening the device", self.name)
            self._lost(OSError(errno.EIO, "unexpected error"))

    def _open(self) -> bool:
        try:
            device = self._opener()
            if device is None:
                raise OSError(errno.ENODEV, "no such device")
            try:
                # Exclusive: without the grab every code would also be typed into the focused kiosk field.
                device.grab()
            except OSError:
                device.close()
                raise
        except OSError as e:
            self._state = DeviceState(Health.UNAVAILABLE, f"{self.name}: {e.strerror or e}")
            if not self._lost_logged:
                self._lost_logged = True
                log.warning("%s unavailable (%s); looking for it in the background", self.name, e)
            return False
        self.opens += 1
        self._device = device
        self._state = OK
        if self._lost_logged:
            self._lost_logged = False
            log.info("%s is back", self.name)
        return True

    def _lost(self, error: OSError) -> None:
        # ENODEV after unplug: drop the fd at once, or select() reports it readable forever and we spin.
        self.losses += 1
        self._drop_device()
        reason = "unplugged" if error.errno == errno.ENODEV else str(error)
        self._state = DeviceState(Health.UNAVAILABLE, f"{self.name}: {reason}")
        if not self._lost_logged:
            self._lost_logged = True
            log.warning("%s lost (%s); looking for it in the background", self.name, reason)

    def _drop_device(self) -> None:
        device, self._device = self._device, None
        if device is not None:
            with contextlib.suppress(OSError):
                device.close()

    def _emit(self, code: str) -> None:
        self._listeners.emit(code)
