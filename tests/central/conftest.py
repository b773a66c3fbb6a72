"""One throw-away PostgreSQL cluster per test session (initdb + pg_ctl as the `postgres` user when root);
each test gets its own database in it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hallcentral.devcluster import Cluster, running_cluster
from tests.server.web_helpers import module_browser

#: A headless Chromium for each browser test module, as the fixture `browser` (tests/server/web_helpers.py):
#: per module, not per session, since this tier's statistics tests run `asyncio.run` (Playwright's sync API
#: holds a running loop while it is open).
__all__ = ["module_browser"]


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    with running_cluster() as c:
        yield c
