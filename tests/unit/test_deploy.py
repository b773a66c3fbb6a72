"""The installer kit (`deploy/`, `docs/install.md`): every unit file parses, every `ExecStart=` and every
documented command runs a real `hallq` subcommand with options its parser accepts, every `/etc/hallq/…`
path exists in the example layout, the stations named exist in the layout's hall config, and the udev rules
are well-formed."""

from __future__ import annotations

import argparse
import configparser
import contextlib
import io
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from hallcore.config import StationRole
from hallfiles.config import read_config
from hallq import cli

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
LAYOUT = DEPLOY / "layout"
INSTALL_MD = ROOT / "docs" / "install.md"
UNITS = sorted(p for p in (DEPLOY / "systemd").rglob("*") if p.suffix in (".service", ".timer"))
SERVICES = [p for p in UNITS if p.suffix == ".service"]
RULES = sorted((DEPLOY / "udev").glob("*.rules"))
HALLQ = "/opt/hallq/venv/bin/hallq"
#: The role of the station a templated unit's instance (%i) names, by subcommand.
ROLE_OF = {
    "kiosk": StationRole.KIOSK,
    "counter": StationRole.COUNTER,
    "display": StationRole.DISPLAY,
    "devices": StationRole.AGENT,
}


def parse_unit(path: Path) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # systemd keys are case-sensitive
    parser.read_string(path.read_text(encoding="utf-8"), source=str(path))
    return parser


def unit_lines(path: Path, key: str) -> list[str]:
    """Every value of `key` (systemd keys may repeat, configparser keeps only the last)."""
    return [
        line.split("=", 1)[1].strip()
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(f"{key}=")
    ]


