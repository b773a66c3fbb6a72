"""`hallq sim --central URL --halls N`: a province's simulated hall days replayed into a centre through the
real shipping protocol, several halls per process, to measure the centre's ingest and queries as halls are
added (docs/central.md "Province-scale simulation").

Each simulated hall is the real engine on a virtual clock (`hallq.sim`) over `days` consecutive days, its
events numbered and filtered exactly as a hall's store and shipper number and filter them
(`hallcore.shipping.export_event`), with a share of each day's 差评 closed the next morning (the rest go
overdue). A hall enrolls with its own Ed25519 key, is approved (through the centre's database with
`--approve-with`, or by an operator: its code is printed), then ships its events oldest first in signed
batches of `batch` events, its profile in the first; `concurrency` halls ship at once. Simulating a big hall
day takes seconds, so `distinct` simulated halls are replayed by all N (hall i replays simulation i mod
distinct under its own id and key): the centre stores and counts every hall's events all the same.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import datetime as dt
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from hallcore import commands as c
from hallcore.calendar import HallCalendar
from hallcore.codec import encode
from hallcore.config import HallConfig
from hallcore.events import Event
from hallcore.measures import percentile
from hallcore.model import CaseAction, CaseState
from hallcore.shipping import enrollment_code, envelope, export_event, hall_profile, profile_fingerprint
from hallq.sim import SimParams, simulate
from hallq.simports import EnginePort
from hallserver.shipper import public_bytes, signed

#: Halls enrolled before they are approved (a centre keeps at most 100 enrollments waiting).
ENROLL_CHUNK = 50
#: Share of yesterday's open 差评 a hall closes the next morning (回访, 整改, 办结); the rest go overdue.
CASE_CLOSE_SHARE = 0.7


@dataclass(slots=True)
class Stream:
    """One simulated hall's days: its events as its shipper would send them, seq 1.. in order."""

    events: list[dict[str, Any]] = field(default_factory=list)
    tickets: int = 0
    wall_s: float = 0.0

    def log(self, events: Sequence[Event]) -> None:
        for ev in events:
            data = encode(ev)
            kind = str(data.pop("kind"))
            self.events.append(export_event(len(self.events) + 1, ev.at.isoformat(), kind, data))


def run_days(
    config: HallConfig,
    days: list[dt.date],
    seed: int,
    on_events: Callable[[Sequence[Event]], None],
    arrivals: int | None = None,
) -> EnginePort:
    """One hall's engine over `days` (closed days pass with nothing), each day closed at its hour; every
    accepted command's events to `on_events`, in order."""
    port = EnginePort(config, on_events=on_events)
    cal = HallCalendar(config.hall)
    rng = random.Random(seed)
    for i, day in enumerate(days):
        opens, closes = cal.opens_at(day), cal.closes_at(day)
        if opens is None or closes is None:
            continue
        _follow_up_cases(port, opens + dt.timedelta(minutes=20), rng)
        params = SimParams(day, opens.time(), closes.time(), arrivals, seed=seed * 100 + i)
        simulate(config, params, port=port)
        port.tick(closes + dt.timedelta(minutes=5))  # what still waits at closing time expires
    return port


def simulate_hall(config: HallConfig, days: list[dt.date], seed: int, arrivals: int | None = None) -> Stream:
    """The events one hall's shipper would send for `days`."""
    started = time.perf_counter()
    out = Stream()
    port = run_days(config, days, seed, out.log, arrivals)
    out.tickets = len(port.engine.tickets)
    out.wall_s = time.perf_counter() - started
    return out


def _follow_up_cases(port: EnginePort, now: dt.datetime, rng: random.Random) -> None:
    for case in sorted(port.engine.cases.values(), key=lambda k: k.id):
        if case.state is not CaseState.OPEN or rng.random() >= CASE_CLOSE_SHARE:
            continue
        for action in (CaseAction.CALLBACK, CaseAction.RESOLVE, CaseAction.CLOSE):
            port._do(c.CaseStepCommand(case.id, action, "模拟回访与整改", "sim"), now)


