"""Reading a hall's configuration file: the side of `hallcore.configload` that touches the disk (it parses
the bytes read here). The server, the apps, the agent and the tools all read it through `read_config`."""

from __future__ import annotations

import pathlib

from hallcore.config import HallConfig
from hallcore.configload import config_from_bytes, unreadable


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
