"""The centre's statistics equal the hall's own, for several halls and days: three real hall servers, each
driven by the simulator through its store for two days (and a third morning), ship to a real centre; the
centre's figures for every hall, day and grouping — from the roll-ups of finished days and counted live for
the others — equal `hallserver.stats` over the hall's own database. Also: the hall profile arrives and is
used, a 差评 step on a rolled-up day makes it count again, cross-hall tables add up, 现场办结率 counts the
outcomes the halls record (the simulator draws them since issue 22) and says "no data" where there are
none."""

from __future__ import annotations

import asyncio
import contextlib
import csv
import dataclasses
import datetime as dt
import io
import pathlib
import re
from collections.abc import Callable, Iterator
from contextlib import closing
from typing import Any

import httpx
import pytest

from hallcore import commands as cmds
from hallcore.config import Durability
from hallcore.periods import Span, span_for
from hallcore.shipping import hall_profile, profile_fingerprint
from hallserver import stats
from hallserver.service import Settings
from tests.central.hallsim import StorePort, close_case, late_tickets, rate_badly, sim_day
from tests.central.support import (
    ADMIN,
    CITY_A,
    CentreProc,
    SimHall,
    centre,
    hall_config,
    read_only,
    ship_state,
    wait_for,
)
from tests.fakes.halls import SHANGHAI
from tests.fakes.live_server import LiveServer, live_server

MON, TUE, WED = dt.date(2026, 11, 23), dt.date(2026, 11, 24), dt.date(2026, 11, 25)
# (hall id, name, region, staffed windows): series A (公安) and B (人社, 医保) at county-hall windows.
HALLS = (
    ("east", "甲市一县东大厅", "county-a1", (1, 2, 5, 8)),
    ("west", "甲市西大厅", "city-a", (1, 5, 6)),
    ("south", "乙市南大厅", "city-b", (2, 3, 8, 9)),
)
GROUPINGS = ("matter", "series", "window", "clerk", "hour")
FIGURES = (
    "tickets",
    "served",
    "no_shows",
    "transfers",
    "expired",
    "cancelled",
    "called",
    "wait_mean",
    "wait_p50",
    "wait_p90",
    "wait_max",
    "within_target",
    "handle_mean",
    "handle_p50",
    "handle_p90",
    "handle_max",
    "rated",
    "satisfaction",
    "participation",
)


@dataclasses.dataclass
class Province:
    c: CentreProc
    halls: dict[str, LiveServer]
    ports: dict[str, StorePort]
    rebuilt_after_case_step: bool


def _settings() -> Settings:
    return Settings(heartbeat_s=0.5, tick_s=0.2, freeze_gc=False, durability=Durability.NORMAL)


def _at(day: dt.date, hour: int, minute: int = 0) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute), SHANGHAI)


def _shipped(c: CentreProc, halls: dict[str, LiveServer]) -> Callable[[], bool]:
    return lambda: all(c.acked(h) == live.hall.store.seq for h, live in halls.items())


def _pending(live: LiveServer) -> Callable[[], bool]:
    return lambda: bool(ship_state(live)["state"] == "pending")


def _built(c: CentreProc, hall: str, day: dt.date) -> dt.datetime | None:
    rows = c.sql("SELECT built_at FROM rollup_days WHERE hall_id = %s AND day = %s", (hall, day))
    return rows[0][0] if rows else None


