"""Render bench/REPORT.md from every bench/results/*.json (each benchmark owns its own file).

The report opens with every target the issues name (3–10, 17, 19, 26), each with the figure that measures it,
its value, met or missed and the JSON it comes from; a target with no figure on file says "not measured yet"
instead of disappearing. Misses are listed with their explanation: the `notes` field of the benchmark's JSON
(written by the benchmark's owner, next to the figures), else where the owner explained it, else that nobody
has yet.
Then one section per JSON: command, machine, date, notes and every figure.
"""

from __future__ import annotations

import argparse
import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent


def tier_budgets() -> list[tuple[str, int]]:
    """The test tiers and their time budgets in seconds, as `TIERS` in ./dev says (one home for them)."""
    m = re.search(r"^TIERS=\((.*)\)$", (HERE.parent / "dev").read_text(encoding="utf-8"), re.M)
    if m is None:
        raise ValueError("./dev has no TIERS=(...) line")
    pairs = [t.strip('"').split(":") for t in m.group(1).split()]
    return [(name, int(seconds)) for name, seconds in pairs]


def _tier_budgets() -> str:
    tiers = tier_budgets()
    return " + ".join(f"{n} {s}" for n, s in tiers) + f" = {sum(s for _, s in tiers)} s"


RESULTS = HERE / "results"


@dataclass(frozen=True)
class Target:
    """One target an issue names, and the figures (by name pattern) in one result file that measure it."""

    issue: int
    text: str
    source: str  # result file stem, e.g. "server" for bench/results/server.json
    pattern: str = ""  # regex searched in each figure's name; "" = not measured by a benchmark
    explained: str = ""  # where a miss is explained when the JSON has no notes
    checked_by: str = ""  # for targets a test checks rather than a benchmark


