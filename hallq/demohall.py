"""What a demo hall is made of, shared by `hallq demo` (hallq/demo.py), its centre (hallq/democentral.py) and
the end-to-end tests: the county config rewritten for this run, the demo logins, a free port."""

from __future__ import annotations

import re
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CONFIG_DIR = ROOT / "config"
MANAGER = ("manager", "hallq-demo")
CLERK_PIN = "246810"


def free_port(preferred: int | None = None) -> int:
    for port in ([preferred] if preferred else []) + [0]:
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return int(s.getsockname()[1])
    raise RuntimeError("no free port")


def clerk_code(window: int) -> str:
    """Keypads have only digits, so demo clerks have numeric staff codes: window 5 -> 1005."""
    return f"{1000 + window}"


#: The years the demo hall's calendar knows, as plain weeks: far enough either side of any day the demo runs.
DEMO_YEARS = range(2020, 2051)


def rewrite_config(
    text: str, urls: dict[tuple[str, str], str], public_url: str, timezone: str | None = None
) -> str:
    """The county config for this run: the stations' device URLs pointed at this run's emulators, and
    round-the-clock hours every day with no holidays (a calendar of plain weeks for `DEMO_YEARS`, so bookings
    are offered), so the demo hall is open whenever someone looks.

    `urls` maps (station id, original url) to the new url. The file is edited line by line so its
    comments and layout stay as they are.
    """
    out: list[str] = []
    station = ""
    section = ""
    skipping_array = False
    years_written = False
    for raw in text.splitlines():
        line = raw
        if skipping_array:
            skipping_array = not line.strip().startswith("]")
            continue
        if line.startswith("["):
            section = line.strip()
            if section == "[[hall.calendar.years]]" and not years_written:
                years_written = True
                for year in DEMO_YEARS:
                    out += ["[[hall.calendar.years]]", f"year = {year}", ""]
            if section == "[[departments]]" and "[hall.hours.sun]" not in "\n".join(out):
                out += ["[hall.hours.sun]", 'open = "00:00"', 'close = "23:59"', ""]
        if section == "[[hall.calendar.years]]" or section.startswith(("[[hall.dates", "[[hall.seasons")):
            continue  # the real years' holidays, the hall's own dates and seasons: the demo hall never closes
        if line.startswith("[[") or (line.startswith("[") and not line.startswith("[stations.")):
            station = ""
        m = re.match(r'^id = "([^"]+)"', line)
        if m:
            station = m.group(1)
        m = re.match(r'^url = "([^"]+)"', line)
        if m and (station, m.group(1)) in urls:
            line = f'url = "{urls[(station, m.group(1))]}"'
        if section == "[hall]":
            if line.startswith("public_base_url = "):
                line = f'public_base_url = "{public_url}"'
            elif line.startswith("cutoff_min = "):
                line = "cutoff_min = 1"
            elif line.startswith("timezone = ") and timezone:
                line = f'timezone = "{timezone}"'
        if section.startswith("[hall.hours."):
            if line.startswith("open = "):
                line = 'open = "00:00"'
            elif line.startswith("close = "):
                line = 'close = "23:59"'
            elif line.startswith(("walk_ins = ", "booked_first = ", "walk_in_series = ")):
                continue  # every session takes walk-ins of every series in their own order
        out.append(line)
    return "\n".join(out) + "\n"
