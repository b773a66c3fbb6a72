"""What a call keypad reports, whatever its framing: HQP/1 and the vendor 485 keypads map onto these codes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class KeyCode(IntEnum):
    """Key codes of a call keypad. 0x01-0x0B are PROTOCOLS.md §2; 0x0C-0x0D are hallq additions so that the
    vendor 485 keypad's 挂起 (hold) and 回呼 (call back a held ticket) keys map onto the same codes."""

    NEXT = 0x01
    RECALL = 0x02
    PAUSE = 0x03
    RESUME = 0x04
    TRANSFER = 0x05  # digits: target window
    NO_SHOW = 0x06
    RATE = 0x07
    LOGIN = 0x08  # digits: staff code, "*", PIN
    LOGOUT = 0x09
    START = 0x0A
    FINISH = 0x0B
    HOLD = 0x0C
    CALL_BACK = 0x0D


@dataclass(frozen=True, slots=True)
class KeyEvent:
    """A key pressed on a call keypad. `code` is a `KeyCode` when known; unknown codes are passed through."""

    code: int
    digits: str = ""
