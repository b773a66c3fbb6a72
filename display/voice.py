"""Voice calling on the display: calls go to an `Announcer` (`drivers.factory.build_voice`: in order, never
cut off, bounded backlog, stale calls dropped and logged), and the text being spoken is shown as a subtitle.

The announcer calls back on whichever thread finished the previous announcement (the player's); `post` moves
those callbacks to the UI thread (the bridge provides it), so the flow and the widgets are only ever touched
there. Without a player or a voice pack the display still works: calls are shown, not spoken, and the board
says why voice is off.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from drivers.protocols import Announcement, Announcer, VoiceError

log = logging.getLogger(__name__)

Post = Callable[[Callable[[], None]], None]
SubtitleCallback = Callable[[str], None]


def _direct(fn: Callable[[], None]) -> None:
    fn()


def _ignore(_: str) -> None:
    return None


class VoiceCaller:
    """Reads calls out; the subtitle callbacks (`listen`) run through `post`."""

    def __init__(self, announcer: Announcer, *, post: Post = _direct) -> None:
        self._post = post
        self._on_start: SubtitleCallback = _ignore
        self._on_finish: SubtitleCallback = _ignore
        self.started: list[Announcement] = []
        self.dropped: list[Announcement] = []
        self.announcer = announcer
        announcer.listen(self._started, self._finished, self._dropped)

    def listen(self, on_start: SubtitleCallback, on_finish: SubtitleCallback) -> None:
        """Who shows the subtitle: `on_start(text)` when an announcement starts, `on_finish(text)` after."""
        self._on_start, self._on_finish = on_start, on_finish

    def announce(self, label: str, window: int) -> Announcement | None:
        """Queue one call; None (and logged) when the pack cannot say it: the call is still on the board."""
        try:
            item = self.announcer.announce_call(label, window)
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
        # The announcer logged why (too old, backlog full, unbuildable).
        self.dropped.append(item)
