"""Voice packs for tests: every segment a quiet WAV of a known length, so a call lasts a predictable time on a
fake clock and the joined file's duration can be checked."""

from __future__ import annotations

import wave
from collections.abc import Mapping
from pathlib import Path

from drivers.voice import SEGMENT_TEXTS, VoicePack

RATE = 8000


def write_wav(path: Path, seconds: float, rate: int = RATE) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\x10\x00" * round(seconds * rate))


def silent_pack(folder: Path, seconds: float = 0.1, lengths: Mapping[str, float] | None = None) -> VoicePack:
    """Every segment `seconds` long (or its entry in `lengths`), with short gaps."""
    for key in SEGMENT_TEXTS:
        write_wav(folder / f"{key}.wav", (lengths or {}).get(key, seconds))
    return VoicePack(folder, segment_gap_s=0.05, repeat_gap_s=0.5)
