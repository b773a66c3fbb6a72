"""How low the estimate's MAE can go on issue 29's eight simulated days: the floor chance alone leaves.

At a sample of kiosk issues the day is copied FORKS times and each copy run on until the sampled ticket is
called, with every citizen's and clerk's own randomness drawn afresh: how long each case takes (those in
progress too, given how long they have run), the walks to the window, no-shows, the clerks' pauses between
calls, lunch returns. Everything else stays as the day really was: who arrives when and for what, which
clerks are absent or late, every break, each clerk's speed and each matter's real mean. The median of the
copies' waits is the best point an estimator could give that knew all of that; its MAE against the real
wait is the floor for any estimator, which knows much less. The estimator's own MAE on the same sample is
given beside it. (The median of FORKS draws scatters around the true median, which lifts the floor a little:
by about 1/(2·FORKS) in relative terms for a normal spread.)

Slow: a provincial copy runs about a second. `python bench/simfloor.py [FORKS] [COUNTY_EVERY] [PROV_EVERY]`.
"""

from __future__ import annotations

import copy
import datetime as dt
import heapq
import os
import random
import statistics
import sys
import zlib
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import figure, write
from bench.sim import CONFIG, HALLS_29, day_params
from hallfiles.config import read_config
from hallq.sim import _Sim
from hallq.simparams import SimParams, SimResult
from hallq.simports import EnginePort


class _ForkingSim(_Sim):
    """The day, copied and run on at every `every`-th kiosk issue (`floor_waits` per sampled ticket)."""

    forks = 8
    every = 10

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.is_fork = False
        self.issues = 0
        self.floor_waits: dict[str, list[float]] = {}

    def arrive(self, matter: str, priority: str, citizen: random.Random) -> None:
        before = len(self.records)
        super().arrive(matter, priority, citizen)
        if self.is_fork or len(self.records) == before:
            return
        self.issues += 1
        if self.issues % self.every:
            return
        tid = next(reversed(self.records))
        if self.records[tid].est_point is None:
            return
        self.floor_waits[tid] = [w for k in range(self.forks) if (w := self._fork_wait(tid, k)) is not None]

    def _fork_wait(self, tid: str, k: int) -> float | None:
        f = copy.deepcopy(self)
        f.is_fork = True
        rng = random.Random(zlib.crc32(f"{self.p.seed}/{tid}/{k}".encode()))
        f.rng = random.Random(rng.getrandbits(64))
        for key in list(f.citizens):
            f.citizens[key] = random.Random(rng.getrandbits(64))
        for clerk in f.clerks.values():
            clerk.rng = random.Random(rng.getrandbits(64))
        # Cases in progress end when their finish event says: draw that end afresh, given the time they have
        # taken so far (a hall knows how long a case has run, not how long it will).
        queue = []
        for at, seq, action in f.queue:
            when = at
            func = getattr(action, "func", None)
            if getattr(func, "__name__", "") == "finish":
                n, called = action.args  # type: ignore[attr-defined]
                rec = f.records.get(called.ticket)
                if rec is not None and rec.serving_at is not None:
                    elapsed = (f.now - rec.serving_at).total_seconds() / 60
                    minutes = elapsed + 1.0
                    for _ in range(200):
                        d = f.handle_minutes(called.matter, f.clerks[n], rng)
                        if d > elapsed:
                            minutes = d
                            break
                    when = rec.serving_at + dt.timedelta(minutes=minutes)
            queue.append((when, seq, action))
        heapq.heapify(queue)
        f.queue = queue
        end = f.now + dt.timedelta(hours=10)
        while f.queue and f.queue[0][0] <= end and f.records[tid].first_called_at is None:
            when, _n, action = heapq.heappop(f.queue)
            f.now = max(f.now, when)
            action()
        return f.records[tid].wait_min


def floor_day(
    params: SimParams, config_path: Path, forks: int, every: int
) -> tuple[SimResult, dict[str, Any]]:
    config = read_config(config_path)
    sim = _ForkingSim(config, params, EnginePort(config))
    sim.forks, sim.every = forks, every
    result = sim.run(dt.datetime.combine(params.day, params.end, sim.tz) + dt.timedelta(hours=1))
    rows = []
    for tid, waits in sim.floor_waits.items():
        rec = result.records[tid]
        real = rec.wait_min
        if real is None or rec.est_point is None or len(waits) < forks // 2:
            continue
        rows.append((real, rec.est_point, statistics.median(waits), rec.ahead or 0))
    est = statistics.fmean(abs(r - p) for r, p, _m, _a in rows)
    floor = statistics.fmean(abs(r - m) for r, _p, m, _a in rows)
    many = [(r, p, m) for r, p, m, a in rows if a >= 5]
    return result, {
        "n": len(rows),
        "estimator": round(est, 2),
        "floor": round(floor, 2),
        "n_5plus": len(many),
        "estimator_5plus": round(statistics.fmean(abs(r - p) for r, p, _m in many), 2) if many else None,
        "floor_5plus": round(statistics.fmean(abs(r - m) for r, _p, m in many), 2) if many else None,
    }


def main() -> None:
    forks = int(sys.argv[1]) if len(sys.argv) > 1 else 8
    every = {"county": int(sys.argv[2]) if len(sys.argv) > 2 else 12}
    every["provincial"] = int(sys.argv[3]) if len(sys.argv) > 3 else 100
    figures = []
    floors, ests = [], []
    for hall, seeds in HALLS_29:
        path = CONFIG.parent / f"{hall}.toml"
        config = read_config(path)
        for seed in seeds:
            _result, out = floor_day(day_params(config, seed), path, forks, every[hall])
            print(f"{hall}/{seed}: {out}", flush=True)
            floors.append(out["floor"])
            ests.append(out["estimator"])
            figures.append(
                figure(
                    f"estimate MAE floor, {hall}/{seed}",
                    out["floor"],
                    "min",
                    "",
                    None,
                    f"median of {forks} copies at {out['n']} sampled issues (every {every[hall]}th kiosk "
                    f"issue); the estimator on the same tickets: {out['estimator']}; with 5 or more ahead "
                    f"(n {out['n_5plus']}): floor {out['floor_5plus']}, "
                    f"estimator {out['estimator_5plus']}",
                )
            )
    mean = round(statistics.fmean(floors), 2)
    figures.append(
        figure(
            "estimate MAE floor, mean of the 8 days (chance alone: every arrival, break and speed known)",
            mean,
            "min",
            "",
            None,
            f"the estimator on the same sampled tickets: {round(statistics.fmean(ests), 2)}; issue 29's gate "
            "(< 3.0 for the estimator) is below this floor on the days where it is above 3",
        )
    )
    load = os.getloadavg()
    path = write(
        "simfloor",
        figures,
        notes=f"One process, no pinning; the figures do not depend on the machine. Load average at the end "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} on 2 cores shared with other work.",
    )
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
