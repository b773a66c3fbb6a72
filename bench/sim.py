"""The simulated provincial day (issues 10 and 19), seeds 1–5: wall time of a full day on the real engine,
engine commands/s during it, the estimates' MAE and range coverage against the simulated waits, and what the
priority classes get and cost (`hallq sim --json`, hallq/simjson.py).

Targets: a full provincial day in < 60 s; MAE < 3 min (issue 10). Issue 19, seeds pooled: for every class, its
mean wait is below that of the normal tickets of the same series issued within ±15 minutes of its tickets; the
normal P90 wait is at most 10 % above the same days with no priority at all (`--no-priority`: every class
kept, no head start, nothing absolute). The simulator draws each citizen's and clerk's randomness from their
own generator, so the two runs of a seed see the same people and case lengths, and only the order differs.

`BEFORE` holds the same figures measured on the first build's engine (main at 1c1d428: rank order with a
30-minute aging limit and at most 3 priority calls in a row, the provincial.toml of that commit) with this
simulator (hallq/sim.py and hallq/simjson.py of issue 19 copied into that checkout), seeds 1–5 pooled.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import os
import statistics
import sys
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import figure, write
from hallcore.calendar import HallCalendar
from hallcore.config import HallConfig
from hallcore.history import HandleHistory
from hallfiles.config import read_config
from hallq.sim import SimParams, SimResult, simulate
from hallq.simcli import without_priority
from hallq.simhistory import history_days, history_of, simulate_with_history
from hallq.simjson import sim_json

CONFIG = Path(__file__).resolve().parent.parent / "config" / "provincial.toml"
DAY = dt.date(2026, 11, 23)  # a Monday
SEEDS = (1, 2, 3, 4, 5)

#: The first build's engine, seeds 1–5 pooled (see the module docstring): class → (its mean wait, the normal
#: tickets' around it, n); the normal P90 wait; the estimates' MAE and coverage.
BEFORE_PAIRS = {
    "appointment": (10.31, 19.85, 1166),
    "key_project": (9.56, 20.76, 60),
    "elderly": (12.12, 20.18, 597),
    "disabled": (14.56, 20.64, 110),
    "military": (12.59, 17.6, 49),
}
#: The same at the peak only: pairs whose normal tickets waited 30 minutes or more on average (`busy`).
BEFORE_BUSY = {
    "appointment": (30.78, 43.71, 337),
    "key_project": (23.39, 38.52, 20),
    "elderly": (34.96, 45.12, 185),
    "disabled": (33.31, 42.56, 43),
    "military": (37.92, 45.11, 15),
}
BEFORE_NORMAL_P90 = 48.84

#: Issue 29's eight days (provincial seeds 1-5, county seeds 1-3, each over the calendar's hours as `hallq sim
#: --json` runs it): day -> (MAE min, coverage, median range width min). BEFORE_29: main at e16e1a8 (the
#: estimator and simulator before issue 29). BEFORE_29_NEW_SIM: that estimator (hallcore/estimates.py and the
#: engine's waits/calling/restore/replybuilders of e16e1a8) on issue 29's simulator, which follows the
#: staffing plan and deviates from it: the fair before for the figures below.
BEFORE_29 = {
    "provincial/1": (4.75, 0.7658, 9),
    "provincial/2": (4.6, 0.7623, 9.0),
    "provincial/3": (5.41, 0.7395, 9.0),
    "provincial/4": (7.02, 0.677, 13.0),
    "provincial/5": (4.85, 0.7559, 9),
    "county/1": (7.26, 0.7167, 14.0),
    "county/2": (9.57, 0.6171, 17),
    "county/3": (5.2, 0.7693, 9.0),
}
BEFORE_29_NEW_SIM = {
    "provincial/1": (6.07, 0.746, 10),
    "provincial/2": (7.11, 0.6949, 12),
    "provincial/3": (13.9, 0.5992, 20),
    "provincial/4": (7.74, 0.7092, 12),
    "provincial/5": (3.11, 0.8198, 6.0),
    "county/1": (10.08, 0.6757, 18),
    "county/2": (4.95, 0.7824, 10.0),
    "county/3": (9.64, 0.6828, 15),
}
#: This issue's first build (main at cdd3a2c: the staffing plan, no history, the series' mean for everyone
#: ahead), the same days: day -> (MAE min, coverage, median range width min); the pooled provincial width;
#: the held-out days' mean MAE per arrival curve.
BEFORE_29_FIRST = {
    "provincial/1": (5.0, 0.8016, 9),
    "provincial/2": (4.88, 0.8053, 15),
    "provincial/3": (8.76, 0.8305, 31),
    "provincial/4": (5.28, 0.8189, 14),
    "provincial/5": (2.26, 0.8532, 2.0),
    "county/1": (8.82, 0.8092, 24),
    "county/2": (4.1, 0.8306, 9.0),
    "county/3": (7.24, 0.8229, 16),
}
BEFORE_29_FIRST_WIDTH = 13.0
BEFORE_29_FIRST_HELD = {0.7: 2.08, 1.3: 9.79}
#: The history before its hours (main at 9141d2c: each matter's mean over the 5 earlier weeks, no weekday or
#: hour cells), the same days: day -> (MAE min, coverage, median range width min); the pooled provincial
#: width; the held-out days' mean MAE per arrival curve.
BEFORE_29_HISTORY = {
    "provincial/1": (4.73, 0.8139, 10),
    "provincial/2": (4.54, 0.8153, 15),
    "provincial/3": (7.74, 0.8158, 28),
    "provincial/4": (4.83, 0.8313, 15),
    "provincial/5": (2.2, 0.8542, 2.0),
    "county/1": (8.38, 0.8156, 25),
    "county/2": (3.82, 0.8389, 9.0),
    "county/3": (6.64, 0.818, 15),
}
BEFORE_29_HISTORY_WIDTH = 13.0
BEFORE_29_HISTORY_HELD = {0.7: 2.08, 1.3: 8.35}
#: The second set of days: the hall's cases slower at some hours than others (`SimParams.hour_sigma`).
HOUR_SIGMA = 0.2
HALLS_29 = (("provincial", (1, 2, 3, 4, 5)), ("county", (1, 2, 3)))
#: The history the estimator starts from: the hall's cases on the same weekday of this many earlier weeks.
HISTORY_WEEKS = 5
#: The held-out check: days whose whole arrival curve is 30 % lower or higher than the usual one.
HELD_OUT_SCALES = (0.7, 1.3)
BEFORE_MAE_MIN = 5.46
BEFORE_COVERAGE = 0.744


def print_seeds(runs: list[tuple[int, SimResult]]) -> None:
    for seed, result in runs:
        st = result.stats()
        print(
            f"seed {seed}: {st.issued} tickets, {result.commands} commands in {result.wall_s:.2f} s, "
            f"wait mean {st.wait.mean:.1f} P90 {st.wait.p90:.1f} min, MAE {st.mae:.2f} min, "
            f"coverage {st.coverage:.0%}"
        )


def day_params(config: HallConfig, seed: int, scale: float = 1.0) -> SimParams:
    """A day as `hallq sim --json` runs it: the calendar's opening hours."""
    cal = HallCalendar(config.hall)
    opens, closes = cal.opens_at(DAY), cal.closes_at(DAY)
    assert opens is not None
    assert closes is not None
    return SimParams(DAY, opens.time(), closes.time(), seed=seed, arrival_scale=scale)


