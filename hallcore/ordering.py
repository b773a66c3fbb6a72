"""The waiting lines and the call order (DESIGN.md §4 "Order"), kept in heaps so a call stays O(log n).

Every waiting ticket has an order key: its effective time − its class's head start (`order_key`). A window
calls the smallest key among the lines it serves (`choose`), with two exceptions, both bounded so that nobody
starves: an *absolute* class goes first, at most N times in a row; a window with *strict series order* takes
its series in the order listed. Neither may pass a ticket whose effective time is more than the longest head
start before the one it would call; then the smallest key goes. The smallest key itself never passes anyone by
more than that: key(x) <= key(y) means eff(x) − eff(y) <= head start(x) − head start(y).

A booking checked in before its slot waits with no head start until the slot starts; then its effective time
is the slot start and its head start applies. It sits in the line's `due` heap until then, and `promote` moves
it.

Each series (and each window, for tickets transferred to it by name) has one `Line`. Entries are never removed
in place: a ticket that leaves bumps its `qtoken`, and stale heap tops are dropped when they surface
(amortised O(log n)).
"""

from __future__ import annotations

import heapq
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum

from hallcore.model import Ticket, TicketState

#: (key, issue seq, re-queue seq, ticket id, qtoken, phase, effective time): phase 1 is a booking promoted at
#: its slot start, 0 everything else. Keys and times are POSIX seconds.
Entry = tuple[float, int, int, str, int, int, float]
#: (effective time, issue seq, re-queue seq, ticket id, qtoken)
_SinceEntry = tuple[float, int, int, str, int]
#: (slot start, key from then, issue seq, re-queue seq, ticket id, qtoken, absolute)
_DueEntry = tuple[float, float, int, int, str, int, bool]

_WAITING = TicketState.WAITING  # a module constant: Enum attribute access is slow on this hot path


def order_key(effective_s: float, head_start_s: float) -> float:
    """The order key: the effective time moved earlier by the head start."""
    return effective_s - head_start_s


@dataclass(slots=True)
class Line:
    others: list[Entry] = field(default_factory=list)  # by key, every ticket not of an absolute class
    absolute: list[Entry] = field(default_factory=list)  # by key, the absolute-class tickets
    by_since: list[_SinceEntry] = field(default_factory=list)
    due: list[_DueEntry] = field(default_factory=list)
    promoted: dict[str, int] = field(default_factory=dict)  # ticket id -> qtoken of promoted bookings
    count: int = 0

    def push(
        self,
        t: Ticket,
        key: float,
        *,
        absolute: bool,
        due: tuple[float, float] | None = None,
    ) -> None:
        """Add a waiting ticket with its key now; `due` = (slot start, key from then) for an early booking
        (its key until then has no head start and it is not absolute before its slot)."""
        since = t.since.timestamp()
        _k, seq, rq = t.key
        entry: Entry = (key, seq, rq, t.id, t.qtoken, 0, since)
        heapq.heappush(self.absolute if due is None and absolute else self.others, entry)
        if due is not None:
            heapq.heappush(self.due, (due[0], due[1], seq, rq, t.id, t.qtoken, absolute))
        heapq.heappush(self.by_since, (since, seq, rq, t.id, t.qtoken))
        self.count += 1

    def removed(self, tid: str) -> None:
        """Account for a ticket that left this line (its heap entries go stale with its qtoken)."""
        self.count -= 1
        self.promoted.pop(tid, None)

    def promote(self, now_s: float, tickets: Mapping[str, Ticket]) -> None:
        """Bookings whose slot has started take their key from the slot start (idempotent for a given now)."""
        due = self.due
        while due and due[0][0] <= now_s:
            slot, key, seq, rq, tid, tok, absolute = heapq.heappop(due)
            t = tickets.get(tid)
            if t is None or t.state is not _WAITING or t.qtoken != tok:
                continue
            self.promoted[tid] = tok
            entry: Entry = (key, seq, rq, tid, tok, 1, slot)
            heapq.heappush(self.absolute if absolute else self.others, entry)

    def valid(self, entry: Entry, tickets: Mapping[str, Ticket]) -> bool:
        _k, _s, _r, tid, tok, phase, _e = entry
        t = tickets.get(tid)
        if t is None or t.state is not _WAITING or t.qtoken != tok:
            return False
        return phase == 1 or self.promoted.get(tid) != tok

    def first(self, heap: list[Entry], tickets: Mapping[str, Ticket]) -> Entry | None:
        while heap:
            if self.valid(heap[0], tickets):
                return heap[0]
            heapq.heappop(heap)
        return None

    def oldest(self, tickets: Mapping[str, Ticket]) -> float | None:
        """The earliest effective time waiting (a lower bound: a promoted booking counts its check-in
        time)."""
        heap = self.by_since
        while heap:
            since, _s, _r, tid, tok = heap[0]
            t = tickets.get(tid)
            if t is not None and t.state is _WAITING and t.qtoken == tok:
                return since
            heapq.heappop(heap)
        return None

    def entries(self, tickets: Mapping[str, Ticket]) -> Iterator[Entry]:
        """Every waiting ticket's entry, once each, unordered (O(size of the heap))."""
        for heap in (self.others, self.absolute):
            for entry in heap:
                if self.valid(entry, tickets):
                    yield entry

    def count_before(self, bound: tuple[float, int, int], tickets: Mapping[str, Ticket]) -> int:
        """Waiting tickets with a key before `bound` (key, seq, re-queue seq): a walk of the heap that skips
        every subtree starting later, so it costs O(those counted + stale)."""
        n = 0
        for heap in (self.others, self.absolute):
            todo = [0] if heap else []
            while todo:
                i = todo.pop()
                entry = heap[i]
                if entry[:3] >= bound:
                    continue
                if self.valid(entry, tickets):
                    n += 1
                todo.extend(c for c in (2 * i + 1, 2 * i + 2) if c < len(heap))
        return n


