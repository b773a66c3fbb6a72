"""`central.toml`: the centre's database, listening address, retention and region tree (docs/central.md).

Validated with the hall config's walker (hallcore.configload), so a bad file gets the same kind of report:
every problem at once, with its dotted key and what was expected.
"""

from __future__ import annotations

import pathlib
import zoneinfo
from dataclasses import dataclass, field
from typing import Any

from hallcore.configload import ConfigError, parse_toml, unreadable
from hallcore.configwalk import Walker

LEVELS = ("province", "city", "county", "district")


@dataclass(frozen=True, slots=True)
class Region:
    id: str
    name: str
    level: str
    parent: str = ""  # "" for the root(s)


@dataclass(frozen=True, slots=True)
class Database:
    dsn: str  # libpq connection string, e.g. "host=127.0.0.1 port=5432 dbname=hallq_central user=hallq"
    pool_max: int = 10


@dataclass(frozen=True, slots=True)
class Server:
    host: str = "127.0.0.1"
    port: int = 8800
    public_url: str = ""


@dataclass(frozen=True, slots=True)
class Retention:
    event_months: int = 24  # event rows kept at the centre; whole month partitions are dropped after


@dataclass(frozen=True, slots=True)
class Live:
    offline_after_s: int = 60  # a hall silent for this long shows as offline (halls send a heartbeat)
    push_every_s: float = 5.0  # the overview is re-sent at least this often (ages, offline)


@dataclass(frozen=True, slots=True)
class Rollups:
    build_every_s: float = 60.0  # finished hall days waiting for their roll-up are built this often
    days_per_round: int = 200  # at most this many hall days per round (each in its own transaction)


@dataclass(frozen=True, slots=True)
class CentralConfig:
    name: str
    database: Database
    regions: tuple[Region, ...]
    timezone: str = "Asia/Shanghai"  # the centre's calendar: which day "today" is on its pages
    server: Server = field(default_factory=Server)
    retention: Retention = field(default_factory=Retention)
    live: Live = field(default_factory=Live)
    rollups: Rollups = field(default_factory=Rollups)


def parse(data: dict[str, Any], source: str) -> CentralConfig:
    w = Walker(source)
    cfg = w.convert(data, CentralConfig, "")
    if isinstance(cfg, CentralConfig):
        _check(w, cfg)
    if w.issues:
        raise ConfigError(w.issues)
    assert isinstance(cfg, CentralConfig)
    return cfg


def _check(w: Walker, cfg: CentralConfig) -> None:
    ids: set[str] = set()
    for i, r in enumerate(cfg.regions):
        key = f"regions[{i}]"
        if not r.id or "/" in r.id:
            w.issue(f"{key}.id", r.id, "a non-empty id without '/'")
        if r.id in ids:
            w.issue(f"{key}.id", r.id, "a region id used once")
        ids.add(r.id)
        if r.level not in LEVELS:
            w.issue(f"{key}.level", r.level, f"one of {', '.join(LEVELS)}")
    for i, r in enumerate(cfg.regions):
        if r.parent and r.parent not in ids:
            w.issue(f"regions[{i}].parent", r.parent, 'the id of another region (or "" for the top)')
    if not cfg.regions:
        w.issue("regions", [], "at least one region (the province or city the centre answers for)")
    if cfg.retention.event_months < 1:
        w.issue("retention.event_months", cfg.retention.event_months, "at least 1 month")
    if cfg.live.offline_after_s < 1:
        w.issue("live.offline_after_s", cfg.live.offline_after_s, "at least 1 s")
    try:
        zoneinfo.ZoneInfo(cfg.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        w.issue("timezone", cfg.timezone, "an IANA time zone such as Asia/Shanghai")
    if cfg.rollups.build_every_s <= 0:
        w.issue("rollups.build_every_s", cfg.rollups.build_every_s, "more than 0 s")
    if cfg.rollups.days_per_round < 1:
        w.issue("rollups.days_per_round", cfg.rollups.days_per_round, "at least 1")


def load(path: pathlib.Path) -> CentralConfig:
    source = str(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise unreadable(source, exc) from exc
    return parse(parse_toml(raw, source), source)


def region_paths(regions: tuple[Region, ...]) -> dict[str, str]:
    """Region id -> '/root/child/…/id/' (a subtree is a prefix). Cycles were refused by `_check`'s parent
    test only if the parent exists; a cycle is cut here at the first repeat."""
    by_id = {r.id: r for r in regions}
    out: dict[str, str] = {}
    for r in regions:
        chain = []
        cur: Region | None = r
        seen: set[str] = set()
        while cur is not None and cur.id not in seen:
            seen.add(cur.id)
            chain.append(cur.id)
            cur = by_id.get(cur.parent) if cur.parent else None
        out[r.id] = "/" + "/".join(reversed(chain)) + "/"
    return out
