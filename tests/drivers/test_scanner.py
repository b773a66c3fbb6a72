"""Scanner decoding from events like a real scanner's, and the evdev reader's unplug handling."""

from __future__ import annotations

import errno
import logging
import os
import queue
import time
from collections.abc import Iterator
from dataclasses import dataclass

import evdev
import pytest

from drivers.scanner import (
    EV_KEY,
    KEY_LEFTSHIFT,
    US_LAYOUT,
    EvdevScanner,
    InputDevice,
    ScanDecoder,
    decode,
)
from tests.drivers.waiting import wait_until

Event = tuple[int, int, int]
SYN = (0, 0, 0)  # EV_SYN after each key event, as the kernel sends


def _code_for(ch: str) -> tuple[int, bool]:
    for code, (plain, _shifted) in US_LAYOUT.items():
        if code < 71 and ch == plain:  # main block, not the keypad
            return code, False
    for code, (_plain, shifted) in US_LAYOUT.items():
        if code < 71 and ch == shifted:
            return code, True
    raise ValueError(ch)


def scanner_events(text: str, *, enter: bool = True) -> list[Event]:
    """What a USB scanner sends: shift pressed around capitals and symbols, down/up pairs, then Enter."""
    events: list[Event] = []
    for ch in text:
        code, shift = _code_for(ch)
        if shift:
            events += [(EV_KEY, KEY_LEFTSHIFT, 1), SYN]
        events += [(EV_KEY, code, 1), SYN, (EV_KEY, code, 0), SYN]
        if shift:
            events += [(EV_KEY, KEY_LEFTSHIFT, 0), SYN]
    if enter:
        events += [(EV_KEY, 28, 1), SYN, (EV_KEY, 28, 0), SYN]
    return events


def test_layout_codes_match_the_kernel_names() -> None:
    names = {"1": "KEY_1", "q": "KEY_Q", "a": "KEY_A", "z": "KEY_Z", "/": "KEY_SLASH", "'": "KEY_APOSTROPHE"}
    for ch, name in names.items():
        assert US_LAYOUT[evdev.ecodes.ecodes[name]][0] == ch
    assert evdev.ecodes.ecodes["KEY_LEFTSHIFT"] == KEY_LEFTSHIFT
    assert evdev.ecodes.ecodes["KEY_KP0"] == 82
    assert evdev.ecodes.ecodes["KEY_ENTER"] == 28


def test_id_number_and_symbols_decode() -> None:
    events = scanner_events("110101199003071234") + scanner_events("A012:QR-code/X?")
    assert decode(events) == ["110101199003071234", "A012:QR-code/X?"]


def test_every_printable_ascii_char_round_trips() -> None:
    text = "".join(chr(c) for c in range(0x21, 0x7F))
    assert decode(scanner_events(text)) == [text]


def test_repeats_and_key_ups_add_nothing_and_caps_lock_is_tracked() -> None:
    a = 30
    events = [(EV_KEY, a, 1), (EV_KEY, a, 2), (EV_KEY, a, 2), (EV_KEY, a, 0)]
    events += [(EV_KEY, 58, 1), (EV_KEY, 58, 0), (EV_KEY, a, 1), (EV_KEY, a, 0)]
    events += [(EV_KEY, KEY_LEFTSHIFT, 1), (EV_KEY, a, 1), (EV_KEY, KEY_LEFTSHIFT, 0), (EV_KEY, 2, 1)]
    events += [(EV_KEY, 96, 1)]  # keypad Enter ends a code too
    assert decode(events) == ["aAa1"]


def test_unknown_keys_are_skipped_and_empty_codes_dropped() -> None:
    decoder = ScanDecoder()
    assert decoder.feed(EV_KEY, 28, 1) is None  # a lone Enter is not a code
    assert decoder.feed(EV_KEY, 125, 1) is None  # KEY_LEFTMETA
    assert decoder.feed_all(scanner_events("B7")) == ["B7"]


@dataclass
class FakeEvent:
    type: int
    code: int
    value: int


class FakeInputDevice:
    """An input device backed by a pipe, so select() works; `unplug` makes reads fail with ENODEV while the
    fd stays readable, exactly the state that makes a naive loop spin."""

    def __init__(self) -> None:
        self._r, self._w = os.pipe()
        self._pending: list[Event] = []
        self.unplugged = False
        self.grabbed = False
        self.closed = False

    @property
    def fd(self) -> int:
        return self._r

    def type_code(self, text: str) -> None:
        self._pending += scanner_events(text)
        os.write(self._w, b"e")

    def unplug(self) -> None:
        self.unplugged = True
        os.write(self._w, b"u")

    def read(self) -> Iterator[FakeEvent]:
        if self.unplugged:
            raise OSError(errno.ENODEV, "No such device")
        os.read(self._r, 1)
        events, self._pending = self._pending, []
        return iter([FakeEvent(*e) for e in events])

    def grab(self) -> None:
        self.grabbed = True

    def close(self) -> None:
        if not self.closed:
            self.closed = True
            os.close(self._r)
            os.close(self._w)


def test_unplug_drops_the_device_at_once_rescans_without_spinning_and_recovers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="drivers.scanner")
    plugged: list[FakeInputDevice | None] = [FakeInputDevice()]
    made: list[FakeInputDevice] = [d for d in plugged if d is not None]
    attempts = [0]

    def opener() -> InputDevice | None:
        attempts[0] += 1
        return plugged[0]

    codes: queue.Queue[str] = queue.Queue()
    with EvdevScanner(opener, backoff_initial_s=0.02, backoff_max_s=0.2) as scanner:
        scanner.subscribe(codes.put)
        wait_until(lambda: scanner.has_device)
        first = made[0]
        assert first.grabbed
        first.type_code("A012:QR-code/X?")
        assert codes.get(timeout=10) == "A012:QR-code/X?"

        plugged[0] = None  # the kernel removed the node: the rescan finds nothing
        wall, cpu = time.monotonic(), time.process_time()
        first.unplug()
        wait_until(lambda: first.closed)  # the reader was removed at once
        assert not scanner.has_device
        assert not scanner.state().ok
        before = attempts[0]
        wait_until(lambda: attempts[0] >= before + 4)
        wall, cpu = time.monotonic() - wall, time.process_time() - cpu
        assert cpu < 0.5 * wall, f"{cpu:.3f} s CPU in {wall:.3f} s while unplugged: a busy loop?"

        second = FakeInputDevice()
        made.append(second)
        plugged[0] = second
        wait_until(lambda: scanner.has_device)
        assert scanner.state().ok
        second.type_code("110101199003071234")
        assert codes.get(timeout=10) == "110101199003071234"
    for device in made:
        device.close()
    assert [r.levelname for r in caplog.records if "scanner" in r.getMessage()] == ["WARNING", "INFO"]