def _estimate(result: SimResult) -> dict[str, Any]:
    out: dict[str, Any] = sim_json([result])["estimate"]
    return out


def estimate_figures() -> list[dict[str, Any]]:
    """Issue 29: the eight days' MAE, coverage and median range width with the estimator starting from the
    hall's history (its cases on the same weekday of HISTORY_WEEKS earlier weeks, `hallq sim --history 5`),
    and cold (the config's priors only), with their before values; the mean of the eight MAE figures; the
    held-out days (arrival curve x0.7 and x1.3) with a history from days of the usual curve (x1)."""
    figures = []
    warm_maes: list[float] = []
    cold_maes: list[float] = []
    provincial: list[SimResult] = []
    held: dict[float, list[tuple[float, float]]] = {scale: [] for scale in HELD_OUT_SCALES}
    modelled: list[tuple[str, dict[str, Any], dict[str, Any]]] = []  # (day, forward model's, inline's)
    modelled_provincial: list[SimResult] = []
    for hall, seeds in HALLS_29:
        config = read_config(CONFIG.parent / f"{hall}.toml")
        for seed in seeds:
            params = day_params(config, seed)
            history = history_of(config, history_days(params, HISTORY_WEEKS))
            result = simulate_with_history(config, params, history)
            if hall == "provincial":
                provincial.append(result)
            e = _estimate(result)
            cold = _estimate(simulate(config, params))
            # The forward model (hallcore/forecast.py) on the same day from the same history.
            fc_result = simulate_with_history(
                config, dataclasses.replace(params, estimator="forecast"), history
            )
            if hall == "provincial":
                modelled_provincial.append(fc_result)
            modelled.append((f"{hall}/{seed}", _estimate(fc_result), e))
            key = f"{hall}/{seed}"
            first, was, was_new = BEFORE_29_FIRST[key], BEFORE_29[key], BEFORE_29_NEW_SIM[key]
            hist = BEFORE_29_HISTORY[key]
            warm_maes.append(e["mae_min"])
            cold_maes.append(cold["mae_min"])
            ahead = ", ".join(f"{k}: {v['mae_min']}" for k, v in sorted(e["mae_by_ahead"].items()))
            figures.append(
                figure(
                    f"estimate MAE, {key}",
                    e["mae_min"],
                    "min",
                    "< 3 (mean of 8)",
                    None,
                    f"with the history and its hours; cold (config priors, the matters ahead): "
                    f"{cold['mae_min']}; before: {hist[0]} (the history without its hours), {first[0]} "
                    f"(this issue's first build), {was[0]} (main's simulator), {was_new[0]} (main's "
                    f"estimator on this simulator); by people ahead: {ahead}",
                )
            )
            figures.append(
                figure(
                    f"estimate range coverage, {key}",
                    e["coverage"],
                    "share",
                    "0.78-0.90",
                    0.78 <= e["coverage"] <= 0.90,
                    f"cold {cold['coverage']}; before: {hist[1]} / {first[1]} / {was[1]} / {was_new[1]}; "
                    f"median range width {e['range_width_p50']} min (cold {cold['range_width_p50']}; before "
                    f"{hist[2]} / {first[2]} / {was[2]} / {was_new[2]}); wider than estimates.wide_band_min: "
                    f"{e['wide_share']:.0%}",
                )
            )
            for scale in HELD_OUT_SCALES:
                scaled = day_params(config, seed, scale)
                # The usual curve's history is the one above: the same earlier days, arrival_scale 1.
                usual = _estimate(simulate_with_history(config, scaled, history))["mae_min"]
                held[scale].append((usual, _estimate(simulate(config, scaled))["mae_min"]))
    mean = round(statistics.fmean(warm_maes), 2)
    cold_mean = round(statistics.fmean(cold_maes), 2)
    first_mean = round(statistics.fmean(v[0] for v in BEFORE_29_FIRST.values()), 2)
    hist_mean = round(statistics.fmean(v[0] for v in BEFORE_29_HISTORY.values()), 2)
    before = round(statistics.fmean(v[0] for v in BEFORE_29.values()), 2)
    before_new = round(statistics.fmean(v[0] for v in BEFORE_29_NEW_SIM.values()), 2)
    figures.append(
        figure(
            "estimate MAE, mean of the 8 days (provincial 1-5, county 1-3)",
            mean,
            "min",
            "< 3",
            mean < 3,
            f"with the hall's history and its hours ({HISTORY_WEEKS} earlier weeks); cold: {cold_mean}; "
            f"before: {hist_mean} (the history without its hours), {first_mean} (this issue's first build), "
            f"{before} (main's estimator and simulator), "
            f"{before_new} (main's estimator on this simulator). The floor chance alone leaves: "
            "bench/results/simfloor.json",
        )
    )
    pooled = sim_json(provincial)["estimate"]
    was_width = statistics.median(BEFORE_29[f"provincial/{s}"][2] for s in SEEDS)
    figures.append(
        figure(
            "estimate median range width, provincial seeds 1-5 pooled",
            pooled["range_width_p50"],
            "min",
            "<= 20",
            pooled["range_width_p50"] <= 20,
            f"with the history; coverage {pooled['coverage']}; before: {BEFORE_29_HISTORY_WIDTH} (the "
            f"history without its hours), {BEFORE_29_FIRST_WIDTH} (this issue's first build), {was_width} "
            "(the median of main's days' medians)",
        )
    )
    figures += forecast_figures(modelled, modelled_provincial)
    for scale, values in held.items():
        usual = round(statistics.fmean(v[0] for v in values), 2)
        none = round(statistics.fmean(v[1] for v in values), 2)
        figures.append(
            figure(
                f"held-out: estimate MAE on days with the arrival curve x{scale} (8 days), history from days "
                "of the usual curve",
                usual,
                "min",
                "",
                None,
                "per day " + ", ".join(f"{v[0]}" for v in values) + f"; the history is the usual days' "
                f"(arrival curve x1, {HISTORY_WEEKS} earlier weeks), the day's own curve unseen; cold (no "
                f"history): {none}; before: {BEFORE_29_HISTORY_HELD[scale]} (the history without its "
                f"hours), {BEFORE_29_FIRST_HELD[scale]} (this issue's first build, cold)",
            )
        )
    return figures + hour_figures()


