"""Voice calling: announcements joined from recorded segments, played one after another, never cut off.

A voice pack is a folder of WAV files named by segment key (`zh/qing.wav`, `zh/digit_0.wav`,
`zh/letter_A.wav`, optional `zh/num_12.wav`…). A hall can drop in real recordings; `generate_pack` fills
the gaps with espeak-ng at set-up time (`-v cmn-latn-pinyin`: `-v cmn` misreads Han characters, PITFALLS.md).
Ticket characters are read one by one (A 零 一 二), window numbers as cardinals (十二号窗口).
"""

from __future__ import annotations

import array
import contextlib
import hashlib
import itertools
import logging
import shutil
import subprocess
import sys
import threading
import wave
from collections import deque
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from drivers.base import DriverError
from drivers.protocols import VoicePlayer
from hallcore.clock import Clock
from hallcore.config import Voice

log = logging.getLogger(__name__)

_ZH_DIGITS = ("ling2", "yi1", "er4", "san1", "si4", "wu3", "liu4", "qi1", "ba1", "jiu3")
_EN_ONES = (
    *("zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven"),
    *("twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen", "nineteen"),
)
_EN_TENS = {20: "twenty", 30: "thirty", 40: "forty", 50: "fifty", 60: "sixty", 70: "seventy", 80: "eighty"}
_EN_TENS[90] = "ninety"
_LETTERS = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"


def _segment_texts() -> dict[str, tuple[str, str]]:
    """Segment key -> (espeak-ng voice, text) for the generated fallback pack."""
    texts: dict[str, tuple[str, str]] = {
        "zh/qing": ("cmn-latn-pinyin", "qing3"),
        "zh/hao": ("cmn-latn-pinyin", "hao4"),
        "zh/dao": ("cmn-latn-pinyin", "dao4"),
        "zh/hao_chuangkou": ("cmn-latn-pinyin", "hao4 chuang1 kou3"),
        "zh/banli": ("cmn-latn-pinyin", "ban4 li3"),
        "zh/shi": ("cmn-latn-pinyin", "shi2"),
        "zh/bai": ("cmn-latn-pinyin", "bai3"),
        "en/number": ("en", "number"),
        "en/please_go_to": ("en", "please go to"),
        "en/window": ("en", "window"),
        "en/hundred": ("en", "hundred"),
    }
    for d, pinyin in enumerate(_ZH_DIGITS):
        texts[f"zh/digit_{d}"] = ("cmn-latn-pinyin", pinyin)
        texts[f"en/digit_{d}"] = ("en", _EN_ONES[d])
    for letter in _LETTERS:
        # Halls read ticket letters the English way ("A" as "ei") in Chinese calls too.
        texts[f"zh/letter_{letter}"] = ("en", letter)
        texts[f"en/letter_{letter}"] = ("en", letter)
    for n in range(1, 20):
        texts[f"en/num_{n}"] = ("en", _EN_ONES[n])
    for n, word in _EN_TENS.items():
        texts[f"en/num_{n}"] = ("en", word)
    return texts


SEGMENT_TEXTS = _segment_texts()


class VoiceError(DriverError):
    """A voice pack is missing segments or has files that cannot be joined."""


# --- what to say -------------------------------------------------------------------------------------------


def ticket_segments(ticket: str, lang: str) -> list[str]:
    """Each character on its own: "A012" is read A 零 一 二, never "twelve"."""
    out = []
    for ch in ticket.upper():
        if ch.isdigit():
            out.append(f"{lang}/digit_{ch}")
        elif ch in _LETTERS:
            out.append(f"{lang}/letter_{ch}")
    return out


def zh_cardinal(n: int, available: Iterable[str] = ()) -> list[str]:
    """A number as spoken in Chinese, 1..999: 12 -> 十二, 20 -> 二十, 105 -> 一百零五, 110 -> 一百一十.
    A recording of the whole number (`zh/num_12`) is preferred when the pack has one."""
    if f"zh/num_{n}" in set(available):
        return [f"zh/num_{n}"]
    if not 0 <= n <= 999:
        return [f"zh/digit_{d}" for d in str(n)]
    if n < 10:
        return [f"zh/digit_{n}"]
    hundreds, rest = divmod(n, 100)
    tens, ones = divmod(rest, 10)
    out: list[str] = []
    if hundreds:
        out += [f"zh/digit_{hundreds}", "zh/bai"]
        if rest == 0:
            return out
        if tens == 0:
            return [*out, "zh/digit_0", f"zh/digit_{ones}"]
    if tens:
        # 十二 not 一十二, but 一百一十二.
        if tens > 1 or hundreds:
            out.append(f"zh/digit_{tens}")
        out.append("zh/shi")
    if ones:
        out.append(f"zh/digit_{ones}")
    return out