@pytest.fixture(scope="module")
def province(cluster: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Province]:
    folder = tmp_path_factory.mktemp("province")
    with centre(cluster, folder) as c, contextlib.ExitStack() as stack:
        c.add_users()
        halls: dict[str, LiveServer] = {}
        for hall_id, name, _region, _windows in HALLS:
            cfg = hall_config(c.url, hall_id, name, batch=200)
            cfg = dataclasses.replace(cfg, rating=dataclasses.replace(cfg.rating, case_deadline_days=1))
            live = stack.enter_context(live_server(folder, cfg, settings=_settings(), stations=False))
            halls[hall_id] = live
        for (hall_id, _name, region, _w), live in zip(HALLS, halls.values(), strict=True):
            wait_for(_pending(live), what=f"{hall_id} enrolls")
            c.approve(hall_id, region)
        ports = {h: StorePort(live) for h, live in halls.items()}
        cases: dict[str, str | None] = {}
        for i, (hall_id, _n, _r, windows) in enumerate(HALLS):
            sim_day(ports[hall_id], MON, 10 + i, dt.time(9, 0), windows, 36)
            cases[hall_id] = rate_badly(ports[hall_id], _at(MON, 12, 40))
            late_tickets(ports[hall_id], "HJ01", _at(MON, 12, 45))
            ports[hall_id].tick(_at(MON, 17, 35))  # closing time: what still waits expires
        for i, (hall_id, _n, _r, windows) in enumerate(HALLS):
            sim_day(ports[hall_id], TUE, 20 + i, dt.time(8, 30), windows, 36)
            rate_badly(ports[hall_id], _at(TUE, 12, 40))
        wait_for(_shipped(c, halls), 60, "the halls' Monday and Tuesday at the centre")
        # Monday is over at every hall (their newest events are Tuesday's): the centre rolls it up.
        wait_for(lambda: all(_built(c, h, MON) for h in halls), 60, "Monday's roll-ups")
        before = _built(c, "east", MON)
        # A 差评 of Monday closed on Tuesday: Monday's roll-up is stale and is counted again.
        case = cases["east"]
        assert case is not None, "the east hall had a served ticket to rate"
        close_case(ports["east"], case, _at(TUE, 12, 50))
        for hall_id in halls:  # Wednesday morning: a window opens, so Tuesday is over too
            assert ports[hall_id]._ok(cmds.OpenWindow(1, "clerk1"), _at(WED, 9, 0))
        wait_for(_shipped(c, halls), 60, "Wednesday's first events at the centre")
        wait_for(
            lambda: all(_built(c, h, TUE) for h in halls) and (_built(c, "east", MON) or before) != before,
            60,
            "Tuesday's roll-ups and Monday's again at the east hall",
        )
        yield Province(c, halls, ports, True)


def _hall_report(live: LiveServer, span: Span, by: str, today: dt.date) -> stats.Report:
    return asyncio.run(
        stats.build_report(read_only(live.db), live.config, span, by, today, None, live_only=True)
    )


def _row(r: stats.Row) -> dict[str, Any]:
    out = {k: getattr(r, k) for k in FIGURES}
    out["by_score"] = {s: n for s, n in r.by_score.items() if n}
    return out


def _line(f: dict[str, Any]) -> dict[str, Any]:
    out = {k: f[k] for k in FIGURES}
    out["by_score"] = {int(s): n for s, n in f["by_score"].items() if n}
    return out


def _compare(hall: str, live: LiveServer, client: httpx.Client, span: Span, by: str) -> None:
    where = f"{hall} {span.label} by {by}"
    report = _hall_report(live, span, by, WED)
    r = client.get(
        f"/api/halls/{hall}/stats",
        params={"period": "custom", "day": span.start.isoformat(), "end": span.end.isoformat(), "by": by},
    )
    assert r.status_code == 200, r.text
    got = r.json()
    assert _line(got["total"]) == _row(report.total), where
    lines = {f["key"].removeprefix(f"{hall}/"): f for f in got["lines"]}
    for row in report.rows:
        assert row.key in lines, f"{where}: no line {row.key!r} at the centre"
        assert _line(lines[row.key]) == _row(row), f"{where}, line {row.key}"
    hall_keys = {row.key for row in report.rows}
    # A line the hall's table leaves out has ratings only (the hall folds them into its total).
    assert all(f["tickets"] == 0 for k, f in lines.items() if k not in hall_keys), where
    t = got["total"]
    cases = report.cases
    assert (t["cases_opened"], t["cases_closed"], t["cases_on_time_rate"], t["cases_overdue"]) == (
        cases["opened"],
        cases["closed"],
        cases["on_time_rate"],
        cases["overdue"],
    ), where
    assert t["prechecks"] == {k: v for k, v in report.precheck.items() if v}, where
    assert [(m["material"], m["name"], m["n"]) for m in got["missing_top"]] == report.missing_top, where
    targets = {x.name: x.actual for x in report.targets}
    assert t["immediate_share"] == targets["即办件占比"], where
    assert t["satisfaction"] == targets["满意率"], where
    # The halls record outcomes (issue 22; the simulator draws them): the centre counts them as they do.
    assert t["onsite_rate"] == targets["现场办结率"], where