def hour_figures() -> list[dict[str, Any]]:
    """The same eight days with the hall's cases slower at some hours (`SimParams.hour_sigma` HOUR_SIGMA,
    the history days too): the estimator from the history with its hours, from the same history without
    them (each matter's mean only), and cold."""
    rows: dict[str, list[dict[str, Any]]] = {"hours": [], "flat": [], "cold": []}
    per_day = []
    for hall, seeds in HALLS_29:
        config = read_config(CONFIG.parent / f"{hall}.toml")
        for seed in seeds:
            params = dataclasses.replace(day_params(config, seed), hour_sigma=HOUR_SIGMA)
            history = history_of(config, history_days(params, HISTORY_WEEKS))
            flat = HandleHistory(history.cases, history.mean_min, history.matters)
            e = _estimate(simulate_with_history(config, params, history))
            rows["hours"].append(e)
            rows["flat"].append(_estimate(simulate_with_history(config, params, flat)))
            rows["cold"].append(_estimate(simulate(config, params)))
            per_day.append(f"{hall}/{seed} {e['mae_min']} ({e['coverage']:.0%}, {e['range_width_p50']} min)")
    means = {k: round(statistics.fmean(r["mae_min"] for r in v), 2) for k, v in rows.items()}
    coverage = [r["coverage"] for r in rows["hours"]]
    return [
        figure(
            f"hour-varying days: estimate MAE, mean of the 8 (the hall slower at some hours, hour_sigma "
            f"{HOUR_SIGMA})",
            means["hours"],
            "min",
            "< 3",
            means["hours"] < 3,
            f"with the history and its hours; the same history without its hours: {means['flat']}; cold: "
            f"{means['cold']}; coverage {min(coverage):.0%}-{max(coverage):.0%}; per day (MAE, coverage, "
            f"median width): {'; '.join(per_day)}. The simulator's second ground truth: each hour of a "
            "hall's day a factor on its cases' length, the same on its history days (hallq/simparams.py)",
        )
    ]


