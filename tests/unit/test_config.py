"""Config loading: the example halls load, every mistake is reported at once with file, key and hint."""

from __future__ import annotations

import copy
import datetime as dt
import importlib.util
import pathlib
import re
import tomllib
from collections.abc import Callable
from typing import Any

import pytest

from hallcore.config import HallConfig, MatterKind, Session, StationRole
from hallcore.configload import MISSING, ConfigError, ConfigIssue, config_from_bytes, parse_config
from hallcore.errors import HallError
from hallfiles.config import read_config
from hallq import check_config

ROOT = pathlib.Path(__file__).resolve().parents[2]
COUNTY = ROOT / "config" / "county.toml"
PROVINCIAL = ROOT / "config" / "provincial.toml"
DOCS = ROOT / "docs" / "config.md"


def doc_examples() -> list[str]:
    """Every ```toml block of docs/config.md that is a whole hall file (it has a [hall] table)."""
    blocks = re.findall(r"```toml\n(.*?)```", DOCS.read_text(encoding="utf-8"), flags=re.S)
    return [b for b in blocks if "[hall]" in b]


def small_hall() -> dict[str, Any]:
    return tomllib.loads(doc_examples()[0])


def issues_of(data: dict[str, Any]) -> tuple[ConfigIssue, ...]:
    with pytest.raises(ConfigError) as caught:
        parse_config(data, "hall.toml")
    return caught.value.issues


# --- the example halls ---------------------------------------------------------------------------------


def test_county_hall_loads_with_its_shape() -> None:
    config = read_config(COUNTY)

    assert isinstance(config, HallConfig)
    assert len(config.windows) == 28
    assert 8 <= len(config.departments) <= 12
    assert 6 <= len(config.series) <= 8
    assert len(config.matters) >= 25
    assert not config.hall.hours["sat"][0].walk_ins
    assert config.hall.hours["mon"][0].open == dt.time(8, 30)
    (year,) = config.hall.calendar.years
    assert year.year == 2026
    assert dt.date(2026, 10, 1) in year.holidays
    assert dt.date(2026, 10, 10) in year.workdays
    assert any(len(w.series) > 1 for w in config.windows), "a 综合窗口 serves several series"
    assert any(w.partner is not None for w in config.windows), "A/B岗 pairs"
    assert {c.id for c in config.priority_classes} >= {
        "appointment",
        "elderly",
        "disabled",
        "military",
        "key_project",
    }
    assert not config.class_by_id["appointment"].kiosk_selectable
    assert config.class_by_id["appointment"].head_start_min == 20
    assert config.class_by_id["military"].absolute
    assert config.warnings == ()
    materials = [m for matter in config.matters for m in matter.precheck.materials]
    assert any(m.tolerable for m in materials)
    assert all(m.where for m in materials)
    assert {MatterKind.ON_THE_SPOT, MatterKind.PROMISED} <= {m.kind for m in config.matters}
    roles = [s.role for s in config.stations]
    assert roles.count(StationRole.KIOSK) == 2
    assert {StationRole.COUNTER, StationRole.DESK, StationRole.DISPLAY, StationRole.AGENT} <= set(roles)
    kiosk = config.station_by_id["kiosk-1"]
    assert kiosk.printer is not None
    assert kiosk.printer.url == "socket://127.0.0.1:9101"


def test_provincial_hall_loads_with_its_size() -> None:
    config = read_config(PROVINCIAL)

    assert len(config.windows) >= 150
    assert len(config.departments) >= 40
    assert len(config.matters) >= 60
    assert sum(len(w.series) > 1 for w in config.windows) >= 3
    # seeds/004 (Changchun 5+1): Saturdays take bookings first, and walk-ins for 公共服务 (咨询).
    (saturday,) = config.hall.hours["sat"]
    assert (saturday.booked_first, saturday.walk_in_series) == (True, ("Q",))
    assert config.hall.seasons[0].hours["mon"][1].open == dt.time(13, 30)
    assert any(m.tolerable for matter in config.matters for m in matter.precheck.materials)


