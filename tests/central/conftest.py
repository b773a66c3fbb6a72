"""One throw-away PostgreSQL cluster per test session (initdb + pg_ctl as the `postgres` user when root);
each test gets its own database in it."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hallcentral.devcluster import Cluster, running_cluster


@pytest.fixture(scope="session")
def cluster() -> Iterator[Cluster]:
    with running_cluster() as c:
        yield c