def forecast_figures(
    days: list[tuple[str, dict[str, Any], dict[str, Any]]], provincial: list[SimResult]
) -> list[dict[str, Any]]:
    """Issue 29's eight days with the forward model (`hallq sim --estimator forecast`), beside the inline
    estimator's figures of the same days (both from the same history)."""
    out = []
    for key, fc, inline in days:
        ahead = ", ".join(f"{k}: {v['mae_min']}" for k, v in sorted(fc["mae_by_ahead"].items()))
        out.append(
            figure(
                f"forward model: estimate MAE, coverage, median width, {key}",
                fc["mae_min"],
                "min",
                "< 3 (mean of 8); coverage 0.78-0.90",
                0.78 <= fc["coverage"] <= 0.90,
                f"coverage {fc['coverage']}, median range width {fc['range_width_p50']} min, wider than "
                f"estimates.wide_band_min {fc['wide_share']:.0%}; inline estimator on the same day: MAE "
                f"{inline['mae_min']}, coverage {inline['coverage']}, width {inline['range_width_p50']}; "
                f"by people ahead: {ahead}",
            )
        )
    mean = round(statistics.fmean(fc["mae_min"] for _k, fc, _i in days), 2)
    inline_mean = round(statistics.fmean(i["mae_min"] for _k, _f, i in days), 2)
    pooled = sim_json(provincial)["estimate"]
    out.append(
        figure(
            "forward model: estimate MAE, mean of the 8 days",
            mean,
            "min",
            "< 3",
            mean < 3,
            f"the inline estimator on the same days: {inline_mean}; provincial seeds 1-5 pooled: coverage "
            f"{pooled['coverage']}, median range width {pooled['range_width_p50']} min (<= 20). The model "
            "made at most once a second of sim time per series that changed, before an issue "
            "(hallq/simports.py)",
        )
    )
    return out


