"""Reading a hall's configuration file at an app's start: `hallfiles.config.read_config` (the one home of
the reading), with every problem told to the terminal at once."""

from __future__ import annotations

import pathlib
import sys

from hallcore.config import HallConfig
from hallcore.configload import ConfigError
from hallfiles.config import read_config


def read_config_or_report(prog: str, path: pathlib.Path) -> HallConfig | None:
    """`read_config`, or None after telling the terminal every problem at once (the app then exits 2)."""
    try:
        return read_config(path)
    except ConfigError as exc:
        sys.stderr.write(exc.report(prog, path) + "\n")
        return None
