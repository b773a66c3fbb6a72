"""The demo hall's config: the county hall with its devices on this run's emulators and open all day."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

from hallcore.configload import parse_config
from hallq.demohall import rewrite_config

COUNTY = Path(__file__).resolve().parents[2] / "config" / "county.toml"


def test_demo_config_points_devices_at_emulators_and_opens_all_day() -> None:
    urls = {
        ("kiosk-1", "socket://127.0.0.1:9101"): "socket://127.0.0.1:40001",
        ("counter-01", "socket://127.0.0.1:9200"): "socket://127.0.0.1:40002",
        ("counter-05", "socket://127.0.0.1:9200"): "socket://127.0.0.1:40003",
    }
    text = rewrite_config(COUNTY.read_text(encoding="utf-8"), urls, "http://127.0.0.1:40000")
    cfg = parse_config(tomllib.loads(text), "demo.toml")
    by_id = cfg.station_by_id
    assert by_id["kiosk-1"].printer is not None
    assert by_id["kiosk-1"].printer.url == "socket://127.0.0.1:40001"
    for sid, url in (("counter-01", "socket://127.0.0.1:40002"), ("counter-05", "socket://127.0.0.1:40003")):
        st = by_id[sid]
        assert {d.url for d in (st.led, st.keypad, st.rating_pad) if d is not None} == {url}
    assert by_id["kiosk-2"].printer is not None
    assert by_id["kiosk-2"].printer.url == "socket://127.0.0.1:9102"  # stations the demo does not run stay
    assert cfg.hall.public_base_url == "http://127.0.0.1:40000"
    # Plain weeks, no holidays, for years either side of today: the demo hall never closes and books ahead.
    years = cfg.hall.calendar.years
    assert {2026, 2027} <= {y.year for y in years}
    assert all(not y.holidays and not y.workdays for y in years)
    assert set(cfg.hall.hours) == {"mon", "tue", "wed", "thu", "fri", "sat", "sun"}
    for hours in cfg.hall.hours.values():
        assert [(x.open, x.close, x.walk_ins) for x in hours] == [(dt.time(0, 0), dt.time(23, 59), True)]