def en_cardinal(n: int, available: Iterable[str] = ()) -> list[str]:
    if f"en/num_{n}" in set(available) or 1 <= n < 20:
        return [f"en/num_{n}"]
    if not 1 <= n <= 999:
        return [f"en/digit_{d}" for d in str(n)]
    hundreds, rest = divmod(n, 100)
    out = [f"en/num_{hundreds}", "en/hundred"] if hundreds else []
    if 0 < rest < 20:
        out.append(f"en/num_{rest}")
    elif rest:
        tens, ones = divmod(rest, 10)
        out.append(f"en/num_{tens * 10}")
        if ones:
            out.append(f"en/num_{ones}")
    return out


def call_segments(ticket: str, window: int, lang: str, available: Iterable[str] = ()) -> list[str]:
    available = set(available)
    if lang == "zh":
        return [
            "zh/qing",
            *ticket_segments(ticket, "zh"),
            "zh/hao",
            "zh/dao",
            *zh_cardinal(window, available),
            "zh/hao_chuangkou",
            "zh/banli",
        ]
    if lang == "en":
        return [
            "en/number",
            *ticket_segments(ticket, "en"),
            "en/please_go_to",
            "en/window",
            *en_cardinal(window, available),
        ]
    raise VoiceError(f"no announcement wording for language {lang!r}; use 'zh' or 'en'")


def call_subtitle(ticket: str, window: int, lang: str) -> str:
    if lang == "zh":
        return f"请{ticket}号到{window}号窗口办理"
    return f"Number {ticket}, please go to window {window}"


# --- voice packs --------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Announcement:
    subtitle: str
    segments: tuple[str, ...]
    created: float  # Clock.monotonic() when it was queued
    id: int = 0


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


PAUSE = "<pause>"


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


# --- playing ------------------------------------------------------------------------------------------------


class Scheduler(Protocol):
    """Runs a callback later: `loop.call_later` in asyncio, `QTimer.singleShot` in Qt, a fake in tests."""

    def call_later(self, delay_s: float, callback: Callable[[], None]) -> None: ...


class AplayPlayer:
    """Plays through `aplay` (ALSA), or sox's `play` when aplay is absent; one subprocess per announcement,
    waited on by a thread that then reports completion."""

    def __init__(self, command: Sequence[str] | None = None, *, timeout_s: float = 60.0) -> None:
        if command is None:
            if shutil.which("aplay"):
                command = ("aplay", "-q")
            elif shutil.which("play"):
                command = ("play", "-q")
            else:
                raise VoiceError("neither aplay (alsa-utils) nor play (sox) is installed")
        self._command = tuple(command)
        self._timeout_s = timeout_s
        self._lock = threading.Lock()
        self._procs: set[subprocess.Popen[bytes]] = set()

    def play(self, wav: Path, on_done: Callable[[], None]) -> None:
        def run() -> None:
            try:
                proc = subprocess.Popen([*self._command, str(wav)], stdin=subprocess.DEVNULL)
                with self._lock:
                    self._procs.add(proc)
                try:
                    proc.wait(timeout=self._timeout_s)
                except subprocess.TimeoutExpired:
                    log.warning("voice: %s did not finish in %.0f s; stopped", wav, self._timeout_s)
                    proc.kill()
                    proc.wait()
                finally:
                    with self._lock:
                        self._procs.discard(proc)
                if proc.returncode:
                    log.warning("voice: %s exited %d playing %s", self._command[0], proc.returncode, wav)
            except OSError as e:
                log.warning("voice: cannot run %s: %s", self._command[0], e)
            finally:
                on_done()

        threading.Thread(target=run, name="voice player", daemon=True).start()

    def close(self) -> None:
        with self._lock:
            procs = list(self._procs)
        for proc in procs:
            with contextlib.suppress(OSError):
                proc.terminate()


AnnouncementCallback = Callable[[Announcement], None]


def _ignore(_: Announcement) -> None:
    return None


