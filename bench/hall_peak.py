"""A provincial-hall morning peak through the real server (issue 10).

Run: .venv/bin/python bench/hall_peak.py [--speed 60] [--durability full|normal] [--quick]
(writes bench/results/hall_peak.json; 2 minutes of load after 1–3 minutes of set-up: 158 clerk accounts
with argon2 PINs and ~165 stations enrolled and logged in through the API)

The hall server (`python -m hallserver`, `config/provincial.toml`, 158 windows) runs in its own process on
loopback. The simulator (`hallq.sim`, the same citizens and clerks as `hallq sim --against`) drives it
through the API from this process: every kiosk station of the config and one counter station per window,
each clerk logged in, 08:30–10:30 of a Monday compressed `--speed` times (the ramp, the 09:00 peak hour and
after). Two light processes measure what the load generator cannot measure about itself (PITFALLS.md): a
probe (one desk and one counter station at a window the simulator leaves alone) times issue and call-next on
paced, open-loop requests, and a display watcher on the unfiltered event stream records when each call
arrives, so call → board lag is measured for every call in the hall. After the run the database is checked
for duplicate numbers, tickets held by two windows at once and gaps in the event log.

The server's clock runs at real speed from 08:40 while the simulated clock runs `--speed` times faster:
handle times, recalls and pauses are compressed, the server's own timers (print confirmation, housekeeping
ticks) are not. Bookings are left out: a check-in at a compressed slot time would be "too early" on the
server's clock.
"""

from __future__ import annotations

import argparse
import asyncio
import datetime as dt
import itertools
import json
import multiprocessing as mp
import os
import pathlib
import resource
import shutil
import sqlite3
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from collections.abc import Coroutine, Mapping
from multiprocessing.connection import Connection
from multiprocessing.process import BaseProcess
from typing import Any, TypeVar

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

import httpx  # noqa: E402

from bench.common import figure, pct, write  # noqa: E402
from bench.server import MANAGER, PIN, RawConn, Server, enroll, host_port, load, recv  # noqa: E402
from hallclient.http import HttpHall  # noqa: E402
from hallcore.config import HallConfig  # noqa: E402
from hallfiles.config import read_config  # noqa: E402
from hallq.serverproc import server_command  # noqa: E402
from hallq.serverproc import start_server as start_server_process  # noqa: E402
from hallq.sim import Pacer, SimParams, SimResult, simulate  # noqa: E402
from hallq.simports import Called, HttpPort  # noqa: E402

T = TypeVar("T")
CONFIG = ROOT / "config" / "provincial.toml"
TZ = dt.timezone(dt.timedelta(hours=8))
DAY = dt.date(2026, 11, 23)  # a Monday
SERVER_START = dt.datetime.combine(DAY, dt.time(8, 40), TZ)  # open, before the cut-off, all run long
SIM_FROM, SIM_UNTIL = dt.time(8, 30), dt.time(10, 30)
#: The clerks' codes are c<window> (the stations that `bench.server.enroll` logs in).
CLERK_PREFIX = "c"
PROBE_ISSUE_RATE = 2.0  # per second; one desk issue every 0.5 s, open loop
PROBE_CALL_EVERY = 1.0  # seconds between the probe window's call-next (then start, finish)
#: What hallclient raises for a refusal the hall meant (nothing waiting, a window already closed…): part of a
#: normal day, counted as information. Anything else (5xx, no answer, an unreadable reply, auth) is an error.
REFUSAL_CLASSES = ("Refusal",)


def rid() -> str:
    return uuid.uuid4().hex


# ---- server ----------------------------------------------------------------------------------------------


def start_server(db: pathlib.Path, durability: str, log: pathlib.Path) -> Server:
    cmd = server_command(CONFIG, db, "--durability", durability, "--fake-start", SERVER_START.isoformat())
    popen, url = start_server_process(cmd, log, 120, cwd=ROOT)
    return Server(popen, url, db)


