"""The announcement queue (an `Announcer`): calls read out in turn, never cut off, stale ones dropped."""

from __future__ import annotations

import hashlib
import itertools
import logging
import threading
import wave
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from drivers.protocols import Announcement, AnnouncementCallback, VoiceError, VoicePlayer
from drivers.voice.pack import PAUSE, VoicePack
from drivers.voice.wording import call_segments, call_subtitle
from hallcore.clock import Clock
from hallcore.config import Voice

log = logging.getLogger(__name__)


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

    def listen(
        self, on_start: AnnouncementCallback, on_finish: AnnouncementCallback, on_drop: AnnouncementCallback
    ) -> None:
        """Who hears when an announcement starts, ends or is dropped (replaces the callbacks given first)."""
        with self._lock:
            self._on_start, self._on_finish, self._on_drop = on_start, on_finish, on_drop

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
