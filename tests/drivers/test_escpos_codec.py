"""The ESC/POS codec and the ticket/notice layouts: byte literals from PROTOCOLS.md §1 and golden files."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.base import Health, ProtocolError
from drivers.codecs import escpos as ep
from drivers.printing import NoticeItem, NoticePrint, TicketPrint, notice_bytes, ticket_bytes
from tests.drivers.printer_support import TICKET

GOLDEN = Path(__file__).parent / "golden"

SAMPLE_TICKET = dataclasses.replace(
    TICKET,
    people_ahead=5,
    estimate_min=(10, 20),
    tolerance_items=("户口簿原件（迁入地派出所出具的准予迁入证明）",),
    tolerance_due="2024-06-03",
    priority="老年人优先",
)
SAMPLE_NOTICE = NoticePrint(
    hall="某市政务服务中心",
    matter="不动产登记（二手房转移）",
    date="2024-05-06",
    items=(
        NoticeItem("申请人身份证原件及复印件。", "户籍所在地派出所"),
        NoticeItem("完税证明：契税、增值税缴纳凭证。", "税务窗口（3号、4号），本大厅二楼东侧"),
        NoticeItem("婚姻状况证明（王喆、李堃）", "民政局婚姻登记处"),
    ),
)


def _text_lines(job: bytes) -> list[str]:
    """The printable text of a job, line by line, with command bytes removed (good enough for layouts)."""
    lines = []
    commands = [ep.INIT, ep.CHINESE_MODE, ep.bold(True), ep.bold(False)]
    commands += [ep.align(where) for where in (0, 1, 2)] + [ep.size(k, k) for k in (1, 2, 3, 4)]
    for raw in job.split(b"\n"):
        # Commands in these layouts sit at line starts; strip the known ones.
        line = raw
        for cmd in commands:
            line = line.replace(cmd, b"")
        if b"\x1d(k" in line or b"\x1dV" in line or b"\x1bd" in line:
            continue
        lines.append(line.decode("gb18030"))
    return lines


# --- status ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("replies", "expected", "health"),
    [
        ("12 12 12 12", ep.PrinterStatus(), Health.OK),
        ("12 12 12 1E", ep.PrinterStatus(paper_near_end=True), Health.DEGRADED),
        (
            "1A 32 12 7E",
            ep.PrinterStatus(online=False, paper_near_end=True, paper_out=True),
            Health.UNAVAILABLE,
        ),
        ("1A 16 12 12", ep.PrinterStatus(online=False, cover_open=True), Health.UNAVAILABLE),
        ("1A 52 1A 12", ep.PrinterStatus(online=False, cutter_error=True), Health.UNAVAILABLE),
    ],
    ids=["ready", "near-end", "paper-out", "cover-open", "cutter-jam"],
)
def test_status_scenarios_from_protocols_md(replies: str, expected: ep.PrinterStatus, health: Health) -> None:
    status = ep.parse_status(bytes.fromhex(replies))
    assert status == expected
    assert status.state().health is health
    assert status.printable is (health is not Health.UNAVAILABLE)


def test_status_reasons_are_in_hall_words() -> None:
    assert "缺纸" in ep.parse_status(bytes.fromhex("1A32127E")).state().reason
    assert "纸仓盖" in ep.parse_status(bytes.fromhex("1A161212")).state().reason
    assert "切刀" in ep.parse_status(bytes.fromhex("1A521A12")).state().reason
    assert "脱机" in ep.PrinterStatus(online=False).state().reason


@pytest.mark.parametrize("byte", [0x00, 0xFF, 0x13, 0x92, 0x02, 0x10, 0x82])
def test_status_bytes_without_fixed_bits_are_protocol_errors(byte: int) -> None:
    with pytest.raises(ProtocolError, match="0xx1xx10"):
        ep.parse_status(bytes([0x12, byte, 0x12, 0x12]))


def test_status_needs_four_replies() -> None:
    with pytest.raises(ProtocolError, match="4 status bytes"):
        ep.parse_status(b"\x12\x12")


@given(st.integers(0, 255))
def test_every_byte_of_pattern_0xx1xx10_is_accepted(byte: int) -> None:
    fits = (byte & 0x93) == 0x12
    if fits:
        assert ep.check_status_byte(byte) == byte
    else:
        with pytest.raises(ProtocolError):
            ep.check_status_byte(byte)


def test_paper_sensor_reply() -> None:
    assert ep.parse_paper_sensor(0x00) == ep.PaperSensor(near_end=False, paper_out=False)
    assert ep.parse_paper_sensor(0x03) == ep.PaperSensor(near_end=True, paper_out=False)
    assert ep.parse_paper_sensor(0x0F) == ep.PaperSensor(near_end=True, paper_out=True)
    with pytest.raises(ProtocolError):
        ep.parse_paper_sensor(0x12)  # a DLE EOT reply where a GS r reply was expected


# --- commands ----------------------------------------------------------------------------------------------


def test_command_bytes() -> None:
    assert ep.INIT == b"\x1b\x40"
    assert ep.align(ep.CENTER) == b"\x1b\x61\x01"
    assert ep.bold(True) == b"\x1b\x45\x01"
    assert ep.size(4, 4) == b"\x1d\x21\x33"
    assert ep.size(2, 1) == b"\x1d\x21\x10"
    assert ep.feed(3) == b"\x1b\x64\x03"
    assert ep.cut(3) == b"\x1d\x56\x42\x03"
    assert ep.cut(0, partial=False) == b"\x1d\x56\x41\x00"
    assert [ep.status_request(n) for n in (1, 2, 3, 4)] == [bytes([0x10, 4, n]) for n in (1, 2, 3, 4)]
    assert ep.PAPER_SENSOR_REQUEST == b"\x1d\x72\x01"


def test_qr_is_native_model_2_level_m() -> None:
    data = "http://127.0.0.1:8700/t/A012"
    assert ep.qr(data, module=6) == (
        bytes.fromhex("1D 28 6B 04 00 31 41 32 00")
        + bytes.fromhex("1D 28 6B 03 00 31 43 06")
        + bytes.fromhex("1D 28 6B 03 00 31 45 31")
        + bytes([0x1D, 0x28, 0x6B, len(data) + 3, 0x00, 0x31, 0x50, 0x30])
        + data.encode()
        + bytes.fromhex("1D 28 6B 03 00 31 51 30")
    )
    with pytest.raises(ValueError, match="QR data"):
        ep.qr("")


def test_bad_arguments_are_refused() -> None:
    with pytest.raises(ValueError, match="58 or 80"):
        ep.columns_for(76)
    with pytest.raises(ValueError, match="magnification"):
        ep.size(9, 1)
    with pytest.raises(ValueError, match="alignment"):
        ep.align(3)
    with pytest.raises(ValueError, match="DLE EOT 5"):
        ep.status_request(5)


# --- text ------------------------------------------------------------------------------------------------


def test_gb18030_encoding_of_punctuation_and_rare_names() -> None:
    assert ep.encode_text("：") == b"\xa3\xba"
    assert ep.encode_text("号") == b"\xba\xc5"
    assert ep.encode_text("（）。") == b"\xa3\xa8\xa3\xa9\xa1\xa3"
    # GBK-only name chars (outside GB2312) still encode as two bytes.
    assert ep.encode_text("堃") == b"\x88\xd2"
    assert ep.encode_text("喆") == b"\x86\xb4"
    assert ep.encode_text("A012") == b"A012"


def test_control_chars_cannot_inject_commands() -> None:
    assert ep.encode_text("A\x1b@B\x1dV\x00C\x10\x04\x01") == b"A@BVC"


@given(st.text(max_size=40))
def test_encoded_text_never_contains_command_bytes(text: str) -> None:
    encoded = ep.encode_text(text)
    assert not set(encoded) & {0x10, 0x1B, 0x1C, 0x1D, 0x00}


def test_display_width() -> None:
    assert ep.display_width("A012") == 4
    assert ep.display_width("号") == 2
    assert ep.display_width("：（）。") == 8
    assert ep.display_width("ＡＢ") == 4  # full-width Latin
    assert ep.display_width("·—") == 4  # ambiguous width, but double-byte in the printer's Chinese font


def test_wrap_never_splits_a_wide_char_and_keeps_punctuation_off_line_starts() -> None:
    lines = ep.wrap("您办理本事项还需补充以下材料：身份证原件，户口簿。请到3号窗口办理。", 16)
    assert all(ep.display_width(line) <= 16 for line in lines)
    assert "".join(lines) == "您办理本事项还需补充以下材料：身份证原件，户口簿。请到3号窗口办理。"
    assert not any(line[0] in "，。：" for line in lines)


def test_wrap_breaks_english_at_spaces() -> None:
    assert ep.wrap("Please bring your ID card to window 3", 16) == [
        "Please bring",
        "your ID card to",
        "window 3",
    ]


def test_wrap_splits_a_word_longer_than_the_line() -> None:
    assert ep.wrap("see http://127.0.0.1:8700/t/A012", 10) == ["see", "http://127", ".0.0.1:870", "0/t/A012"]


@given(
    st.text(alphabet=st.sampled_from("号码窗口（）。，：ab c1 —·\n"), max_size=80),
    st.sampled_from([16, 32, 48]),
)
def test_wrap_fits_and_loses_nothing(text: str, cols: int) -> None:
    lines = ep.wrap(text, cols)
    assert all(ep.display_width(line) <= cols for line in lines)
    assert "".join(lines).replace(" ", "") == text.replace(" ", "").replace("\n", "")


# --- layouts ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("width_mm", [58, 80])
def test_ticket_layout(width_mm: int) -> None:
    job = ticket_bytes(SAMPLE_TICKET, width_mm)
    assert job.startswith(b"\x1b\x40")
    assert b"\x1d\x28\x6b" in job
    assert job.rstrip(b"\x03").endswith(b"\x1d\x56\x42")
    assert b"\x1d\x21\x33A012\n" in job  # the number at 4x4
    assert "：".encode("gb18030") in job
    assert len(job) < 2048
    text = "\n".join(_text_lines(job))
    for expected in (
        "某市政务服务中心",
        "A012",
        "户籍迁移（省内）",
        "【老年人优先】",
        "前面还有 5 人",
        "10～20",
    ):
        assert expected in text
    assert "2024-06-03" in text
    cols = ep.columns_for(width_mm)
    assert all(ep.display_width(line) <= cols for line in _text_lines(job))


def test_english_ticket_and_nobody_ahead() -> None:
    t = TicketPrint(
        hall="City Service Hall",
        number="K003",
        matter="Residence permit",
        people_ahead=0,
        estimate_min=(0, 0),
        issued="2024-05-06 09:12",
        status_url="http://127.0.0.1:8700/t/K003",
        language="en",
    )
    text = "\n".join(_text_lines(ticket_bytes(t, 58)))
    assert "Nobody is ahead of you" in text
    assert "You will be called soon" in text
    assert all(ep.display_width(line) <= 32 for line in _text_lines(ticket_bytes(t, 58)))


def test_long_ticket_number_shrinks_to_fit() -> None:
    t = TicketPrint("大厅", "VIP-A0123", "事项", 1, (1, 2), "09:00", "http://x/t")
    assert b"\x1d\x21\x22VIP-A0123\n" in ticket_bytes(t, 58)  # 9 columns x3 = 27 <= 32


@pytest.mark.parametrize("width_mm", [58, 80])
def test_notice_layout(width_mm: int) -> None:
    job = notice_bytes(SAMPLE_NOTICE, width_mm)
    assert job.startswith(b"\x1b\x40")
    assert b"\x1d\x56" in job
    lines = _text_lines(job)
    cols = ep.columns_for(width_mm)
    assert all(ep.display_width(line) <= cols for line in lines), lines
    text = "\n".join(lines)
    assert "一次性告知单" in text
    assert "堃" in text
    for i, item in enumerate(SAMPLE_NOTICE.items, 1):
        assert f"{i}. " in text
        assert item.where.replace(" ", "") in text.replace("\n", "").replace(" ", "")
    # Continuation lines hang under the item text, never under the number.
    assert not any(line[:1].isdigit() and not line[1:3].startswith(". ") for line in lines[3:] if line)


@pytest.mark.parametrize(
    ("name", "build"),
    [
        ("ticket_58.bin", lambda: ticket_bytes(SAMPLE_TICKET, 58)),
        ("ticket_80.bin", lambda: ticket_bytes(SAMPLE_TICKET, 80)),
        ("notice_58.bin", lambda: notice_bytes(SAMPLE_NOTICE, 58)),
        ("notice_80.bin", lambda: notice_bytes(SAMPLE_NOTICE, 80)),
    ],
)
def test_golden_bytes(name: str, build: Callable[[], bytes]) -> None:
    job = build()
    path = GOLDEN / name
    # Written once with HALLQ_WRITE_GOLDEN=1, reviewed (the .txt beside it) in the commit, then compared.
    if os.environ.get("HALLQ_WRITE_GOLDEN") == "1":
        path.parent.mkdir(exist_ok=True)
        path.write_bytes(job)
        path.with_suffix(".txt").write_text("\n".join(_text_lines(job)) + "\n", encoding="utf-8")
    assert path.exists(), f"{path} is missing; write it with HALLQ_WRITE_GOLDEN=1 and review it"
    assert job == path.read_bytes(), f"{name} changed; if on purpose, rewrite with HALLQ_WRITE_GOLDEN=1"