# ---- the choice
# ---------------------------------------------------------------------------------------------


class Rule(Enum):
    KEY = "key"  # the smallest key
    ABSOLUTE = "absolute"  # an absolute class within its run limit
    STRICT = "strict"  # the first series in a strict window's order


@dataclass(slots=True)
class Head:
    """The front of one line as a window sees it."""

    first_other: Entry | None  # the smallest key not of an absolute class
    first_absolute: Entry | None
    oldest: float | None  # the earliest effective time waiting (a lower bound)


@dataclass(frozen=True, slots=True)
class WindowRules:
    """How one window chooses: its series in strict order or merged, the absolute run limit, the bound."""

    strict: bool
    in_row: int  # absolute calls in a row at most
    bound_s: float  # nobody is passed by someone who came more than this after them: the longest head start


@dataclass(frozen=True, slots=True)
class Choice:
    line: int  # index into the heads
    entry: Entry
    rule: Rule
    absolute_held_back: bool  # an absolute ticket waited but the run limit gave another one its turn


def _first(h: Head) -> Entry | None:
    if h.first_other is None:
        return h.first_absolute
    if h.first_absolute is None:
        return h.first_other
    return min(h.first_other, h.first_absolute)


def choose(heads: Sequence[Head], rules: WindowRules, streak: int) -> Choice | None:
    """Which entry a window takes from the fronts of its lines (in the window's series order).

    An absolute ticket goes first unless `rules.in_row` absolute calls (`streak`) were just made; then the
    others' turn (by key) comes once. A strict window takes its lines in order. Neither may call a ticket
    whose effective time is more than `rules.bound_s` after someone waiting; then the smallest key of all
    goes, which never does.
    """
    firsts = [(e, i) for i, h in enumerate(heads) if (e := _first(h)) is not None]
    if not firsts:
        return None
    oldest = min((h.oldest for h in heads if h.oldest is not None), default=None)

    def within(entry: Entry) -> bool:
        return oldest is None or entry[6] - oldest <= rules.bound_s

    absolutes = [(h.first_absolute, i) for i, h in enumerate(heads) if h.first_absolute is not None]
    others = [(h.first_other, i) for i, h in enumerate(heads) if h.first_other is not None]
    held_back = False
    pool = firsts
    if absolutes:
        entry, i = min(absolutes)
        if streak < rules.in_row:
            if within(entry):
                return Choice(i, entry, Rule.ABSOLUTE, False)
        elif others:
            held_back = True
            pool = others
    if rules.strict:
        entry, i = pool[0]
        if within(entry):
            return Choice(i, entry, Rule.STRICT, held_back)
    entry, i = min(pool)
    if not within(entry):
        entry, i = min(firsts)
    return Choice(i, entry, Rule.KEY, held_back)


def pick_from(
    lines: Sequence[Line], tickets: Mapping[str, Ticket], now_s: float, rules: WindowRules, streak: int
) -> Choice | None:
    """The choice of a window over its live lines now (promotes bookings whose slot has started)."""
    heads = []
    for line in lines:
        if line.count <= 0:
            heads.append(Head(None, None, None))
            continue
        line.promote(now_s, tickets)
        heads.append(
            Head(line.first(line.others, tickets), line.first(line.absolute, tickets), line.oldest(tickets))
        )
    return choose(heads, rules, streak)


def call_order(
    lines: Sequence[Line], tickets: Mapping[str, Ticket], now_s: float, rules: WindowRules, streak: int
) -> list[tuple[Ticket, Choice]]:
    """Every waiting ticket of `lines` in the order `choose` would call them if nobody else arrived."""
    others: list[list[Entry]] = []
    absolute: list[list[Entry]] = []
    for line in lines:
        if line.count > 0:
            line.promote(now_s, tickets)
        others.append(sorted(e for e in line.others if line.valid(e, tickets)))
        absolute.append(sorted(e for e in line.absolute if line.valid(e, tickets)))
    sorted_lines = [o + a for o, a in zip(others, absolute, strict=True)]
    # The same lower bound of the effective time as `Line.oldest`: a promoted booking counts its check-in.
    since = [sorted((tickets[e[3]].since.timestamp(), e[3]) for e in entries) for entries in sorted_lines]
    optr = [0] * len(lines)
    aptr = [0] * len(lines)
    sptr = [0] * len(lines)
    taken: set[str] = set()
    out: list[tuple[Ticket, Choice]] = []
    total = sum(len(x) for x in sorted_lines)
    while len(out) < total:
        heads = []
        for j in range(len(lines)):
            while optr[j] < len(others[j]) and others[j][optr[j]][3] in taken:
                optr[j] += 1
            while aptr[j] < len(absolute[j]) and absolute[j][aptr[j]][3] in taken:
                aptr[j] += 1
            while sptr[j] < len(since[j]) and since[j][sptr[j]][1] in taken:
                sptr[j] += 1
            heads.append(
                Head(
                    others[j][optr[j]] if optr[j] < len(others[j]) else None,
                    absolute[j][aptr[j]] if aptr[j] < len(absolute[j]) else None,
                    since[j][sptr[j]][0] if sptr[j] < len(since[j]) else None,
                )
            )
        choice = choose(heads, rules, streak)
        assert choice is not None
        taken.add(choice.entry[3])
        streak = streak + 1 if choice.rule is Rule.ABSOLUTE else 0
        out.append((tickets[choice.entry[3]], choice))
    return out