@pytest.mark.parametrize(
    ("script", "output"),
    [
        ("gen_county.py", COUNTY),
        ("gen_provincial.py", PROVINCIAL),
        ("gen_central.py", ROOT / "config" / "central.toml"),
    ],
)
def test_generated_halls_match_their_generators(script: str, output: pathlib.Path) -> None:
    path = ROOT / "config" / "tools" / script
    spec = importlib.util.spec_from_file_location(path.stem, path)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)

    assert module.build() == output.read_text(encoding="utf-8"), f"re-run config/tools/{script}"


def test_every_full_example_in_the_docs_loads(tmp_path: pathlib.Path) -> None:
    examples = doc_examples()
    assert examples
    for i, text in enumerate(examples):
        path = tmp_path / f"example{i}.toml"
        path.write_text(text, encoding="utf-8")
        read_config(path)


# --- the five mistakes ---------------------------------------------------------------------------------

FIVE_MISTAKES = {
    'pinyin = "jmsfzslhl"': 'pinyn = "jmsfzslhl"',  # unknown key with a typo
    'series = "A"': 'series = "a"',  # unknown series reference
    'open = "08:30"': 'open = "8.30"',  # bad time
    "led_address = 2\n": 'led_address = "2"\n',  # wrong type
}
DUPLICATE_WINDOW = """
[[windows]]
number = 1
name = "1号户政窗口（重复）"
department = "gongan"
series = ["A"]
"""


def five_mistakes(tmp_path: pathlib.Path) -> pathlib.Path:
    text = doc_examples()[0]
    for good, bad in FIVE_MISTAKES.items():
        assert text.count(good) == 1, good
        text = text.replace(good, bad)
    # Appended after the second window, before [[priority_classes]], so it is windows[2].
    text = text.replace("\n[[priority_classes]]", DUPLICATE_WINDOW + "\n[[priority_classes]]", 1)
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_five_mistakes_give_exactly_five_precise_issues(tmp_path: pathlib.Path) -> None:
    path = five_mistakes(tmp_path)

    with pytest.raises(ConfigError) as caught:
        read_config(path)

    found = {issue.key: issue for issue in caught.value.issues}
    assert sorted(found) == sorted(
        [
            "matters[0].pinyn",
            "matters[0].series",
            "hall.hours.mon.open",
            "windows[1].led_address",
            "windows[2].number",
        ]
    )
    assert all(issue.file == str(path) for issue in caught.value.issues)
    assert found["matters[0].pinyn"].hint == "did you mean 'pinyin'?"
    assert found["matters[0].series"].value == "a"
    assert found["matters[0].series"].expected == "one of the series prefixes A"
    assert found["matters[0].series"].hint == "did you mean 'A'?"
    assert found["hall.hours.mon.open"].value == "8.30"
    assert found["hall.hours.mon.open"].expected == 'a time of day like "08:30"'
    assert found["windows[1].led_address"].expected == "an integer"
    assert found["windows[1].led_address"].hint == "write the number without quotes"
    assert found["windows[2].number"].hint == "windows[0] has it too"
    text = str(caught.value)
    assert len(text.splitlines()) == 5
    assert (
        f"{path}: matters[0].series = 'a': expected one of the series prefixes A (did you mean 'A'?)" in text
    )