def cpu_s(pid: int) -> float:
    """User + system CPU seconds of a process so far."""
    fields = pathlib.Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Sampler(threading.Thread):
    """The server's RSS every second and the longest event-loop stall it reports (/api/health keeps the
    maximum of the last 10 s, so sampling every 5 s misses nothing)."""

    def __init__(self, srv: Server) -> None:
        super().__init__(name="sampler", daemon=True)
        self.srv = srv
        self.rss: list[float] = []
        self.lag: list[float] = []
        self.subscribers = 0
        self.stop = threading.Event()

    def run(self) -> None:
        with httpx.Client(base_url=self.srv.url, timeout=10) as http:
            n = 0
            while not self.stop.wait(1.0):
                self.rss.append(self.srv.rss_mb())
                n += 1
                if n % 5 == 0:
                    try:
                        h = http.get("/api/health").json()
                    except httpx.HTTPError:
                        continue
                    self.lag.append(float(h["loop_lag_max_ms"]))
                    self.subscribers = int(h["subscribers"])


# ---- the simulator's side: every kiosk and counter as an API client --------------------------------------


class PeakPort(HttpPort):
    """`HttpPort` with all the config's kiosks, refusals told apart from errors, and the wall time of every
    call-next kept for the event-lag join."""

    def __init__(self, url: str, config: HallConfig, kiosks: int, windows: list[int]) -> None:
        self._enrolled = 0
        self.refusals: Counter[str] = Counter()
        self.errors: Counter[str] = Counter()
        self.call_sent: dict[str, float] = {}  # ticket id → wall time the call-next that called it was sent
        super().__init__(
            url,
            config,
            manager=MANAGER[0],
            password=MANAGER[1],
            clerk_prefix=CLERK_PREFIX,
            clerk_pin=PIN,
            windows=windows,
            kiosks=kiosks,
        )

    def _enrolling(self) -> HttpHall:
        """Enroll from a different loopback address every 40 stations: the server limits enrollments to 50
        per address per 5 minutes (a real hall's stations each have their own), and this enrolls ~165."""
        from hallclient.http import HttpHall

        self._enrolled += 1
        source = f"127.0.0.{2 + self._enrolled // 40}"
        return HttpHall(self.url, transport=httpx.AsyncHTTPTransport(local_address=source))

    def _try(self, what: str, coro: Coroutine[Any, Any, T]) -> T | None:
        from hallclient.errors import HallClientError

        self.commands += 1
        try:
            return self._run(coro)
        except HallClientError as exc:
            name = type(exc).__name__
            key = f"{what}: {getattr(exc, 'code', name)}"
            (self.refusals if name in REFUSAL_CLASSES else self.errors)[key] += 1
            return None

    def call_next(self, window: int, now: dt.datetime) -> Called | None:
        sent = time.time()
        called = super().call_next(window, now)
        if called is not None:
            self.call_sent.setdefault(called.ticket, sent)
        return called


class LagPacer(Pacer):
    """The simulator's pacer, recording how late each action ran against its compressed schedule (a load
    generator that falls behind offers less than it says)."""

    def __init__(self, speed: float) -> None:
        super().__init__(speed)
        self.late_s: list[float] = []

    def wait_until(self, when: dt.datetime) -> None:
        super().wait_until(when)
        if self._origin is not None:
            due = self._origin[1] + (when - self._origin[0]).total_seconds() / (self.speed or 1.0)
            self.late_s.append(max(0.0, time.monotonic() - due))


# ---- probe and watcher (separate light processes) ----------------------------------------------------------


