"""`hallq check-config` warns when the calendar runs out; `hallq admin calendar import FILE` checks a year,
installs it beside the config, says what changed, and the warning goes."""

from __future__ import annotations

import pathlib
import shutil
from typing import Any

import pytest

from hallfiles.config import read_config
from hallq import check_config
from hallserver import admin
from tests.fakes.live_server import COUNTY
from tests.server.conftest import start_server
from tests.unit.test_calendar_years import YEAR_2027

ROOT = pathlib.Path(__file__).resolve().parents[2]
PROVINCIAL = ROOT / "config" / "provincial.toml"
WARNING = (
    "hall.calendar: the calendar ends 2026-12-31: the 2027 holidays and 调休 working days are not loaded"
)


def copied(example: pathlib.Path, tmp_path: pathlib.Path) -> pathlib.Path:
    """An example config copied to `tmp_path` (an import installs its years beside the config)."""
    config = tmp_path / "hall.toml"
    shutil.copy(example, config)
    return config


def calendar(config: pathlib.Path, *args: str) -> int:
    """`hallq admin --config CONFIG calendar ARGS…`"""
    return admin.main(["--config", str(config), "calendar", *args])


def test_check_config_warns_in_december_and_still_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    assert check_config.main(["--today", "2026-12-03", str(PROVINCIAL)]) == 0
    out = capsys.readouterr().out
    assert out.startswith(f"OK  {PROVINCIAL}")
    assert WARNING in out
    assert "hallq admin calendar import" in out
    # Sixty days before the end of the year it does not warn yet.
    assert check_config.main(["--today", "2026-11-01", str(PROVINCIAL)]) == 0
    assert "hall.calendar" not in capsys.readouterr().out


def test_import_installs_the_year_and_the_warning_goes(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = copied(PROVINCIAL, tmp_path)
    notice = tmp_path / "notice-2027.csv"
    notice.write_bytes(YEAR_2027)

    assert calendar(config, "import", str(notice), "--dry-run") == 0
    out = capsys.readouterr().out
    assert "2027: 10 holidays, 1 调休 workdays (was: not loaded)" in out
    assert "  + 2027-02-08 holiday (Mon)" in out
    assert "  + 2027-02-20 workday (Sat)" in out
    assert not (tmp_path / "calendar").exists()

    assert calendar(config, "import", str(notice)) == 0
    out = capsys.readouterr().out
    installed = tmp_path / "calendar" / "2027.csv"
    assert f"installed {installed}" in out
    assert [p.name for p in (tmp_path / "calendar").iterdir()] == ["2027.csv"]  # no temporary file left
    years = {y.year: y for y in read_config(config).hall.calendar.years}
    assert years[2027].source == str(installed)
    assert len(years[2027].holidays) == 10

    assert check_config.main(["--today", "2026-12-03", str(config)]) == 0
    assert "hall.calendar" not in capsys.readouterr().out

    # The same file again changes nothing; a corrected notice shows its changes.
    assert calendar(config, "import", str(notice)) == 0
    assert "  no change" in capsys.readouterr().out
    notice.write_bytes(YEAR_2027.replace(b"2027-01-01,holiday\n", b"2027-02-15,holiday\n"))
    assert calendar(config, "import", str(notice)) == 0
    out = capsys.readouterr().out
    assert "  - 2027-01-01 holiday (Fri)" in out
    assert "  + 2027-02-15 holiday (Mon)" in out
    assert calendar(config, "show", "--today", "2026-12-03") == 0
    out = capsys.readouterr().out
    assert "2026: " in out
    assert "2027: 10 holidays, 1 调休 workdays" in out
    assert "covers the next 60 days from 2026-12-03" in out


def test_import_refuses_a_bad_file_and_writes_nothing(
    tmp_path: pathlib.Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = copied(PROVINCIAL, tmp_path)
    bad = tmp_path / "2027.csv"
    bad.write_bytes(b"date,kind\n2027-02-30,holiday\n2027-02-09,workday\n2027-02-08,holiday\n")
    assert calendar(config, "import", str(bad)) == 1
    err = capsys.readouterr().err
    assert "2 problem(s)" in err
    assert f"{bad}:2: expected a date like 2027-02-08" in err
    assert "it is a Tuesday" in err
    assert not (tmp_path / "calendar").exists()
    # Without the config there is nowhere to install it.
    assert admin.main(["calendar", "import", str(bad)]) == 1
    assert "give --config FILE" in capsys.readouterr().err


def test_the_running_server_takes_an_imported_year_at_reload(
    tmp_path: pathlib.Path, seeded_db: pathlib.Path
) -> None:
    config = copied(COUNTY, tmp_path)
    with start_server(tmp_path, config, seeded_db) as (_st, server):

        def slots(day: str) -> list[Any]:
            r = server.http.get("/api/booking/slots", params={"matter": "SB02", "day": day})
            assert r.status_code == 200, r.text
            found: list[Any] = r.json()
            return found

        assert slots("2026-12-28")  # a Monday of 2026
        assert slots("2027-01-04") == []  # a Monday of 2027: not offered while 2027 is not loaded
        notice = tmp_path / "notice.csv"
        notice.write_bytes(YEAR_2027)
        assert calendar(config, "import", str(notice)) == 0
        assert slots("2027-01-04") == []  # installed, not yet loaded
        r = server.http.post("/api/admin/reload", headers=server.manager())
        assert r.status_code == 200, r.text
        assert slots("2027-01-04")
        assert slots("2027-02-08") == []  # the imported year's Spring Festival
        # A broken file beside the config: the reload is refused, naming it, and the running calendar stays.
        (tmp_path / "calendar" / "2028.csv").write_bytes(b"2028-01-04,workday\n")
        r = server.http.post("/api/admin/reload", headers=server.manager())
        assert r.status_code == 422, r.text
        assert any("calendar/2028.csv" in e for e in r.json()["detail"]["errors"])
        assert slots("2027-01-04")