TARGETS: tuple[Target, ...] = (
    Target(
        3,
        "engine ≥ 50,000 commands/s (issue and call-next, 1k/10k/100k waiting)",
        "engine",
        r"^(issue|call-next), [\d,]+ waiting$",
    ),
    Target(3, "call-next at 100,000 waiting within 2× its cost at 1,000", "engine", r"cost at 100,000"),
    Target(
        4, "(a) sustained durable issues ≥ 1,000/s (stretch 3,000) over 60 s, 0 errors", "server", r"^\(a\)"
    ),
    Target(4, "(b) issue latency at 200/s: p99 < 25 ms normal, p95 < 25 ms full", "server", r"^\(b\)"),
    Target(4, "(c) call-next → event, 200 displays + 5,000 watchers, p99 < 50 ms", "server", r"^\(c\)"),
    Target(
        4, "(d) issue and call latency with 1,000,000 historical tickets ≤ 1.2× empty", "server", r"^\(d\)"
    ),
    Target(4, "(e) server RSS under (c) < 200 MB", "server", r"^\(e\)"),
    Target(4, "(f) longest event-loop stall, 5,000 watchers reconnecting, < 100 ms", "server", r"^\(f\)"),
    Target(4, "(g) kill -9 → first successful request after restart (report)", "server", r"^\(g\)"),
    Target(5, "ticket → ESC/POS bytes < 5 ms", "drivers", r"^ticket -> ESC/POS bytes .*median"),
    Target(5, "ticket < 2 KB with a native QR", "drivers", r"^ticket size"),
    Target(5, "HQP/1 round trip on the emulated bus (report)", "drivers", r"^HQP/1 .*median"),
    Target(
        5, "printer status query latency against the emulator (report)", "drivers", r"^printer status.*median"
    ),
    Target(6, "kiosk final tap → ticket cut at the printer, p95 < 300 ms", "kiosk", r"p95"),
    Target(7, "keypad next → LED strip frame, p95 < 150 ms", "counter", r"p95"),
    Target(8, "call-next → board updated, p95 < 100 ms", "display", r"board updated, p95"),
    Target(9, "statistics for one month (≥ 150,000 tickets) < 1 s", "web", r"one month"),
    Target(9, "statistics for one year < 3 s", "web", r"one year"),
    Target(9, "dashboard live update after a call, p95 < 200 ms", "web", r"dashboard"),
    Target(10, "`hallq sim`, provincial full day < 60 s", "sim", r"wall time"),
    Target(
        10,
        "estimate MAE < 3 min for the simulated day",
        "sim",
        r"^estimate MAE \(seeds",
        explained="docs/architecture.md (Estimates): most of the remaining error comes from what the engine "
        "cannot see (lunch rotation, breaks) and from chance in small series",
    ),
    Target(
        19,
        "every priority class waits less than the normal tickets of its series issued within ±15 min "
        "(provincial day, seeds 1–5 pooled)",
        "sim",
        r"^class .* vs normal",
    ),
    Target(19, "normal P90 wait ≤ 1.10× the same days with no priority", "sim", r"^normal P90"),
    Target(
        29,
        "`hallq sim --json`, provincial seeds 1–5 and county seeds 1–3: the mean of the eight MAE figures "
        "< 3 min",
        "sim",
        r"^estimate MAE, mean of the 8",
        explained="bench/results/simfloor.json: the MAE chance alone leaves on the same days (every "
        "arrival, break and clerk's speed known; case lengths, walks and no-shows drawn afresh)",
    ),
    Target(
        29, "each day's MAE with its before values (report)", "sim", r"^estimate MAE, (provincial|county)/"
    ),
    Target(29, "range coverage between 78 % and 90 % each day", "sim", r"^estimate range coverage, "),
    Target(
        29, "median range width ≤ 20 min on the provincial hall", "sim", r"median range width, provincial"
    ),
    Target(29, "held-out check: days with the arrival curve ±30 % (report)", "sim", r"^held-out"),
    Target(
        29,
        "the same days with the hall slower at some hours: the history's hours against its means (report)",
        "sim",
        r"^hour-varying",
    ),
    Target(29, "the nightly history read on a provincial store, and the loop meanwhile", "history", r"."),
    Target(
        29,
        "the MAE floor chance alone leaves on the same days (report)",
        "simfloor",
        r"^estimate MAE floor, mean",
    ),
    Target(29, "the MAE floor per day (report)", "simfloor", r"^estimate MAE floor, (provincial|county)/"),
    Target(29, "the model's refresh at 500 waiting (report)", "estimates", r"refresh|rebuild|issue command"),
    Target(
        29,
        "the forward model (hallcore/forecast.py), the same eight days: the mean of the MAE figures < 3 min",
        "sim",
        r"^forward model: estimate MAE, mean",
    ),
    Target(
        29,
        "the forward model: each day's MAE, coverage 78–90 % and median width, beside the inline estimator's",
        "sim",
        r"^forward model: estimate MAE, coverage",
    ),
    Target(
        29,
        "the forward model's refresh at 500 waiting, and reading its input from the engine (report)",
        "forecasts",
        r"^forward model: (refresh|reading)",
    ),
    Target(
        29,
        "the server loop's stall while the forward model's worker process refreshes 500 waiting < 100 ms",
        "forecasts",
        r"^server event-loop stall",
    ),
    Target(
        30,
        "the notice rules' batch on the writer, 200 waiting, 100 calls (report)",
        "notify",
        r"^rules' batch",
    ),
    Target(29, "the server loop's stall while the model runs < 100 ms", "estimates", r"^longest single"),
    Target(10, "provincial peak through the real server: 0 errors, 0 duplicates", "hall_peak", r"^errors"),
    Target(10, "provincial peak: issue latency (issue 4 (b)'s target)", "hall_peak", r"^issue latency"),
    Target(
        10, "provincial peak: call → display event lag (issue 4 (c)'s target)", "hall_peak", r"event stream"
    ),
    Target(10, "provincial peak: server RSS (issue 4 (e)'s target)", "hall_peak", r"RSS"),
    Target(
        10,
        "fault suite durations (kill -9 recovery, paper out, bus unplug, network cut)",
        "faults",
        r".",
        checked_by="printed as `[fault figure]` lines by tests/e2e/test_faults.py; `python -m bench.faults` "
        "collects them into faults.json",
    ),
    Target(26, "(a) durable issues ≥ 1,500/s (target 3,000)", "server", r"^\(a\)"),
    Target(26, "(c) call → event p99 < 50 ms, 200 displays + 5,000 watchers", "server", r"^\(c\)"),
    Target(26, "(e) total RSS of the server's processes < 200 MB under (c)", "server", r"^\(e\)"),
    Target(26, "(f) longest stall of any server loop < 100 ms, 5,000 reconnects", "server", r"^\(f\)"),
    Target(26, "`GET /api/snapshot` ≥ 2,500/s (target 5,000)", "server", r"^\(s\)"),
    Target(
        10,
        "`./dev demo`: the dashboard shows tickets issued and called within 30 s",
        "",
        checked_by="asserted by tests/e2e/test_demo.py in `./dev test`",
    ),
    Target(
        10,
        "the whole `./dev test` < 20 minutes on 2 cores",
        "",
        checked_by=f"enforced by the tier budgets in `./dev test` ({_tier_budgets()}); "
        "the tier times are printed at the end of each run",
    ),
    Target(
        17,
        "ID card placed → record delivered to a subscriber, p50/p95 of 200 placements, 115,200 baud over a "
        "pty, poll 100 ms, radio delay 0 and 400 ms (report)",
        "idcard",
        r"^card placed → record delivered",
    ),
    Target(
        17,
        "the 1,295-byte read reply on the wire at 115,200 baud (report, ~112 ms)",
        "idcard",
        r"on the wire",
    ),
    Target(
        27,
        "card placed → greeting on the kiosk screen, p95 of 200 reads (emulator, radio delay 0, poll 100 ms) "
        "< 400 ms",
        "idcard",
        r"^card placed → greeting",
    ),
)

