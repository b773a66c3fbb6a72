"""Spoken guidance at a kiosk (读给我听, and every screen in elder mode), on the display's voice pipeline:
a hall's recording of the prompt when it has one (`<recordings>/<lang>/<key>.wav`, preferred), else the
prompt rendered once by espeak-ng and kept in the cache (`<cache>/<lang>/<hash>.wav`), played by the same
players as calls. Unlike a call, guidance is cut off: the next prompt, or a screen change, stops it.

The station's volume (0-100 %) scales the samples when the WAV is prepared (espeak-ng's amplitude for a
rendered prompt), so any player plays it at the station's level. Rendering runs on a worker thread, never
the UI's; a prompt superseded while it was being rendered is not played.
"""

from __future__ import annotations

import array
import hashlib
import logging
import shutil
import subprocess
import sys
import threading
import wave
from pathlib import Path

from drivers.protocols import Prompt, PromptPlayer, VoiceError
from drivers.voice.pack import trim_silence

log = logging.getLogger(__name__)

#: espeak-ng voices of the guidance languages (`-v cmn` misreads Han characters: Chinese is read from pinyin).
VOICES = {"zh": "cmn-latn-pinyin", "en": "en"}


class PromptSpeaker:
    """A `Speaker`: says one prompt at a time through `player`, stopping the one before."""

    def __init__(
        self,
        player: PromptPlayer,
        cache_dir: Path,
        *,
        recordings: Path | None = None,
        volume: int = 80,
        espeak: str = "espeak-ng",
        timeout_s: float = 20.0,
    ) -> None:
        self._player = player
        self._cache = cache_dir
        self._recordings = recordings
        self._volume = max(0, min(100, volume))
        self._espeak = shutil.which(espeak)
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._turn = 0  # bumped by every say and stop: a render of an older turn is not played
        self.said: list[tuple[Prompt, Path]] = []  # what was played, for the journal and tests

    def say(self, prompt: Prompt) -> None:
        with self._lock:
            self._turn += 1
            turn = self._turn
        self._player.stop()
        threading.Thread(target=self._run, args=(prompt, turn), name="kiosk speech", daemon=True).start()

    def stop(self) -> None:
        with self._lock:
            self._turn += 1
        self._player.stop()

    def close(self) -> None:
        self.stop()

    def wav_for(self, prompt: Prompt) -> Path:
        """The WAV that says `prompt` at this station's volume: the hall's recording, else espeak-ng's."""
        if self._recordings is not None:
            recorded = self._recordings / prompt.language / f"{prompt.key}.wav"
            if recorded.is_file():
                return self._at_volume(recorded)
        voice = VOICES.get(prompt.language)
        if voice is None:
            raise VoiceError(f"no voice for {prompt.language!r} (guidance speaks {', '.join(VOICES)})")
        if self._espeak is None:
            raise VoiceError("espeak-ng not found: install it (Debian: apt-get install espeak-ng) or record")
        digest = hashlib.sha256(f"{voice}\n{self._volume}\n{prompt.spoken}".encode()).hexdigest()[:16]
        out = self._cache / prompt.language / f"{digest}.wav"
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            tmp = out.with_suffix(".tmp")
            amplitude = str(self._volume * 2)  # espeak-ng: 0-200, 100 its default
            cmd = [self._espeak, "-v", voice, "-a", amplitude, "-w", str(tmp), prompt.spoken]
            subprocess.run(cmd, check=True, timeout=self._timeout_s, capture_output=True)
            trim_silence(tmp)
            tmp.replace(out)
        return out

    def _at_volume(self, recorded: Path) -> Path:
        if self._volume == 100:
            return recorded
        digest = hashlib.sha256(f"{recorded.resolve()}\n{recorded.stat().st_mtime_ns}".encode()).hexdigest()
        out = self._cache / "recorded" / f"{digest[:16]}-{self._volume}.wav"
        if not out.exists():
            out.parent.mkdir(parents=True, exist_ok=True)
            scale_wav(recorded, out.with_suffix(".tmp"), self._volume / 100)
            out.with_suffix(".tmp").replace(out)
        return out

    def _run(self, prompt: Prompt, turn: int) -> None:
        try:
            wav = self.wav_for(prompt)
        except (VoiceError, OSError, subprocess.SubprocessError, wave.Error) as e:
            log.warning("speech: cannot say %r: %s", prompt.key, e)
            return
        with self._lock:
            if turn != self._turn:
                return  # the screen moved on while this was rendered
            self.said.append((prompt, wav))
            self._player.play(wav, lambda: None)


def scale_wav(src: Path, out: Path, factor: float) -> None:
    """`src` (16-bit PCM) with every sample scaled by `factor` (a station's volume)."""
    with wave.open(str(src), "rb") as w:
        params = w.getparams()
        frames = w.readframes(params.nframes)
    if params.sampwidth != 2:
        raise VoiceError(f"{src} is not 16-bit PCM; convert it: sox in.wav -b 16 out.wav")
    samples = array.array("h", frames)
    if sys.byteorder == "big":
        samples.byteswap()
    scaled = array.array("h", (max(-32768, min(32767, round(s * factor))) for s in samples))
    if sys.byteorder == "big":
        scaled.byteswap()
    with wave.open(str(out), "wb") as w:
        w.setparams(params)
        w.writeframes(scaled.tobytes())