def _probe(url: str, desk: str, counter: str, window: int, matter: str, ctl: Connection) -> None:
    """Paced issues (open loop) and a call-next cycle at the probe window until told to stop."""

    async def main() -> dict[str, Any]:
        host, port = host_port(url)
        issue_ms: list[float] = []
        call_ms: list[float] = []
        action_ms: list[float] = []
        errors: Counter[str] = Counter()
        empty = 0
        calls: dict[str, float] = {}
        idle: list[RawConn] = []

        def body() -> bytes:
            return f'{{"request_id":"{rid()}","matter":"{matter}"}}'.encode()

        stop = asyncio.Event()

        async def one_issue() -> None:
            conn = idle.pop() if idle else RawConn(host, port, desk)
            t = time.perf_counter()
            try:
                status, _ = await conn.post("/api/tickets", body())
            except (OSError, asyncio.IncompleteReadError, ValueError, IndexError) as exc:
                errors[f"issue: {type(exc).__name__}"] += 1
                conn.close()
                return
            issue_ms.append((time.perf_counter() - t) * 1000)
            if status != 201:
                errors[f"issue: HTTP {status}"] += 1
            idle.append(conn)

        async def issuer() -> None:
            tasks = []
            start = time.perf_counter()
            i = 0
            while not stop.is_set():
                delay = start + i / PROBE_ISSUE_RATE - time.perf_counter()
                if delay > 0:
                    await asyncio.sleep(delay)
                tasks.append(asyncio.create_task(one_issue()))
                i += 1
            await asyncio.gather(*tasks)

        async def caller() -> None:
            nonlocal empty
            conn = RawConn(host, port, counter)
            w = f"/api/windows/{window}"
            try:
                while not stop.is_set():
                    t0 = time.perf_counter()
                    sent = time.time()
                    status, data = await conn.post(f"{w}/call-next", f'{{"request_id":"{rid()}"}}'.encode())
                    call_ms.append((time.perf_counter() - t0) * 1000)
                    ticket = json.loads(data).get("ticket") if status == 200 else None
                    if status not in (200, 409):
                        errors[f"call-next: HTTP {status}"] += 1
                    if ticket is None:
                        empty += 1
                    else:
                        calls[ticket["id"]] = sent
                        for action in ("start", "finish"):
                            t1 = time.perf_counter()
                            status, _ = await conn.post(
                                f"{w}/{action}", f'{{"request_id":"{rid()}"}}'.encode()
                            )
                            action_ms.append((time.perf_counter() - t1) * 1000)
                            if status != 200:
                                errors[f"{action}: HTTP {status}"] += 1
                    left = PROBE_CALL_EVERY - (time.perf_counter() - t0)
                    if left > 0:
                        await asyncio.sleep(left)
            finally:
                conn.close()

        async def until_stopped() -> None:
            loop = asyncio.get_running_loop()
            await loop.run_in_executor(None, ctl.recv)
            stop.set()

        ctl.send(("ready",))
        await asyncio.gather(issuer(), caller(), until_stopped())
        for c in idle:
            c.close()
        return {
            "issue_ms": issue_ms,
            "call_ms": call_ms,
            "action_ms": action_ms,
            "errors": dict(errors),
            "empty": empty,
            "calls": calls,
        }

    ctl.send(asyncio.run(main()))


def _watcher(url: str, display: str, ctl: Connection) -> None:
    """One display on the unfiltered stream: when each call arrived, and whether any seq was skipped."""
    from websockets.asyncio.client import connect

    async def main() -> dict[str, Any]:
        arrived: dict[str, float] = {}
        events = heartbeats = gaps = snapshots = 0
        last = -1
        stop = asyncio.Event()

        async def until_stopped() -> None:
            await asyncio.get_running_loop().run_in_executor(None, ctl.recv)
            stop.set()

        async def follow() -> None:
            nonlocal events, heartbeats, gaps, snapshots, last
            ws_url = url.replace("http://", "ws://") + "/events"
            auth = {"Authorization": f"Bearer {display}"}
            async with connect(ws_url, additional_headers=auth, compression=None, max_size=None) as ws:
                ctl.send(("ready",))
                while not stop.is_set():
                    try:
                        raw = await asyncio.wait_for(ws.recv(), 0.5)
                    except TimeoutError:
                        continue
                    now = time.time()
                    m = json.loads(raw)
                    kind, seq = m.get("kind"), int(m.get("seq", -1))
                    if kind == "snapshot":
                        snapshots += 1
                    elif kind == "heartbeat":
                        heartbeats += 1
                        continue  # heartbeats may overtake queued events: only events are checked
                    else:
                        events += 1
                        if last >= 0 and seq != last + 1:
                            gaps += 1
                        if m.get("action") == "called":
                            arrived.setdefault(m["ticket"]["id"], now)
                    last = max(last, seq)

        await asyncio.gather(follow(), until_stopped())
        return {
            "arrived": arrived,
            "events": events,
            "heartbeats": heartbeats,
            "gaps": gaps,
            "snapshots": snapshots,
        }

    ctl.send(asyncio.run(main()))


