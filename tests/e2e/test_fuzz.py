"""API fuzzing: schemathesis 4 (it reads OpenAPI 3.1, which FastAPI emits) against a real `hallq server` on
loopback, from the server's own `/openapi.json`, with the contract checks (`CHECKS`): nothing answers 5xx,
every status, content type and body is one the schema documents for that operation, a method the schema does
not list answers 405 with `Allow`, and input the schema calls invalid is refused. The schema is generated from
the reply types (`hallserver/openapi.py`): this checks the server against the contract clients are built on.

Each operation is called as the role that may use it, so requests get past authentication into the
handlers: a manager for the administration, a counter whose clerk is logged in at window 1 for window
actions and ticket handling, a kiosk for issuing and printing. Logging out is fuzzed with tokens of its own,
or the first logout would leave every later request unauthenticated.

`./dev test` runs a bounded pass (fixed seed, a few examples per operation, well under a minute); `./dev soak`
runs a long one with a fresh seed and the stateful phase. A failure prints schemathesis' report (each case
with a curl line that reproduces it) and the end of the server's log.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import pathlib
import random
import re
import subprocess
import sys
import time
from dataclasses import dataclass, field

import pytest

from hallserver.api_windows import ACTIONS
from tests.e2e.fault_support import Rig, hall_config
from tests.fakes.live_server import test_tls

pytestmark = pytest.mark.slow

SCHEMATHESIS = pathlib.Path(sys.executable).with_name("schemathesis")
#: Nothing answers 5xx; every status, content type and body is the one `/openapi.json` documents; a method the
#: schema does not list answers 405 with `Allow`; invalid input is refused (docs/api.md).
CHECKS = ",".join(
    (
        "not_a_server_error",
        "status_code_conformance",
        "content_type_conformance",
        "response_schema_conformance",
        "unsupported_method",
        "negative_data_rejection",
    )
)


@dataclass
class Known:
    """Real identifiers the fuzzer mixes into what it generates, so requests reach past "not found"."""

    tickets: list[str] = field(default_factory=list)
    tokens: list[str] = field(default_factory=list)
    bookings: list[str] = field(default_factory=list)
    stations: list[str] = field(default_factory=list)
    days: list[str] = field(default_factory=list)


def toml_list(values: list[str] | list[int]) -> str:
    return "[" + ", ".join(json.dumps(v, ensure_ascii=False) for v in values) + "]"


def fuzz_config(tokens: dict[str, str], known: Known) -> str:
    """schemathesis.toml: which role's token each operation is called with, and real identifiers."""

    def bearer(role: str) -> str:
        return f'headers = {{ Authorization = "Bearer {tokens[role]}" }}'

    dictionaries: dict[str, list[str] | list[int]] = {
        "actions": list(ACTIONS),
        "windows": [1, 2],
        "matters": ["HJ01", "SB02", "CR01"],
        "tokens": known.tokens,
        "bookings": known.bookings,
        "stations": known.stations,
        "days": known.days,
    }
    bindings = {
        "path.action": "actions",
        "path.number": "windows",
        "path.window": "windows",
        "query.matter": "matters",
        "body.matter": "matters",
        "path.token": "tokens",
        "path.code": "bookings",
        "path.station_id": "stations",
        "query.day": "days",
    }
    lines = [bearer("manager"), ""]  # the default: administration, hall, stations, roster, reload
    lines += ["[parameters]"]
    lines += [
        f'"{k}" = {{ dictionary = "{v}", probability = 0.5 }}' for k, v in bindings.items() if dictionaries[v]
    ]
    lines += [""]
    for name, values in dictionaries.items():
        if values:
            lines += [f"[dictionaries.{name}]", f"values = {toml_list(values)}", ""]
    for names, role in (
        ("include-name = ['POST /api/manager/logout']", "manager_2"),
        ("include-name = ['POST /api/counter/logout']", "counter_2"),
        ("include-name = ['POST /api/tickets/{ticket_id}/notify']", "desk"),
        (
            (
                "include-name-regex = '^(POST|GET) /api/(windows|counter/login"
                "|tickets/\\{ticket_id\\}/(requeue|rating|cancel))'"
            ),
            "counter",
        ),
        (
            (
                "include-name-regex = '^(POST|GET) /api/(tickets$|tickets/\\{ticket_id\\}/(printed|void)"
                "|bookings/\\{code\\}/checkin|devices/health|remaining|identity)'"
            ),
            "kiosk",
        ),
    ):
        lines += ["[[operations]]", names, bearer(role), ""]
    return "\n".join(lines)


#: schemathesis hooks (written next to the config), run before each request is sent:
#: - two requests in three get a request id of their own: the generators repeat "0"-like ids, and the server
#:   answers a reused id with `request_id_reused` before the handler runs, so without this most "valid"
#:   commands would only test the idempotency check;
#: - every other ticket operation gets a real ticket id: ids contain "/" ("2026-11-24/A001"), which
#:   schemathesis' dictionaries leave out of path parameters;
#: - the stations the fuzzer acts as are never revoked: schemathesis reuses ids it read in replies (the
#:   station list), and a revoked kiosk or counter would leave every later request of that role at 401.
HOOKS = """
import itertools
import uuid

import schemathesis

TICKETS = {tickets!r}
OWN_STATIONS = {own!r}
SPARE_STATION = {spare!r}
_count = itertools.count()


@schemathesis.hook
def before_call(context, case, kwargs):
    n = next(_count)
    body = case.body
    if isinstance(body, dict) and isinstance(body.get("request_id"), str) and n % 3:
        body["request_id"] = uuid.uuid4().hex
    path = case.path_parameters
    if path and "ticket_id" in path and n % 2:
        path["ticket_id"] = TICKETS[n % len(TICKETS)]
    if path and path.get("station_id") in OWN_STATIONS and case.path.endswith("/revoke"):
        path["station_id"] = SPARE_STATION
"""


