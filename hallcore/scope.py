"""Which tickets a window may act on (DESIGN.md §9 least privilege): a counter or desk station acts only for
the window its clerk is logged in at, and on a ticket only where that window has a part in it.

- rate: the window that served the ticket (the pad at that window is the one the citizen used);
- re-queue a no-show: the window that called it;
- cancel: a ticket this window holds or could call — waiting in a series it serves (its own, or a partner's
  it has taken over, A/B岗), or transferred to it by name.

Managers act on any ticket; the server does not ask this module for them.
"""

from __future__ import annotations

import datetime as dt

from hallcore.engine import Engine, lookups
from hallcore.text import Problem

#: Ticket actions a window's clerk takes on a ticket rather than on the window.
RATE, REQUEUE, CANCEL = "rate", "requeue", "cancel"


def served_series(engine: Engine, window: int) -> frozenset[str]:
    """The series `window` calls from now: its own, and those of the partners it covers."""
    w = engine.config.window_by_number.get(window)
    if w is None:
        return frozenset()
    out = set(w.series)
    for partner in engine.windows[window].taken_over:
        p = engine.config.window_by_number.get(partner)
        if p is not None:
            out.update(p.series)
    return frozenset(out)


def ticket_problem(engine: Engine, window: int, action: str, ref: str, now: dt.datetime) -> Problem | None:
    """Why `window` may not `action` the ticket `ref`, or None (also None for an unknown ticket: the command
    itself answers that it does not exist)."""
    t = lookups.find_ticket(engine, ref, now)
    if t is None:
        return None
    if action in (RATE, REQUEUE):
        if t.window == window:
            return None
        where = f"{t.window} 号窗口" if t.window is not None else "其他窗口"
        doing = ("评价", "rated") if action == RATE else ("重新排队", "re-queued")
        return Problem(
            f"{t.label} 由{where}办理，只能在该窗口{doing[0]}",
            f"{t.label} was at window {t.window}: only that window may have it {doing[1]}",
        )
    if window in (t.window, t.target_window) or t.series in served_series(engine, window):
        return None
    return Problem(
        f"{t.label} 不属于 {window} 号窗口办理的队列",
        f"{t.label} is not in a queue window {window} serves",
    )