# ---- checks on the database -------------------------------------------------------------------------------


def store_checks(db: pathlib.Path) -> dict[str, int]:
    """Duplicate numbers, a ticket called while another window held it, gaps in the event log."""
    conn = sqlite3.connect(str(db))
    try:
        # A transferred ticket keeps its label (number and original prefix) in its new series: the label is
        # what must be unique per day.
        n, distinct = conn.execute(
            "SELECT COUNT(*), COUNT(DISTINCT day || '/' || label) FROM tickets"
        ).fetchone()
        holder: dict[str, int | None] = {}
        double = called = 0
        called_tickets: set[str] = set()
        for (body,) in conn.execute("SELECT body FROM events WHERE kind = 'ticket_changed' ORDER BY seq"):
            m = json.loads(body)
            tid, action = m["ticket"]["id"], m["action"]
            win = (m.get("window") or {}).get("number")
            if action == "called":
                called += 1
                called_tickets.add(tid)
                if tid in holder and holder[tid] != win:
                    double += 1
                holder[tid] = win
            elif action in ("recalled", "serving"):
                if holder.get(tid) != win:
                    double += 1
            else:
                holder.pop(tid, None)
        seqs = [r[0] for r in conn.execute("SELECT seq FROM events ORDER BY seq")]
        gaps = sum(1 for a, b in itertools.pairwise(seqs) if b != a + 1)
        by_state = dict(conn.execute("SELECT state, COUNT(*) FROM tickets GROUP BY state").fetchall())
        return {
            "tickets": int(n),
            "duplicates": int(n - distinct),
            "calls": called,
            "called_tickets": len(called_tickets),
            "double_held": double,
            "log_gaps": gaps,
            "events": len(seqs),
            **{f"state {k}": int(v) for k, v in by_state.items()},
        }
    finally:
        conn.close()


# ---- the run ----------------------------------------------------------------------------------------------


def probe_window(config: HallConfig) -> tuple[int, str]:
    """The last window of the largest single-series group (its series stays staffed without it) and a
    matter of that series with no pre-check failure possible from an empty answer set."""
    groups: dict[tuple[str, ...], list[int]] = {}
    for w in config.windows:
        groups.setdefault(tuple(w.series), []).append(w.number)
    series, numbers = max(((s, n) for s, n in groups.items() if len(s) == 1), key=lambda g: len(g[1]))
    matter = next(m.code for m in config.matters if m.series == series[0])
    return max(numbers), matter


