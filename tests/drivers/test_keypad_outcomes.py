"""The emulated bus's console presses a finish with an outcome by name or digit (docs/devices.md, "How the
case ended"), and the key event carries the digits the counter reads (issue 22)."""

from __future__ import annotations

import pytest

from drivers.emulators.bus import EmulatedKeypad
from drivers.emulators.console import BusEmulatorRunner, outcome_digits
from drivers.keys import KeyCode, KeyEvent


@pytest.mark.parametrize(
    ("typed", "digits"),
    [
        ("受理", "2"),
        ("accepted", "2"),
        ("不予受理2", "42"),
        ("refused3*2026", "43*2026"),
        ("咨询*77", "5*77"),
        ("3", "3"),
        ("2*88", "2*88"),
        ("", ""),
    ],
)
def test_outcome_names_become_keypad_digits(typed: str, digits: str) -> None:
    assert outcome_digits(typed) == digits


def test_console_press_finish_with_an_outcome_queues_the_key_event() -> None:
    runner = BusEmulatorRunner(keypads=[61], port=0)
    assert runner.command("press 61 finish 受理*2026120300123") == "keypad 61: pressed finish 2*2026120300123"
    assert runner.command("press 61 finish") == "keypad 61: pressed finish"
    keypad = runner.emu.devices[61]
    assert isinstance(keypad, EmulatedKeypad)
    assert list(keypad.events) == [KeyEvent(KeyCode.FINISH, "2*2026120300123"), KeyEvent(KeyCode.FINISH, "")]