#: Where an owner explained a miss outside the JSON (docs written with the benchmark).
EXPLAINED_ELSEWHERE = {
    "web": "docs/web.md (Benchmark) says where the time goes: SQLite's sorter for each grouping's GROUP BY "
    "and the wait histogram, and what would meet the targets (per-day roll-ups of finished days)",
}


def fmt(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, float):
        if math.isnan(value):
            return "—"
        if abs(value) >= 100:
            return f"{value:,.0f}"
        return f"{value:.3g}"
    if isinstance(value, int):
        return f"{value:,}"
    return str(value)


def cell(text: Any) -> str:
    return "" if text is None else str(text).replace("|", "/").replace("\n", " ")


def verdict(ok: Any) -> str:
    return {True: "met", False: "**missed**", None: "(info)"}.get(ok, str(ok))


def load_results(
    without: frozenset[str] = frozenset(), results: Path | None = None
) -> dict[str, dict[str, Any]]:
    return {
        p.stem: json.loads(p.read_text(encoding="utf-8"))
        for p in sorted((results or RESULTS).glob("*.json"))
        if p.stem not in without
    }


def summary(results: dict[str, dict[str, Any]]) -> tuple[list[str], list[tuple[Target, dict[str, Any]]]]:
    """The target table, and the missed (target, figure) pairs."""
    lines = [
        "## Targets (by issue)",
        "",
        "| issue | target | figure | value | verdict | from |",
        "|---:|---|---|---:|---|---|",
    ]
    missed: list[tuple[Target, dict[str, Any]]] = []
    for t in TARGETS:
        data = results.get(t.source) if t.source else None
        if data is None:
            where = t.checked_by or f"`bench/{t.source}.py` → `bench/results/{t.source}.json`"
            state = "not a benchmark figure" if t.checked_by and not t.source else "**not measured yet**"
            lines.append(f"| {t.issue} | {t.text} | — | — | {state} | {cell(where)} |")
            continue
        figs = [f for f in data.get("figures", []) if re.search(t.pattern, str(f.get("name", "")))]
        quick = " (quick run)" if data.get("quick") else ""
        if not figs:
            lines.append(
                f"| {t.issue} | {t.text} | — | — | **not measured yet** | "
                f"no matching figure in `{t.source}.json` |"
            )
            continue
        for i, f in enumerate(figs):
            label = t.text if i == 0 else "〃"
            value = f"{fmt(f.get('value'))} {cell(f.get('unit'))}".strip()
            lines.append(
                f"| {t.issue} | {label} | {cell(f.get('name'))} | {value} | {verdict(f.get('ok'))}{quick} | "
                f"`{t.source}.json` |"
            )
            if f.get("ok") is False:
                missed.append((t, f))
    lines.append("")
    return lines, missed


def why(t: Target, results: dict[str, dict[str, Any]]) -> str:
    notes = str(results.get(t.source, {}).get("notes", "")).strip()
    if notes:
        return f"see the notes of `{t.source}` below"
    if t.explained:
        return t.explained
    if t.source in EXPLAINED_ELSEWHERE:
        return EXPLAINED_ELSEWHERE[t.source]
    return (
        "**no explanation recorded yet** (no `notes` in the JSON, nothing in the owner's docs; the "
        "benchmark's section below shows the figures and any per-figure notes)"
    )


def misses(missed: list[tuple[Target, dict[str, Any]]], results: dict[str, dict[str, Any]]) -> list[str]:
    if not missed:
        return []
    lines = ["### Misses and why", ""]
    seen: set[tuple[str, str]] = set()
    for t, _f in missed:
        key = (t.source, t.text)
        if key in seen:
            continue
        seen.add(key)
        names = [cell(g.get("name")) for u, g in missed if (u.source, u.text) == key]
        lines.append(f"- **{t.text}** ({len(names)} figure(s) in `{t.source}.json`): {why(t, results)}.")
    lines.append("")
    return lines