def environment(path: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    for value in unit_lines(path, "Environment"):
        for item in shlex.split(value):
            name, _, val = item.partition("=")
            env[name] = val
    return env


def layout_config_stations() -> dict[StationRole, list[str]]:
    config = read_config(LAYOUT / "etc" / "hallq" / "hall.toml")
    out: dict[StationRole, list[str]] = {}
    for s in config.stations:
        out.setdefault(s.role, []).append(s.id)
    return out


def hallq_argv(words: list[str]) -> list[str] | None:
    """The `hallq` part of a command line (after `sudo -u X`, `cage … --`, `sh -c '… exec …'`), or None."""
    for i, word in enumerate(words):
        if word == "hallq" or word.endswith("/hallq"):
            return words[i:]
    return None


def exec_argv(path: Path, value: str) -> list[str]:
    """The words of an `ExecStart=` value as the service would run them, specifiers and shell expanded."""
    value = value.lstrip("-@+!:")
    words = shlex.split(value)
    env = environment(path)
    if Path(words[0]).name in ("sh", "bash") and words[1] == "-c":
        script = re.sub(r"\$\(date [^)]*\)", "Mon", words[2])
        script = re.sub(r"\$\{?(\w+)\}?", lambda m: env.get(m.group(1), m.group(0)), script)
        words = [w for w in shlex.split(script) if w != "exec"]
    instance = ""
    if "@." in path.name:
        argv = hallq_argv(words)
        assert argv is not None
        role = ROLE_OF[argv[1]]
        instance = layout_config_stations()[role][0]
    return [w.replace("%i", instance).replace("%H", "hallq-server").replace("%%", "%") for w in words]


class _Parsed(Exception):
    def __init__(self, namespace: argparse.Namespace) -> None:
        super().__init__("parsed")
        self.namespace = namespace


@contextlib.contextmanager
def parse_only(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Every argparse parser stops right after a successful parse, so nothing is started."""
    original = argparse.ArgumentParser.parse_args

    def parse_args(self: argparse.ArgumentParser, *args: Any, **kwargs: Any) -> argparse.Namespace:
        namespace = original(self, *args, **kwargs)
        raise _Parsed(namespace)

    with monkeypatch.context() as m:
        m.setattr(argparse.ArgumentParser, "parse_args", parse_args)
        yield


def assert_accepted(argv: list[str], monkeypatch: pytest.MonkeyPatch, where: str) -> argparse.Namespace:
    """`hallq SUBCOMMAND ARGS…` reaches its parser and the parser accepts ARGS."""
    assert argv[1] in cli.COMMANDS, f"{where}: 'hallq {argv[1]}' is not a hallq subcommand"
    err = io.StringIO()
    with parse_only(monkeypatch), contextlib.redirect_stderr(err), contextlib.redirect_stdout(io.StringIO()):
        try:
            code = cli.main(argv[1:])
        except _Parsed as parsed:
            return parsed.namespace
    raise AssertionError(f"{where}: {' '.join(argv)} was refused (exit {code}): {err.getvalue()}")


def test_a_bad_option_is_caught(monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(AssertionError, match="refused"):
        assert_accepted([HALLQ, "server", "--config", "x.toml", "--no-such-flag"], monkeypatch, "test")
    with pytest.raises(AssertionError, match="not a hallq subcommand"):
        assert_accepted([HALLQ, "serve"], monkeypatch, "test")
    namespace = assert_accepted([HALLQ, "admin", "--db", "h.db", "backup", "/tmp/b.db"], monkeypatch, "test")
    assert namespace.cmd == "backup"


# --- unit files -----------------------------------------------------------------------------------


def test_the_kit_has_a_unit_per_process() -> None:
    names = {p.name for p in UNITS}
    assert {
        "hallq-server.service",
        "hallq-kiosk@.service",
        "hallq-counter@.service",
        "hallq-display@.service",
        "hallq-agent@.service",
        "hallq-backup.service",
        "hallq-backup.timer",
    } <= names


@pytest.mark.parametrize("path", UNITS, ids=lambda p: p.name)
def test_unit_parses(path: Path) -> None:
    unit = parse_unit(path)
    assert unit.has_section("Unit")
    assert unit.get("Unit", "Description")
    if path.suffix == ".timer":
        assert unit.has_section("Timer")
        assert unit_lines(path, "OnCalendar")
        assert (path.parent / path.name.replace(".timer", ".service")).exists()
    else:
        assert unit.has_section("Service")
        assert len(unit_lines(path, "ExecStart")) == 1


@pytest.mark.parametrize("path", SERVICES, ids=lambda p: p.name)
def test_exec_start_runs_a_real_hallq_command(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (value,) = unit_lines(path, "ExecStart")
    words = exec_argv(path, value)
    argv = hallq_argv(words)
    assert argv is not None, f"{path.name}: ExecStart does not run hallq: {value}"
    assert argv[0] == HALLQ, f"{path.name}: run the venv's hallq ({HALLQ}), not {argv[0]}"
    namespace = assert_accepted(argv, monkeypatch, path.name)
    config = getattr(namespace, "config", None)
    if config is not None:
        assert str(config) == "/etc/hallq/hall.toml"


@pytest.mark.parametrize("path", [p for p in SERVICES if "@." in p.name], ids=lambda p: p.name)
def test_templated_units_name_a_station_of_the_right_role(path: Path) -> None:
    (value,) = unit_lines(path, "ExecStart")
    assert "--station %i" in value, f"{path.name}: the instance name is the station id"


@pytest.mark.parametrize("path", [p for p in SERVICES if p.parent.name == "systemd"], ids=lambda p: p.name)
def test_system_services_are_sandboxed(path: Path) -> None:
    unit = parse_unit(path)
    svc = unit["Service"]
    assert svc.get("User", "root") not in ("", "root"), f"{path.name}: runs as a dedicated user"
    assert svc.get("NoNewPrivileges") == "yes"
    assert svc.get("ProtectSystem") in ("full", "strict")
    assert svc.get("PrivateTmp") == "yes"
    if svc.get("Type") != "oneshot":
        assert svc.get("Restart") in ("on-failure", "always")


def test_every_long_running_unit_restarts() -> None:
    for path in SERVICES:
        svc = parse_unit(path)["Service"]
        if svc.get("Type") != "oneshot":
            assert svc.get("Restart") in ("on-failure", "always"), path.name


# --- paths and the example layout -----------------------------------------------------------------


def _etc_paths(text: str) -> set[str]:
    return set(re.findall(r"/etc/hallq/[\w.@-]+(?:/[\w.@-]+)*", text))


def test_config_paths_exist_in_the_example_layout() -> None:
    texts = [p.read_text(encoding="utf-8") for p in UNITS] + [INSTALL_MD.read_text(encoding="utf-8")]
    paths = set().union(*(_etc_paths(t) for t in texts))
    assert "/etc/hallq/hall.toml" in paths
    for path in sorted(paths):
        if path.startswith("/etc/hallq/keys/"):
            # The hall key is made by the server at its first start, never shipped: its directory is laid out.
            assert (LAYOUT / path.lstrip("/")).parent.is_dir(), f"{path}'s directory is not in deploy/layout"
            assert not (LAYOUT / path.lstrip("/")).exists(), f"{path}: never ship a key"
            continue
        assert (LAYOUT / path.lstrip("/")).exists(), f"{path} is not in deploy/layout"


def test_layout_config_loads_and_has_every_role() -> None:
    stations = layout_config_stations()
    for role in (StationRole.KIOSK, StationRole.COUNTER, StationRole.DISPLAY, StationRole.AGENT):
        assert stations.get(role), f"the example hall has no {role.value} station"


def test_devices_named_in_the_units_come_from_the_udev_rules() -> None:
    rules = "\n".join(p.read_text(encoding="utf-8") for p in RULES)
    symlinks = set(re.findall(r'SYMLINK\+="([^"]+)"', rules))
    for path in [*SERVICES, INSTALL_MD]:
        for dev in re.findall(r"/dev/(hallq-[\w-]+|input/hallq-[\w-]+)", path.read_text(encoding="utf-8")):
            assert dev in symlinks, f"{path.name} uses /dev/{dev}, which no udev rule creates"


# --- udev rules -----------------------------------------------------------------------------------

MATCH_KEYS = {
    "ACTION", "DEVPATH", "KERNEL", "KERNELS", "SUBSYSTEM", "SUBSYSTEMS", "DRIVER", "DRIVERS", "ATTR",
    "ATTRS", "ENV", "TAG", "TAGS", "TEST", "PROGRAM", "RESULT", "NAME", "SYMLINK",
}  # fmt: skip
ASSIGN_KEYS = {"SYMLINK", "GROUP", "MODE", "OWNER", "ENV", "TAG", "RUN", "OPTIONS", "ATTR", "NAME", "LABEL"}
PAIR = re.compile(r'^\s*([A-Z_]+)(\{[\w.-]+\})?\s*(==|!=|\+=|-=|:=|=)\s*"([^"]*)"\s*$')


def rule_lines(path: Path) -> list[tuple[int, str]]:
    out: list[tuple[int, str]] = []
    pending = ""
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if raw.rstrip().endswith("\\"):
            pending += raw.rstrip()[:-1] + " "
            continue
        line = pending + raw
        pending = ""
        if line.strip() and not line.lstrip().startswith("#"):
            out.append((n, line))
    return out


def test_there_are_udev_rules() -> None:
    assert RULES
    assert all(rule_lines(p) for p in RULES)


@pytest.mark.parametrize("path", RULES, ids=lambda p: p.name)
def test_udev_rules_are_key_op_value_pairs(path: Path) -> None:
    for n, line in rule_lines(path):
        # Split on commas outside quotes.
        items = re.findall(r'(?:[^,"]|"[^"]*")+', line)
        matches = assigns = 0
        for item in items:
            m = PAIR.match(item)
            assert m, f'{path.name}:{n}: not KEY=="value" or KEY="value": {item.strip()!r}'
            key, attr, op, value = m.groups()
            if op in ("==", "!="):
                assert key in MATCH_KEYS, f"{path.name}:{n}: {key} cannot be matched"
                matches += 1
            else:
                assert key in ASSIGN_KEYS, f"{path.name}:{n}: {key} cannot be assigned"
                assigns += 1
            if key in ("ATTR", "ATTRS", "ENV"):
                assert attr, f"{path.name}:{n}: {key} needs {{name}}"
            if key == "MODE":
                assert re.fullmatch(r"0[0-7]{3}", value), f"{path.name}:{n}: MODE {value}"
                assert value[-1] == "0", f"{path.name}:{n}: devices are never world-accessible"
            if key == "GROUP":
                assert value in ("dialout", "lp", "input", "audio", "video"), (
                    f"{path.name}:{n}: GROUP {value}"
                )
        assert matches, f"{path.name}:{n}: a rule needs a match"
        assert assigns, f"{path.name}:{n}: a rule needs an assignment"


# --- docs/install.md ------------------------------------------------------------------------------


def documented_commands() -> list[tuple[int, list[str]]]:
    out: list[tuple[int, list[str]]] = []
    in_block = False
    for n, line in enumerate(INSTALL_MD.read_text(encoding="utf-8").splitlines(), 1):
        if line.strip().startswith("```"):
            in_block = not in_block
            continue
        if not in_block:
            continue
        words = shlex.split(line, comments=True)
        if words[:2] == ["sudo", "-u"]:
            words = words[3:]
        if words and (words[0] == "hallq" or words[0] == HALLQ):
            out.append((n, words))
    return out


def test_install_guide_covers_the_steps() -> None:
    text = INSTALL_MD.read_text(encoding="utf-8").lower()
    for topic in (
        "Server box", "Kiosks", "Counters", "Displays", "LED bus", "Enrollment", "check-config",
        "hallq devices list", "devices ping", "print-test", "Backups", "Time", "Logs",
    ):  # fmt: skip
        assert topic.lower() in text, topic
    for path in UNITS:
        assert path.name.lower() in text or path.name.replace("@.", "@") in text, (
            f"{path.name} is not explained"
        )


def test_every_documented_hallq_command_is_accepted(monkeypatch: pytest.MonkeyPatch) -> None:
    commands = documented_commands()
    assert len(commands) >= 10
    seen = {words[1] for _n, words in commands}
    assert {"check-config", "admin", "devices", "sim"} <= seen
    for n, words in commands:
        assert_accepted(words, monkeypatch, f"docs/install.md:{n}")
