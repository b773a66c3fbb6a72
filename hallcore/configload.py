"""Parse a hall's TOML configuration into `hallcore.config.HallConfig`, reporting every problem at once.

The shells read the file (`hallfiles.config`) and hand its bytes here with the
name to report (`config_from_bytes`); this module does no I/O.

Two passes. A generic walker (`hallcore.configwalk`) turns TOML tables into the schema's frozen dataclasses by
reading their type hints, so a field added to the schema is loaded without touching this module. Then
`hallcore.configcheck` checks what types cannot say: references between tables, duplicates, ranges, hours.
Each problem becomes one `ConfigIssue` with the file, the dotted key (`matters[3].series`), the value, what
was expected and a "did you mean" hint; all of them are raised together in one `ConfigError`, because an
installer fixing a hall's file one error per restart gives up long before the hall opens.
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
from collections.abc import Callable, Mapping
from pathlib import PurePath
from typing import Any

from hallcore.calendarfile import with_files
from hallcore.config import HallConfig
from hallcore.configcheck import check_references
from hallcore.configmigrate import migrate, one_session_tables
from hallcore.configwalk import MISSING, ConfigError, ConfigIssue, Walker

__all__ = [
    "MISSING",
    "ConfigError",
    "ConfigIssue",
    "config_from_bytes",
    "parse_config",
    "parse_toml",
    "unreadable",
]


def unreadable(source: str, exc: OSError) -> ConfigError:
    """The error for a configuration file the shell could not read (`source` names it)."""
    return ConfigError([ConfigIssue(source, "", MISSING, "a readable TOML file", exc.strerror or str(exc))])


def parse_toml(raw: bytes, source: str) -> dict[str, Any]:
    """A TOML file's bytes as a table; `ConfigError` naming `source` (and the line) when they are not UTF-8
    TOML."""
    try:
        # Notepad on the hall's Windows PC writes a BOM; TOML does not allow one, but nobody can see it.
        text = raw.decode("utf-8").removeprefix("\ufeff")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        issue = ConfigIssue(
            source, "", MISSING, "a UTF-8 text file", "save it as UTF-8, not GBK", line=line, column=None
        )
        raise ConfigError([issue]) from exc
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([_syntax_issue(source, exc)]) from exc


#: How a shell hands over the yearly calendar files: the folder named by `hall.calendar.dir` (relative to the
#: config file) -> {file name: bytes}; {} when the folder does not exist.
ReadFolder = Callable[[str], Mapping[str, bytes]]


def config_from_bytes(raw: bytes, source: str, read_folder: ReadFolder | None = None) -> HallConfig:
    """Parse and validate a hall's TOML file as the shell read it; raise `ConfigError` listing every problem,
    each naming `source`. With `read_folder`, the calendar files beside it join `hall.calendar`."""
    return parse_config(parse_toml(raw, source), source, read_folder)


def parse_config(data: dict[str, Any], source: str, read_folder: ReadFolder | None = None) -> HallConfig:
    """Validate already parsed TOML data; `source` names the file in every issue."""
    data, warnings = migrate(data, source)
    wrapped = one_session_tables(data)
    walker = Walker(source)
    parsed = walker.walk_top(data)
    check_references(walker, parsed, data)
    hall = parsed.section("hall")
    if read_folder is not None and hall is not None and not walker.issues:
        folder = hall.calendar.dir
        try:
            files = read_folder(folder)
            calendar = with_files(hall.calendar, files, str(PurePath(source).parent / folder))
            parsed.sections["hall"] = dataclasses.replace(hall, calendar=calendar)
        except OSError as exc:
            walker.issue("hall.calendar.dir", folder, "a readable folder of calendar files", str(exc))
        except ConfigError as exc:
            walker.issues.extend(exc.issues)
    if walker.issues:
        raise ConfigError([_as_written(i, wrapped) for i in walker.issues])
    config = HallConfig(**parsed.build_kwargs())
    object.__setattr__(config, "warnings", tuple(warnings))
    return config


def _as_written(issue: ConfigIssue, wrapped: list[str]) -> ConfigIssue:
    """`hall.hours.mon[0].close` as `hall.hours.mon.close` when the file gave the weekday as one table."""
    for key in wrapped:
        if issue.key.startswith(f"{key}[0]"):
            return dataclasses.replace(issue, key=key + issue.key[len(key) + 3 :])
    return issue


_LOCATION = re.compile(r"\s*\(at line (\d+), column (\d+)\)$")


def _syntax_issue(source: str, exc: tomllib.TOMLDecodeError) -> ConfigIssue:
    message = str(exc)
    # Python 3.11's TOMLDecodeError has no lineno/colno attributes: the position is only in the message.
    match = _LOCATION.search(message)
    if match is None:
        return ConfigIssue(source, "", MISSING, "valid TOML", message)
    return ConfigIssue(
        source,
        "",
        MISSING,
        "valid TOML",
        message[: match.start()],
        line=int(match.group(1)),
        column=int(match.group(2)),
    )