@pytest.mark.parametrize("hall", [h[0] for h in HALLS])
def test_centre_figures_equal_the_halls_own(province: Province, hall: str) -> None:
    c, live = province.c, province.halls[hall]
    assert c.sql("SELECT fingerprint FROM hall_profiles WHERE hall_id = %s", (hall,)) == [
        (profile_fingerprint(hall_profile(live.config)),)
    ]
    with closing(c.login(ADMIN)) as client:
        # A whole month too: read from the month's merged roll-ups (Monday and Tuesday) and Wednesday live.
        for span in (Span(MON, MON), Span(TUE, TUE), Span(MON, TUE), Span(MON, WED), span_for("month", MON)):
            for by in GROUPINGS:
                _compare(hall, live, client, span, by)
    # The overview's running totals of each day (added to by every batch) are the day's figures too.
    for day in (MON, TUE):
        t = _hall_report(live, Span(day, day), "matter", WED).total
        assert c.sql(
            "SELECT tickets, rated, satisfied FROM hall_days WHERE hall_id = %s AND day = %s", (hall, day)
        ) == [(t.tickets, t.rated, t.satisfied)], day
    # The days had what the comparison is about: expiries, voided prints, transfers, 差评 cases.
    monday = _hall_report(live, Span(MON, MON), "matter", WED)
    assert monday.total.expired >= 1
    assert live.count("SELECT count(*) FROM tickets WHERE state = 'voided'") >= 1
    assert monday.cases["opened"] >= 1
    assert _built(c, hall, MON)
    assert _built(c, hall, TUE)
    assert c.sql("SELECT days FROM rollup_months WHERE hall_id = %s", (hall,)) == [([MON, TUE],)]
    assert not _built(c, hall, WED)  # today at the hall: counted live


def test_cross_hall_tables_add_up_and_stay_in_scope(province: Province) -> None:
    c = province.c
    span = {"period": "custom", "day": MON.isoformat(), "end": TUE.isoformat()}
    with closing(c.login(ADMIN)) as boss, closing(c.login(CITY_A)) as city:
        per_hall = {
            h: boss.get(f"/api/halls/{h}/stats", params={**span, "by": "matter"}).json()["total"]
            for h in province.halls
        }
        by_hall = boss.get("/api/stats/prov", params={**span, "by": "hall"}).json()
        assert by_hall["halls"] == 3
        assert {f["key"]: _line(f) for f in by_hall["lines"]} == {h: _line(f) for h, f in per_hall.items()}
        total = by_hall["total"]
        assert total["tickets"] == sum(f["tickets"] for f in per_hall.values()) > 0
        assert total["cases_overdue"] == sum(f["cases_overdue"] for f in per_hall.values()) > 0
        by_region = boss.get("/api/stats/prov", params={**span, "by": "region"}).json()
        regions = {f["key"]: f for f in by_region["lines"]}
        assert set(regions) == {"city-a", "city-b"}
        assert regions["city-a"]["tickets"] == per_hall["east"]["tickets"] + per_hall["west"]["tickets"]
        assert regions["city-b"]["served"] == per_hall["south"]["served"]
        departments = boss.get("/api/stats/prov", params={**span, "by": "department"}).json()
        assert {f["key"] for f in departments["lines"]} <= {"gongan", "renshe", "yibao"}
        assert sum(f["tickets"] for f in departments["lines"]) == total["tickets"]
        days = boss.get("/api/stats/prov", params={**span, "by": "day"}).json()
        assert [f["key"] for f in days["lines"]] == [MON.isoformat(), TUE.isoformat()]
        # A city's user: its own halls, and "no such region" for the rest of the province.
        mine = city.get("/api/stats/city-a", params={**span, "by": "hall"}).json()
        assert sorted(f["key"] for f in mine["lines"]) == ["east", "west"]
        for path in ("/api/stats/prov", "/api/stats/city-b", "/api/halls/south/stats", "/api/rankings/prov"):
            assert city.get(path, params=span).status_code == 404, path
        overdue = boss.get("/api/cases/prov").json()
        assert overdue["total"] == sum(h["overdue"] for h in overdue["halls"]) == total["cases_overdue"]
        assert {x["hall_id"] for x in city.get("/api/cases/city-a").json()["cases"]} <= {"east", "west"}