def run(args: argparse.Namespace) -> None:
    config = read_config(CONFIG)
    window, matter = probe_window(config)
    kiosks = sum(1 for s in config.stations if s.role == "kiosk")
    sim_windows = [w.number for w in config.windows if w.number != window]
    ctx = mp.get_context("spawn")
    figs: list[dict[str, Any]] = []
    with tempfile.TemporaryDirectory(prefix="hallq-peak-") as tmpname:
        tmp = pathlib.Path(tmpname)
        db = tmp / "hall.db"
        from hallserver import admin

        t = time.monotonic()
        admin.create_manager(db, *MANAGER)
        for w in config.windows:
            admin.add_clerk(db, f"{CLERK_PREFIX}{w.number}", f"窗口{w.number}", PIN)
        print(f"{len(config.windows)} clerks in {time.monotonic() - t:.1f} s", flush=True)
        srv = start_server(db, args.durability, tmp / "server.log")
        procs: list[tuple[BaseProcess, Connection]] = []
        port: PeakPort | None = None
        sampler: Sampler | None = None
        try:
            desk = enroll(srv.url, "desk")
            counter = enroll(srv.url, "counter", window)
            display = enroll(srv.url, "display")
            t = time.monotonic()
            port = PeakPort(srv.url, config, kiosks, sim_windows)
            setup_s = time.monotonic() - t
            print(f"{kiosks} kiosks + {len(sim_windows)} counters enrolled in {setup_s:.0f} s", flush=True)
            for target, targs in (
                (_watcher, (srv.url, display)),
                (_probe, (srv.url, desk, counter, window, matter)),
            ):
                a, b = ctx.Pipe()
                p = ctx.Process(target=target, args=(*targs, b), daemon=True)
                p.start()
                procs.append((p, a))
                recv(a, 120)
            sampler = Sampler(srv)
            sampler.start()
            cpu0, self0, wall0 = cpu_s(srv.pid), _self_cpu(), time.monotonic()
            pacer = LagPacer(args.speed)
            params = SimParams(DAY, SIM_FROM, dt.time(17, 0), booking_share=0.0, windows=tuple(sim_windows))
            result = simulate(
                config,
                params,
                port=port,
                pacer=pacer,
                start_at=dt.datetime.combine(DAY, SIM_FROM, TZ),
                until=dt.datetime.combine(DAY, SIM_UNTIL, TZ),
            )
            wall = time.monotonic() - wall0
            server_cpu = (cpu_s(srv.pid) - cpu0) / wall * 100
            gen_cpu = (_self_cpu() - self0) / wall * 100
            for _p, a in procs:
                a.send("stop")
            time.sleep(1.0)  # let the watcher drain the last calls (they arrive within milliseconds)
            watch: dict[str, Any] = recv(procs[0][1], 60)
            probe: dict[str, Any] = recv(procs[1][1], 60)
        finally:
            if sampler is not None:
                sampler.stop.set()
                sampler.join(10)
            if port is not None:
                port.close()
            for child, _a in procs:
                child.join(10)
                if child.is_alive():
                    child.kill()
            srv.stop()
        checks = store_checks(db)
        if args.keep is not None:
            shutil.copytree(tmp, args.keep, dirs_exist_ok=True)
    figs += figures(args, result, port, pacer, probe, watch, checks, window, wall)
    figs.append(
        figure(
            "server CPU during the run",
            round(server_cpu),
            "% of one core",
            "",
            None,
            f"load generator (the simulator with {kiosks + len(sim_windows)} API clients) used "
            f"{gen_cpu:.0f} % of one core on the same 2 cores; {load()}",
        )
    )
    figs.append(
        figure(
            "server RSS, peak / at the end",
            round(max(sampler.rss), 1),
            "MB",
            "< 200 (issue 4 (e), with 5,200 subscribers)",
            max(sampler.rss) < 200,
            f"{sampler.rss[-1]:.1f} MB at the end; {sampler.subscribers} subscribers here",
        )
    )
    stall = max(sampler.lag, default=float("nan"))
    figs.append(
        figure(
            "longest server event-loop stall during the peak",
            stall,
            "ms",
            "",
            None,
            "from /api/health (max of each 10 s window, sampled every 5 s); issue 4 (f) sets < 100 ms for a "
            "storm of 5,000 reconnecting watchers, not for this",
        )
    )
    out = write(
        "hall_peak",
        figs,
        speed=args.speed,
        quick=args.quick,
        durability=args.durability,
        simulated=f"{DAY} {SIM_FROM:%H:%M}–{SIM_UNTIL:%H:%M}",
        wall_s=round(wall, 1),
        store=checks,
        refusals=dict(port.refusals) if port else {},
        errors=dict(port.errors) if port else {},
        probe_errors=probe["errors"],
        tree=_tree(),
        notes=notes(
            args,
            f"{kiosks} kiosks and {len(sim_windows)} counter stations (one per window, clerk logged in) "
            f"enrolled through the API in {setup_s:.0f} s; the probe owns window {window} (issuing {matter})",
            figs,
            server_cpu,
            stall,
            f"{pct(probe['issue_ms'], 50):.1f} ms (issue) and {pct(probe['call_ms'], 50):.1f} ms (call-next)",
        ),
    )
    print(json.dumps(figs, ensure_ascii=False, indent=1))
    print(f"wrote {out}")


