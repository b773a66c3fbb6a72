"""`hallq devices read-id`, `list` and `emulate idcard` against the emulated reader over TCP, a pty and pyusb:
masked output only, the exit codes of each kind of card, usage errors, the foreground emulator."""

from __future__ import annotations

import re
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.emulators.idcard import SamReaderEmulator, load_cards
from tests.drivers.test_devices_cli import ROOT, foreground, hall_emulators, run

pytestmark = pytest.mark.timeout(90)

TEST_CARDS = ROOT / "config" / "idcards-test.json"
FULL_NUMBERS = ("341524195503151231", "341502199807112485", "110108198706232021")


def read_id(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code, out, err = run(capsys, "read-id", *argv)
    for number in FULL_NUMBERS:
        assert number not in out + err
    assert "金寨县梅山镇" not in out + err  # never the address
    return code, out, err


@pytest.fixture
def reader() -> Iterator[SamReaderEmulator]:
    with SamReaderEmulator.tcp() as emu:
        emu.cards += load_cards(TEST_CARDS)
        yield emu


def test_read_id_prints_a_masked_card(capsys: pytest.CaptureFixture[str], reader: SamReaderEmulator) -> None:
    reader.place(0)
    code, out, _ = read_id(capsys, "--url", reader.url)
    assert code == 0
    assert out.splitlines() == [
        f"{reader.url}: 张*  男  1955年生 born 1955  341524********1231",
        "  号码校验 number check: 通过 ok",
        "  有效期限 valid: 2015-06-01 – 长期 long-term",
    ]
    reader.place(1)
    code, out, _ = read_id(capsys, "--url", reader.url)
    assert code == 0
    assert "王**  女  1998年生 born 1998  341502********2485" in out
    assert "有效期限 valid: 2018-08-01 – 2028-08-01" in out


def test_read_id_exit_codes_for_each_kind_of_card(
    capsys: pytest.CaptureFixture[str], reader: SamReaderEmulator
) -> None:
    code, out, _ = read_id(capsys, "--url", reader.url, "--wait", "0.2")
    assert (code, out.strip()) == (1, f"{reader.url}: 无卡 no card placed within 0.2 s")
    reader.place(2)  # 李四: a good card
    assert read_id(capsys, "--url", reader.url)[0] == 0
    reader.place(3)  # 赵五: a wrong check digit
    code, out, _ = read_id(capsys, "--url", reader.url)
    assert code == 3
    assert "未通过 FAILED: 身份号码校验错误" in out
    reader.place(4)  # 钱六: the birth date disagrees with the number, and the card has expired
    code, out, _ = read_id(capsys, "--url", reader.url)
    assert code == 3
    assert "出生日期与身份号码不符" in out
    assert "已过期 expired" in out
    reader.place(5)  # a 港澳台居民居住证
    code, out, _ = read_id(capsys, "--url", reader.url)
    assert code == 3
    assert "港澳台居民居住证: 暂不支持此类证件" in out
    reader.fail_reads(1)
    reader.place(2)
    code, out, _ = read_id(capsys, "--url", reader.url)
    assert code == 1
    assert "读卡失败 read failed; 请重新放置 lift the card and place it again" in out


def test_read_id_over_a_pty_and_from_a_station(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    with SamReaderEmulator.pty(link=tmp_path / "ttyID") as emu:
        emu.place(0)
        code, out, _ = read_id(capsys, "--url", emu.url, "--baud", "9600")
        assert code == 0
        assert "张*" in out
    code, _, err = read_id(capsys, "--url", str(tmp_path / "ttyID"))
    assert code == 1
    assert "cannot open" in err
    with hall_emulators(tmp_path) as hall:
        code, out, _ = read_id(capsys, "--config", str(hall.config), "--station", "desk-1")
        assert code == 0
        assert "张*" in out
        code, _, err = read_id(capsys, "--config", str(hall.config), "--station", "counter-01")
        assert code == 2
        assert "station counter-01 has no id_reader" in err


def test_read_id_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    code, _, err = read_id(capsys)
    assert code == 2
    assert "give the reader with --url" in err
    code, _, err = read_id(capsys, "--url", "usb://04:c35a")
    assert code == 2
    assert "usb://VENDOR:PRODUCT" in err
    code, _, err = read_id(capsys, "--url", "socket://127.0.0.1:1", "--config", "x.toml", "--station", "k")
    assert code == 2
    code, out, _ = run(capsys, "read-id", "--help")
    assert code == 0
    assert "--wait" in out


def test_read_id_and_list_on_usb(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    import usb.core

    find = usb.core.find
    with SamReaderEmulator.usb(0x0400, 0xC35A) as emu:

        def on_the_emulated_bus(**kwargs: Any) -> Any:
            return find(**{**kwargs, "backend": emu.usb_pipe.backend})

        # The one discovery call, pointed at the emulated device; pyusb and the driver run as they are.
        monkeypatch.setattr(usb.core, "find", on_the_emulated_bus)
        code, out, _ = run(capsys, "list")
        assert code == 0
        assert "0400:c35a  ID card reader, 华视 CVR-100U family" in out
        assert '[stations.id_reader] type = "idcard-usb", usb_vendor = 0x0400, usb_product = 0xc35a' in out
        emu.place(1)
        code, out, _ = read_id(capsys, "--url", "usb://0400:c35a")
        assert code == 0
        assert out.startswith("usb 0400:c35a: 王**")
        code, _, err = read_id(capsys, "--url", "0400:c35b")
        assert code == 1
        assert "usb 0400:c35b: not found" in err


def test_emulate_idcard_in_the_foreground(capsys: pytest.CaptureFixture[str]) -> None:
    with foreground("idcard", "--port", "0", "--card", str(TEST_CARDS), "--place", "2") as fg:
        url = fg.expect(r"on (socket://127\.0\.0\.1:\d+): 6 cards")[1]
        fg.expect(r"card 6: 港澳台居民居住证")
        fg.expect(r"placed card 2: 王\*\* 341502\*+2485")
        fg.expect("Ctrl-C stops")
        assert read_id(capsys, "--url", url)[0] == 0
        fg.expect(r"\d\d:\d\d:\d\d read 王\*\*")
        fg.send("place 4")
        fg.expect("placed card 4")
        assert read_id(capsys, "--url", url)[0] == 3
        fg.send("fail 1")
        fg.expect(re.escape("the next 1 read(s) fail with SW3 41"))
        fg.send("place 3")
        fg.expect("placed card 3")
        assert read_id(capsys, "--url", url)[0] == 1
        fg.send("lift")
        fg.expect("lifted")
        assert read_id(capsys, "--url", url, "--wait", "0.2")[0] == 1
        for line, reply in (("garbage", "sent power-up garbage"), ("delay 5", "radio delay 5 ms")):
            fg.send(line)
            fg.expect(reply)
        fg.send("sam selftest")
        fg.expect("SAM status now sam_self_test_failed")
        code, _, err = read_id(capsys, "--url", url)
        assert code == 1
        assert "SAM自检失败" in err
        fg.send("place 9")
        fg.expect("no card 9; there are 6")
        fg.send("bogus")
        fg.expect("commands: place")
        code, _ = fg.stop(signal.SIGTERM)
    assert code == 0


def test_emulate_idcard_errors(tmp_path: Path, reader: SamReaderEmulator) -> None:
    bad = tmp_path / "cards.json"
    bad.write_text('[{"name": "张三", "colour": "red"}]', "utf-8")
    for argv, code, text in (
        (["--card", str(tmp_path / "none.json")], 2, "not a readable JSON card file"),
        (["--card", str(bad)], 2, "unknown field(s) colour"),
        (["--port", str(reader.pipe.url.rsplit(":", 1)[1])], 1, "is another emulator running?"),
    ):
        with foreground("idcard", *argv) as fg:
            assert fg.proc.wait(timeout=30) == code
            fg.kill()
            assert text in fg.err, fg.err
            assert "Traceback" not in fg.err
