"""The event hub on the event loop: a ring of recent events with their frames encoded once, and the fan-out.

Each committed event is framed once (`wire.text_frame`) and the same bytes are handed to every subscriber
whose filter matches, no task per subscriber. Boards and counters (authenticated) are served first, at once.
Status-page phones that follow one ticket are indexed by ticket, so an event reaches the one phone it
concerns without testing thousands of filters, and a call (which every phone shows) goes to all of them —
through the phone lane: a FIFO worked off a few milliseconds per loop turn, so writing to 5,000 phones never
holds the loop (a call's reply, the next board update, a reconnect waiting for admission) for the ~50-80 ms
those sends take. The lane keeps each phone's frames in seq order. A subscriber buffers what it cannot write
at once and closes itself when too far behind (4008, `connection.py`): publishing never waits for a client.
"""

from __future__ import annotations

import asyncio
import time
from collections import deque
from collections.abc import Sequence
from itertools import islice
from typing import Protocol

from hallserver.eventlog import EventRecord, StreamFilter, heartbeat_text
from hallserver.stream.wire import text_frame

#: The seq a heartbeat is delivered with: never skipped as "already sent" (event seqs start at 1).
HEARTBEAT = 0


class Sink(Protocol):
    """A subscriber: what it wants and where the frames go."""

    @property
    def filter(self) -> StreamFilter: ...

    @property
    def owner(self) -> str:
        """The manager session it lives on, "" for a station's or a phone's stream."""
        ...

    def deliver(self, seq: int, frame: bytes) -> None:
        """Take one frame (an event's, or a heartbeat's with seq `HEARTBEAT`); never blocks, never raises."""

    def close(self, code: int, reason: str = "") -> None:
        """End the stream with this close code."""


def _phone_ticket(flt: StreamFilter) -> str:
    """The ticket of a status-page subscriber that filters on nothing else ("" for any other filter)."""
    only_ticket = not flt.authenticated and flt.ticket and flt.window is None and not flt.series
    return flt.ticket if only_ticket and not flt.zone else ""


#: Phone-lane work per loop turn (sends to phones are ~5-15 µs each on loopback).
LANE_BUDGET_S = 0.002
#: Below this many phones, a call goes to all of them at once (when the lane is idle).
LANE_DIRECT = 64


