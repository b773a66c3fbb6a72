"""`hallq sim`: a hall day simulated against the real engine on a virtual clock, as fast as it can run, in
scaled real time (`--speed N`), or against a running server through its API (`--against URL`, real time);
or many simulated hall days replayed into a province's centre (`--central URL --halls N`,
hallq/simprovince.py). The day itself is `hallq.sim`."""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import json
import sys
from collections.abc import Callable
from pathlib import Path

from hallcore.calendar import HallCalendar
from hallcore.config import HallConfig
from hallcore.configload import ConfigError
from hallfiles.config import read_config
from hallq.sim import Pacer, SimParams, SimResult, simulate, summary
from hallq.simhistory import history_days, history_of, simulate_with_history


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="hallq sim", description=__doc__.splitlines()[0] if __doc__ else "")
    ap.add_argument("--config", type=Path, required=True, help="the hall's TOML file")
    ap.add_argument("--day", type=dt.date.fromisoformat, default=dt.date(2026, 11, 23), help="YYYY-MM-DD")
    ap.add_argument("--start", type=dt.time.fromisoformat, default=None, help="HH:MM (default: opening)")
    ap.add_argument("--end", type=dt.time.fromisoformat, default=None, help="HH:MM (default: closing)")
    ap.add_argument(
        "--arrivals", type=int, default=None, help="whole-day walk-ins (default: sized to the hall)"
    )
    ap.add_argument("--load", type=float, default=SimParams.load, help="mean window utilisation to size for")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument(
        "--history",
        type=int,
        default=0,
        metavar="N",
        help="the estimator starts from the hall's history: its cases on the same weekday of N earlier "
        "weeks, simulated first (the same hall, other days); default 0: the config's priors only",
    )
    ap.add_argument(
        "--estimator",
        choices=("inline", "forecast"),
        default="inline",
        help="the wait estimate: inline at each issue, or the forward model (hallcore/forecast.py) made at "
        "most once a second per series that changed",
    )
    ap.add_argument(
        "--hour-sigma",
        type=float,
        default=SimParams.hour_sigma,
        metavar="S",
        help="the hall's cases take longer at some hours: each hour a factor lognormal(0, S), the same on "
        "all its days (default 0: every hour alike)",
    )
    ap.add_argument("--seeds", type=window_list, help="several days, e.g. 1-5 (with --json: pooled)")
    ap.add_argument(
        "--no-priority", action="store_true", help="the same days with no head starts and no absolute class"
    )
    ap.add_argument("--calls", action="store_true", help="print every call")
    ap.add_argument("--chart", type=Path, help="write the wait-time chart (SVG) here")
    mode = ap.add_mutually_exclusive_group()
    mode.add_argument("--speed", type=float, help="run N times real time against the engine")
    mode.add_argument("--against", metavar="URL", help="drive a running hall server in real time")
    ap.add_argument("--manager", help="manager login for --against (approves the simulated stations)")
    ap.add_argument("--password", help="the manager's password for --against")
    ap.add_argument("--ca", type=Path, help="the hall CA (ca.pem) an https --against server is verified with")
    ap.add_argument("--clerk-prefix", default="c", help="clerk staff codes are PREFIX + window number")
    ap.add_argument("--clerk-pin", default="", help="the simulated clerks' PIN for --against")
    ap.add_argument(
        "--windows", type=window_list, help="staff only these windows, e.g. 1-8,12 (default: all)"
    )
    from hallq import simprovince

    simprovince.add_arguments(ap)
    try:
        args = ap.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    if args.speed is not None and args.speed <= 0:
        print("hallq sim: --speed must be > 0", file=sys.stderr)
        return 2
    if args.against and not (args.manager and args.password is not None):
        print("hallq sim: --against needs --manager USER --password PW", file=sys.stderr)
        return 2
    if args.against and args.against.startswith("https:") and args.ca is None:
        print("hallq sim: an https --against server needs --ca ca.pem (the hall CA)", file=sys.stderr)
        return 2
    try:
        config = read_config(args.config)
    except ConfigError as exc:
        print(exc, file=sys.stderr)
        return 2
    if args.central:
        if args.against or args.speed:
            print(
                "hallq sim: --central replays as fast as it can (no --against, no --speed)", file=sys.stderr
            )
            return 2
        return simprovince.main_central(args, config)
    for warning in config.warnings:
        print(f"hallq sim: warning: {warning}", file=sys.stderr)
    if args.no_priority:
        config = without_priority(config)
    cal = HallCalendar(config.hall)
    opens, closes = cal.opens_at(args.day), cal.closes_at(args.day)
    start = args.start or (opens.time() if opens else dt.time(8, 30))
    end = args.end or (closes.time() if closes else dt.time(17, 0))
    seeds = args.seeds or (args.seed,)
    if args.hour_sigma < 0:
        print("hallq sim: --hour-sigma must be >= 0", file=sys.stderr)
        return 2
    if args.history < 0 or (args.history and args.against):
        print(
            "hallq sim: --history N needs N >= 0 and the in-process engine (not --against)", file=sys.stderr
        )
        return 2
    if args.against and len(seeds) > 1:
        print("hallq sim: --against runs one day (one seed)", file=sys.stderr)
        return 2
    on_call = print if args.calls and not args.json else None
    results = []
    for seed in seeds:
        params = SimParams(
            args.day,
            start,
            end,
            args.arrivals,
            load=args.load,
            seed=seed,
            windows=args.windows,
            estimator=args.estimator,
            hour_sigma=args.hour_sigma,
        )
        if args.against:
            found = _against(args, config, params, on_call)
            if found is None:
                return 2
            result = found
        else:
            pacer = Pacer(args.speed) if args.speed else None
            if args.history:
                history = history_of(config, history_days(params, args.history))
                result = simulate_with_history(config, params, history, on_call=on_call, pacer=pacer)
            else:
                result = simulate(config, params, on_call=on_call, pacer=pacer)
        results.append(result)
        if not args.json:
            print(summary(result))
    if args.json:
        from hallq.simjson import sim_json

        print(
            json.dumps(
                sim_json(results) | {"no_priority": args.no_priority, "estimator": args.estimator},
                ensure_ascii=False,
                indent=1,
            )
        )
    if args.chart:
        from hallq.simchart import wait_chart

        args.chart.write_text(wait_chart(results[-1]), encoding="utf-8")
        if not args.json:
            print(f"  chart: {args.chart}")
    return 0