def test_rankings_order_halls_and_windows(province: Province) -> None:
    span = {"period": "custom", "day": MON.isoformat(), "end": TUE.isoformat()}
    with closing(province.c.login(ADMIN)) as boss:
        served = boss.get("/api/rankings/prov", params={**span, "of": "hall", "metric": "served"}).json()
        values = [r["value"] for r in served["rows"]]
        assert values == sorted(values, reverse=True)
        assert served["rows"][0]["rank"] == 1
        handle = boss.get(
            "/api/rankings/prov", params={**span, "of": "window", "metric": "handle_mean"}
        ).json()
        ranked = [r for r in handle["rows"] if r["rank"] is not None]
        assert [r["value"] for r in ranked] == sorted(r["value"] for r in ranked)
        assert all(r["key"].split("/")[0] in province.halls for r in handle["rows"])
        # Ranked by 现场办结率 from the outcomes the halls recorded (issue 22), highest first.
        onsite = boss.get("/api/rankings/prov", params={**span, "of": "hall", "metric": "onsite_rate"}).json()
        assert all(r["rank"] is not None for r in onsite["rows"])
        values = [r["value"] for r in onsite["rows"]]
        assert values == sorted(values, reverse=True)
        bad = boss.get("/api/rankings/prov", params={**span, "of": "clerk", "metric": "bad"}).json()
        assert sum(r["value"] for r in bad["rows"]) == sum(
            boss.get(f"/api/halls/{h}/stats", params={**span, "by": "clerk"}).json()["total"]["bad"]
            for h in province.halls
        )
        r = boss.get("/api/rankings/prov", params={**span, "metric": "speed"})
        assert r.status_code == 400
        assert "metric" in r.json()["message_en"]


def test_a_bad_profile_is_refused_with_its_reason(province: Province) -> None:
    import base64
    import json

    from hallcore.shipping import HALL_HEADER, SIGNATURE_HEADER, envelope

    c = province.c
    h = SimHall(c.url, "badprofile", "甲市坏配置大厅", day=MON)
    h.enroll()
    c.approve("badprofile", "city-a")
    good = hall_profile(province.halls["east"].config)
    for profile, reason in (
        ({**good, "version": 9}, "profile.version"),
        ({**good, "timezone": "Mars/Olympus"}, "profile.timezone"),
        ({**good, "matters": [{"code": "X"}]}, "profile.matters[0]"),
    ):
        body = json.dumps(envelope("badprofile", h.at(0), 0, None, [], profile)).encode()
        sig = base64.b64encode(h.key.sign(body)).decode()
        r = httpx.post(
            c.url + "/api/v1/batches", content=body, headers={HALL_HEADER: h.hall_id, SIGNATURE_HEADER: sig}
        )
        assert r.status_code == 400, r.text
        assert (r.json()["error"], reason in r.json()["message_en"]) == ("bad_batch", True), r.text
    assert c.sql("SELECT count(*) FROM hall_profiles WHERE hall_id = 'badprofile'") == [(0,)]