class Hub:
    def __init__(self, backlog_size: int, lane_budget_s: float = LANE_BUDGET_S) -> None:
        self.ring: deque[tuple[EventRecord, bytes]] = deque(maxlen=max(1, backlog_size))
        self.last_seq = 0
        self.published = 0
        # Served in this order: boards and counters, then other public filters, then phones.
        self.staff: set[Sink] = set()
        self.public: set[Sink] = set()
        self.phones: set[Sink] = set()
        self.by_ticket: dict[str, set[Sink]] = {}
        # The phone lane: (seq, frame, phones to write to), in seq order; `_lane_at` indexes into the first.
        self._lane: deque[tuple[int, bytes, Sequence[Sink]]] = deque()
        self._lane_at = 0
        self._lane_budget_s = lane_budget_s
        self._lane_scheduled = False

    @property
    def count(self) -> int:
        return len(self.staff) + len(self.public) + len(self.phones)

    def reset(self, seq: int, recent: list[EventRecord] | None = None) -> None:
        """At start: the store's last committed seq, and the events just before it (so clients that come
        back after a restart resume from memory); older events come from the database."""
        self.last_seq = seq
        self.ring.clear()
        for rec in recent or ():
            if rec.seq <= seq:
                self.ring.append((rec, text_frame(rec.text)))

    def resize(self, backlog_size: int) -> None:
        self.ring = deque(self.ring, maxlen=max(1, backlog_size))

    def subscribe(self, sink: Sink) -> None:
        flt = sink.filter
        ticket = _phone_ticket(flt)
        if ticket:
            self.phones.add(sink)
            self.by_ticket.setdefault(ticket, set()).add(sink)
        elif flt.authenticated:
            self.staff.add(sink)
        else:
            self.public.add(sink)

    def unsubscribe(self, sink: Sink) -> None:
        ticket = _phone_ticket(sink.filter)
        if ticket:
            self.phones.discard(sink)
            subs = self.by_ticket.get(ticket)
            if subs is not None:
                subs.discard(sink)
                if not subs:
                    del self.by_ticket[ticket]
        else:
            self.staff.discard(sink)
            self.public.discard(sink)

    def publish(self, records: list[EventRecord]) -> None:
        """Called on the loop after each commit, in seq order. A sink never unsubscribes while being
        delivered to (a drop defers it), so the sets are walked as they are."""
        for rec in records:
            frame = text_frame(rec.text)
            seq = rec.seq
            self.ring.append((rec, frame))
            self.last_seq = seq
            self.published += 1
            for sink in self.staff:
                if sink.filter.matches(rec):
                    sink.deliver(seq, frame)
            if not rec.public:
                continue
            # Unauthenticated subscribers get the event as a phone may see it (hallcore/public.py).
            frame = text_frame(rec.public_text)
            for sink in self.public:
                if sink.filter.matches(rec):
                    sink.deliver(seq, frame)
            if rec.is_call:
                self._to_phones(seq, frame, None)
            elif rec.ticket:
                mine = self.by_ticket.get(rec.ticket)
                if mine:
                    self._to_phones(seq, frame, tuple(mine))

    def heartbeat(self, at: str) -> None:
        frame = text_frame(heartbeat_text(self.last_seq, at))
        for subs in (self.staff, self.public):
            for sink in subs:
                sink.deliver(HEARTBEAT, frame)
        self._to_phones(HEARTBEAT, frame, None)

    # ---- the phone lane -------------------------------------------------------------------------------

    def _to_phones(self, seq: int, frame: bytes, phones: Sequence[Sink] | None) -> None:
        """`phones` None: every phone (as subscribed now; a phone that subscribes later had this event in
        its catch-up)."""
        if not self._lane and (phones is not None or len(self.phones) <= LANE_DIRECT):
            for sink in self.phones if phones is None else phones:
                sink.deliver(seq, frame)
            return
        if phones is None:
            if not self.phones:
                return
            phones = list(self.phones)
        self._lane.append((seq, frame, phones))
        if not self._lane_scheduled:
            self._lane_scheduled = True
            asyncio.get_running_loop().call_soon(self._work_lane)

    def _work_lane(self) -> None:
        deadline = time.perf_counter() + self._lane_budget_s
        lane = self._lane
        while lane:
            seq, frame, phones = lane[0]
            i, n = self._lane_at, len(phones)
            while i < n:
                end = min(n, i + 32)
                while i < end:
                    phones[i].deliver(seq, frame)
                    i += 1
                if time.perf_counter() > deadline and (i < n or len(lane) > 1):
                    self._lane_at = i if i < n else 0
                    if i >= n:
                        lane.popleft()
                    asyncio.get_running_loop().call_soon(self._work_lane)
                    return
            lane.popleft()
            self._lane_at = 0
        self._lane_scheduled = False

    @property
    def lane_backlog(self) -> int:
        """Phone writes still waiting in the lane (for tests and /api/health)."""
        return sum(len(p) for _s, _f, p in self._lane) - self._lane_at

    def covers(self, since: int) -> bool:
        """True when every event after `since` is still in memory."""
        if since >= self.last_seq:
            return True
        return bool(self.ring) and self.ring[0][0].seq <= since + 1

    def after(self, since: int) -> list[tuple[EventRecord, bytes]]:
        """The ring's events after `since` (call only when `covers(since)`)."""
        if not self.ring or since >= self.last_seq:
            return []
        first = self.ring[0][0].seq
        # Seqs in the ring are contiguous, so the index is arithmetic; islice avoids copying the rest.
        return list(islice(self.ring, max(0, since + 1 - first), None))

    def owned(self) -> list[Sink]:
        """The streams that live on a manager session (authenticated, so among the staff's)."""
        return [sink for sink in self.staff if sink.owner]

    def all(self) -> list[Sink]:
        return [*self.staff, *self.public, *self.phones]
