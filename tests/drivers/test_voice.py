"""Voice calling: what is said, joining segments with `wave`, and a queue that never cuts a call off."""

from __future__ import annotations

import datetime as dt
import logging
import shutil
from pathlib import Path

import pytest

from drivers.factory import build_voice
from drivers.fakes_bus import FakeScheduler, FakeVoicePlayer
from drivers.voice import (
    PAUSE,
    SEGMENT_TEXTS,
    Announcement,
    AnnouncementQueue,
    VoiceError,
    VoicePack,
    call_segments,
    call_subtitle,
    en_cardinal,
    generate_pack,
    wav_duration,
    zh_cardinal,
)
from hallcore.clock import FakeClock
from hallcore.config import Voice
from tests.fakes.voicepack import silent_pack, write_wav


@pytest.fixture
def pack(tmp_path: Path) -> VoicePack:
    """Every segment 0.1 s long (0.3 s for 号窗口), so durations are easy to predict."""
    return silent_pack(tmp_path / "pack", 0.1, {"zh/hao_chuangkou": 0.3})


@pytest.mark.parametrize(
    ("n", "spoken"),
    [
        (5, "5"),
        (10, "十"),
        (12, "十2"),
        (20, "2十"),
        (45, "4十5"),
        (100, "1百"),
        (105, "1百05"),
        (110, "1百1十"),
        (112, "1百1十2"),
    ],
)
def test_window_numbers_are_cardinals(n: int, spoken: str) -> None:
    names = {"zh/shi": "十", "zh/bai": "百"}
    assert "".join(names.get(k, k.removeprefix("zh/digit_")) for k in zh_cardinal(n)) == spoken


def test_recorded_whole_numbers_win_and_english_cardinals_compose() -> None:
    assert zh_cardinal(12, {"zh/num_12"}) == ["zh/num_12"]
    assert en_cardinal(12) == ["en/num_12"]
    assert en_cardinal(45) == ["en/num_40", "en/num_5"]
    assert en_cardinal(150) == ["en/num_1", "en/hundred", "en/num_50"]
    assert all(k in SEGMENT_TEXTS for n in range(1, 1000) for k in en_cardinal(n) + zh_cardinal(n))


def test_call_reads_ticket_digits_one_by_one() -> None:
    assert call_segments("A012", 12, "zh") == [
        "zh/qing",
        "zh/letter_A",
        "zh/digit_0",
        "zh/digit_1",
        "zh/digit_2",
        "zh/hao",
        "zh/dao",
        "zh/shi",
        "zh/digit_2",
        "zh/hao_chuangkou",
        "zh/banli",
    ]
    assert call_subtitle("A012", 12, "zh") == "请A012号到12号窗口办理"
    assert call_segments("A012", 12, "en")[:2] == ["en/number", "en/letter_A"]
    with pytest.raises(VoiceError, match="fr"):
        call_segments("A012", 12, "fr")


def test_join_inserts_gaps_and_refuses_mixed_formats(pack: VoicePack, tmp_path: Path) -> None:
    out = pack.join(["zh/qing", "zh/hao", PAUSE, "zh/dao"], tmp_path / "out.wav")
    # 3 segments x 0.1 s + one segment gap + one repeat gap (the pause replaces the gap before "dao").
    assert wav_duration(out) == pytest.approx(0.3 + 0.05 + 0.5, abs=1e-3)
    write_wav(pack.path("zh/dao"), 0.1, rate=22050)
    with pytest.raises(VoiceError, match="sox"):
        pack.join(["zh/qing", "zh/dao"], tmp_path / "bad.wav")
    pack.path("zh/hao").unlink()
    with pytest.raises(VoiceError, match="zh/hao"):
        pack.join(["zh/hao"], tmp_path / "missing.wav")


def make_queue(
    pack: VoicePack, tmp_path: Path, **kwargs: object
) -> tuple[AnnouncementQueue, FakeScheduler, FakeVoicePlayer, list[tuple[str, str, float]]]:
    clock = FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    scheduler = FakeScheduler(clock)
    player = FakeVoicePlayer(scheduler)
    log: list[tuple[str, str, float]] = []

    def record(kind: str) -> object:
        return lambda a: log.append((kind, a.subtitle, clock.monotonic()))

    config = Voice(**kwargs)  # type: ignore[arg-type]
    queue = AnnouncementQueue.from_config(
        config,
        pack,
        player,
        clock,
        cache_dir=tmp_path / "cache",
        on_start=record("start"),  # type: ignore[arg-type]
        on_finish=record("finish"),  # type: ignore[arg-type]
        on_drop=record("drop"),  # type: ignore[arg-type]
    )
    return queue, scheduler, player, log


def test_three_rapid_calls_play_in_order_and_none_is_cut_off(pack: VoicePack, tmp_path: Path) -> None:
    queue, scheduler, player, log = make_queue(pack, tmp_path, repeats=2)
    queue.announce_call("A012", 12)
    queue.announce_call("B003", 5)
    queue.announce_call("A013", 12)
    scheduler.run_all()

    # One call: 11 segments (12 for window 12 = 十二) x 0.1 s with 号窗口 0.3 s, gaps 0.05 s; said twice.
    once_12 = 11 * 0.1 + 0.2 + 10 * 0.05
    once_5 = 10 * 0.1 + 0.2 + 9 * 0.05
    d12, d5 = 2 * once_12 + 0.5, 2 * once_5 + 0.5
    expected = [
        ("start", "请A012号到12号窗口办理", 0.0),
        ("finish", "请A012号到12号窗口办理", d12),
        ("start", "请B003号到5号窗口办理", d12),
        ("finish", "请B003号到5号窗口办理", d12 + d5),
        ("start", "请A013号到12号窗口办理", d12 + d5),
        ("finish", "请A013号到12号窗口办理", 2 * d12 + d5),
    ]
    assert [(k, s) for k, s, _ in log] == [(k, s) for k, s, _ in expected]
    for (_, _, got), (_, _, want) in zip(log, expected, strict=True):
        assert got == pytest.approx(want, abs=1e-3)
    # Each played to its end, and each started only after the previous one ended.
    assert [round(end - start, 3) for _, start, end in player.played] == [round(d, 3) for d in (d12, d5, d12)]
    assert all(b[1] >= a[2] for a, b in zip(player.played, player.played[1:], strict=False))
    assert queue.playing is None


