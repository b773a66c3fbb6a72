"""Centre benchmark (issue 32): ingest of simulated hall days through the shipping protocol into one
PostgreSQL, the overview with every hall live, a month's cross-hall statistics from roll-ups, and a hall's
issue latency while it ships a week of backlog.

Run: .venv/bin/python bench/central.py [--full | --quick]   (writes bench/results/central.json)
  default: 3 ingest runs of 200 halls × a 200-walk-in hall day (~0.37 M events a run), the month's statistics
           on the last run, 3 backlog runs with a week of a provincial hall; about five minutes when quiet;
  --full:  the issue's sizes, 200 full provincial hall days (~4 M events) a run, the whole week shipped;
           about forty minutes;  --quick: 20 halls, one run (a smoke test of the script).

Everything is real and on this machine: a throw-away PostgreSQL cluster (hallcentral/devcluster.py), the
centre as `hallq central` in its own process, the load as `hallq sim --central` (simulated hall days, each
hall with its own key, signed batches of 500 events, 16 halls shipping at once), a real hall server for the
backlog scenario. Pinning (taskset): for ingest and queries the centre and its PostgreSQL share one core and
the load and probes run on the other; for the backlog scenario the hall server has a core of its own and the
centre, PostgreSQL and the issue probe share the other. Each run starts from a fresh database; figures are
p50/p95 over the runs.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import datetime as dt
import functools
import json
import os
import pathlib
import re
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.common import figure, pct, write  # noqa: E402
from bench.profiler import Profile  # noqa: E402
from bench.server import Server, descendants, paced, seed  # noqa: E402
from hallcentral import auth, rollup_build, rollup_months, rollups  # noqa: E402
from hallcentral.db import open_pool  # noqa: E402
from hallcentral.devcluster import Cluster, start_cluster  # noqa: E402
from hallcore.events import Event  # noqa: E402
from hallfiles.config import read_config  # noqa: E402
from hallq.serverproc import server_command, start_server  # noqa: E402
from hallq.simprovince import run_days  # noqa: E402
from hallserver.eventlog import describe  # noqa: E402
from hallserver.store import migrate  # noqa: E402

PROVINCIAL = ROOT / "config" / "provincial.toml"
DAY = dt.date(2026, 11, 23)  # a Monday
CENTRE_CPU, LOAD_CPU = 0, 1
ADMIN = ("bench-admin", "bench admin password")
REGION = "county"
#: The probe's kiosk ticket: a provincial matter with no question, every material present (the pre-check
#: passes).
MATTER = "FG03"

CENTRAL_TOML = """
name = "基准测试省"
[database]
dsn = "{dsn}"
pool_max = 12
[server]
host = "127.0.0.1"
port = 0
[live]
offline_after_s = 86400
push_every_s = 5.0
[rollups]
build_every_s = 3600
[[regions]]
id = "prov"
name = "基准省"
level = "province"
[[regions]]
id = "city"
name = "基准市"
level = "city"
parent = "prov"
[[regions]]
id = "county"
name = "基准县"
level = "county"
parent = "city"
"""

NOTES = (
    "Ingest: `hallq sim --central` replays simulated provincial hall days (the real engine, each hall "
    "with its own key) through the shipping protocol into `hallq central`; halls ship oldest first in "
    "signed batches of 500 events (the hall default), 16 at once. The centre and its PostgreSQL share one"
    " core (taskset), the load generator and the probes use the other, so events/s is what one core does "
    "for the whole centre (its Python and its database); the first figure's note gives each side's CPU "
    "per 1,000 events. The overview probe asks /api/overview as a province user every second during "
    "ingest and 30 times after it. The month's statistics (last run) read roll-ups: the halls that "
    "replayed each distinct simulated day are rolled up for real (timed), the others replayed the same "
    "events and get those rows under their own id (one hall is built for real and checked equal), the "
    "month's other days repeat the ingested one, and each hall's month is merged (timed for the distinct "
    "halls, copied for the rest). The backlog scenario measures a provincial hall's issue latency (paced "
    "probe of 20 tickets/s beside the hall server on its core; durability normal, as the disk here stalls "
    "fsyncs for hundreds of ms) with shipping off and while the shipper sends a simulated week to a centre "
    "on the other core; each half probes a hall settled after its start-up. On this 2-core "
    "machine other engineers' work runs too: each figure's note and load_avg carry the load average."
)


def load() -> str:
    return "load avg " + " ".join(f"{x:.1f}" for x in os.getloadavg())


def pin(pid: int, cpu: int) -> None:
    """Pin a process and every thread and child it has now (children it forks later inherit it)."""
    for p in [pid, *descendants(pid)]:
        subprocess.run(["taskset", "-a", "-pc", str(cpu), str(p)], capture_output=True, check=False)


def cpu_seconds(pids: Sequence[int]) -> float:
    """User + system CPU of the processes (clock ticks from /proc)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])
    return total / tick


