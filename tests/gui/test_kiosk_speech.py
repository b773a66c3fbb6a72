"""Spoken guidance through the display's voice pipeline (drivers/voice/prompts.py: the hall's recordings
preferred, espeak-ng renderings cached) into the test audio sink (`drivers.fakes.SinkPlayer`), against a real
hall server and the printer emulator (tests/gui/kiosk_rig.py). Elder mode says each screen's prompt as it
appears and a screen change cuts it off; 读给我听 says the screen on demand; a station without voice has no
button."""

from __future__ import annotations

import array
import asyncio
import math
import pathlib
import wave
from collections.abc import Iterator
from typing import Any

import pytest

from drivers.factory import build_speaker
from drivers.fakes import SinkPlayer
from hallcore.config import Station, StationRole
from kiosk.flow import Screen
from tests.gui.kiosk_rig import Rig, kiosk_rig

#: espeak-ng renders a prompt in well under a second; a loaded machine may take a few.
RENDER_S = 20.0


@pytest.fixture
def rig(tmp_path: pathlib.Path, qtbot: Any, running: asyncio.AbstractEventLoop) -> Iterator[Rig]:
    with kiosk_rig(tmp_path, qtbot, running, speech=True) as r:
        yield r


def sink_of(rig: Rig) -> SinkPlayer:
    assert rig.sink is not None
    return rig.sink


def said(rig: Rig) -> list[str]:
    assert rig.speaker is not None
    return [p.key for p, _ in rig.speaker.said]


def wait_said(rig: Rig, key: str) -> pathlib.Path:
    """Until the sink plays the prompt `key`; its WAV."""
    rig.wait(
        lambda: said(rig)[-1:] == [key] and sink_of(rig).playing is not None, f"speech {key!r}", RENDER_S
    )
    assert rig.speaker is not None
    return rig.speaker.said[-1][1]


def duration(wav: pathlib.Path) -> float:
    with wave.open(str(wav), "rb") as w:
        return w.getnframes() / w.getframerate()


def test_elder_mode_speaks_every_screen_and_a_change_stops_it(rig: Rig) -> None:
    sink = sink_of(rig)
    assert said(rig) == []  # standard mode says nothing by itself
    rig.tap("welcomeElder")
    welcome = wait_said(rig, "welcome")
    assert duration(welcome) > 1.0  # espeak-ng's rendering of the whole prompt, not an empty file
    first = rig.controller.info.home_matters[0]
    rig.tap(f"home_{first.code}")
    q = rig.app.flow.current_question
    wait_said(rig, f"question-{first.code}-{q.id}")
    assert welcome in sink.stopped  # cut off by the screen change, not left talking over the next one
    rig.tap("questionYes")
    rig.expect(Screen.MATERIALS)
    wait_said(rig, "materials")
    rig.tap("materialsAll")
    rig.wait_screen(Screen.TICKET)
    wait_said(rig, "ticket")
    # Each screen's prompt was played in turn; every one but the last was stopped by the next screen.
    order = [k for k in said(rig) if k != "issuing"]
    assert order == ["welcome", f"question-{first.code}-{q.id}", "materials", "ticket"]
    assert sink.played[:-1] == sink.stopped
    assert sink.playing == sink.played[-1]
    rig.tap("homeButton")
    rig.wait(lambda: sink.playing is None, "speech stopped on leaving the ticket", RENDER_S)


def test_the_button_speaks_on_demand_and_a_change_stops_it(rig: Rig) -> None:
    sink = sink_of(rig)
    rig.tap("speakButton")
    zh = wait_said(rig, "welcome")
    assert rig.speaker is not None
    assert rig.speaker.said[-1][0].language == "zh"
    rig.tap("lang_en")
    rig.tap("speakButton")
    rig.wait(lambda: len(sink.played) == 2 and sink.playing is not None, "the English prompt", RENDER_S)
    prompt, en = rig.speaker.said[-1]
    assert (prompt.key, prompt.language) == ("welcome", "en")
    assert prompt.text.startswith("Welcome")
    assert en != zh
    assert zh in sink.stopped  # the second tap cut the first prompt off
    rig.tap("speakButton")
    rig.wait(lambda: len(sink.played) == 3 and sink.playing is not None, "the prompt again", RENDER_S)
    assert sink.played[-1] == en  # rendered once, then from the cache
    rig.tap("welcomeStart")
    rig.wait(lambda: sink.playing is None, "speech stopped by the screen change", RENDER_S)
    assert sink.stopped[-1] == en
    assert len(sink.played) == 3  # standard mode: the new screen is not read out by itself


def test_a_halls_recording_is_preferred_at_the_stations_volume(rig: Rig, tmp_path: pathlib.Path) -> None:
    recording = tmp_path / "prompts" / "zh" / "welcome.wav"
    recording.parent.mkdir(parents=True)
    tone = array.array("h", (round(10_000 * math.sin(i / 8)) for i in range(16_000)))
    with wave.open(str(recording), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(16_000)
        w.writeframes(tone.tobytes())
    rig.tap("speakButton")
    played = wait_said(rig, "welcome")
    with wave.open(str(played), "rb") as w:
        samples = array.array("h", w.readframes(w.getnframes()))
    assert len(samples) == len(tone)  # the recording, not espeak-ng
    assert max(samples) == round(max(tone) * 0.8)  # the station's default volume, 80 %


def test_guidance_follows_the_stations_voice_setting(
    tmp_path: pathlib.Path, qtbot: Any, running: asyncio.AbstractEventLoop
) -> None:
    quiet = Station("kiosk-q", StationRole.KIOSK, voice=False)
    speaker, why = build_speaker(quiet, tmp_path / "cache", player=SinkPlayer())
    assert speaker is None
    assert "voice = false" in why
    loud = Station("kiosk-l", StationRole.KIOSK, voice=True, volume=30)
    speaker, why = build_speaker(loud, tmp_path / "cache", player=SinkPlayer())
    assert speaker is not None
    assert why == ""
    with kiosk_rig(tmp_path, qtbot, running) as rig:  # no speaker: no button, and elder mode stays silent
        assert not rig.has("speakButton")
        assert rig.app.guide is None
        rig.tap("welcomeElder")
        assert rig.app.flow.elder
        assert not rig.has("speakButton")