def test_calls_older_than_max_age_are_dropped_and_logged(
    pack: VoicePack, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="drivers.voice")
    queue, scheduler, _player, log = make_queue(pack, tmp_path, repeats=1, max_age_s=2.5)
    # Each call lasts 1.65 s: A001 plays 0-1.65, A002 (age 1.65) 1.65-3.3; A003's turn comes at age 3.3.
    queue.announce_call("A001", 1)
    queue.announce_call("A002", 2)
    queue.announce_call("A003", 3)
    scheduler.advance(1.0)
    queue.announce_call("A004", 4)  # its turn also comes at 3.3, at age 2.3: still spoken
    scheduler.run_all()
    spoken = [s for k, s, _ in log if k == "start"]
    dropped = [s for k, s, _ in log if k == "drop"]
    assert spoken == ["请A001号到1号窗口办理", "请A002号到2号窗口办理", "请A004号到4号窗口办理"]
    assert dropped == ["请A003号到3号窗口办理"]
    assert "shown, not spoken" in caplog.text


def test_backlog_is_bounded(pack: VoicePack, tmp_path: Path) -> None:
    queue, scheduler, _player, log = make_queue(pack, tmp_path, repeats=1, max_backlog=2, max_age_s=3600)
    for n in range(1, 6):
        queue.announce_call(f"A00{n}", 1)
    assert len(queue.pending()) == 2
    scheduler.run_all()
    assert [s[:5] for k, s, _ in log if k == "start"] == ["请A001", "请A004", "请A005"]
    assert [s[:5] for k, s, _ in log if k == "drop"] == ["请A002", "请A003"]


def test_two_languages_in_one_announcement(pack: VoicePack, tmp_path: Path) -> None:
    queue, scheduler, _player, log = make_queue(pack, tmp_path, repeats=1, languages=("zh", "en"))
    item: Announcement = queue.announce_call("A012", 12)
    assert item.subtitle == "请A012号到12号窗口办理 / Number A012, please go to window 12"
    assert PAUSE in item.segments
    assert "en/num_12" in item.segments
    scheduler.run_all()
    assert [k for k, _, _ in log] == ["start", "finish"]


def test_missing_segment_is_refused_at_queueing(pack: VoicePack, tmp_path: Path) -> None:
    queue, _scheduler, _player, _log = make_queue(pack, tmp_path)
    pack.path("zh/letter_Q").unlink()
    with pytest.raises(VoiceError, match="zh/letter_Q"):
        queue.announce_call("Q001", 1)


@pytest.mark.skipif(shutil.which("espeak-ng") is None, reason="espeak-ng not installed")
def test_generate_pack_with_espeak_keeps_hall_recordings(tmp_path: Path) -> None:
    folder = tmp_path / "pack"
    write_wav(folder / "zh/qing.wav", 0.2)  # the hall's own recording
    written = generate_pack(folder, keys=["zh/qing", "zh/digit_0", "zh/letter_A", "en/window"])
    assert sorted(p.relative_to(folder).as_posix() for p in written) == [
        "en/window.wav",
        "zh/digit_0.wav",
        "zh/letter_A.wav",
    ]
    assert wav_duration(folder / "zh/qing.wav") == pytest.approx(0.2)
    for path in written:
        assert 0.05 < wav_duration(path) < 2.0
    with pytest.raises(VoiceError, match="unknown"):
        generate_pack(folder, keys=["zh/nonsense"])


def test_the_factory_builds_a_voice_that_speaks_or_says_why_it_cannot(
    pack: VoicePack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock(dt.datetime(2026, 3, 2, 9, 0, tzinfo=dt.UTC))
    scheduler = FakeScheduler(clock)
    player = FakeVoicePlayer(scheduler)
    voice = Voice(languages=("zh", "en"), repeats=1)
    announcer, why = build_voice(voice, pack.folder, clock=clock, cache_dir=tmp_path / "cache", player=player)
    assert announcer is not None, why
    assert why == ""
    events: list[tuple[str, str]] = []
    announcer.listen(
        lambda a: events.append(("start", a.subtitle)),
        lambda a: events.append(("finish", a.subtitle)),
        lambda a: events.append(("drop", a.subtitle)),
    )
    item = announcer.announce_call("A012", 5)
    scheduler.run_all()
    assert events == [("start", item.subtitle), ("finish", item.subtitle)]
    assert item.subtitle == "请A012号到5号窗口办理 / Number A012, please go to window 5"

    monkeypatch.setenv("PATH", str(tmp_path / "nothing-here"))  # no espeak-ng, no aplay, no sox
    announcer, why = build_voice(
        voice, tmp_path / "empty", clock=clock, cache_dir=tmp_path / "c2", player=player
    )
    assert announcer is None
    assert "cannot prepare the voice pack" in why
    assert "espeak-ng not found" in why
    announcer, why = build_voice(voice, pack.folder, clock=clock, cache_dir=tmp_path / "c3")
    assert announcer is None
    assert "neither aplay (alsa-utils) nor play (sox) is installed" in why
