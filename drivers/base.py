"""What every device driver shares: the one error for a lost device and the state an app shows."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class DriverError(Exception):
    """Base of every error raised by `drivers`."""


class DeviceUnavailable(DriverError):
    """The device cannot be reached (unplugged, powered off, no answer). The app shows a degraded state."""


class ProtocolError(DriverError):
    """The device answered with bytes that do not follow its protocol."""


class Health(StrEnum):
    OK = "ok"
    DEGRADED = "degraded"  # works, but with a reason (paper near end, retries)
    UNAVAILABLE = "unavailable"


@dataclass(frozen=True, slots=True)
class DeviceState:
    health: Health
    reason: str = ""  # hall words, e.g. "缺纸 paper out"

    @property
    def ok(self) -> bool:
        return self.health is Health.OK


OK = DeviceState(Health.OK)
