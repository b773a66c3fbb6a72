"""Voice packs: a folder of segment WAVs named by key (`zh/qing.wav`, `zh/digit_0.wav`, `zh/letter_A.wav`,
optional `zh/num_12.wav`…), all of one format, joined into one WAV per announcement.

A hall can drop in real recordings; `ensure_pack` fills the gaps with espeak-ng at set-up time.
"""

from __future__ import annotations

import array
import shutil
import subprocess
import sys
import wave
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from drivers.protocols import VoiceError
from drivers.voice.wording import SEGMENT_TEXTS

PAUSE = "<pause>"


class VoicePack:
    """A folder of segment WAVs, all with the same format (rate, width, channels)."""

    def __init__(self, folder: Path, *, segment_gap_s: float = 0.06, repeat_gap_s: float = 0.8) -> None:
        self.folder = folder
        self.segment_gap_s = segment_gap_s
        self.repeat_gap_s = repeat_gap_s

    def path(self, key: str) -> Path:
        return self.folder / f"{key}.wav"

    def keys(self) -> set[str]:
        return {p.relative_to(self.folder).with_suffix("").as_posix() for p in self.folder.glob("*/*.wav")}

    def missing(self, segments: Iterable[str]) -> list[str]:
        return sorted({s for s in segments if s != PAUSE and not self.path(s).is_file()})

    def join(self, segments: Sequence[str], out: Path) -> Path:
        """Join the segments (PAUSE = a repeat gap) into one WAV at `out`."""
        missing = self.missing(segments)
        if missing:
            raise VoiceError(
                f"voice pack {self.folder} lacks {', '.join(missing)}; record them or run generate_pack()"
            )
        params: wave._wave_params | None = None
        chunks: list[bytes | float] = []
        for key in segments:
            if key == PAUSE:
                chunks.append(self.repeat_gap_s)
                continue
            with wave.open(str(self.path(key)), "rb") as w:
                p = w.getparams()
                frames = w.readframes(p.nframes)
            if params is None:
                params = p
            elif (p.nchannels, p.sampwidth, p.framerate) != (
                params.nchannels,
                params.sampwidth,
                params.framerate,
            ):
                have = f"{p.framerate} Hz/{p.sampwidth * 8} bit/{p.nchannels} ch"
                want = f"-r {params.framerate} -b {params.sampwidth * 8} -c {params.nchannels}"
                raise VoiceError(
                    f"{self.path(key)} is {have}, unlike the rest of the pack; convert it: "
                    f"sox in.wav {want} out.wav"
                )
            if chunks and isinstance(chunks[-1], bytes):
                chunks.append(self.segment_gap_s)
            chunks.append(frames)
        if params is None:
            raise VoiceError("nothing to say: an announcement needs at least one segment")
        frame_size = params.sampwidth * params.nchannels
        out.parent.mkdir(parents=True, exist_ok=True)
        with wave.open(str(out), "wb") as w:
            w.setnchannels(params.nchannels)
            w.setsampwidth(params.sampwidth)
            w.setframerate(params.framerate)
            for chunk in chunks:
                if isinstance(chunk, float):
                    w.writeframes(bytes(round(chunk * params.framerate) * frame_size))
                else:
                    w.writeframes(chunk)
        return out


def wav_duration(path: Path) -> float:
    with wave.open(str(path), "rb") as w:
        return w.getnframes() / w.getframerate()


def trim_silence(path: Path, threshold: int = 300, keep_s: float = 0.02) -> None:
    """Cut espeak-ng's leading and trailing silence (16-bit mono), or calls sound halting between segments."""
    with wave.open(str(path), "rb") as w:
        params = w.getparams()
        frames = w.readframes(params.nframes)
    if params.sampwidth != 2 or params.nchannels != 1:
        return
    samples = array.array("h", frames)
    if sys.byteorder == "big":
        samples.byteswap()
    loud = [i for i, s in enumerate(samples) if abs(s) > threshold]
    if not loud:
        return
    keep = round(keep_s * params.framerate)
    start, end = max(0, loud[0] - keep), min(len(samples), loud[-1] + keep)
    trimmed = samples[start:end]
    if sys.byteorder == "big":
        trimmed.byteswap()
    with wave.open(str(path), "wb") as w:
        w.setparams(params)
        w.writeframes(trimmed.tobytes())


def generate_pack(
    folder: Path,
    *,
    keys: Iterable[str] | None = None,
    overwrite: bool = False,
    espeak: str = "espeak-ng",
    timeout_s: float = 30.0,
) -> list[Path]:
    """Write missing segments with espeak-ng (run at set-up, not during calls). A hall's own recordings are
    kept unless `overwrite`. Returns the files written."""
    exe = shutil.which(espeak)
    if exe is None:
        raise VoiceError(
            f"{espeak} not found; install it (Debian: apt-get install espeak-ng) or record a pack"
        )
    written = []
    for key in sorted(SEGMENT_TEXTS if keys is None else keys):
        if key not in SEGMENT_TEXTS:
            raise VoiceError(f"unknown voice segment {key!r}")
        voice, text = SEGMENT_TEXTS[key]
        target = folder / f"{key}.wav"
        if target.exists() and not overwrite:
            continue
        target.parent.mkdir(parents=True, exist_ok=True)
        subprocess.run([exe, "-v", voice, "-w", str(target), text], check=True, timeout=timeout_s)
        trim_silence(target)
        written.append(target)
    return written


COMPLETE_MARKER = ".complete"


@dataclass(frozen=True, slots=True)
class PackResult:
    folder: Path
    written: int
    already_complete: bool


def needed_segments(languages: Sequence[str] | None = None) -> set[str]:
    """Every segment a call in `languages` (every language when None) may need: any ticket letter and digit,
    any window number."""
    return {k for k in SEGMENT_TEXTS if languages is None or k.split("/", 1)[0] in languages}


def pack_problem(pack: VoicePack, languages: Sequence[str]) -> str:
    """What the pack lacks to say every call in `languages` (for the board and the log); "" if nothing."""
    missing = pack.missing(needed_segments(languages))
    if missing:
        return f"voice pack {pack.folder} lacks {len(missing)} segments (e.g. {missing[0]})"
    return ""


def ensure_pack(
    folder: Path, languages: Sequence[str] | None = None, *, regenerate: bool = False
) -> PackResult:
    """Fill `folder` with the segments of `languages` (every language when None), espeak-ng for the missing
    ones (set-up time: minutes at most). Quick when nothing is missing; a hall's own recordings are kept
    unless `regenerate`. A whole pack is marked complete. Raises `VoiceError` when it cannot fill the gaps."""
    keys = sorted(needed_segments(languages))
    marker = folder / COMPLETE_MARKER
    if not regenerate and all((folder / f"{k}.wav").exists() for k in keys):
        return PackResult(folder, 0, True)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise VoiceError(f"cannot create {folder} ({e})") from e
    marker.unlink(missing_ok=True)
    written = generate_pack(folder, keys=keys, overwrite=regenerate)
    if languages is None:
        marker.write_text(f"{len(keys)} segments; generated {len(written)} with espeak-ng\n", "utf-8")
    return PackResult(folder, len(written), False)
