"""The figures halls are judged by on a hand-worked day (issue 22): 现场办结率 from the outcomes, 即办件占比
of the served cases and of the catalogue, every figure per department, the targets table per department and
the 红旗窗口 rankings — the same on the statistics page, in the CSV and the XLSX, from the roll-ups and from
the SQL over the range; a day before outcomes were recorded reads 无数据, never 0 %.

The day (the small hall with two departments, tests/fakes/halls.py `two_departments`):

| window | matter (department, kind) | outcomes | ratings |
|---|---|---|---|
| 2 | sb01 社保卡补办 (人社, 即办件) | 办结 办结 办结 受理 | 5 5 1 – |
| 3 | zh01 综合咨询 (政务, 承诺件) | 受理 办结 | 4 – |
| 3 | hj01 户口迁移 (政务, 即办件) | 办结 补正 | 4 – |

现场办结率 (办结 ÷ (办结 + 受理) over 即办件): 人社 3/4 = 75.0 %, 政务 1/1 = 100.0 % (zh01 is a 承诺件, and
补正 counts in neither), the hall 4/5 = 80.0 %. 即办件占比 of the served cases: 人社 4/4, 政务 2/4, the hall
6/8 = 75.0 %; of the catalogue: 人社 1/1, 政务 1/2, the hall 2/3 = 66.7 %. 满意率: 人社 2/3 = 66.7 %,
政务 2/2.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import pathlib
import re
import sqlite3
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from openpyxl import load_workbook

from hallcore.clock import FakeClock
from hallserver import stats
from tests.fakes.halls import MONDAY_9, two_departments
from tests.fakes.live_server import LiveServer, Station, live_server
from tests.server.stats_harness import Harness
from tests.server.web_helpers import browser_login, http_login, page_of

MONDAY = MONDAY_9.date()
FRIDAY = MONDAY - dt.timedelta(days=3)
PASS = {"answers": {"resident": True}, "present": ["idcard", "photo"]}
#: (window, matter, outcome, reason, rating)
DAY: list[tuple[int, str, str, str, int | None]] = [
    (2, "sb01", "办结", "", 5),
    (2, "sb01", "办结", "", 5),
    (2, "sb01", "办结", "", 1),
    (2, "sb01", "受理", "", None),
    (3, "zh01", "受理", "", 4),
    (3, "zh01", "办结", "", None),
    (3, "hj01", "办结", "", 4),
    (3, "hj01", "补正", "户口本原件", None),
]


def serve(live: LiveServer, st: Station, matter: str, outcome: str, reason: str, score: int | None) -> None:
    extra: dict[str, Any] = PASS if matter == "hj01" else {}
    r = live.post(st, "/api/tickets", matter=matter, **extra)
    assert r.status_code == 201, r.text
    for action in ("call-next", "start"):
        got = live.act(st, action)
        assert got.status_code == 200, got.text
    live.clock.advance(120)
    r = live.act(st, "finish", outcome=outcome, reason=reason)
    assert r.status_code == 200, r.text
    if score is not None:
        tid = r.json()["ticket"]["id"]
        assert live.post(st, f"/api/tickets/{tid}/rating", score=score).status_code == 200


def close(live: LiveServer, *stations: Station) -> None:
    for st in stations:
        r = live.act(st, "close")
        assert r.status_code == 200, r.text


@pytest.fixture
def hall(tmp_path: pathlib.Path) -> Iterator[LiveServer]:
    friday_10 = dt.datetime.combine(FRIDAY, dt.time(10), MONDAY_9.tzinfo)
    with live_server(tmp_path, two_departments(), clock=FakeClock(friday_10), counter_window=2) as live:
        w3 = live.station("counter", "counter-3", window=3)
        # Friday: one case finished before outcomes were recorded (an old row: no outcome).
        for st in (live.counter, w3):
            live.login_counter(st)
            assert live.act(st, "open").status_code == 200
        serve(live, live.counter, "sb01", "办结", "", None)
        close(live, live.counter, w3)
        conn = sqlite3.connect(str(live.db))
        with conn:
            conn.execute("UPDATE tickets SET outcome = '' WHERE day = ?", (FRIDAY.isoformat(),))
        conn.close()
        live.clock.set(MONDAY_9)
        for st in (live.counter, w3):
            assert live.act(st, "open").status_code == 200
        for window, matter, outcome, reason, score in DAY:
            serve(live, live.counter if window == 2 else w3, matter, outcome, reason, score)
        close(live, live.counter, w3)  # open time is then settled: the roll-ups and the SQL agree on it
        yield live


@pytest.fixture
def client(hall: LiveServer) -> Iterator[httpx.Client]:
    c = http_login(hall.url)
    yield c
    c.close()


def text_of(html: str, id_: str) -> str:
    m = re.search(rf'id="{re.escape(id_)}"[^>]*>([^<]*)<', html)
    assert m is not None, f"no #{id_} on the page"
    return m.group(1)


def csv_rows(c: httpx.Client, **q: str) -> list[list[str]]:
    return list(csv.reader(io.StringIO(c.get("/web/stats.csv", params=q).content.decode("utf-8-sig"))))


def csv_sheet(rows: list[list[str]], name: str) -> list[list[str]]:
    start = rows.index([f"# {name}"]) + 1
    out = []
    for r in rows[start:]:
        if not r or r[0].startswith("# "):
            break
        out.append(r)
    return out


def test_hand_worked_day_on_page_csv_xlsx_rollups_and_sql(
    hall: LiveServer, client: httpx.Client, tmp_path: pathlib.Path
) -> None:
    day = {"period": "day", "date": MONDAY.isoformat()}
    html = client.get("/web/stats", params={**day, "by": "department"}).text
    assert text_of(html, "total-onsite") == "80.0%"
    assert text_of(html, "target-0") == "80.0%"  # 现场办结率
    assert text_of(html, "target-1") == "75.0%"  # 即办件占比 of the served cases
    assert text_of(html, "target-catalogue") == "66.7%"
    assert text_of(html, "dept-hrss-onsite") == "75.0%"
    assert text_of(html, "dept-gov-onsite") == "100.0%"
    assert text_of(html, "dept-hrss-immediate") == "100.0%"
    assert text_of(html, "dept-gov-immediate") == "50.0%"
    assert text_of(html, "dept-hrss-satisfaction") == "66.7%"
    assert text_of(html, "dept-gov-satisfaction") == "100.0%"

    rows = csv_rows(client, **day, by="department")
    groups = csv_sheet(rows, "按department")
    header = groups[0]
    by_key = {r[0]: dict(zip(header, r, strict=True)) for r in groups[1:]}
    assert by_key[""]["现场办结率"] == "0.8"  # the total line
    assert by_key["hrss"]["现场办结率"] == "0.75"
    assert by_key["gov"]["现场办结率"] == "1.0"
    assert (by_key["gov"]["办结"], by_key["gov"]["受理"], by_key["gov"]["补正"]) == ("2", "1", "1")
    assert by_key["hrss"]["差评"] == "1"
    targets = {r[2]: r[4] for r in csv_sheet(rows, "部门目标")[1:] if r[0] == "hrss"}
    assert targets == {
        "现场办结率": "0.75",
        "即办件占比": "1.0",
        "满意率": "0.667",
        "即办件占比（事项目录）": "1.0",
    }

    wb = load_workbook(io.BytesIO(client.get("/web/stats.xlsx", params={**day, "by": "department"}).content))
    values = list(wb["按department"].iter_rows(values_only=True))
    x = {r[0]: dict(zip(values[1], r, strict=True)) for r in values[2:]}
    assert x["hrss"]["现场办结率"] == 0.75
    assert x[None]["现场办结率"] == 0.8  # openpyxl reads the total's empty key as None
    assert x["gov"]["即办件占比"] == 0.5

    # The same figures from the roll-ups (Monday finished: rolled up) and from the SQL over the range.
    db = tmp_path / "copy.db"
    src = sqlite3.connect(str(hall.db))
    dst = sqlite3.connect(str(db))
    src.backup(dst)
    src.close()
    dst.close()
    h = Harness(db, hall.config)
    try:
        span = stats.Span(FRIDAY, MONDAY)
        tuesday = MONDAY + dt.timedelta(days=1)
        for by in ("department", "window", "matter"):
            rolled = h.report(span, by, tuesday, live=False)
            live = h.report(span, by, tuesday, live=True)
            assert rolled == live, by
        rep = h.report(stats.Span(MONDAY, MONDAY), "department", tuesday, live=False)
        assert {r.key: r.onsite_rate for r in rep.rows} == {"hrss": 0.75, "gov": 1.0}
        assert rep.total.onsite_rate == 0.8
        assert {d.key: d.catalogue for d in rep.departments} == {"hrss": 1.0, "gov": 0.5}
    finally:
        h.close()


def test_a_day_before_outcomes_reads_no_data(hall: LiveServer, client: httpx.Client) -> None:
    friday = {"period": "day", "date": FRIDAY.isoformat()}
    html = client.get("/web/stats", params=friday).text
    assert text_of(html, "total-served") == "1"
    assert text_of(html, "total-onsite") == "无数据"
    assert text_of(html, "target-0") == "无数据"
    targets = {r[0]: r[2] for r in csv_sheet(csv_rows(client, **friday), "目标")[1:]}
    assert targets["现场办结率"] == "无数据"
    wb = load_workbook(io.BytesIO(client.get("/web/stats.xlsx", params=friday).content))
    got = {r[0]: r[2] for r in list(wb["目标"].iter_rows(values_only=True))[1:]}
    assert got["现场办结率"] == "无数据"
    # Over Friday and Monday, only Monday's outcomes count: not diluted by the day without them.
    both = {"period": "custom", "date": FRIDAY.isoformat(), "end": MONDAY.isoformat()}
    assert text_of(client.get("/web/stats", params=both).text, "target-0") == "80.0%"


def test_red_flag_rankings_sort_on_page_and_in_the_exports(hall: LiveServer, client: httpx.Client) -> None:
    q = {"period": "day", "date": MONDAY.isoformat(), "by": "window"}

    def order(rank: str) -> list[tuple[str, str]]:
        html = client.get("/web/stats", params={**q, "rank": rank}).text
        return re.findall(r'<tr id="rank-row-([^"]+)"><td class="num">([^<]*)</td>', html)

    assert order("satisfaction") == [("3", "1"), ("2", "2")]  # 100 % before 66.7 %
    assert order("onsite") == [("3", "1"), ("2", "2")]  # 100 % before 75 %
    assert order("bad") == [("3", "1"), ("2", "2")]  # no 差评 before one
    assert order("served") == [("2", "1"), ("3", "1")]  # 4 and 4: a shared first place
    rows = csv_rows(client, **q)
    sheet = csv_sheet(rows, "排名-满意率")
    assert [(r[0], r[1]) for r in sheet[1:]] == [("1", "3"), ("2", "2")]
    wb = load_workbook(io.BytesIO(client.get("/web/stats.xlsx", params=q).content))
    ranked = list(wb["排名-现场办结率"].iter_rows(values_only=True))
    assert [(r[0], r[1], r[5]) for r in ranked[2:]] == [(1, "3", 1.0), (2, "2", 0.75)]
    assert client.get("/web/stats", params={**q, "rank": "nope"}).status_code == 422


def test_red_flag_view_sorts_in_a_browser(hall: LiveServer, browser: Any) -> None:
    """The 红旗窗口 view in Debian's chromium (the module's `browser`, tests/server/conftest.py): each header
    link re-ranks the windows (same order as above)."""
    with page_of(browser) as page:
        browser_login(page, hall.url)
        page.goto(f"{hall.url}/web/stats?period=day&date={MONDAY.isoformat()}&by=window")
        page.wait_for_selector("#rankings-title")

        def shown() -> list[str]:
            rows = page.locator("table.rankings tbody tr")
            return [rows.nth(i).get_attribute("id") or "" for i in range(rows.count())]

        assert "按办结数" in (page.text_content("#rankings-title") or "")
        assert shown() == ["rank-row-2", "rank-row-3"]  # 4 and 4: a shared first place, config order
        for key, label, first in (
            ("satisfaction", "满意率", "3"),
            ("bad", "差评", "3"),
            ("onsite", "现场办结率", "3"),
        ):
            page.click(f"#rank-{key}")
            page.wait_for_function(
                "l => document.querySelector('#rankings-title').textContent.includes(l)", arg=label
            )
            assert shown() == [f"rank-row-{first}", "rank-row-2"]
        page.click("#rank-served")
        page.wait_for_function(
            "() => document.querySelector('#rankings-title').textContent.includes('办结数')"
        )
        assert shown() == ["rank-row-2", "rank-row-3"]
