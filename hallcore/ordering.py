"""The waiting lines and the call order, kept in heaps so a call stays O(log n) in the number waiting.

Each series (and each window, for tickets transferred to it by name) has one `Line`: a heap per priority rank
ordered by the ticket's position key, and one heap of everyone ordered by the time they joined the queue, used
for anti-starvation. Entries are never removed in place: a ticket that leaves the line bumps its `qtoken`, and
stale heap tops are dropped lazily when they surface (amortised O(log n)).
"""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from hallcore.model import Ticket, TicketState

#: Rank of tickets without a priority class: after every class.
NORMAL_RANK = 1_000_000

_Entry = tuple[tuple[float, int, int], str, int]  # (key, ticket id, qtoken)
_SinceEntry = tuple[float, tuple[float, int, int], str, int]  # (since timestamp, key, ticket id, qtoken)


@dataclass(slots=True)
class Line:
    by_rank: dict[int, list[_Entry]] = field(default_factory=dict)
    by_since: list[_SinceEntry] = field(default_factory=list)
    count: int = 0
    rank_counts: dict[int, int] = field(default_factory=dict)

    def push(self, ticket: Ticket, rank: int) -> None:
        heapq.heappush(self.by_rank.setdefault(rank, []), (ticket.key, ticket.id, ticket.qtoken))
        heapq.heappush(self.by_since, (ticket.since.timestamp(), ticket.key, ticket.id, ticket.qtoken))
        self.count += 1
        self.rank_counts[rank] = self.rank_counts.get(rank, 0) + 1

    def removed(self, rank: int) -> None:
        """Account for a ticket that left this line (its heap entries go stale with its qtoken)."""
        self.count -= 1
        self.rank_counts[rank] -= 1

    def ahead_of_new(self, rank: int) -> int:
        """How many in this line a ticket of `rank` joining now would have before it."""
        return sum(n for r, n in self.rank_counts.items() if r <= rank)


_WAITING = TicketState.WAITING  # a module constant: Enum attribute access is slow on this hot path


def _valid(tickets: Mapping[str, Ticket], tid: str, qtoken: int) -> bool:
    t = tickets.get(tid)
    return t is not None and t.state is _WAITING and t.qtoken == qtoken


def top_of_rank(line: Line, rank: int, tickets: Mapping[str, Ticket]) -> Ticket | None:
    heap = line.by_rank.get(rank)
    while heap:
        _key, tid, tok = heap[0]
        if _valid(tickets, tid, tok):
            return tickets[tid]
        heapq.heappop(heap)
    return None


def top(line: Line, tickets: Mapping[str, Ticket], *, normal_only: bool = False) -> tuple[Ticket, int] | None:
    """The first ticket of the line by (rank, key), with its rank."""
    if line.count <= 0:
        return None
    ranks = (NORMAL_RANK,) if normal_only else sorted(r for r, n in line.rank_counts.items() if n > 0)
    for rank in ranks:
        if line.rank_counts.get(rank, 0) <= 0:
            continue
        t = top_of_rank(line, rank, tickets)
        if t is not None:
            return t, rank
    return None


def oldest(line: Line, tickets: Mapping[str, Ticket]) -> Ticket | None:
    """The ticket that joined the queue first (for anti-starvation)."""
    heap = line.by_since
    while heap:
        _since, _key, tid, tok = heap[0]
        if _valid(tickets, tid, tok):
            return tickets[tid]
        heapq.heappop(heap)
    return None


def iter_waiting(line: Line, tickets: Mapping[str, Ticket]) -> Iterator[tuple[int, Ticket]]:
    """Every valid waiting ticket of the line with its rank (unordered; O(size of the heaps))."""
    for rank, heap in line.by_rank.items():
        for _key, tid, tok in heap:
            if _valid(tickets, tid, tok):
                yield rank, tickets[tid]


def order_of(
    line: Line, tickets: Mapping[str, Ticket], now: dt.datetime, aging_s: float | None
) -> list[Ticket]:
    """The line in the order it would be called if nobody else arrived (aging applied as of `now`)."""
    items = list(iter_waiting(line, tickets))
    limit = now.timestamp() - aging_s if aging_s is not None else None

    def sort_key(item: tuple[int, Ticket]) -> tuple[int, float, int, tuple[float, int, int]]:
        rank, t = item
        since = t.since.timestamp()
        if limit is not None and since <= limit:
            return (0, since, 0, t.key)
        return (1, 0.0, rank, t.key)

    items.sort(key=sort_key)
    return [t for _rank, t in items]