def test_onsite_rate_counts_outcomes_when_halls_send_them(province: Province) -> None:
    c = province.c
    h = SimHall(c.url, "outcomes", "甲市结果大厅", day=MON)
    h.enroll()
    c.approve("outcomes", "city-a")
    h.profile = hall_profile(province.halls["east"].config)  # HJ01 is 即办件, CR01 承诺件
    events: list[tuple[str, dict[str, Any]]] = [h.window(1, "open", 0)]
    outcomes = [("HJ01", "办结"), ("HJ01", "办结"), ("HJ01", "办结"), ("HJ01", "受理"), ("CR01", "受理")]
    for i, (matter, outcome) in enumerate(outcomes):
        label = f"A{i + 1:03d}"
        events += [h.issue(i, matter=matter), h.call(label, 1, 10 + i, matter=matter)]
        events.append(h.finish(label, 1, 12 + i, matter=matter, outcome=outcome))
    h.ship(*events)
    with closing(c.login(ADMIN)) as boss:
        got = boss.get("/api/halls/outcomes/stats", params={"period": "day", "day": MON.isoformat()}).json()
        # 办结 ÷ (办结 + 受理) over 即办件: the 承诺件 CR01 does not count.
        assert got["total"]["onsite_rate"] == 3 / 4
        assert got["total"]["outcomes"] == {"办结": 3, "受理": 2}
        assert got["total"]["immediate_share"] == 4 / 5
        lines = {f["key"]: f["onsite_rate"] for f in got["lines"]}
        assert lines == {"HJ01": 3 / 4, "CR01": None}


COUNTY_USER = ("county-a1-viewer", "county a1 password 1")


def _browser_login(page: Any, url: str, user: tuple[str, str]) -> None:
    page.goto(f"{url}/login")
    page.fill("#username", user[0])
    page.fill("#password", user[1])
    page.click("#login")
    page.wait_for_url(f"{url}/overview")


def _csv_lines(path: pathlib.Path) -> dict[str, list[str]]:
    """key -> the export line of the first table (after its header)."""
    rows = list(csv.reader(io.StringIO(path.read_text(encoding="utf-8-sig"))))
    start = next(i for i, r in enumerate(rows) if r and r[0] == "key") + 1
    out = {}
    for r in rows[start:]:
        if not r:
            break
        out[r[0]] = r
    return out


