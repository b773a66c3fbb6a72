"""The simulated provincial day (issue 10): wall time of a full day on the real engine, engine commands/s
during it, and the estimates' MAE and range coverage against the simulated waits.

Targets: a full provincial day in < 60 s; MAE < 3 min. Three seeds; the wall time is the slowest, the MAE and
coverage the mean over the seeds (each seed's figure is in the note).
"""

from __future__ import annotations

import datetime as dt
import statistics
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import figure, write
from hallq.sim import SimParams, simulate
from hallserver.configfile import read_config

CONFIG = Path(__file__).resolve().parent.parent / "config" / "provincial.toml"
DAY = dt.date(2026, 11, 23)  # a Monday
SEEDS = (1, 2, 3)


def main() -> None:
    config = read_config(CONFIG)
    runs = []
    for seed in SEEDS:
        result = simulate(config, SimParams(DAY, seed=seed))
        stats = result.stats()
        runs.append((seed, result, stats))
        print(
            f"seed {seed}: {stats.issued} tickets, {result.commands} commands in {result.wall_s:.2f} s, "
            f"wait mean {stats.wait.mean:.1f} P90 {stats.wait.p90:.1f} min, MAE {stats.mae:.2f} min, "
            f"coverage {stats.coverage:.0%}"
        )
    wall = max(r.wall_s for _s, r, _st in runs)
    rate = statistics.fmean(r.commands / r.wall_s for _s, r, _st in runs)
    maes = [st.mae for _s, _r, st in runs if st.mae is not None]
    covs = [st.coverage for _s, _r, st in runs if st.coverage is not None]
    mae = statistics.fmean(maes)
    cov = statistics.fmean(covs)
    seeds_note = "; ".join(
        f"seed {s}: {st.issued} tickets, wait mean {st.wait.mean:.1f} min, MAE {st.mae:.2f}, "
        f"coverage {st.coverage:.0%}"
        for s, _r, st in runs
        if st.mae is not None and st.coverage is not None
    )
    by_ahead = runs[0][2].mae_by_ahead
    ahead_note = "seed 1 MAE by people ahead: " + ", ".join(
        f"{k}: {m:.1f} (n {n})" for k, (n, m) in by_ahead.items()
    )
    figures = [
        figure(
            "provincial full day, wall time (slowest of 3 seeds)",
            round(wall, 2),
            "s",
            "< 60",
            wall < 60,
            f"{runs[0][1].commands} engine commands, 158 windows, 08:30-17:00 + 1 h",
        ),
        figure("engine commands/s during the day", round(rate), "commands/s", "", None, "mean of 3 seeds"),
        figure("estimate MAE (mean of 3 seeds)", round(mae, 2), "min", "< 3", mae < 3, seeds_note),
        figure(
            "estimate range coverage (mean of 3 seeds)",
            round(cov, 3),
            "share",
            "about 0.8",
            0.7 <= cov <= 0.9,
            ahead_note,
        ),
    ]
    out = write("sim", figures)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
