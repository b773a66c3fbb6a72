"""What the reply builders of `hallcore.replies` need from the server: the recent call events, decoded once.

The server keeps the last calls as the JSON texts it broadcast; snapshots and status pages send them as
`TicketChanged` events. Decoding is memoised per text, so a status page polled by thousands of phones does
not decode the same twenty events again on every request.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Iterable
from typing import Any

from hallcore import replybuilders as build
from hallcore.codec import encode
from hallcore.engine import Engine
from hallcore.events import TicketChanged, decode_event
from hallcore.model import Ticket

_MEMO_SIZE = 256
_memo: OrderedDict[str, TicketChanged] = OrderedDict()
_memo_lock = threading.Lock()  # snapshots are built on the writer thread, status pages on the loop


def call_events(texts: Iterable[str]) -> list[TicketChanged]:
    """The stored call texts as events (oldest first); a text that is not a call event is skipped."""
    out = []
    for text in texts:
        with _memo_lock:
            ev = _memo.get(text)
        if ev is None:
            decoded, _seq = decode_event(text)
            if not isinstance(decoded, TicketChanged):
                continue
            ev = decoded
            with _memo_lock:
                _memo[text] = ev
                if len(_memo) > _MEMO_SIZE:
                    _memo.popitem(last=False)
        out.append(ev)
    return out


def ticket_status_json(engine: Engine, t: Ticket, now: Any, calls: list[TicketChanged]) -> dict[str, Any]:
    """The status reply as a dict, for the phone page's richer `/web/api/status` (it adds a few keys)."""
    body: dict[str, Any] = encode(build.ticket_status(engine, t, now, calls))
    return body