def test_statistics_rankings_and_exports_in_a_browser(province: Province, tmp_path: pathlib.Path) -> None:
    from openpyxl import load_workbook
    from playwright import sync_api as playwright

    from hallcentral import auth
    from tests.server.web_helpers import chromium_browser

    c = province.c
    c.with_pool(lambda pool: auth.add_user(pool, *COUNTY_USER, "county-a1", False, dt.datetime.now(dt.UTC)))
    expect = playwright.expect
    query = f"period=custom&day={MON.isoformat()}&end={TUE.isoformat()}"
    with closing(c.login(ADMIN)) as boss:
        api = boss.get(f"/api/stats/prov?{query}&by=hall").json()
        want = {f["key"]: f for f in [*api["lines"], {**api["total"], "key": "total"}]}
        cities = {f["key"]: f for f in boss.get(f"/api/stats/prov?{query}&by=region").json()["lines"]}
        overdue = boss.get("/api/cases/prov").json()["total"]
    # Its own Chromium for this test only, not the module's `browser`: the other tests here run `asyncio.run`,
    # which fails while Playwright's sync API is open, so a browser kept for the module would tie them to run
    # before this one.
    with chromium_browser() as browser:
        page = browser.new_page(accept_downloads=True)
        _browser_login(page, c.url, ADMIN)
        page.click("nav.top >> text=统计")
        page.wait_for_url(f"{c.url}/stats/prov")
        page.goto(f"{c.url}/stats/prov?{query}&by=hall")
        for key in ("east", "west", "south", "total"):
            row = page.locator(f"[id='line-{key}']")
            expect(row.locator(".tickets")).to_have_text(str(want[key]["tickets"]))
            expect(row.locator(".served")).to_have_text(str(want[key]["served"]))
            # The halls record outcomes (issue 22): a figure, not "no data".
            expect(row.locator(".onsite")).to_have_text(re.compile(r"^\d+(\.\d)?%$"))
        # The same table as a download: CSV (BOM, the page's figures) and XLSX.
        with page.expect_download() as got:
            page.click("#export-csv")
        lines = _csv_lines(pathlib.Path(got.value.path()))
        assert {k: int(v[2]) for k, v in lines.items()} == {
            k: f["tickets"] for k, f in want.items() if k != "total"
        } | {"": want["total"]["tickets"]}
        with page.expect_download() as got:
            page.click("#export-xlsx")
        assert got.value.suggested_filename.endswith(".xlsx")
        sheet = load_workbook(io.BytesIO(pathlib.Path(got.value.path()).read_bytes())).worksheets[0]
        cells = {r[0]: r for r in sheet.iter_rows(min_row=3, values_only=True)}
        assert cells["east"][3] == want["east"]["served"]
        # Grouped by the province's cities instead: the form.
        page.select_option("#by", "region")
        page.click("#show")
        for city in ("city-a", "city-b"):
            expect(page.locator(f"[id='line-{city}'] .tickets")).to_have_text(str(cities[city]["tickets"]))
        assert cities["city-b"]["tickets"] == want["south"]["tickets"]
        page.screenshot(path=str(tmp_path / "central-stats-by-region.png"), full_page=True)
        # Rankings of windows by mean handle time, then by 满意率.
        page.goto(f"{c.url}/rankings/prov?{query}&of=window&metric=handle_mean")
        ranks = page.locator("tbody .rank").all_inner_texts()
        assert ranks[0] == "1"
        values = [float(v) for v in page.locator("tbody .value").all_inner_texts() if v != "无数据"]
        assert values == sorted(values)
        page.select_option("#metric", "satisfaction")
        page.click("#show")
        expect(page.locator("h1")).to_contain_text("满意率")
        with page.expect_download() as got:
            page.click("#export-csv")
        assert "满意率" in pathlib.Path(got.value.path()).read_text(encoding="utf-8-sig")
        page.goto(f"{c.url}/rankings/prov?{query}&of=hall&metric=onsite_rate")
        expect(page.locator("[id='rank-south'] .value")).not_to_have_text("无数据")
        page.click("nav.top >> text=超期差评")
        expect(page.locator("#overdue-total")).to_have_text(str(overdue))
        page.screenshot(path=str(tmp_path / "central-overdue.png"))
        page.click("nav.top .logout button")
        # A county's user: its own hall only, and "not found" for the province.
        _browser_login(page, c.url, COUNTY_USER)
        page.click("nav.top >> text=统计")
        page.wait_for_url(f"{c.url}/stats/county-a1")
        page.goto(f"{c.url}/stats/county-a1?{query}&by=hall")
        expect(page.locator("table.stats tbody tr")).to_have_count(2)  # the east hall and the total
        expect(page.locator("[id='line-east'] .tickets")).to_have_text(str(want["east"]["tickets"]))
        for path in (f"/stats/prov?{query}", f"/rankings/city-a?{query}", "/cases/prov"):
            answer = page.goto(c.url + path)
            assert answer is not None
            assert answer.status == 404, path
        page.goto(f"{c.url}/cases/county-a1")
        assert "南大厅" not in page.content()
        assert "西大厅" not in page.content()
