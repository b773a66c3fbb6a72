"""The security tier: attacks on a real hall server on 127.0.0.1, as a neighbour on the hall LAN would make
them (issue 16). Each test reproduces one finding of the attack review and checks the server now holds.

A second address on the same machine is a client socket bound to another loopback address (Linux routes all
of 127.0.0.0/8 to `lo`): the server sees a neighbour at 127.0.0.2 and the manager at 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import pathlib
from collections.abc import Iterator

import httpx
import pytest

from hallcore.config import HallConfig
from hallserver.configfile import read_config
from tests.fakes.live_server import COUNTY, seeded_db
from tests.server.conftest import Running, start_server

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