def run_fuzz(tmp: pathlib.Path, *, examples: int, seed: int, phases: str, max_time_s: int | None) -> None:
    with Rig(tmp, hall_config()) as rig:
        hall = rig.hall
        rig.server.start()
        tokens = {"manager": hall.manager_headers()["Authorization"].removeprefix("Bearer ")}
        hall._manager = ""
        tokens["manager_2"] = hall.manager_headers()["Authorization"].removeprefix("Bearer ")
        kiosk = hall.station("kiosk", "fuzz kiosk")
        counter = hall.station("counter", "fuzz counter 1", 1, login=True)
        counter_2 = hall.station("counter", "fuzz counter 2", 2, login=True)
        tokens.update(kiosk=kiosk.token, counter=counter.token, counter_2=counter_2.token)
        assert hall.act(counter, "open").status_code == 200
        known = Known(stations=[hall.station("display", "fuzz spare").id])
        with hall.client() as c:
            r = c.post("/api/enroll", json={"name": "fuzz pending", "role": "kiosk"})
            known.stations.append(r.json()["station_id"])
            desk = hall.station("desk", "fuzz desk")
            tokens["desk"] = desk.token  # opting a ticket in to notices (the desk may, for any ticket)
            for st in (desk, kiosk):  # a queue to act on, one ticket unprinted
                for _ in range(2):
                    t = hall.issue(st).json()
                    known.tickets.append(t["ticket"]["id"])
                    known.tokens.append(t["status_url"].rstrip("/").rsplit("/", 1)[-1])
            today = dt.date.fromisoformat(known.tickets[0].split("/")[0])
            known.days = [today.isoformat(), (today + dt.timedelta(days=1)).isoformat()]
            r = c.post(
                "/api/bookings",
                json={"request_id": "fuzz-booking", "matter": "HJ01", "day": known.days[1], "slot": "09:00",
                      "id_number": "110101199003071233"},
            )  # fmt: skip
            if r.status_code == 201:
                known.bookings.append(r.json()["code"])
        config = tmp / "schemathesis.toml"
        config.write_text(fuzz_config(tokens, known), "utf-8")
        hooks = tmp / "fuzz_hooks.py"
        own = [st.id for st in (kiosk, counter, counter_2, desk)]
        hooks.write_text(HOOKS.format(tickets=known.tickets, own=own, spare=known.stations[0]), "utf-8")
        cmd = [
            str(SCHEMATHESIS), "--no-color", "--config-file", str(config), "run", f"{hall.url}/openapi.json",
            "--checks", CHECKS, "--max-examples", str(examples), "--seed", str(seed),
            "--phases", phases, "--workers", "1", "--request-timeout", "10",
            "--report", "junit", "--report-dir", str(tmp / "report"),
        ]  # fmt: skip
        if hall.url.startswith("https:"):  # the hall's TLS: the per-session test CA, nothing else trusted
            cmd += ["--tls-verify", str(test_tls().ca_cert)]
        if max_time_s is not None:
            cmd += ["--max-time", str(max_time_s)]
        t0 = time.monotonic()
        env = {**os.environ, "SCHEMATHESIS_HOOKS": str(hooks)}
        run = subprocess.run(
            cmd,
            check=False,
            cwd=tmp,
            env=env,
            capture_output=True,
            text=True,
            timeout=(max_time_s or 300) + 300,
        )
        took = time.monotonic() - t0
        out = run.stdout
        (tmp / "schemathesis.out").write_text(out, "utf-8")
        cases = re.search(r"(\d+) generated", out)
        print(f"[fault figure] schemathesis (seed {seed}, {phases}, {examples}/operation): {took:.1f} s, "
              f"{cases.group(1) if cases else '?'} cases")  # fmt: skip
        server_log = rig.server.log_text()
        assert run.returncode == 0, (
            f"schemathesis found server errors (seed {seed}):\n{out[-12000:]}\n{run.stderr[-3000:]}\n"
            f"--- server log:\n{server_log[-5000:]}"
        )
        assert "Traceback" not in server_log, server_log[-5000:]
        assert rig.server.running
        # Authentication worked: no operation was refused throughout but the logins with made-up secrets.
        refused = (
            out.split("Authentication failed")[1].split("\n\n")[1] if "Authentication failed" in out else ""
        )
        assert set(re.findall(r"- (\w+ \S+)", refused)) <= {"POST /api/manager/login"}, out[-6000:]


def test_fuzz_the_api_no_server_errors(tmp_path: pathlib.Path) -> None:
    run_fuzz(tmp_path, examples=6, seed=20261123, phases="examples,coverage,fuzzing", max_time_s=None)


@pytest.mark.soak
@pytest.mark.timeout(1800)
def test_fuzz_the_api_long(tmp_path: pathlib.Path) -> None:
    seed = random.randrange(1 << 30)
    run_fuzz(tmp_path, examples=300, seed=seed, phases="examples,coverage,fuzzing,stateful", max_time_s=900)