def _self_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _tree() -> str:
    """The commit the server ran from, and whether the tree had uncommitted changes."""
    try:
        head = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no", "hallserver", "hallcore", "hallclient"],
            cwd=ROOT,
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return head + (" with uncommitted changes in the server/engine/client" if dirty else "")


def figures(
    args: argparse.Namespace,
    result: SimResult,
    port: PeakPort | None,
    pacer: LagPacer,
    probe: Mapping[str, Any],
    watch: Mapping[str, Any],
    checks: Mapping[str, int],
    window: int,
    wall: float,
) -> list[dict[str, Any]]:
    assert port is not None
    errors = sum(port.errors.values()) + sum(probe["errors"].values())
    issued = checks["tickets"]
    peak = sum(
        1 for r in result.records.values() if dt.time(9) <= r.issued_at.astimezone(TZ).time() < dt.time(10)
    )
    full = args.durability == "full"
    figs = [
        figure(
            "tickets issued (simulator + probe)",
            issued,
            "tickets",
            "",
            None,
            f"{len(result.records)} by the simulator's citizens at the kiosks "
            f"({peak} in the 09:00 peak hour, "
            f"i.e. {peak / 3600 * args.speed:.1f}/s compressed), {len(probe['issue_ms'])} by the probe desk; "
            f"pre-check at the kiosks {dict(result.prechecks)}; "
            f"{issued / wall:.1f} tickets/s over the run",
        ),
        figure(
            "tickets called",
            checks["called_tickets"],
            "tickets",
            "",
            None,
            f"{checks['calls']} call events (recalls of no-shows and transfers call again); "
            f"{len(probe['calls'])} by the probe window, the rest by {len(port._counters)} simulated clerks; "
            f"ticket states at the end { ({k[6:]: v for k, v in checks.items() if k.startswith('state ')}) }",
        ),
        figure(
            "errors (5xx, no answer, unreadable reply, auth) + duplicates + tickets held by two windows",
            errors + checks["duplicates"] + checks["double_held"],
            "count",
            "0",
            errors + checks["duplicates"] + checks["double_held"] == 0,
            f"{errors} errors {dict(port.errors) | probe['errors']}, "
            f"{checks['duplicates']} duplicate numbers, "
            f"{checks['double_held']} calls of a ticket another window held, {checks['log_gaps']} gaps in "
            f"the event log; refusals the hall meant (not errors): {sum(port.refusals.values())} "
            f"{dict(port.refusals.most_common(6))}",
        ),
    ]
    for what, lat, target in (
        ("issue", probe["issue_ms"], True),
        ("call-next", probe["call_ms"], False),
    ):
        if not lat:
            continue
        stat, value = ("p95", pct(lat, 95)) if full else ("p99", pct(lat, 99))
        figs.append(
            figure(
                f"{what} latency at the probe, {stat}, durability {args.durability}",
                round(value, 1),
                "ms",
                f"< 25 (issue 4 (b) at 200/s offered, {stat} for {args.durability})" if target else "",
                (value < 25) if target else None,
                f"p50 {pct(lat, 50):.1f}, p95 {pct(lat, 95):.1f}, p99 {pct(lat, 99):.1f}, "
                f"max {max(lat):.1f} ms over {len(lat)} requests"
                + (
                    f" (paced {PROBE_ISSUE_RATE:g}/s open loop from a desk station)"
                    if target
                    else f" (every {PROBE_CALL_EVERY:g} s at window {window}; {probe['empty']} found nobody)"
                ),
            )
        )
    lags = [
        (watch["arrived"][tid] - sent) * 1000
        for calls in (port.call_sent, probe["calls"])
        for tid, sent in calls.items()
        if tid in watch["arrived"]
    ]
    missing = len(port.call_sent) + len(probe["calls"]) - len(lags)
    own = [
        (watch["arrived"][tid] - sent) * 1000
        for tid, sent in probe["calls"].items()
        if tid in watch["arrived"]
    ]
    if lags:
        figs.append(
            figure(
                "call-next sent → call on a display's event stream, p99",
                round(pct(lags, 99), 1),
                "ms",
                "< 50 (issue 4 (c), with 5,200 subscribers)",
                pct(lags, 99) < 50 and missing == 0,
                f"p50 {pct(lags, 50):.1f}, p95 {pct(lags, 95):.1f}, max {max(lags):.1f} ms over {len(lags)} "
                f"calls (every call in the hall, the simulator's through httpx and its thread hand-off "
                f"included; the probe's {len(own)} alone: p50 {pct(own, 50):.1f}, "
                f"p99 {pct(own, 99):.1f} ms); {missing} calls "
                f"never seen; watcher saw {watch['events']} events, {watch['gaps']} seq gaps, "
                f"{watch['snapshots']} snapshot(s)",
            )
        )
    late = sorted(pacer.late_s)
    figs.append(
        figure(
            "simulator behind its compressed schedule, p95",
            round(pct(late, 95) * 1000),
            "ms",
            "",
            None,
            f"max {late[-1]:.2f} s over {len(late)} actions: how far the serial load generator fell behind "
            f"({args.speed:g}× speed); {port.commands} API commands in {wall:.0f} s "
            f"({port.commands / wall:.0f}/s)",
        )
    )
    return figs