def without_priority(config: HallConfig) -> HallConfig:
    """The hall with every class kept (the same citizens claim them) but no head start and nothing absolute:
    what the day would be with no priority at all."""
    classes = tuple(
        dataclasses.replace(pc, head_start_min=0, absolute=False) for pc in config.priority_classes
    )
    return dataclasses.replace(config, priority_classes=classes)


def window_list(text: str) -> tuple[int, ...]:
    """Window numbers from a list like `1-8,12`."""
    out: list[int] = []
    try:
        for part in text.split(","):
            lo, _, hi = part.strip().partition("-")
            out.extend(range(int(lo), int(hi or lo) + 1))
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a window list: {text!r} (e.g. 1-8,12)") from None
    return tuple(out)


def _against(
    args: argparse.Namespace, config: HallConfig, params: SimParams, on_call: Callable[[str], None] | None
) -> SimResult | None:
    from hallclient.errors import HallClientError
    from hallq.simports import HttpPort, HttpPortError

    try:
        ca_pem = args.ca.read_text("ascii") if args.ca is not None else ""
    except OSError as exc:
        print(f"hallq sim: --ca {args.ca}: {exc.strerror}", file=sys.stderr)
        return None
    try:
        port = HttpPort(
            args.against,
            config,
            manager=args.manager,
            password=args.password,
            clerk_prefix=args.clerk_prefix,
            clerk_pin=args.clerk_pin,
            windows=list(params.windows) if params.windows is not None else None,
            ca_pem=ca_pem,
        )
    except (HttpPortError, HallClientError) as exc:
        print(f"hallq sim: {exc}", file=sys.stderr)
        return None
    try:
        now = port.server_now().astimezone(HallCalendar(config.hall).tz)
        params.day = now.date()
        return simulate(config, params, on_call=on_call, port=port, pacer=Pacer(1.0), start_at=now)
    finally:
        port.close()
