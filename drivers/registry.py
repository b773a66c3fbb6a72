"""The serial buses of one process, one per physical port, shared by every device on it (`BusRegistry`).

A station's strip, keypad and rating pad usually hang on one RS-485 line, so they share one `HqpBusMaster`
(one port, one request on the wire at a time). The registry refuses what cannot work on one port: two
framings, two baud rates, two devices at one address (`ConfigurationError`).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Self

from drivers.base import DriverError
from drivers.bus import HqpBusMaster, Vendor485Bus
from drivers.codecs.hqp import MAX_ADDRESS


class ConfigurationError(DriverError):
    """A device config that cannot work (wrong type for the role, missing address, a port used twice)."""


def _port_key(url: str) -> str:
    """One key per physical port: `/dev/serial/by-id/…` links and `/dev/ttyUSB0` name the same adapter."""
    url = url.strip()
    if url.startswith("/") and Path(url).exists():
        return str(Path(url).resolve())
    return url


@dataclass
class _Bus:
    kind: str  # "hqp" | "vendor485"
    url: str
    baud: int
    bus: HqpBusMaster | Vendor485Bus
    users: dict[int, str] = field(default_factory=dict)  # address -> who uses it


class BusRegistry:
    """The serial buses of one process, one per port, shared by every device on it. Thread-safe.

    Buses are started by `start()` (or at once when created after it) and closed by `close()`, after the
    drivers on them. `reply_timeout_s` is HQP/1's per-frame deadline (PROTOCOLS.md §2: 50 ms); raise it for
    RS-485-to-Ethernet boxes on a slow network. `backoff_max_s` bounds the wait between reopening a lost port.
    """

    def __init__(self, *, reply_timeout_s: float = 0.05, tries: int = 3, backoff_max_s: float = 2.0) -> None:
        self._reply_timeout_s = reply_timeout_s
        self._tries = tries
        self._backoff_max_s = backoff_max_s
        self._lock = threading.Lock()
        self._buses: dict[str, _Bus] = {}
        self._started = False
        self._closed = False

    def hqp(self, url: str, *, baud: int = 9600, address: int | None = None, user: str = "") -> HqpBusMaster:
        """The HQP/1 master of `url`, created on first use; `address` is claimed for `user` if given."""
        entry = self._get("hqp", url, baud, address, user)
        assert isinstance(entry.bus, HqpBusMaster)
        return entry.bus

    def vendor485(
        self, url: str, *, baud: int = 9600, address: int | None = None, user: str = ""
    ) -> Vendor485Bus:
        entry = self._get("vendor485", url, baud, address, user)
        assert isinstance(entry.bus, Vendor485Bus)
        return entry.bus

    @property
    def urls(self) -> list[str]:
        with self._lock:
            return [b.url for b in self._buses.values()]

    def start(self) -> Self:
        with self._lock:
            self._started = True
            buses = [b.bus for b in self._buses.values()]
        for bus in buses:
            bus.start()
        return self

    def close(self) -> None:
        """Stop every bus thread and close every port; safe to call twice."""
        with self._lock:
            self._closed = True
            buses, self._buses = list(self._buses.values()), {}
        for entry in buses:
            entry.bus.close()

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.close()

    def _get(self, kind: str, url: str, baud: int, address: int | None, user: str) -> _Bus:
        if not url:
            raise ConfigurationError(f"{user or kind}: a {kind} device needs url (e.g. '/dev/ttyUSB0')")
        if address is not None and not 1 <= address <= MAX_ADDRESS:
            raise ConfigurationError(f"{user or kind}: address {address} is outside 1..{MAX_ADDRESS}")
        key = _port_key(url)
        with self._lock:
            if self._closed:
                raise ConfigurationError(f"{user or kind}: the bus registry is closed")
            entry = self._buses.get(key)
            if entry is None:
                bus: HqpBusMaster | Vendor485Bus
                if kind == "hqp":
                    bus = HqpBusMaster(
                        url,
                        baud=baud,
                        reply_timeout_s=self._reply_timeout_s,
                        tries=self._tries,
                        backoff_max_s=self._backoff_max_s,
                    )
                else:
                    bus = Vendor485Bus(url, baud=baud, backoff_max_s=self._backoff_max_s)
                entry = self._buses[key] = _Bus(kind, url, baud, bus)
                start = self._started
            else:
                start = False
                if entry.kind != kind:
                    raise ConfigurationError(
                        f"{user}: {url} is already a {entry.kind} bus ({', '.join(entry.users.values())}); "
                        "one port speaks one framing"
                    )
                if entry.baud != baud:
                    raise ConfigurationError(
                        f"{user}: {url} is already used at {entry.baud} baud, not {baud}; "
                        "every device on one bus runs at the same rate"
                    )
            if address is not None:
                other = entry.users.get(address)
                if other is not None:
                    raise ConfigurationError(
                        f"{user}: address {address} on {url} is already used by {other}; "
                        "give each device on a bus its own address"
                    )
                entry.users[address] = user or f"address {address}"
        if start:
            entry.bus.start()
        return entry
