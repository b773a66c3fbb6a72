"""What comes out of the kiosk's printer, field by field and language by language, through the real server.

The kiosk's `Issuer` issues over HTTP against a live hall server and prints the reply's `print` block on a
`FakeTicketPrinter`, which keeps the ESC/POS bytes a real printer would get. Each test looks for one field
in those bytes, with the value taken from the hall's config (not from the reply), so a reply that carried the
Chinese hall name on an English ticket (the bug this file was written for) fails `hall` in `en`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import pathlib
import re
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from drivers.fakes import FakeTicketPrinter
from hallclient.http import HttpHall
from hallclient.types import Issued, NotIssued
from hallcore.config import HallConfig
from hallcore.printout import Language
from hallui.issuing import IssuedOutcome, Issuer, NoticeOutcome, Request
from tests.fakes.live_server import live_server

LANGUAGES: tuple[Language, ...] = ("zh", "en")
MATTER = "HJ02"  # 新生儿出生登记: the marriage certificate is tolerable (容缺)
PRESENT = frozenset({"birth_cert", "hukou", "idcard"})
# 居民身份证申领换领: fingerprints are taken on site, so "applicant in person?" answered no fails the
# pre-check (no 代办 for it: config/tools/halldata.py "in_person_only").
FAILING = "HJ03"
PRIORITY = "elderly"


@dataclass
class Printed:
    config: HallConfig
    issued: dict[str, Issued]
    tickets: dict[str, str]  # language -> the printed text
    qr: dict[str, bytes]  # language -> the whole job (the QR payload is raw bytes in it)
    notices: dict[str, str]
    not_issued: dict[str, NotIssued]


def text_of(job: bytes) -> str:
    """The printed text: ESC/POS bytes decoded as the printer does (GB18030), control bytes and white
    space dropped, so a wrapped line still reads as one."""
    text = job.decode("gb18030", errors="ignore")
    return re.sub(r"[\x00-\x20\x7f]", "", text)


def squeeze(text: str) -> str:
    return re.sub(r"\s", "", text)


async def _print_all(config: HallConfig, url: str, token: str, counter_token: str) -> Printed:
    api = HttpHall(url, token)
    staff = HttpHall(url, counter_token)
    printer = FakeTicketPrinter()
    issuer = Issuer(api, printer)
    issued: dict[str, Issued] = {}
    not_issued: dict[str, NotIssued] = {}
    try:
        # Someone of the same class already waits, so "people ahead" is 1 for the first printed ticket.
        await staff.issue_ticket(MATTER, priority=PRIORITY, present=PRESENT)
        for lang in LANGUAGES:
            req = Request(matter=MATTER, present=PRESENT, priority=PRIORITY, language=lang)
            out = await issuer.run(req)
            assert isinstance(out, IssuedOutcome), out
            assert out.result.printed
            issued[lang] = out.issued
            await staff.cancel_ticket(out.issued.ticket.id, "test: keep the queue as it was")
        for lang in LANGUAGES:
            req = Request(matter=FAILING, answers={"in_person_only": False}, language=lang)
            notice = await issuer.run(req)
            assert isinstance(notice, NoticeOutcome), notice
            assert notice.printed
            not_issued[lang] = notice.not_issued
    finally:
        await api.aclose()
        await staff.aclose()
    assert len(printer.jobs) == 2 * len(LANGUAGES)
    tickets: dict[str, bytes] = dict(zip(LANGUAGES, printer.jobs[: len(LANGUAGES)], strict=True))
    notices = dict(zip(LANGUAGES, printer.jobs[len(LANGUAGES) :], strict=True))
    return Printed(
        config=config,
        issued=issued,
        tickets={k: text_of(v) for k, v in tickets.items()},
        qr=tickets,
        notices={k: text_of(v) for k, v in notices.items()},
        not_issued=not_issued,
    )


@pytest.fixture(scope="module")
def printed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Printed]:
    tmp: pathlib.Path = tmp_path_factory.mktemp("printed")
    with live_server(tmp) as hall:
        hall.login_counter()
        assert hall.act(hall.counter, "open").status_code == 200
        yield asyncio.run(_print_all(hall.config, hall.url, hall.kiosk.token, hall.counter.token))


def expected_ticket_text(p: Printed, field: str, lang: str) -> str:
    """The text a ticket in `lang` must show for `field`, from the config and the reply's own figures."""
    cfg = p.config
    en = lang == "en"
    issued = p.issued[lang]
    matter = cfg.matter_by_code[MATTER]
    if field == "hall":
        return cfg.hall.name_en if en else cfg.hall.name
    if field == "number":
        return issued.ticket.label
    if field == "matter":
        return matter.name_en if en else matter.name
    if field == "priority":
        pc = cfg.class_by_id[PRIORITY]
        return f"【{pc.name_en if en else pc.name}】"
    if field == "ahead":
        assert issued.ahead == 1
        return "People ahead: 1" if en else "前面还有 1 人"
    if field == "estimate":
        est = issued.estimate
        assert est.low_min is not None
        assert est.high_min is not None
        assert est.high_min > 0
        return (
            f"Estimated wait: {est.low_min}-{est.high_min} min"
            if en
            else f"预计等候 {est.low_min}～{est.high_min} 分钟"
        )
    if field == "issued":
        local = issued.ticket.issued_at.astimezone(dt.timezone(dt.timedelta(hours=8)))
        stamp = local.strftime("%Y-%m-%d %H:%M")
        return f"Issued: {stamp}" if en else f"取号时间：{stamp}"
    if field == "tolerance":
        (m,) = [x for x in matter.precheck.materials if x.tolerable]
        return m.name_en if en else m.name
    if field == "due":
        assert issued.precheck is not None
        assert issued.precheck.due is not None
        due = issued.precheck.due.isoformat()
        return f"Bring them by {due}" if en else f"补齐期限：{due} 前"
    raise AssertionError(field)


