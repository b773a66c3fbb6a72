"""mDNS discovery on 127.0.0.1: finds this hall's server, ignores other halls, falls back when silent."""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

import pytest
from zeroconf import ServiceInfo
from zeroconf.asyncio import AsyncZeroconf

from hallclient.discovery import SERVICE_TYPE, find_server

LOOPBACK = ["127.0.0.1"]
FALLBACK = "http://10.0.0.9:8700"


@asynccontextmanager
async def advertise(hall_id: str, port: int, *, version: str = "1") -> AsyncIterator[None]:
    """What the server does at start: one `_hallq._tcp` service with TXT hall/path/version, on loopback."""
    aiozc = AsyncZeroconf(interfaces=LOOPBACK)
    info = ServiceInfo(
        SERVICE_TYPE,
        f"hallq-test-{uuid.uuid4().hex[:12]}.{SERVICE_TYPE}",  # unique: parallel runs never collide
        addresses=[socket.inet_aton("127.0.0.1")],
        port=port,
        properties={"hall": hall_id, "path": "/", "version": version},
    )
    await (await aiozc.async_register_service(info))
    try:
        yield
    finally:
        await (await aiozc.async_unregister_service(info))
        await aiozc.async_close()


async def timed(fn: Callable[[], Awaitable[str]]) -> tuple[str, float]:
    loop = asyncio.get_running_loop()
    start = loop.time()
    out = await fn()
    return out, loop.time() - start


@pytest.mark.asyncio
async def test_finds_the_advertised_server_of_its_hall() -> None:
    hall_id = f"hall-{uuid.uuid4().hex[:8]}"
    async with advertise(hall_id, 18765):
        url = await find_server(hall_id, FALLBACK, timeout_s=5, interfaces=LOOPBACK)
    assert url == "http://127.0.0.1:18765"


@pytest.mark.asyncio
async def test_ignores_other_halls_and_falls_back() -> None:
    ours = f"hall-{uuid.uuid4().hex[:8]}"
    async with advertise(f"other-{uuid.uuid4().hex[:8]}", 18766), advertise(ours, 18767, version="2"):
        url = await find_server(ours, FALLBACK, timeout_s=1.5, interfaces=LOOPBACK)
    assert url == FALLBACK


@pytest.mark.asyncio
async def test_silence_falls_back_within_the_timeout() -> None:
    url, took = await timed(
        lambda: find_server(f"hall-{uuid.uuid4().hex[:8]}", FALLBACK, timeout_s=0.5, interfaces=LOOPBACK)
    )
    assert url == FALLBACK
    assert took < 2.5  # the timeout plus closing zeroconf, never an unbounded wait