def notes(
    args: argparse.Namespace,
    setup: str,
    figs: list[dict[str, Any]],
    server_cpu: float,
    stall: float,
    medians: str,
) -> str:
    """What was run, and why each miss happened, from this run's own figures."""
    text = (
        f"08:30–10:30 of a Monday at {args.speed:g}× (the 09:00 peak hour in {60 / args.speed:.1f} min), "
        f"durability {args.durability}; {setup}; the simulator's arrivals are sized for the whole day at "
        "72 % window utilisation with the hourly profile of `hallq sim`. Compressing time multiplies the "
        f"request rate {args.speed:g}-fold over a real peak hour. The simulator is one serial client (each "
        "request waits for the previous), so this measures the hall's mix of requests, not the server's "
        "ceiling (`server` (a)/(b) do that); when it falls behind its schedule it offers less, not more."
    )
    missed = [f["name"] for f in figs if f["ok"] is False]
    if missed:
        text += (
            f" Misses: {'; '.join(missed)}. The medians are {medians}, only the tail is long, and the server "
            f"used {server_cpu:.0f} % of one core: its own work is not the limit. "
            + (
                "With durability full every commit waits for fsync, and this machine's disk stalls 20–600 ms "
                "30–45 times a minute (PITFALLS.md): the likely cause of the tail (`--durability normal` "
                "tells it apart). "
                if args.durability == "full"
                else ""
            )
            + f"Other work kept the load average at {os.getloadavg()[1]:.1f} on the 2 cores, and the "
            f"server's event-loop stall ({stall:.0f} ms) counts time it waited for a CPU. Issue 4's "
            "latency targets are for an otherwise idle machine."
        )
    return text


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--speed", type=float, default=60.0, help="simulated seconds per real second")
    ap.add_argument(
        "--durability", choices=["full", "normal"], default="full", help="the hall's default: full"
    )
    ap.add_argument("--keep", type=pathlib.Path, help="copy the database and server log here afterwards")
    ap.add_argument("--quick", action="store_true", help="240× (30 s of load) to try the benchmark itself")
    args = ap.parse_args()
    if args.quick:
        args.speed = 240.0
    run(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