def main() -> None:
    config = read_config(CONFIG)
    runs = [(seed, simulate(config, SimParams(DAY, seed=seed))) for seed in SEEDS]
    print_seeds(runs)
    plain = [simulate(without_priority(config), SimParams(DAY, seed=seed)) for seed in SEEDS]
    pooled = sim_json([r for _s, r in runs])
    baseline = sim_json(plain)
    wall = max(r.wall_s for _s, r in runs)
    rate = statistics.fmean(r.commands / r.wall_s for _s, r in runs)
    mae = pooled["estimate"]["mae_min"]
    cov = pooled["estimate"]["coverage"]
    by_ahead = ", ".join(
        f"{k}: {v['mae_min']} (n {v['n']})" for k, v in pooled["estimate"]["mae_by_ahead"].items()
    )
    figures = [
        figure(
            "provincial full day, wall time (slowest of 5 seeds)",
            round(wall, 2),
            "s",
            "< 60",
            wall < 60,
            f"{runs[0][1].commands} engine commands, 158 windows, 08:30-17:00 + 1 h",
        ),
        figure("engine commands/s during the day", round(rate), "commands/s", "", None, "mean of 5 seeds"),
        figure(
            "estimate MAE (seeds 1-5 pooled)",
            mae,
            "min",
            "< 3",
            mae < 3,
            f"before (first build's engine): {BEFORE_MAE_MIN}; MAE by people ahead: {by_ahead}",
        ),
        figure(
            "estimate range coverage (seeds 1-5 pooled)",
            cov,
            "share",
            "about 0.8",
            0.7 <= cov <= 0.9,
            f"before: {BEFORE_COVERAGE}",
        ),
    ]
    for cls, p in pooled["pairs"].items():
        before = BEFORE_PAIRS.get(cls)
        was = f"; before: {before[0]} vs {before[1]} min (n {before[2]})" if before else ""
        ok = p["wait_mean"] is not None and p["normal_wait_mean"] is not None
        figures.append(
            figure(
                f"class {cls}: mean wait vs normal tickets of its series issued within ±15 min",
                p["wait_mean"],
                "min",
                f"< {p['normal_wait_mean']} (the normal tickets around it)",
                ok and p["wait_mean"] < p["normal_wait_mean"],
                f"n {p['n']} tickets of the class, {p['n_normal']} normal neighbours (pairs){was}",
            )
        )
    for cls, p in pooled["pairs"].items():
        busy = p["busy"]
        before = BEFORE_BUSY.get(cls)
        was = f"; before: {before[0]} vs {before[1]} min (n {before[2]})" if before else ""
        gain = (
            f"; {busy['normal_wait_mean'] - busy['wait_mean']:.1f} min less than the normal tickets around it"
            if busy["wait_mean"] is not None and busy["normal_wait_mean"] is not None
            else ""
        )
        figures.append(
            figure(
                f"class {cls} at the peak (normal neighbours waited ≥ 30 min): mean wait",
                busy["wait_mean"],
                "min",
                "",
                None,
                f"normal tickets around it {busy['normal_wait_mean']} min, n {busy['n']}{gain}{was}",
            )
        )
    p90, p90_plain = pooled["wait_normal"]["p90"], baseline["wait_normal"]["p90"]
    ratio = round(p90 / p90_plain, 3)
    figures.append(
        figure(
            "normal P90 wait with priority / with no priority at all",
            ratio,
            "×",
            "≤ 1.10",
            ratio <= 1.10,
            f"normal P90 {p90} min with the head starts (n {pooled['wait_normal']['n']}) vs {p90_plain} "
            f"min with no head start and nothing absolute (n {baseline['wait_normal']['n']}); before (first "
            f"build's engine): {BEFORE_NORMAL_P90} min ({BEFORE_NORMAL_P90 / p90_plain:.3f}×)",
        )
    )
    figures += estimate_figures()
    load = os.getloadavg()
    out = write(
        "sim",
        figures,
        notes=f"One process, no pinning (the simulator is single-threaded); load average at the end "
        f"{load[0]:.1f}/{load[1]:.1f}/{load[2]:.1f} on 2 cores shared with other work, which affects the "
        "wall time and commands/s only. The class and P90 figures do not depend on the machine.",
    )
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