class AnnouncementQueue:
    """FIFO of announcements. The next starts only after the player reported the previous one finished, so a
    call is never cut off. Announcements older than `max_age_s` when their turn comes are dropped (shown,
    not spoken: a 3-minute-old call misleads more than it helps), and at most `max_backlog` wait.

    Thread-safe; callbacks run on whichever thread finished the previous item (the player's or the caller's).
    """

    def __init__(
        self,
        pack: VoicePack,
        player: VoicePlayer,
        clock: Clock,
        *,
        cache_dir: Path,
        languages: Sequence[str] = ("zh",),
        repeats: int = 2,
        max_age_s: float = 120.0,
        max_backlog: int = 20,
        on_start: AnnouncementCallback = _ignore,
        on_finish: AnnouncementCallback = _ignore,
        on_drop: AnnouncementCallback = _ignore,
    ) -> None:
        self._pack = pack
        self._player = player
        self._clock = clock
        self._cache_dir = cache_dir
        self._languages = tuple(languages)
        self._repeats = max(1, repeats)
        self._max_age_s = max_age_s
        self._max_backlog = max(1, max_backlog)
        self._on_start = on_start
        self._on_finish = on_finish
        self._on_drop = on_drop
        self._lock = threading.Lock()
        self._pending: deque[Announcement] = deque()
        self._playing: Announcement | None = None
        self._ids = itertools.count(1)

    @classmethod
    def from_config(
        cls,
        config: Voice,
        pack: VoicePack,
        player: VoicePlayer,
        clock: Clock,
        *,
        cache_dir: Path,
        **callbacks: AnnouncementCallback,
    ) -> AnnouncementQueue:
        return cls(
            pack,
            player,
            clock,
            cache_dir=cache_dir,
            languages=config.languages,
            repeats=config.repeats,
            max_age_s=config.max_age_s,
            max_backlog=config.max_backlog,
            **callbacks,
        )

    @property
    def playing(self) -> Announcement | None:
        return self._playing

    def pending(self) -> list[Announcement]:
        with self._lock:
            return list(self._pending)

    def announce_call(self, ticket: str, window: int) -> Announcement:
        """Queue "请A012号到12号窗口办理" in each configured language, repeated per config."""
        available = self._pack.keys()
        once: list[str] = []
        for lang in self._languages:
            if once:
                once.append(PAUSE)
            once += call_segments(ticket, window, lang, available)
        segments: list[str] = []
        for _ in range(self._repeats):
            if segments:
                segments.append(PAUSE)
            segments += once
        subtitle = " / ".join(call_subtitle(ticket, window, lang) for lang in self._languages)
        return self.enqueue(subtitle, segments)

    def enqueue(self, subtitle: str, segments: Sequence[str]) -> Announcement:
        missing = self._pack.missing(segments)
        if missing:
            # Fail at queueing time, where the caller can still show the subtitle alone.
            raise VoiceError(f"voice pack {self._pack.folder} lacks {', '.join(missing)}")
        item = Announcement(subtitle, tuple(segments), self._clock.monotonic(), next(self._ids))
        dropped: list[Announcement] = []
        with self._lock:
            self._pending.append(item)
            while len(self._pending) > self._max_backlog:
                dropped.append(self._pending.popleft())
        for old in dropped:
            log.warning("voice: backlog full, not speaking %r", old.subtitle)
            self._on_drop(old)
        self._pump()
        return item

    def _pump(self) -> None:
        while True:
            with self._lock:
                if self._playing is not None or not self._pending:
                    return
                item = self._pending.popleft()
                stale = self._clock.monotonic() - item.created > self._max_age_s
                if not stale:
                    self._playing = item
            if stale:
                log.info("voice: %r waited over %.0f s; shown, not spoken", item.subtitle, self._max_age_s)
                self._on_drop(item)
                continue
            try:
                wav = self._wav_for(item)
            except (VoiceError, OSError, wave.Error) as e:
                log.warning("voice: cannot build %r: %s", item.subtitle, e)
                with self._lock:
                    self._playing = None
                self._on_drop(item)
                continue
            self._on_start(item)
            done = threading.Event()

            def finished(item: Announcement = item, done: threading.Event = done) -> None:
                if done.is_set():
                    return  # a player that reports twice must not start two items at once
                done.set()
                with self._lock:
                    self._playing = None
                self._on_finish(item)
                self._pump()

            self._player.play(wav, finished)
            return

    def _wav_for(self, item: Announcement) -> Path:
        # The same call (a recall, the repeat of a busy window) reuses its file: joining costs disk I/O.
        digest = hashlib.sha256("\n".join(item.segments).encode()).hexdigest()[:16]
        out = self._cache_dir / f"{digest}.wav"
        if not out.exists():
            tmp = out.with_suffix(".tmp")
            self._pack.join(item.segments, tmp)
            tmp.replace(out)
        return out
