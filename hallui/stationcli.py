"""The command line every station shares (`hallq counter`, `hallq display`, `hallq devices serve`): the hall's
config file, this station's id, where its server is and where it keeps its enrollment token; and the start
each one makes: parse, set up logging, read the config (every problem told at once). Free of Qt, so the
headless device agent uses it too."""

from __future__ import annotations

import argparse
import logging
import pathlib

from hallcore.config import HallConfig
from hallui.configfile import read_config_or_report

#: Where a station keeps its enrollment token (and the display its voice pack) unless told otherwise.
STATE_DIR = pathlib.Path.home() / ".local" / "state" / "hallq"


def station_parser(
    prog: str,
    description: str,
    *,
    station_help: str,
    server_help: str = "the hall server's URL (default: found by mDNS, else the config's)",
) -> argparse.ArgumentParser:
    """A station's parser with the options every station takes; the caller adds its own."""
    p = argparse.ArgumentParser(prog=prog, description=description)
    p.add_argument("--config", type=pathlib.Path, required=True, help="the hall's TOML file")
    p.add_argument(
        "--check-config", action="store_true", help="validate the config and the station, then exit"
    )
    p.add_argument("--station", help=station_help)
    p.add_argument("--server", help=server_help)
    p.add_argument(
        "--mdns-interface",
        action="append",
        help="look for the server by mDNS on this interface address only (repeatable; default: every one)",
    )
    p.add_argument(
        "--state-dir",
        type=pathlib.Path,
        default=STATE_DIR,
        help="where the station keeps its enrollment token",
    )
    return p


def begin(
    prog: str, parser: argparse.ArgumentParser, argv: list[str]
) -> tuple[argparse.Namespace, HallConfig] | int:
    """The arguments and the hall's config, logging set up; or the exit status: the one argparse chose (2 for
    bad arguments, 0 after --help), or 2 after telling the terminal every problem of the config at once."""
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else 2
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    config = read_config_or_report(prog, args.config)
    return 2 if config is None else (args, config)