# ---- the cluster and the centre ----------------------------------------------------------------------------


def postmaster(cluster: Cluster) -> int:
    return int((cluster.data / "postmaster.pid").read_text().split()[0])


@dataclass
class Centre:
    proc: Server  # `hallq central` (its stop: SIGINT, then SIGKILL)
    config: pathlib.Path
    dsn: str

    @property
    def url(self) -> str:
        return self.proc.url

    @property
    def pid(self) -> int:
        return self.proc.pid

    def stop(self) -> None:
        self.proc.stop()


def start_centre(cluster: Cluster, folder: pathlib.Path, name: str, cpu: int) -> Centre:
    dsn = cluster.create_database(name)
    config = folder / f"{name}.toml"
    config.write_text(CENTRAL_TOML.format(dsn=dsn), encoding="utf-8")
    cmd = ["taskset", "-c", str(cpu), sys.executable, "-m", "hallq.cli", "central", "--config", str(config)]
    with (folder / f"{name}.log").open("ab") as err:
        popen = subprocess.Popen([*cmd, "--port", "0"], stdout=subprocess.PIPE, stderr=err, cwd=ROOT)
    assert popen.stdout is not None
    line = popen.stdout.readline().decode()
    m = re.search(r"(http://127\.0\.0\.1:\d+)/", line)
    if not m:
        popen.kill()
        raise RuntimeError(f"the centre did not start: {line!r}, see {folder / (name + '.log')}")
    centre = Centre(Server(popen, m.group(1), config), config, dsn)

    async def add_admin() -> None:
        pool = await open_pool(dsn, min_size=1, max_size=1)
        try:
            await auth.add_user(pool, *ADMIN, "prov", True, dt.datetime.now(dt.UTC))
        finally:
            await pool.close()

    asyncio.run(add_admin())
    return centre


def login(url: str) -> httpx.Client:
    c = httpx.Client(base_url=url, timeout=60)
    token = re.search(r'name="csrf" value="([^"]+)"', c.get("/login").text)
    assert token is not None
    r = c.post("/login", data={"csrf": token.group(1), "username": ADMIN[0], "password": ADMIN[1]})
    assert r.status_code == 303, r.text
    return c