TICKET_FIELDS = ("hall", "number", "matter", "priority", "ahead", "estimate", "issued", "tolerance", "due")


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("field", TICKET_FIELDS)
def test_ticket_field(printed: Printed, field: str, lang: str) -> None:
    want = squeeze(expected_ticket_text(printed, field, lang))
    assert want in printed.tickets[lang], f"{field} ({lang}): {want!r} not on the ticket"
    if lang == "en" and field in ("hall", "matter", "priority", "tolerance"):
        zh = squeeze(expected_ticket_text(printed, field, "zh"))
        assert zh not in printed.tickets["en"], f"{field}: the English ticket shows the Chinese {zh!r}"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_ticket_qr_is_the_status_page(printed: Printed, lang: str) -> None:
    issued = printed.issued[lang]
    base = printed.config.hall.public_base_url.rstrip("/")
    assert issued.status_url == f"{base}/s/{issued.token}"
    assert issued.status_url.encode() in printed.qr[lang]


@pytest.mark.parametrize("lang", LANGUAGES)
def test_ticket_print_block_is_what_was_printed(printed: Printed, lang: str) -> None:
    """The kiosk prints the hall's block for the language as is: nothing picked or translated locally."""
    assert printed.issued[lang].print[lang].language == lang
    assert set(printed.issued[lang].print) == set(LANGUAGES)


NOTICE_FIELDS = ("hall", "matter", "item", "where")


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("field", NOTICE_FIELDS)
def test_notice_field(printed: Printed, field: str, lang: str) -> None:
    cfg = printed.config
    en = lang == "en"
    matter = cfg.matter_by_code[FAILING]
    (q,) = [q for q in matter.precheck.questions if q.id == "in_person_only"]
    want = {
        "hall": cfg.hall.name_en if en else cfg.hall.name,
        "matter": matter.name_en if en else matter.name,
        "item": (q.fail_reason_en or q.text_en) if en else (q.fail_reason or q.text),
        "where": q.where_en if en else q.where,
    }[field]
    assert want, f"the config gives no {field} for {FAILING} in {lang}"
    assert squeeze(want) in printed.notices[lang], f"{field} ({lang}): {want!r} not on the notice"
