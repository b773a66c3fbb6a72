"""The event hub on the event loop: the in-memory backlog for resume, and bounded per-subscriber buffers.

A subscriber that falls `queue_limit` messages behind is marked dropped (its stream closes with 4008 and the
client resumes with `since`): publishing never waits for any one client, so a slow phone cannot slow a board.
"""

from __future__ import annotations

import asyncio
from collections import deque

from hallserver.eventlog import EventRecord, StreamFilter, heartbeat_text

#: Marks a heartbeat in a subscriber's buffer: never skipped as "already sent".
HEARTBEAT = -1


class Subscriber:
    __slots__ = ("closed", "dropped", "filter", "limit", "pending", "sender", "wake")

    def __init__(self, flt: StreamFilter, limit: int) -> None:
        self.filter = flt
        self.limit = limit
        self.pending: deque[tuple[int, str]] = deque()
        self.wake = asyncio.Event()
        self.dropped = False
        self.closed = False
        # The task sending to this client: cancelled on drop, since it may be blocked in a send that waits
        # for a peer that stopped reading (the transport's write buffer is full).
        self.sender: asyncio.Task[None] | None = None

    def push(self, seq: int, text: str) -> None:
        if self.dropped:
            return
        if len(self.pending) >= self.limit:
            self.dropped = True
            self.pending.clear()
            if self.sender is not None:
                self.sender.cancel()
        else:
            self.pending.append((seq, text))
        self.wake.set()

    def close(self) -> None:
        self.closed = True
        self.wake.set()


class Hub:
    def __init__(self, backlog_size: int, queue_limit: int = 1024) -> None:
        self.backlog: deque[EventRecord] = deque(maxlen=max(1, backlog_size))
        self.last_seq = 0
        self.queue_limit = queue_limit
        # Screens and counters (authenticated) are served before status-page phones: a fan-out wakes the
        # sending tasks in the order pushed, so with 5,000 phones the board still hears the call first.
        self.staff: set[Subscriber] = set()
        self.public: set[Subscriber] = set()
        self.published = 0

    @property
    def subscribers(self) -> set[Subscriber]:
        return self.staff | self.public

    def reset(self, seq: int) -> None:
        """At start: the store's last committed seq (older events come from the database)."""
        self.last_seq = seq
        self.backlog.clear()

    def subscribe(self, flt: StreamFilter) -> Subscriber:
        sub = Subscriber(flt, self.queue_limit)
        (self.staff if flt.authenticated else self.public).add(sub)
        return sub

    def unsubscribe(self, sub: Subscriber) -> None:
        self.staff.discard(sub)
        self.public.discard(sub)

    def publish(self, records: list[EventRecord]) -> None:
        """Called on the loop after each commit, in seq order."""
        for rec in records:
            self.backlog.append(rec)
            self.last_seq = rec.seq
            self.published += 1
            for sub in self.staff:
                if sub.filter.matches(rec):
                    sub.push(rec.seq, rec.text)
            if rec.public:
                for sub in self.public:
                    if sub.filter.matches(rec):
                        sub.push(rec.seq, rec.text)

    def heartbeat(self, at: str) -> None:
        text = heartbeat_text(self.last_seq, at)
        for subs in (self.staff, self.public):
            for sub in subs:
                sub.push(HEARTBEAT, text)

    def covers(self, since: int) -> bool:
        """True when every event after `since` is still in memory."""
        if since >= self.last_seq:
            return True
        return bool(self.backlog) and self.backlog[0].seq <= since + 1

    def after(self, since: int) -> list[EventRecord]:
        if not self.backlog or since >= self.last_seq:
            return []
        first = self.backlog[0].seq
        start = max(0, since + 1 - first)
        # Seqs in the backlog are contiguous, so the index is arithmetic; islice avoids copying the rest.
        from itertools import islice

        return list(islice(self.backlog, start, None))

    def close_all(self) -> None:
        for sub in self.subscribers:
            sub.close()