def profile_lines(profiles: list[dict[str, Any]], top: int = 4) -> list[str]:
    """py-spy summaries (bench/profiler.py): the busiest threads' top entries, own time then inclusive."""
    lines = []
    for prof in profiles:
        threads = [(k, v) for k, v in prof.items() if isinstance(v, dict) and "samples" in v]
        threads.sort(key=lambda kv: -int(kv[1]["samples"]))
        parts = []
        for thread, v in threads[:2]:
            own = ", ".join(f"{cell(e[0])} {e[1]:g}%" for e in v.get("own", [])[:top])
            incl = ", ".join(f"{cell(e[0])} {e[1]:g}%" for e in v.get("inclusive", [])[:top])
            parts.append(f"{thread} ({v['samples']} samples) — own: {own}; inclusive: {incl}")
        if "error" in prof:
            parts.append(f"not recorded: {cell(prof['error'])}")
        lines.append(f"- {cell(prof.get('label', '?'))}: " + " · ".join(parts))
    return lines


def figure_table(figures: list[dict[str, Any]]) -> list[str]:
    lines = [
        "| figure | value | unit | target | verdict | note |",
        "|---|---:|---|---|---|---|",
    ]
    for f in figures:
        target = f.get("target")
        lines.append(
            f"| {cell(f.get('name'))} | {fmt(f.get('value'))} | {cell(f.get('unit'))} | "
            f"{cell('' if target is None else target)} | {verdict(f.get('ok'))} | {cell(f.get('note'))} |"
        )
    return lines


def section(name: str, data: dict[str, Any]) -> list[str]:
    lines = [
        f"## {data.get('name', name)}",
        "",
        f"- command: `{data.get('command', '?')}`" + (" (quick run)" if data.get("quick") else ""),
        f"- machine: {data.get('machine', '?')}",
        f"- date: {data.get('date', '?')}",
    ]
    if data.get("where"):
        lines.append(f"- where: {data['where']}")
    run = data.get("run")
    if isinstance(run, dict) and isinstance(run.get("load_avg_1min"), dict):
        la = run["load_avg_1min"]
        lines.append(
            f"- run: {fmt(run.get('took_s'))} s; 1-minute load average min {la.get('min')}, median "
            f"{la.get('median')}, max {la.get('max')} (this run's own server and load count up to about 2 "
            "of it)"
        )
    lines.append("")
    notes = str(data.get("notes", "")).strip()
    if notes:
        lines += [f"**Notes.** {notes}", ""]
    lines += figure_table(data.get("figures", []))
    lines.append("")
    if data.get("profiles"):
        lines += ["**Profiles** (py-spy, % of each thread's samples):", ""]
        lines += profile_lines(data["profiles"])
        lines.append("")
    before = data.get("before")
    if isinstance(before, dict):
        lines += [f"**Before** (commit `{before.get('commit', '?')}`: {before.get('what', '')}):", ""]
        lines += figure_table(before.get("figures", []))
        lines.append("")
        if before.get("profiles"):
            lines += ["Profiles before:", ""]
            lines += profile_lines(before["profiles"])
            lines.append("")
    return lines


def render(without: frozenset[str] = frozenset(), results_dir: Path | None = None) -> str:
    results = load_results(without, results_dir)
    lines = [
        "# hallq benchmark report",
        "",
        "Generated by `./dev bench` (or `.venv/bin/python bench/report.py` alone) from",
        "`bench/results/*.json`; each benchmark writes its own file with the machine, the date and the",
        "command that produced it.",
        "Figures are measured on a shared 2-core machine (other work running shows as load average in the",
        "notes where a benchmark records it); misses are shown as misses.",
        "",
    ]
    if not results:
        lines.append("No results yet: run `./dev bench`.")
    table, missed = summary(results)
    lines += table
    lines += misses(missed, results)
    for name, data in results.items():
        lines += section(name, data)
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument(
        "--without",
        action="append",
        default=[],
        metavar="NAME",
        help="treat bench/results/NAME.json as missing (a run still in progress)",
    )
    ap.add_argument(
        "--results", type=Path, help="read the JSON files from here (default bench/results), e.g. a snapshot"
    )
    args = ap.parse_args()
    out = HERE / "REPORT.md"
    out.write_text(render(frozenset(args.without), args.results), encoding="utf-8")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