# ---- shipping ----------------------------------------------------------------------------------------------


@dataclass(slots=True)
class SimulatedHall:
    hall_id: str
    name: str
    key: Ed25519PrivateKey
    profile: dict[str, Any]
    stream: Stream
    code: str = ""

    @property
    def fingerprint(self) -> str:
        return profile_fingerprint(self.profile)


@dataclass(slots=True)
class Shipped:
    """What the replay did: every batch's (start, seconds, events) and the refusals by reason."""

    batches: list[tuple[float, float, int]] = field(default_factory=list)
    refusals: dict[str, int] = field(default_factory=dict)
    events: int = 0
    started: float = 0.0
    ended: float = 0.0

    def summary(self) -> dict[str, Any]:
        wall = max(self.ended - self.started, 1e-9)
        lat = [d * 1000 for _t, d, _n in self.batches]
        return {
            "events": self.events,
            "batches": len(self.batches),
            "wall_s": round(wall, 2),
            "events_per_s": round(self.events / wall, 1),
            "batch_ms_p50": _round(percentile(lat, 0.5)),
            "batch_ms_p95": _round(percentile(lat, 0.95)),
            "batch_ms_max": _round(max(lat, default=None)),
            "rates_per_s": self.rates(),
            "refusals": dict(self.refusals),
        }

    def rates(self, window_s: float = 5.0) -> list[float]:
        """Events/s acknowledged in each `window_s` of the replay (the last, partial window left out)."""
        if not self.batches:
            return []
        n = int((self.ended - self.started) // window_s)
        acc = [0] * max(n, 0)
        for t, d, k in self.batches:
            i = int((t + d - self.started) // window_s)
            if i < n:
                acc[i] += k
        return [round(x / window_s, 1) for x in acc]


def _round(x: float | None) -> float | None:
    return None if x is None else round(x, 1)


def make_halls(
    config: HallConfig,
    streams: list[Stream],
    n: int,
    prefix: str,
    keys: list[Ed25519PrivateKey] | None = None,
) -> list[SimulatedHall]:
    """N halls (ids `prefix-001`…), hall i replaying stream i mod len(streams), each with its own key."""
    out = []
    for i in range(n):
        hall_id = f"{prefix}-{i + 1:03d}"
        name = f"{config.hall.name}（模拟 {i + 1:03d}）"
        cfg = dataclasses.replace(config, hall=dataclasses.replace(config.hall, id=hall_id, name=name))
        key = keys[i] if keys is not None else Ed25519PrivateKey.generate()
        out.append(SimulatedHall(hall_id, name, key, hall_profile(cfg), streams[i % len(streams)]))
    return out


async def _post(
    client: httpx.AsyncClient, hall: SimulatedHall, path: str, payload: dict[str, Any]
) -> httpx.Response:
    body, headers = signed(hall.key, hall.hall_id, payload)
    return await client.post(path, content=body, headers=headers)


async def enroll(client: httpx.AsyncClient, hall: SimulatedHall) -> str:
    """Ask to be known (the state: pending or approved); the code to compare is `hall.code`."""
    payload = {
        "hall": hall.hall_id,
        "name": hall.name,
        "public_key": base64.b64encode(public_bytes(hall.key)).decode(),
        "at": dt.datetime.now(dt.UTC).isoformat(),
    }
    r = await _post(client, hall, "/api/v1/enroll", payload)
    if r.status_code not in (200, 202):
        raise RuntimeError(f"{hall.hall_id}: enrollment refused: HTTP {r.status_code} {r.text[:200]}")
    hall.code = enrollment_code(public_bytes(hall.key))
    return str(r.json()["state"])


async def ship_hall(
    client: httpx.AsyncClient, hall: SimulatedHall, batch: int, out: Shipped, retries: int = 20
) -> None:
    """Every event of the hall's stream, oldest first, resuming from the centre's cursor (as the real
    shipper does after a refusal or a lost answer)."""
    events = hall.stream.events
    fingerprint = hall.fingerprint
    acked = 0
    profile: dict[str, Any] | None = hall.profile
    failures = 0
    while acked < len(events):
        part = events[acked : acked + batch]
        payload = envelope(hall.hall_id, part[-1]["at"], len(events), part[0]["at"], part, profile)
        t0 = time.perf_counter()
        try:
            r = await _post(client, hall, "/api/v1/batches", payload)
        except httpx.HTTPError as exc:
            reason = type(exc).__name__
        else:
            data = r.json() if r.headers.get("content-type", "").startswith("application/json") else {}
            if r.status_code == 200:
                new = int(data["acked_seq"])
                out.events += max(0, new - acked)
                out.batches.append((t0, time.perf_counter() - t0, max(0, new - acked)))
                acked = new
                profile = None if data.get("profile") == fingerprint else hall.profile
                failures = 0
                continue
            reason = str(data.get("error", r.status_code))
            if r.status_code == 409 and "acked_seq" in data:  # the centre's cursor is elsewhere: resume
                acked = int(data["acked_seq"])
        out.refusals[reason] = out.refusals.get(reason, 0) + 1
        failures += 1
        if failures > retries:
            raise RuntimeError(f"{hall.hall_id}: gave up after {failures} refusals ({reason})")
        await asyncio.sleep(min(5.0, 0.2 * 2**failures))


async def replay(
    url: str,
    halls: list[SimulatedHall],
    *,
    batch: int = 500,
    concurrency: int = 8,
    approve: Callable[[list[SimulatedHall]], Awaitable[None]] | None = None,
    approval_timeout_s: float = 600.0,
    say: Callable[[str], None] = print,
) -> Shipped:
    """Enroll every hall, get them approved, then ship them all, `concurrency` at a time."""
    limits = httpx.Limits(max_connections=concurrency + 4, max_keepalive_connections=concurrency + 4)
    async with httpx.AsyncClient(base_url=url.rstrip("/"), timeout=120.0, limits=limits) as client:
        # At most MAX_PENDING enrollments wait for approval at a centre: enroll a chunk, get it approved.
        for i in range(0, len(halls), ENROLL_CHUNK):
            chunk = halls[i : i + ENROLL_CHUNK]
            states = [await enroll(client, h) for h in chunk]
            pending = [h for h, s in zip(chunk, states, strict=True) if s != "approved"]
            if pending and approve is not None:
                await approve(pending)
            elif pending:
                for h in pending:
                    say(f"{h.hall_id} {h.name}: 登记码 {h.code} — approve it at the centre (管理)")
            deadline = time.monotonic() + approval_timeout_s
            while pending:
                pending = [h for h in pending if await enroll(client, h) != "approved"]
                if pending and time.monotonic() > deadline:
                    raise RuntimeError(
                        f"{len(pending)} halls were not approved in {approval_timeout_s:.0f} s"
                    )
                if pending:
                    await asyncio.sleep(2.0)
        say(f"  replaying {len(halls)} halls into {url}")
        out = Shipped(started=time.perf_counter())
        queue: asyncio.Queue[SimulatedHall] = asyncio.Queue()
        for h in halls:
            queue.put_nowait(h)

        async def worker() -> None:
            while not queue.empty():
                await ship_hall(client, queue.get_nowait(), batch, out)

        await asyncio.gather(*(worker() for _ in range(min(concurrency, len(halls)))))
        out.ended = time.perf_counter()
    return out


# ---- the command -------------------------------------------------------------------------------------------


def add_arguments(ap: Any) -> None:
    g = ap.add_argument_group("province (replay simulated hall days into a centre)")
    g.add_argument("--central", metavar="URL", help="the centre's base URL: replay N halls into it")
    g.add_argument("--halls", type=int, default=10, help="simulated halls (default 10)")
    g.add_argument("--days", type=int, default=1, help="consecutive days from --day (default 1)")
    g.add_argument("--distinct", type=int, help="simulations replayed by the halls (default: min(halls, 8))")
    g.add_argument("--batch", type=int, default=500, help="events per batch (default 500)")
    g.add_argument("--concurrency", type=int, default=8, help="halls shipping at once (default 8)")
    g.add_argument("--hall-prefix", default="sim", help="hall ids are PREFIX-001… (default sim)")
    g.add_argument(
        "--approve-with", metavar="CENTRAL_TOML", help="approve the halls through the centre's database"
    )
    g.add_argument("--region", help="with --approve-with: the region the halls are approved into")
    # Also the day's figures (hallq/simjson.py) without --central: one flag for both (hallq/simcli.py).
    g.add_argument("--json", action="store_true", help="print the figures as one JSON object")


def main_central(args: Any, config: HallConfig) -> int:
    """`hallq sim --central URL …`: simulate, enroll, approve, replay; print what the centre took."""
    import json
    import sys

    from hallcore.shipping import MAX_BATCH_EVENTS

    if args.halls < 1 or args.days < 1 or not 1 <= args.batch <= MAX_BATCH_EVENTS or args.concurrency < 1:
        print(f"hallq sim: --halls, --days, --concurrency ≥ 1; --batch 1–{MAX_BATCH_EVENTS}", file=sys.stderr)
        return 2
    if bool(args.approve_with) != bool(args.region):
        print("hallq sim: --approve-with and --region go together", file=sys.stderr)
        return 2
    approve = _approver(args.approve_with, args.region) if args.approve_with else None
    days = [args.day + dt.timedelta(days=i) for i in range(args.days)]
    distinct = min(args.halls, args.distinct or 8)
    streams = []
    for k in range(distinct):
        s = simulate_hall(config, days, seed=args.seed * 1000 + k, arrivals=args.arrivals)
        streams.append(s)
        print(f"  simulated hall {k + 1}/{distinct}: {s.tickets} tickets, {len(s.events)} events", end="")
        print(f" ({s.wall_s:.1f} s)", flush=True)
    halls = make_halls(config, streams, args.halls, args.hall_prefix)
    try:
        shipped = asyncio.run(
            replay(
                args.central,
                halls,
                batch=args.batch,
                concurrency=args.concurrency,
                approve=approve,
                say=lambda text: print(text, flush=True),
            )
        )
    except (RuntimeError, httpx.HTTPError) as exc:
        print(f"hallq sim: {exc}", file=sys.stderr)
        return 1
    figures = {
        "halls": args.halls,
        "days": args.days,
        "distinct": distinct,
        "tickets": sum(h.stream.tickets for h in halls),
        **shipped.summary(),
    }
    if args.json:
        print(json.dumps(figures, ensure_ascii=False))
    else:
        f = figures
        print(f"{f['halls']} halls × {f['days']} days: {f['tickets']:,} tickets, {f['events']:,} events")
        print(f"  in {f['wall_s']} s ({f['events_per_s']:,.0f} events/s acknowledged by the centre)")
        print(f"  batch p50 {f['batch_ms_p50']} ms, p95 {f['batch_ms_p95']} ms", end="")
        print(f"; refused {f['refusals'] or 'none'}")
    return 0


def _approver(central_toml: str, region: str) -> Callable[[list[SimulatedHall]], Awaitable[None]]:
    """Approve halls as `hallq central … hall approve` does (audited, actor "sim")."""
    import pathlib

    from hallcentral import halls as central_halls
    from hallcentral.config import load
    from hallcentral.db import open_pool

    config = load(pathlib.Path(central_toml))
    if region not in {r.id for r in config.regions}:
        raise SystemExit(f"hallq sim: no region {region!r} in {central_toml}")

    async def approve(pending: list[SimulatedHall]) -> None:
        pool = await open_pool(config.database.dsn, min_size=1, max_size=1)
        try:
            now = dt.datetime.now(dt.UTC)
            for h in pending:
                await central_halls.approve(pool, now, h.hall_id, region, "sim")
        finally:
            await pool.close()

    return approve
