"""Voice calling on the display: calls go into `drivers.voice.AnnouncementQueue` (in order, never cut off,
bounded backlog, stale calls dropped and logged), and the text being spoken is reported as a subtitle.

The queue calls back on whichever thread finished the previous announcement (the player's); `post` moves
those callbacks to the UI thread (the bridge provides it), so the flow and the widgets are only ever touched
there. Without a player or a voice pack the display still works: calls are shown, not spoken, and the board
says why voice is off.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable
from pathlib import Path

from drivers.protocols import VoicePlayer
from drivers.voice import (
    SEGMENT_TEXTS,
    Announcement,
    AnnouncementQueue,
    AplayPlayer,
    VoiceError,
    VoicePack,
    call_segments,
)
from hallcore.clock import Clock
from hallcore.config import Voice

log = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]
SubtitleCallback = Callable[[str], None]


def _direct(fn: Callable[[], None]) -> None:
    fn()


def _ignore(_: str) -> None:
    return None


class VoiceCaller:
    """Reads calls out; the subtitle callbacks (`listen`) run through `post`."""

    def __init__(
        self,
        config: Voice,
        pack: VoicePack,
        player: VoicePlayer,
        clock: Clock,
        *,
        cache_dir: Path,
        post: Post = _direct,
    ) -> None:
        self._post = post
        self._on_start: SubtitleCallback = _ignore
        self._on_finish: SubtitleCallback = _ignore
        self.started: list[Announcement] = []
        self.dropped: list[Announcement] = []
        self.queue = AnnouncementQueue.from_config(
            config,
            pack,
            player,
            clock,
            cache_dir=cache_dir,
            on_start=self._started,
            on_finish=self._finished,
            on_drop=self._dropped,
        )

    def listen(self, on_start: SubtitleCallback, on_finish: SubtitleCallback) -> None:
        """Who shows the subtitle: `on_start(text)` when an announcement starts, `on_finish(text)` after."""
        self._on_start, self._on_finish = on_start, on_finish

    def announce(self, label: str, window: int) -> Announcement | None:
        """Queue one call; None (and logged) when the pack cannot say it: the call is still on the board."""
        try:
            item = self.queue.announce_call(label, window)
        except VoiceError as e:
            log.warning("voice: cannot announce %s to window %d: %s", label, window, e)
            return None
        log.info("voice: queued %r", item.subtitle)  # what was said when, for whoever reads the journal
        return item

    def _started(self, item: Announcement) -> None:
        self.started.append(item)
        self._post(lambda: self._on_start(item.subtitle))

    def _finished(self, item: Announcement) -> None:
        self._post(lambda: self._on_finish(item.subtitle))

    def _dropped(self, item: Announcement) -> None:
        # AnnouncementQueue logged why (too old, backlog full, unbuildable).
        self.dropped.append(item)


def pack_problem(pack: VoicePack, languages: tuple[str, ...]) -> str:
    """What the pack lacks to say every call in `languages` (for the board and the log); "" if nothing."""
    needed: set[str] = set()
    for lang in languages:
        needed.update(call_segments("A012", 1, lang))
        needed.update(k for k in SEGMENT_TEXTS if k.startswith(f"{lang}/"))
    missing = pack.missing(needed)
    if missing:
        return f"voice pack {pack.folder} lacks {len(missing)} segments (e.g. {missing[0]})"
    return ""


def ensure_pack(folder: Path, languages: tuple[str, ...]) -> str:
    """Fill a pack's gaps with espeak-ng (set-up time, minutes at most); returns what is still wrong."""
    pack = VoicePack(folder)
    problem = pack_problem(pack, languages)
    if not problem:
        return ""
    if shutil.which("espeak-ng") is None:
        return f"{problem}; espeak-ng is not installed to generate it"
    keys = [k for k in SEGMENT_TEXTS if k.split("/", 1)[0] in languages]
    try:
        from drivers.voice import generate_pack

        generate_pack(folder, keys=keys)
    except (VoiceError, OSError) as e:
        return f"cannot generate the voice pack in {folder}: {e}"
    return pack_problem(pack, languages)


def build_player() -> tuple[VoicePlayer | None, str]:
    """The sound output: aplay (ALSA) or sox's play; (None, why) when neither is installed."""
    try:
        return AplayPlayer(), ""
    except VoiceError as e:
        return None, str(e)
