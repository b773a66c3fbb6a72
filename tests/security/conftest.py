"""The security tier: attacks on a real hall server on 127.0.0.1, as a neighbour on the hall LAN would make
them (issue 16). Each test reproduces one finding of the attack review and checks the server now holds.

A second address on the same machine is a client socket bound to another loopback address (Linux routes all
of 127.0.0.0/8 to `lo`): the server sees a neighbour at 127.0.0.2 and the manager at 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hallcore.config import HallConfig
from hallcore.idnumber import complete
from hallfiles.config import read_config
from tests.fakes.live_server import COUNTY, seeded_db
from tests.server.conftest import Running, rid, start_server

NEIGHBOUR = "127.0.0.2"


@pytest.fixture(scope="session")
def county() -> HallConfig:
    return read_config(COUNTY)


@pytest.fixture
def server(tmp_path: pathlib.Path, county: HallConfig) -> Iterator[Running]:
    with start_server(tmp_path, county, seeded_db()) as (_st, running):
        yield running


def client_from(server: Running, address: str) -> httpx.Client:
    """A client whose connections come from `address` (another loopback address: another machine)."""
    return httpx.Client(base_url=server.url, transport=httpx.HTTPTransport(local_address=address), timeout=30)


Call = tuple[str, str, dict[str, object], dict[str, str]]


def at_once(server: Running, requests: list[Call]) -> list[httpx.Response]:
    """Send (method, path, json, headers) requests all at the same time, each on its own connection."""

    async def main() -> list[httpx.Response]:
        async with httpx.AsyncClient(
            base_url=server.url, timeout=60, limits=httpx.Limits(max_connections=len(requests))
        ) as c:
            return list(
                await asyncio.gather(*(c.request(m, p, json=b, headers=h) for m, p, b, h in requests))
            )

    return asyncio.run(main())


def rows(server: Running, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    """Read the server's SQLite file directly (a separate connection; WAL)."""
    conn = sqlite3.connect(str(server.db))
    try:
        return list(conn.execute(sql, params))
    finally:
        conn.close()


#: A day the county books (the server's hall time is Monday 2026-11-23 09:00).
TUESDAY = dt.date(2026, 11, 24)


def person(n: int, born: str = "19900307") -> str:
    """A valid ID number (GB 11643): Beijing Dongcheng, born `born`, sequence `n`."""
    return complete(f"110101{born}{n:03d}")


def booking(id_number: str, day: dt.date = TUESDAY, slot: str = "09:00", **extra: Any) -> dict[str, Any]:
    """The body of `POST /api/bookings` for the county's bookable matter SW03."""
    return {
        "request_id": rid(),
        "matter": "SW03",
        "day": day.isoformat(),
        "slot": slot,
        "id_number": id_number,
        **extra,
    }