def test_the_server_refuses_a_bad_file_and_says_each_problem(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """`hallq server` (like every command that reads the file) exits 2 with ConfigError.report's text."""
    from hallserver.app import serve_main as server_main

    path = five_mistakes(tmp_path)
    assert server_main(["--config", str(path), "--db", str(tmp_path / "hall.db"), "--no-mdns"]) == 2
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == f"hallq server: {path} has 5 problem(s):"
    assert len(lines) == 6
    assert all(line.startswith(f"  {path}: ") for line in lines[1:])
    assert not (tmp_path / "hall.db").exists()


def test_check_config_returns_2_and_prints_every_issue(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = five_mistakes(tmp_path)

    assert check_config.main([str(path)]) == 2

    err = capsys.readouterr().err
    assert f"FAIL {path} (5 problems)" in err
    for key in ("matters[0].pinyn", "matters[0].series", "hall.hours.mon.open", "windows[1].led_address"):
        assert f"{path}: {key} = " in err


def test_check_config_returns_0_for_the_example_halls(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_config.main([str(COUNTY), str(PROVINCIAL)]) == 0

    out = capsys.readouterr().out
    assert f"OK  {COUNTY} (28 windows, " in out
    assert f"OK  {PROVINCIAL} (158 windows, 107 matters, 16 series)" in out


def test_check_config_without_files_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_config.main([]) == 2
    assert "usage: hallq check-config" in capsys.readouterr().err


# --- file-level problems -------------------------------------------------------------------------------


def test_toml_syntax_error_reports_line_and_column(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[hall]\nid = "x"\nname = \n', encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        read_config(path)

    (issue,) = caught.value.issues
    assert (issue.line, issue.column) == (3, 8)
    assert str(issue).startswith(f"{path}:3:8: expected valid TOML (")


def test_missing_file_and_wrong_encoding_are_config_errors(tmp_path: pathlib.Path) -> None:
    with pytest.raises(ConfigError, match="expected a readable TOML file"):
        read_config(tmp_path / "nope.toml")
    gbk = tmp_path / "gbk.toml"
    gbk.write_bytes('[hall]\nname = "金寨"\n'.encode("gbk"))
    with pytest.raises(ConfigError, match="UTF-8"):
        read_config(gbk)


def test_a_utf8_bom_is_accepted(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "bom.toml"
    path.write_bytes(b"\xef\xbb\xbf" + doc_examples()[0].encode("utf-8"))

    assert read_config(path).hall.id == "demo"


def test_the_core_parses_bytes_and_names_the_source() -> None:
    """hallcore reads no file: the shell hands it the bytes and the name to report."""
    config = config_from_bytes(doc_examples()[0].encode("utf-8"), "/etc/hallq/hall.toml")
    assert config.hall.id == "demo"
    with pytest.raises(ConfigError) as caught:
        config_from_bytes(b'[hall]\nid = "x"\nname = \n', "/etc/hallq/hall.toml")
    assert str(caught.value).startswith("/etc/hallq/hall.toml:3:8: expected valid TOML (")
    with pytest.raises(ConfigError) as caught:
        config_from_bytes('[hall]\nname = "金寨"\n'.encode("gbk"), "/etc/hallq/hall.toml")
    # The line of the first byte that is not UTF-8; no column (bytes are not characters).
    assert str(caught.value).startswith("/etc/hallq/hall.toml:2: expected a UTF-8 text file")


def test_config_error_is_a_hall_error() -> None:
    assert issubclass(ConfigError, HallError)


# --- one mistake at a time -----------------------------------------------------------------------------

Mutation = Callable[[dict[str, Any]], None]


def _set(path: str, value: object) -> Mutation:
    """Set a dotted/indexed path like "windows[0].partner" in the parsed TOML."""

    def mutate(data: dict[str, Any]) -> None:
        parts = re.findall(r"[^.\[\]]+|\[\d+\]", path)
        node: Any = data
        for part in parts[:-1]:
            node = node[int(part[1:-1])] if part.startswith("[") else node[part]
        node[parts[-1]] = value

    return mutate


def _append(section: str, table: dict[str, Any]) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        data[section].append(table)

    return mutate


def _table(name: str, table: dict[str, Any]) -> Mutation:
    """Add a top-level table the small hall leaves to its defaults."""

    def mutate(data: dict[str, Any]) -> None:
        data[name] = table

    return mutate


@pytest.mark.parametrize(
    ("mutate", "key", "expected", "hint"),
    [
        (_set("hall.name", 3), "hall.name", "a string", ""),
        (
            _set("hall.public_base_url", "hall.local"),
            "hall.public_base_url",
            "an http:// or https:// URL",
            "",
        ),
        (
            _set("series", [{"prefix": "A", "name": "户政", "open": "12:00", "close": "10:00"}]),
            "series[0].close",
            "a time after open (12:00)",
            "",
        ),
        (_set("matters[0].code", "HJ 03"), "matters[0].code", "a code without spaces, e.g. 'HJ01'", ""),
        (_set("matters[0].pinyin", "JMSFZ"), "matters[0].pinyin", "", ""),
        (
            _set("matters[0].prior_handle_min", 0),
            "matters[0].prior_handle_min",
            "a positive number of minutes",
            "",
        ),
        (_set("windows[0].series", []), "windows[0].series", "at least one series prefix", ""),
        (_set("stations[1].led.address", 300), "stations[1].led.address", "a bus address from 1 to 247", ""),
        (
            _set("stations[1].led.timeout_s", 0),
            "stations[1].led.timeout_s",
            "a positive number of seconds",
            "",
        ),
        (
            _append(
                "stations",
                {"id": "d1", "role": "display", "id_reader": {"type": "idcard-serial", "url": "/dev/x"}},
            ),
            "stations[2].id_reader",
            "an ID card reader on a kiosk, desk or counter station",
            "",
        ),
        (
            _table("outcomes", {"refusal_reasons": ["材料不全", "材料不全"]}),
            "outcomes.refusal_reasons[1]",
            "each reason once",
            "",
        ),
        (
            _table("targets", {"satisfaction": 95}),
            "targets.satisfaction",
            "a value from 0 to 1",
            "write 0.95 for 95 %",
        ),
        (_table("booking", {"early_min": -5}), "booking.early_min", "at least 0 minutes", ""),
        (
            _table("led", {"brightness": [{"at": "18:00", "level": 5}, {"at": "08:00", "level": 9}]}),
            "led.brightness[1].at",
            "a time after 18:00 (steps in time order)",
            "",
        ),
        (_table("led", {"hall_rows": 0}), "led.hall_rows", "at least 1", ""),
        (_table("server", {"pause_reasons": []}), "server.pause_reasons", "at least one pause reason", ""),
        (
            _table("server", {"pause_reasons": ["休息", "休息"]}),
            "server.pause_reasons[1]",
            "each reason once",
            "",
        ),
        (_table("tls", {"names": ["bad name!"]}), "tls.names[0]", "", ""),
        (
            _table("tls", {"addresses": ["300.1.1.1"]}),
            "tls.addresses[0]",
            "an IP address like 192.168.10.2",
            "",
        ),
        (_table("tls", {"ca_days": 10}), "tls.ca_days", "a value from 30 to 36500", ""),
        (_set("hall.hours.mon.close", "08:00"), "hall.hours.mon.close", "a time after open (08:30)", ""),
        (
            _set("hall.hours.mn", {"open": "08:30", "close": "12:00"}),
            "hall.hours.mn",
            "",
            "did you mean 'mon'?",
        ),
        (
            _set("hall.calendar.years[0].workdays", ["2026-10-09"]),
            "hall.calendar.years[0].workdays[0]",
            "",
            "it is a Friday",
        ),
        (
            _set("hall.calendar.years[0].holidays", ["2026-02-30"]),
            "hall.calendar.years[0].holidays[0]",
            "a date like 2026-10-01",
            "",
        ),
        (
            _set("hall.calendar.years[0].holidays", [dt.date(2027, 1, 1)]),
            "hall.calendar.years[0].holidays[0]",
            "a day of 2026",
            "",
        ),
        (_set("hall.timezone", "Asia/Shanghia"), "hall.timezone", "an IANA time zone name", ""),
        (_set("windows[0].partner", 1), "windows[0].partner", "", ""),
        (
            _set("windows[0].partner", 9),
            "windows[0].partner",
            "the number of a window defined in [[windows]]",
            "",
        ),
        (_set("windows[0].led_address", 300), "windows[0].led_address", "a bus address from 1 to 247", ""),
        (_set("windows[1].led_address", 1), "windows[1].led_address", "", "windows[0] has it too"),
        (_set("windows[0].department", "gongn"), "windows[0].department", "", "did you mean 'gongan'?"),
        (_set("windows[1].series", ["A", "A"]), "windows[1].series[1]", "each series once per window", ""),
        (_set("windows[0].zone", "f1"), "windows[0].zone", "one of the zone ids (none are defined)", ""),
        (_set("matters[0].department", "gaj"), "matters[0].department", "", ""),
        (_set("matters[0].kind", "承诺"), "matters[0].kind", "", "did you mean '承诺件'?"),
        (_set("matters[0].daily_cap", 0), "matters[0].daily_cap", "at least 1", ""),
        (
            _set("matters[0].precheck.materials[1].required", False),
            "matters[0].precheck.materials[1].tolerable",
            "false for an optional material",
            "",
        ),
        (
            _set("matters[0].precheck.materials[1].id", "hukou"),
            "matters[0].precheck.materials[1].id",
            "",
            "matters[0].precheck.materials[0] has it too",
        ),
        (
            _set("matters[0].precheck.questions[0].fail_reason", ""),
            "matters[0].precheck.questions[0].fail_reason",
            "",
            "",
        ),
        (_set("series[0].daily_cap", 1000), "series[0].daily_cap", "at most 999 with number_width = 3", ""),
        (_append("series", {"prefix": "a1", "name": "x"}), "series[1].prefix", "", ""),
        (
            _append("series", {"prefix": "K", "name": "空"}),
            "series[1].prefix",
            "a series served by at least one window",
            "",
        ),
        (
            _set("priority_classes[1].id", "appointment"),
            "priority_classes[1].id",
            "",
            "priority_classes[0] has it too",
        ),
        (_set("rating", {"four_key_map": [5, 4, 2, 0]}), "rating.four_key_map[3]", "a value from 1 to 5", ""),
        (
            _set("rating", {"four_key_map": [5, 4, 2]}),
            "rating.four_key_map",
            "an array of 4 integers",
            "it has 3",
        ),
        (
            _set("targets", {"satisfaction": 95}),
            "targets.satisfaction",
            "a value from 0 to 1",
            "write 0.95 for 95 %",
        ),
        (_set("led", {"calling": "请{num}号到{window}号窗口"}), "led.calling", "", "did you mean 'number'?"),
        (_set("server", {"durability": "fsync"}), "server.durability", "one of 'full', 'normal'", ""),
        (
            _set("central", {"enabled": True, "url": "https://c.example", "catch_up_share": 0}),
            "central.catch_up_share",
            "a share above 0 and at most 1",
            "",
        ),
        (
            _set("stations[0].printer.type", "escpos-netwrok"),
            "stations[0].printer.type",
            "",
            "did you mean 'escpos-network'?",
        ),
        (_set("stations[0].printer.url", "127.0.0.1:9101"), "stations[0].printer.url", "", ""),
        (
            _set("stations[1].window", 7),
            "stations[1].window",
            "the number of a window defined in [[windows]]",
            "",
        ),
        (_set("stations[1].role", "kiosk"), "stations[1].window", "", ""),
        (_set("stations[1].led.address", 2), "stations[1].led.address", "the window's led_address (1)", ""),
        (
            _set("stations[1].rating_pad.address", 1),
            "stations[1].rating_pad.address",
            "",
            "stations[1].led has it too",
        ),
        (
            _set("upload", {"enabled": True, "signer": "none"}),  # signing needs app_key and secret_file too
            "upload.endpoint",
            "an http(s) URL when upload.enabled = true",
            "",
        ),
        (_set("hall.cutoff_min", True), "hall.cutoff_min", "an integer", ""),
        (
            _set("stations[0].id_reader", {"type": "idcard-usb", "usb_vendor": 0x0400}),
            "stations[0].id_reader.usb_product",
            "a USB id for an idcard-usb device, e.g. 0x0416",
            "",
        ),
        (
            _set(
                "stations[0].id_reader",
                {"type": "idcard-usb", "usb_vendor": 0x0400, "usb_product": 0xC35A, "usb_in_ep": 0x02},
            ),
            "stations[0].id_reader.usb_in_ep",
            "an endpoint address 0x81..0x8f",
            "",
        ),
        (_set("stations[0].id_reader.poll_s", 0), "stations[0].id_reader.poll_s", "", ""),
        (_set("stations[0].id_reader.url", ""), "stations[0].id_reader.url", "", ""),
        (
            _set("stations[0].id_reader.type", "idcard-serail"),
            "stations[0].id_reader.type",
            "",
            "did you mean 'idcard-serial'?",
        ),
        (
            _append("stations", {"id": "board", "role": "display", "id_reader": {"type": "fake"}}),
            "stations[2].id_reader",
            "an ID card reader on a kiosk, desk or counter station",
            "",
        ),
        # Languages (hallcore/configlang.py): the kiosk's list, texts per language, tiles, icons, volume.
        (_set("kiosk", {"languages": ["zh", "en", "zh"]}), "kiosk.languages[2]", "each language once", ""),
        (_set("kiosk", {"languages": ["zh", "Tibetan"]}), "kiosk.languages[1]", "", ""),
        (_set("kiosk", {"home_matters": ["HJ99"]}), "kiosk.home_matters[0]", "", ""),
        (_set("matters[0].names", {"bo": "ཐེམ་ཐོ།"}), "matters[0].names.bo", "", ""),
        (
            _set("matters[0].precheck.materials[0].icon", "passport"),
            "matters[0].precheck.materials[0].icon",
            "",
            "",
        ),
        (_set("stations[0].volume", 120), "stations[0].volume", "a value from 0 to 100", ""),
        # Given once (hallcore/configrules.once): the second mention is told where the first is.
        (
            _append("stations", {"id": "counter-1b", "role": "counter", "window": 1}),
            "stations[2].window",
            "a window driven by one station only",
            "stations[1] has it too",
        ),
        (
            _set("hall.dates", [{"dates": ["2026-12-19"]}, {"dates": ["2026-12-26", "2026-12-19"]}]),
            "hall.dates[1].dates[1]",
            "a date given once",
            "hall.dates[0] has it too",
        ),
        (
            _set("hall.dates", [{"dates": ["2026-12-19", "2026-12-19"]}]),
            "hall.dates[0].dates[1]",
            "a date given once",
            "hall.dates[0] has it too",
        ),
        (
            _set("hall.calendar.years", [{"year": 2026}, {"year": 2026}]),
            "hall.calendar.years[1].year",
            "each year once",
            "years[0] has it too",
        ),
    ],
)
def test_each_mistake_is_reported_alone(mutate: Mutation, key: str, expected: str, hint: str) -> None:
    data = copy.deepcopy(small_hall())
    mutate(data)

    issues = issues_of(data)

    assert [i.key for i in issues] == [key]
    if expected:
        assert issues[0].expected == expected
    if hint:
        assert issues[0].hint == hint


def test_an_upload_switched_on_half_configured_names_every_missing_part() -> None:
    data = copy.deepcopy(small_hall())
    data["upload"] = {"enabled": True, "endpoint": "ftp://province"}
    assert [i.key for i in issues_of(data)] == ["upload.endpoint", "upload.app_key", "upload.secret_file"]


def test_a_misspelt_required_key_is_not_also_reported_missing() -> None:
    data = small_hall()
    data["matters"][0]["seires"] = data["matters"][0].pop("series")

    issues = issues_of(data)

    assert [(i.key, i.hint) for i in issues] == [("matters[0].seires", "did you mean 'series'?")]


def test_missing_required_keys_are_each_reported() -> None:
    data = small_hall()
    del data["hall"]["name"]
    del data["windows"]

    issues = issues_of(data)

    assert {(i.key, i.value is MISSING) for i in issues} >= {("hall.name", True), ("windows", True)}
    assert "hall.name is missing: expected a string" in "\n".join(str(i) for i in issues)


def test_an_unknown_top_level_table_suggests_the_right_one() -> None:
    data = small_hall()
    data["stations_"] = data.pop("stations")

    (issue,) = issues_of(data)

    assert issue.key == "stations_"
    assert issue.hint == "did you mean 'stations'?"


def test_times_dates_and_enums_accept_their_toml_forms() -> None:
    data = small_hall()
    data["hall"]["hours"]["mon"] = {"open": dt.time(8, 30), "close": "17:30:00"}
    data["hall"]["calendar"]["years"][0]["holidays"] = ["2026-10-01", dt.date(2026, 10, 2)]
    data["matters"][0]["kind"] = "promised"

    config = parse_config(data, "hall.toml")

    assert config.hall.hours["mon"] == (Session(dt.time(8, 30), dt.time(17, 30)),)
    assert config.hall.calendar.years[0].holidays == (dt.date(2026, 10, 1), dt.date(2026, 10, 2))
    assert config.matters[0].kind is MatterKind.PROMISED
    assert isinstance(config.matters[0].precheck.materials, tuple)


# --- settings of an earlier hallq ------------------------------------------------------------------------


def test_old_aging_settings_load_with_a_warning_and_the_nearest_head_starts(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    text = doc_examples()[0]
    text = text.replace("head_start_min = 60", "rank = 0").replace("head_start_min = 20", "rank = 2")
    text += "\n[priority]\naging_limit_min = 25\nmax_priority_in_row = 3\n\n[no_show]\nrequeue_behind = 3\n"
    path = tmp_path / "old.toml"
    path.write_text(text, encoding="utf-8")
    config = read_config(path)
    assert {c.id: c.head_start_min for c in config.priority_classes} == {"appointment": 45, "elderly": 25}
    assert config.priority.absolute_in_row == 3
    assert len(config.warnings) == 3
    aging, in_row, behind = config.warnings
    assert aging.startswith(
        f"{path}: priority.aging_limit_min = 25 and priority_classes[].rank: replaced by head starts:"
    )
    assert "appointment 45, elderly 25" in aging
    assert "replaced by head starts" in in_row
    assert "absolute_in_row = 3" in in_row
    assert "no_show.requeue_behind = 3" in behind
    # A day the example's 2026 calendar reaches 60 days past: only the replaced settings warn.
    assert check_config.main(["--today", "2026-06-01", str(path)]) == 0
    out = capsys.readouterr().out
    assert out.count("  warning: ") == 3


def test_ranks_without_an_aging_limit_took_the_old_default() -> None:
    data = small_hall()
    for c in data["priority_classes"]:
        c["rank"] = c.pop("head_start_min") // 60  # appointment 1, elderly 0
    config = parse_config(data, "hall.toml")
    assert {c.id: c.head_start_min for c in config.priority_classes} == {"appointment": 30, "elderly": 40}
    assert "priority_classes[].rank: replaced by head starts" in config.warnings[0]
    assert [set(c) & {"rank", "head_start_min"} for c in data["priority_classes"]] == [
        {"rank"}
    ] * 2  # untouched


def test_a_new_file_has_no_warnings_and_head_starts_are_checked() -> None:
    data = small_hall()
    assert parse_config(data, "hall.toml").warnings == ()
    data["priority_classes"][0]["head_start_min"] = 3000
    (issue,) = issues_of(data)
    assert (issue.key, issue.expected) == ("priority_classes[0].head_start_min", "a value from 0 to 1440")
