"""Reading a hall's configuration file: the apps' side of
`hallcore.configload`, which parses the bytes read here."""

from __future__ import annotations

import pathlib
import sys

from hallcore.config import HallConfig
from hallcore.configload import ConfigError, config_from_bytes, unreadable


def read_config(path: pathlib.Path) -> HallConfig:
    """The hall's TOML file, read and validated; `ConfigError` naming the file for any problem."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise unreadable(str(path), exc) from exc
    return config_from_bytes(raw, str(path), lambda folder: calendar_files(path.parent / folder))


def calendar_files(folder: pathlib.Path) -> dict[str, bytes]:
    """The yearly calendar files (`YYYY.csv`) of a hall, by name; {} when the folder does not exist."""
    if not folder.is_dir():
        return {}
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.suffix == ".csv" and p.is_file()}


def read_config_or_report(prog: str, path: pathlib.Path) -> HallConfig | None:
    """`read_config`, or None after telling the terminal every problem at once (the app then exits 2)."""
    try:
        return read_config(path)
    except ConfigError as exc:
        sys.stderr.write(exc.report(prog, path) + "\n")
        return None