def sql(dsn: str, query: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
    import psycopg

    with psycopg.connect(dsn, autocommit=True) as conn:
        cur = conn.execute(query.encode(), params)
        return [tuple(r) for r in cur.fetchall()] if cur.description else []


# ---- probes ------------------------------------------------------------------------------------------------


class OverviewProbe(threading.Thread):
    """GET /api/overview as the province's user every `every_s` until stopped: (latency ms, halls)."""

    def __init__(self, url: str, every_s: float = 1.0) -> None:
        super().__init__(daemon=True)
        self.url, self.every_s = url, every_s
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()

    def run(self) -> None:
        with contextlib.closing(login(self.url)) as client:
            while not self._halt.wait(self.every_s):
                self.samples.append(overview_once(client))

    def stop(self) -> list[tuple[float, int]]:
        self._halt.set()
        self.join(60)
        return self.samples


def overview_once(client: httpx.Client) -> tuple[float, int]:
    t = time.perf_counter()
    r = client.get("/api/overview")
    ms = (time.perf_counter() - t) * 1000
    r.raise_for_status()
    return ms, len(r.json()["halls"])


def timed_get(client: httpx.Client, path: str, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        r = client.get(path)
        out.append((time.perf_counter() - t) * 1000)
        r.raise_for_status()
    return out


# ---- one ingest run ----------------------------------------------------------------------------------------


@dataclass
class IngestRun:
    sim: dict[str, Any] = field(default_factory=dict)
    overview_live: list[float] = field(default_factory=list)
    overview_idle: list[float] = field(default_factory=list)
    halls_seen: int = 0
    centre_cpu_s: float = 0.0
    pg_cpu_s: float = 0.0
    rollup_s: float = 0.0
    rollup_days: int = 0
    copy_s: float = 0.0
    month_merge_s: float = 0.0
    day_stats_rows: int = 0
    month: dict[str, list[float]] = field(default_factory=dict)
    month_halls: int = 0
    db_mb: float = 0.0
    profiles: list[dict[str, Any]] = field(default_factory=list)
    load_before: str = ""
    load_after: str = ""


@dataclass(frozen=True)
class Sizes:
    runs: int
    halls: int
    distinct: int
    arrivals: int | None  # walk-ins of a simulated hall day (None: sized to the provincial hall, ~2,800)
    backlog_days: int
    probe_s: float
    wait_whole_week: bool


#: `python bench/central.py`: every scenario, in about five minutes on a quiet machine.
DEFAULT = Sizes(
    runs=3, halls=200, distinct=4, arrivals=200, backlog_days=7, probe_s=10.0, wait_whole_week=False
)
#: --full: the issue's sizes (200 full provincial hall days a run, ~4 million events), about 40 minutes.
FULL = Sizes(
    runs=3, halls=200, distinct=10, arrivals=None, backlog_days=7, probe_s=20.0, wait_whole_week=True
)
#: --quick: a smoke run of the script.
QUICK = Sizes(runs=1, halls=20, distinct=2, arrivals=250, backlog_days=2, probe_s=8.0, wait_whole_week=False)


def ingest_run(
    cluster: Cluster,
    folder: pathlib.Path,
    k: int,
    sizes: Sizes,
    profile: bool,
    month: bool,
) -> IngestRun:
    out = IngestRun(load_before=load())
    pin(postmaster(cluster), CENTRE_CPU)
    centre = start_centre(cluster, folder, f"ingest{k}", CENTRE_CPU)
    try:
        pg = [postmaster(cluster), *descendants(postmaster(cluster))]
        probe = OverviewProbe(centre.url)
        probe.start()
        cmd = ["taskset", "-c", str(LOAD_CPU), sys.executable, "-m", "hallq.cli", "sim"]
        cmd += ["--config", str(PROVINCIAL), "--day", DAY.isoformat(), "--central", centre.url]
        cmd += ["--halls", str(sizes.halls), "--distinct", str(sizes.distinct), "--batch", "500"]
        cmd += ["--concurrency", "16"]
        if sizes.arrivals is not None:
            cmd += ["--arrivals", str(sizes.arrivals)]
        cmd += ["--approve-with", str(centre.config), "--region", REGION, "--hall-prefix", f"h{k}", "--json"]
        sim = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
        assert sim.stdout is not None
        # The simulation runs first (its progress lines); the replay starts once the halls are approved.
        for line in sim.stdout:
            print(" ", line.strip(), flush=True)
            if line.startswith("  replaying"):
                break
        else:
            raise RuntimeError(
                f"hallq sim stopped before replaying: {sim.stderr.read() if sim.stderr else ''}"
            )
        cpu0 = (
            cpu_seconds([centre.pid]),
            cpu_seconds([postmaster(cluster), *descendants(postmaster(cluster))]),
        )
        prof = Profile(centre.pid, f"centre during ingest (run {k + 1})") if profile else None
        with prof if prof is not None else contextlib.nullcontext():
            rest, err = sim.communicate(timeout=7200)
        pg = [postmaster(cluster), *descendants(postmaster(cluster))]
        out.centre_cpu_s = cpu_seconds([centre.pid]) - cpu0[0]
        out.pg_cpu_s = cpu_seconds(pg) - cpu0[1]
        if prof is not None:
            out.profiles.append(prof.top())
        if sim.returncode != 0:
            raise RuntimeError(f"hallq sim failed: {err[-2000:]}")
        out.sim = json.loads(rest.strip().splitlines()[-1])
        live = probe.stop()
        out.overview_live = [ms for ms, _n in live]
        with contextlib.closing(login(centre.url)) as client:
            idle = [overview_once(client) for _ in range(30)]
        out.overview_idle = [ms for ms, _n in idle]
        out.halls_seen = idle[-1][1]
        print(
            f"  ingest: {out.sim['events']:,} events at {out.sim['events_per_s']:,.0f}/s; {load()}",
            flush=True,
        )
        if month:
            month_queries(centre, out, profile, k, sizes.distinct)
        out.db_mb = round(sql(centre.dsn, "SELECT pg_database_size(current_database())")[0][0] / 2**20, 1)
    finally:
        centre.stop()
        out.load_after = load()
        with contextlib.suppress(Exception):
            sql(cluster.dsn(), f'DROP DATABASE "ingest{k}"')
    return out


def copy_rows(
    dsn: str,
    table: str,
    at: str,
    cols: str,
    targets: list[str],
    donor_of: dict[str, str],
    when: dt.date,
) -> None:
    """The rows of each target's donor hall at `when`, under the target's id."""
    sql(
        dsn,
        f"INSERT INTO {table} (hall_id, {at}, {cols})"
        f" SELECT t.hall_id, s.{at}, s.{cols.replace(', ', ', s.')}"
        f" FROM {table} s JOIN unnest(%s::text[], %s::text[]) AS t(hall_id, donor) ON s.hall_id = t.donor"
        f" WHERE s.{at} = %s",
        (targets, [donor_of[h] for h in targets], when),
    )


def same(
    dsn: str, table: str, at: str, cols: str, halls: list[str], donor_of: dict[str, str], when: dt.date
) -> None:
    """A hall built for real has exactly its donor's rows (what copy_rows gives the others)."""
    q = f"SELECT {cols} FROM {table} WHERE hall_id = %s AND {at} = %s ORDER BY 1, 2"
    for h in halls:
        mine, theirs = sql(dsn, q, (h, when)), sql(dsn, q, (donor_of[h], when))
        if mine != theirs or not mine:
            raise RuntimeError(f"{table}: {h}'s rows differ from {donor_of[h]}'s (the copy rule fails)")


def month_queries(centre: Centre, out: IngestRun, profile: bool, k: int, distinct: int) -> None:
    """Give every hall a month of roll-ups, then time a month's statistics for the province.

    The halls that replayed each distinct simulated day (the first `distinct`) are rolled up for real
    (timed); hall i replayed the same events as hall i mod `distinct`, so its roll-up rows are that hall's
    under its own id: they are copied (and one hall is built for real and checked equal to its copy's
    source, day and month rows). Every other day of the month repeats the ingested day; the months are merged
    for real (timed) for the same halls and copied likewise."""
    halls = [h for (h,) in sql(centre.dsn, "SELECT hall_id FROM halls WHERE state = 'approved' ORDER BY 1")]
    donors, check = halls[:distinct], halls[distinct : distinct + 1]
    targets = [h for h in halls[distinct:] if h not in check]
    donor_of = {h: halls[i % distinct] for i, h in enumerate(halls)}
    now = dt.datetime.now(dt.UTC)

    async def each(fn: Any, which: list[str]) -> float:
        pool = await open_pool(centre.dsn, min_size=1, max_size=2)
        try:
            t = time.perf_counter()
            for h in which:
                async with pool.connection() as conn, conn.transaction():
                    await fn(conn, h)
            return time.perf_counter() - t
        finally:
            await pool.close()

    async def build(conn: Any, h: str) -> None:
        await rollup_build.build_day(conn, h, DAY, now)

    async def merge(conn: Any, h: str) -> None:
        async with conn.cursor() as cur:
            await rollup_months.merge(cur, h, DAY, now)

    out.rollup_s = asyncio.run(each(build, donors))
    out.rollup_days = len(donors)
    stat_cols = "dim, key, " + ", ".join(rollups.STAT_COLS)
    t = time.perf_counter()
    copy_rows(centre.dsn, "day_stats", "day", stat_cols, targets, donor_of, DAY)
    copy_rows(centre.dsn, "day_counts", "day", "kind, key, n", targets, donor_of, DAY)
    sql(
        centre.dsn,
        "INSERT INTO rollup_days (hall_id, day, fingerprint, built_at) SELECT t, %s, coalesce(p.fingerprint,"
        " ''), now() FROM unnest(%s::text[]) AS t LEFT JOIN hall_profiles p ON p.hall_id = t",
        (DAY, targets),
    )
    asyncio.run(each(build, check))
    same(centre.dsn, "day_stats", "day", stat_cols, check, donor_of, DAY)
    same(centre.dsn, "day_counts", "day", "kind, key, n", check, donor_of, DAY)
    others = [d for d in _month_days() if d != DAY]
    for table, cols in (("day_stats", stat_cols), ("day_counts", "kind, key, n")):
        sql(
            centre.dsn,
            f"INSERT INTO {table} (hall_id, day, {cols}) SELECT hall_id, d::date, {cols} FROM {table},"
            " unnest(%s::date[]) AS d WHERE day = %s",
            (others, DAY),
        )
    sql(
        centre.dsn,
        "INSERT INTO rollup_days (hall_id, day, fingerprint, built_at) SELECT hall_id, d::date, fingerprint,"
        " built_at FROM rollup_days, unnest(%s::date[]) AS d WHERE day = %s",
        (others, DAY),
    )
    out.copy_s = time.perf_counter() - t
    out.month_merge_s = asyncio.run(each(merge, donors))
    asyncio.run(each(merge, check))
    month = DAY.replace(day=1)
    same(centre.dsn, "month_stats", "month", stat_cols, check, donor_of, month)
    same(centre.dsn, "month_counts", "month", "kind, key, n", check, donor_of, month)
    copy_rows(centre.dsn, "month_stats", "month", stat_cols, targets, donor_of, month)
    copy_rows(centre.dsn, "month_counts", "month", "kind, key, n", targets, donor_of, month)
    copy_rows(centre.dsn, "rollup_months", "month", "days, built_at", targets, donor_of, month)
    sql(centre.dsn, "ANALYZE")
    out.day_stats_rows = int(sql(centre.dsn, "SELECT count(*) FROM day_stats")[0][0])
    with contextlib.closing(login(centre.url)) as client:
        q = f"/api/stats/prov?period=month&day={DAY.isoformat()}"
        first = client.get(q + "&by=hall").json()
        out.month_halls = int(first["halls"])
        prof = Profile(centre.pid, f"centre during the month's statistics (run {k + 1})") if profile else None
        with prof if prof is not None else contextlib.nullcontext():
            out.month["hall"] = timed_get(client, q + "&by=hall", 10)
            out.month["region"] = timed_get(client, q + "&by=region", 5)
            out.month["matter"] = timed_get(client, q + "&by=matter", 5)
            out.month["rankings of windows"] = timed_get(
                client,
                f"/api/rankings/prov?period=month&day={DAY.isoformat()}&of=window&metric=satisfaction",
                5,
            )
        if prof is not None:
            out.profiles.append(prof.top())


# ---- the backlog scenario ----------------------------------------------------------------------------------


def week_db(folder: pathlib.Path, days: int) -> tuple[pathlib.Path, int]:
    """A provincial hall's database with `days` simulated days in its event log (as its store writes them) and
    nothing shipped: the week a hall was offline. The rows of those days are not needed: the shipper reads
    only the event log."""
    config = read_config(PROVINCIAL)
    db = folder / "week.db"
    migrate(db)
    seed(db)
    rows: list[tuple[int, str, str, str]] = []

    def log(events: Sequence[Event]) -> None:
        for ev in events:
            rec = describe(ev, len(rows) + 1, config)
            rows.append((rec.seq, ev.at.isoformat(), rec.kind, rec.text))

    run_days(config, [DAY + dt.timedelta(days=i) for i in range(days)], 7, log)
    conn = sqlite3.connect(db)
    with conn:
        conn.executemany("INSERT INTO events (seq, at, kind, body) VALUES (?, ?, ?, ?)", rows)
    conn.close()
    return db, len(rows)


def start_hall(folder: pathlib.Path, db: pathlib.Path, centre_url: str | None, at: dt.datetime) -> Server:
    text = PROVINCIAL.read_text(encoding="utf-8")
    if centre_url:
        text += f'\n[central]\nenabled = true\nurl = "{centre_url}"\nheartbeat_s = 5\n'
    config = folder / ("hall-shipping.toml" if centre_url else "hall-idle.toml")
    config.write_text(text, encoding="utf-8")
    args = ("--durability", "normal", "--tick-s", "3600", "--fake-start", at.isoformat())
    cmd = ["taskset", "-c", str(CENTRE_CPU), *server_command(config, db, *args)]
    popen, url = start_server(cmd, folder / "hall.log", 120, cwd=ROOT)
    return Server(popen, url, db)


def kiosk_token(url: str) -> str:
    from bench.server import enroll

    return enroll(url, "kiosk")


@dataclass
class BacklogRun:
    idle: list[float] = field(default_factory=list)
    shipping: list[float] = field(default_factory=list)
    errors: int = 0
    backlog_events: int = 0
    shipped_in_window: int = 0
    backlog_left_after: int = 0
    ship_s: float = 0.0
    load: str = ""


def backlog_run(
    cluster: Cluster,
    folder: pathlib.Path,
    k: int,
    week: pathlib.Path,
    n_events: int,
    rate: float,
    secs: float,
    wait_whole_week: bool,
) -> BacklogRun:
    out = BacklogRun(backlog_events=n_events, load=load())
    at = dt.datetime.combine(DAY + dt.timedelta(days=8), dt.time(9, 0), dt.timezone(dt.timedelta(hours=8)))
    pin(postmaster(cluster), LOAD_CPU)
    # The probe (a kiosk's few requests a second) runs beside the hall server, on its core in both halves;
    # the centre and its database stand for another machine and have the other core to themselves.
    os.sched_setaffinity(0, {CENTRE_CPU})
    # Idle: the same hall, shipping off.
    db = folder / f"idle{k}.db"
    shutil.copy(week, db)
    hall = start_hall(folder, db, None, at)
    try:
        token = kiosk_token(hall.url)
        settle(hall.popen.pid)
        lat, err = paced(hall.url, token, rate, secs, body=_issue_body)
        out.idle, out.errors = lat, out.errors + err
    finally:
        hall.stop()
    # Shipping: approved at the centre, the week goes out while the probe issues tickets.
    centre = start_centre(cluster, folder, f"backlog{k}", LOAD_CPU)
    db = folder / f"ship{k}.db"
    shutil.copy(week, db)
    hall = start_hall(folder, db, centre.url, at)
    try:
        token = kiosk_token(hall.url)
        deadline = time.monotonic() + 60
        while not sql(centre.dsn, "SELECT 1 FROM halls WHERE state = 'pending'"):
            if time.monotonic() > deadline:
                raise RuntimeError("the hall did not enroll")
            time.sleep(0.2)
        settle(hall.popen.pid)
        hall_id = str(sql(centre.dsn, "SELECT hall_id FROM halls")[0][0])
        approve(centre.dsn, hall_id)
        t0 = time.monotonic()
        while sql(centre.dsn, "SELECT acked_seq FROM halls")[0][0] == 0:  # shipping has begun
            if time.monotonic() - t0 > 60:
                raise RuntimeError("the hall did not start shipping")
            time.sleep(0.05)
        before = int(sql(centre.dsn, "SELECT acked_seq FROM halls")[0][0])
        lat, err = paced(hall.url, token, rate, secs, body=_issue_body)
        acked = int(sql(centre.dsn, "SELECT acked_seq FROM halls")[0][0])
        out.shipping, out.errors = lat, out.errors + err
        out.shipped_in_window = acked - before
        out.backlog_left_after = max(0, n_events - acked)
        while wait_whole_week and int(sql(centre.dsn, "SELECT acked_seq FROM halls")[0][0]) < n_events:
            if time.monotonic() - t0 > 1800:
                raise RuntimeError("the week did not arrive")
            time.sleep(0.5)
        out.ship_s = time.monotonic() - t0 if wait_whole_week else 0.0
    finally:
        hall.stop()
        centre.stop()
        with contextlib.suppress(Exception):
            sql(cluster.dsn(), f'DROP DATABASE "backlog{k}"')
        os.sched_setaffinity(0, {LOAD_CPU})
    return out


def settle(pid: int, timeout_s: float = 90.0) -> None:
    """Wait until a freshly started hall is done with its start-up work (its own roll-ups of the days in its
    database, caches): under 10 % of a core over two half-seconds in a row. Both halves of the backlog
    scenario probe a settled hall, so neither measures the other's start-up."""
    deadline = time.monotonic() + timeout_s
    quiet = 0
    last = cpu_seconds([pid])
    while quiet < 2 and time.monotonic() < deadline:
        time.sleep(0.5)
        now = cpu_seconds([pid])
        quiet = quiet + 1 if now - last < 0.05 else 0
        last = now


def approve(dsn: str, hall_id: str) -> None:
    """What the centre's operator does (audited)."""
    from hallcentral import halls

    async def run() -> None:
        pool = await open_pool(dsn, min_size=1, max_size=1)
        try:
            await halls.approve(pool, dt.datetime.now(dt.UTC), hall_id, REGION, "bench")
        finally:
            await pool.close()

    asyncio.run(run())


@functools.cache
def _present() -> str:
    m = read_config(PROVINCIAL).matter_by_code[MATTER]
    return json.dumps([x.id for x in m.precheck.materials], ensure_ascii=False)


def _issue_body() -> bytes:
    """A kiosk's ticket for MATTER with every material present (the pre-check passes)."""
    import uuid

    body = f'{{"request_id":"{uuid.uuid4().hex}","matter":"{MATTER}","answers":{{}},"present":{_present()}}}'
    return body.encode()


# ---- figures -----------------------------------------------------------------------------------------------


def _p(values: list[float], p: float) -> float:
    return round(pct(values, p), 1)


def figures(
    ingest: list[IngestRun], backlog: list[BacklogRun], sizes: Sizes, quick: bool
) -> list[dict[str, Any]]:
    tag = " (quick run)" if quick else ""
    figs: list[dict[str, Any]] = []
    rates = [r.sim["events_per_s"] for r in ingest]
    windows = [x for r in ingest for x in r.sim["rates_per_s"]]
    events = [r.sim["events"] for r in ingest]
    halls = ingest[0].sim["halls"]
    per_run = ", ".join(f"{x:,.0f}" for x in rates)
    cpu = ", ".join(
        f"centre {1e6 * r.centre_cpu_s / max(r.sim['events'], 1):.0f} ms + PostgreSQL"
        f" {1e6 * r.pg_cpu_s / max(r.sim['events'], 1):.0f} ms"
        for r in ingest
    )
    note = (
        f"{halls} halls × 1 simulated provincial-hall day"
        f" ({'full size' if sizes.arrivals is None else f'{sizes.arrivals} walk-ins'};"
        f" {ingest[0].sim['tickets']:,} tickets, {events[0]:,} events)"
        f" per run; per run {per_run}/s; CPU per 1,000 events: {cpu};"
        f" {ingest[0].load_before} → {ingest[-1].load_after}"
    )
    ok = pct(rates, 50) >= 5000
    figs.append(
        figure(
            f"ingest events/s, p50 of {len(rates)} runs{tag}",
            round(pct(rates, 50)),
            "events/s",
            "≥ 5,000 (target 20,000)",
            ok,
            note,
        )
    )
    figs.append(
        figure(
            f"ingest events/s, lowest of {len(rates)} runs{tag}",
            round(min(rates)),
            "events/s",
            "≥ 5,000",
            min(rates) >= 5000,
            "the slowest run",
        )
    )
    figs.append(
        figure(
            f"ingest events/s sustained (p5 of 5 s windows){tag}",
            _p(windows, 5),
            "events/s",
            "≥ 5,000",
            pct(windows, 5) >= 5000,
            f"{len(windows)} windows over all runs",
        )
    )
    batch50 = [r.sim["batch_ms_p50"] for r in ingest]
    batch95 = [r.sim["batch_ms_p95"] for r in ingest]
    figs.append(
        figure(
            f"batch of 500 events acknowledged, p50 / p95{tag}",
            pct(batch50, 50),
            "ms",
            "report",
            None,
            f"p95 {pct(batch95, 50)} ms (16 halls shipping at once)",
        )
    )
    live = [x for r in ingest for x in r.overview_live]
    idle = [x for r in ingest for x in r.overview_idle]
    seen = ingest[0].halls_seen
    figs.append(
        figure(
            f"overview refresh, {seen} halls live, during ingest, p95{tag}",
            _p(live, 95),
            "ms",
            "< 200 ms",
            pct(live, 95) < 200,
            f"p50 {_p(live, 50)} ms, {len(live)} samples",
        )
    )
    figs.append(
        figure(
            f"overview refresh, {seen} halls live, after ingest, p95{tag}",
            _p(idle, 95),
            "ms",
            "< 200 ms",
            pct(idle, 95) < 200,
            f"p50 {_p(idle, 50)} ms, {len(idle)} samples",
        )
    )
    mruns = [r for r in ingest if r.month]
    month = [x for r in mruns for x in r.month["hall"]]
    rows = mruns[0].day_stats_rows
    figs.append(
        figure(
            f"a month's statistics for the province by hall, from roll-ups, p95{tag}",
            _p(month, 95),
            "ms",
            "< 2,000 ms",
            pct(month, 95) < 2000,
            f"{mruns[0].month_halls} halls × {len(_month_days())} days, {rows:,} day roll-up rows"
            f" (merged into month rows, which the query reads); p50 {_p(month, 50)} ms, {len(month)} samples;"
            f" {mruns[0].load_after}",
        )
    )
    for what in ("region", "matter", "rankings of windows"):
        v = [x for r in mruns for x in r.month[what]]
        figs.append(
            figure(
                f"a month's statistics for the province, {what}, p95{tag}",
                _p(v, 95),
                "ms",
                "report",
                None,
                f"p50 {_p(v, 50)} ms",
            )
        )
    build = [r.rollup_days / r.rollup_s for r in mruns if r.rollup_s]
    figs.append(
        figure(
            f"roll-up of a finished hall day{tag}",
            round(1000 / pct(build, 50), 1),
            "ms per hall day",
            "report",
            None,
            f"{mruns[0].rollup_days} hall days of {mruns[0].sim['tickets'] // mruns[0].sim['halls']:,}"
            " tickets, each built once",
        )
    )
    merge = [r.month_merge_s / max(r.rollup_days, 1) for r in mruns]
    figs.append(
        figure(
            f"merge of a hall's month of roll-ups ({len(_month_days())} days){tag}",
            round(1000 * pct(merge, 50)),
            "ms per hall month",
            "report",
            None,
            "done again after a day of the month is counted again; a new day is merged on its own",
        )
    )
    figs.append(
        figure(
            f"centre database after one ingest run{tag}",
            ingest[0].db_mb,
            "MB",
            "report",
            None,
            "events (JSONB), derived rows and the month's roll-ups",
        )
    )
    if backlog:
        idle50 = [pct(b.idle, 50) for b in backlog]
        idle95 = [pct(b.idle, 95) for b in backlog]
        ship50 = [pct(b.shipping, 50) for b in backlog]
        ship95 = [pct(b.shipping, 95) for b in backlog]
        ratio = pct(ship95, 50) / pct(idle95, 50)
        b0 = backlog[0]
        whole = f", the whole week in {b0.ship_s:.0f} s" if b0.ship_s else ""
        note = (
            f"{sizes.backlog_days} days of a provincial hall ({b0.backlog_events:,} events) shipped while the"
            f" probe issued tickets; {b0.shipped_in_window:,} events shipped during the"
            f" {sizes.probe_s:.0f} s probe window"
            f"{whole}; idle p50/p95 {pct(idle50, 50):.1f}/{pct(idle95, 50):.1f} ms, shipping"
            f" p50/p95 {pct(ship50, 50):.1f}/{pct(ship95, 50):.1f} ms (medians of {len(backlog)} runs);"
            f" errors {sum(b.errors for b in backlog)}; {b0.load}"
        )
        figs.append(
            figure(
                f"hall issue latency while shipping a week of backlog, p95 vs idle{tag}",
                round(100 * (ratio - 1), 1),
                "% over idle",
                "within 10 %",
                ratio <= 1.10,
                note,
            )
        )
        r50 = pct(ship50, 50) / pct(idle50, 50)
        figs.append(
            figure(
                f"hall issue latency while shipping a week of backlog, p50 vs idle{tag}",
                round(100 * (r50 - 1), 1),
                "% over idle",
                "within 10 %",
                r50 <= 1.10,
                "",
            )
        )
    return figs


#: Why a gate is missed when it is (figure name prefix -> explanation), from the profiles in the JSON and
#: the CPU per 1,000 events; appended to the figure's note.
MISSES = {
    "ingest events/s": (
        "Miss: ingest is CPU-bound on the one core the centre and PostgreSQL share (the CPU per 1,000 events"
        " in the first figure's note: events/s cannot exceed 1,000 s divided by their sum), and other"
        " engineers' work on the same core takes part of it. Profile: the centre's time is in psycopg sending"
        " the batch (as JSONB, once for the events and once per derived table), parsing the body (orjson) and"
        " derive; more centre processes and a database core of its own are the next steps (docs/central.md,"
        " Scaling)."
    ),
    "overview refresh": (
        "Miss: during ingest the centre's one core applies 4 batches at a time (each costs half the first"
        " figure's CPU per 1,000 events, in Python and in PostgreSQL) and an overview request waits its turn"
        " on the event loop and in PostgreSQL; the same query after ingest is the figure below. A read"
        " replica or a core of its own for the pages removes the wait (docs/central.md, Scaling)."
    ),
    "hall issue latency": (
        "Miss: each batch is a burst on the hall's core (reading 500 events on the read pool, encoding,"
        " signing and sending ~200 KB), paced to catch_up_share = 0.1 of the time: the tickets issued during"
        " a burst wait for it, which moves the p95 and not the p50; the runs' idle figures (raw.backlog) vary"
        " almost as much under the machine's load."
    ),
}


def explain(figs: list[dict[str, Any]]) -> None:
    for f in figs:
        if f["ok"] is False:
            why = next((w for k, w in MISSES.items() if f["name"].startswith(k)), "")
            f["note"] = f"{f['note']} {why}".strip()


def _month_days() -> list[dt.date]:
    start = DAY.replace(day=1)
    return [
        start + dt.timedelta(days=i) for i in range(31) if (start + dt.timedelta(days=i)).month == DAY.month
    ]


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    size = ap.add_mutually_exclusive_group()
    size.add_argument(
        "--full", action="store_true", help="the issue's sizes: 200 full provincial hall days a run"
    )
    size.add_argument("--quick", action="store_true", help="a smoke run: 20 halls, one run, a short backlog")
    ap.add_argument("--no-profile", action="store_true", help="no py-spy profile of the centre's last run")
    ap.add_argument("--skip-backlog", action="store_true")
    args = ap.parse_args()
    sizes = FULL if args.full else QUICK if args.quick else DEFAULT
    if (os.cpu_count() or 1) < 2 or not shutil.which("taskset"):
        print("bench.central needs 2 cores and taskset", file=sys.stderr)
        return 2
    os.sched_setaffinity(0, {LOAD_CPU})
    folder = pathlib.Path(tempfile.mkdtemp(prefix="hallq-bench-central-"))
    cluster = start_cluster()
    ingest: list[IngestRun] = []
    backlog: list[BacklogRun] = []
    started = time.monotonic()
    load_start = load()
    try:
        for k in range(sizes.runs):
            print(f"ingest run {k + 1}/{sizes.runs}: {sizes.halls} halls; {load()}", flush=True)
            last = k == sizes.runs - 1  # the month's statistics and the profile: once, on the last run
            ingest.append(ingest_run(cluster, folder, k, sizes, last and not args.no_profile, last))
        if not args.skip_backlog:
            week, n = week_db(folder, sizes.backlog_days)
            print(f"backlog: {sizes.backlog_days} days, {n:,} events in the hall's log", flush=True)
            for k in range(sizes.runs):
                backlog.append(
                    backlog_run(cluster, folder, k, week, n, 20.0, sizes.probe_s, sizes.wait_whole_week)
                )
                print(
                    f"  backlog run {k + 1}: idle p95 {pct(backlog[-1].idle, 95):.1f} ms, shipping p95"
                    f" {pct(backlog[-1].shipping, 95):.1f} ms; {load()}",
                    flush=True,
                )
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)
    figs = figures(ingest, backlog, sizes, args.quick)
    explain(figs)
    for f in figs:
        print(f"  {f['name']}: {f['value']} {f['unit']} ({f['target']}) {f['note']}")
    write(
        "central",
        figs,
        notes=NOTES,
        where=(
            f"ingest and queries: centre and PostgreSQL on cpu {CENTRE_CPU}, load generator and probes on cpu"
            f" {LOAD_CPU}; backlog: hall server and the probe on cpu {CENTRE_CPU}, centre and PostgreSQL on"
            " cpu"
            f" {LOAD_CPU}"
        ),
        runs=sizes.runs,
        sizes=vars(sizes),
        load_avg={"start": load_start, "end": load()},
        wall_s=round(time.monotonic() - started),
        profiles=[p for r in ingest for p in r.profiles],
        raw={
            "ingest": [
                {
                    k: v
                    for k, v in vars(r).items()
                    if k not in ("profiles", "overview_live", "overview_idle", "month")
                }
                for r in ingest
            ],
            "backlog": [
                {
                    "idle_p50_p95_ms": [round(pct(b.idle, 50), 1), round(pct(b.idle, 95), 1)],
                    "shipping_p50_p95_ms": [round(pct(b.shipping, 50), 1), round(pct(b.shipping, 95), 1)],
                    "shipped_in_window": b.shipped_in_window,
                    "ship_s": round(b.ship_s, 1),
                    "errors": b.errors,
                    "load": b.load,
                }
                for b in backlog
            ],
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
