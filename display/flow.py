"""The hall display's state machine: what the board shows and what is to be announced, from hall events.

Pure: no Qt, no I/O, time from an injected `Clock`. `DisplayFlow.apply` takes one stream item (event,
snapshot, heartbeat) and returns the calls to announce; `state()` is everything the board and the hall LED
board draw, as one frozen value, so a view can only show what the flow decided.

Rules kept here:
- A zone display keeps only calls to windows of its zone (calls are broadcast to every filtered feed).
- A recall moves the ticket back to the top and is announced again.
- A call older than `speak_max_age_s` when it reaches the display (missed during a disconnect, replayed
  after a resync) is shown but not spoken, and logged: an old call read out sends people to a window that
  has long moved on.
- The board never shows stale data as live: once the event stream has been down for `stale_after_s` (or
  says OFFLINE) the state is `stale` and the view replaces the calls with a notice saying so.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import deque
from dataclasses import dataclass, field
from enum import StrEnum

from hallclient.types import ConnectionState, EventItem, HallSnapshot, Heartbeat, StreamItem
from hallcore.clock import Clock
from hallcore.config import HallConfig
from hallcore.events import TicketChanged, TicketIssued, WindowChanged
from hallcore.privacy import mask_name
from hallui.waits import scaled_estimate

log = logging.getLogger(__name__)

CALL_ACTIONS = frozenset({"called", "recalled"})


class Screen(StrEnum):
    STARTING = "starting"  # config read, no data from the server yet
    ENROLLING = "enrolling"  # showing the enrollment code until the manager approves
    BOARD = "board"


@dataclass(frozen=True, slots=True)
class CallRow:
    """One call as the board shows it; `holder` is a masked name, "" unless the hall shows names."""

    label: str
    window: int
    window_name: str
    matter_name: str = ""
    holder: str = ""
    at: dt.datetime | None = None
    recall: bool = False
    seq: int = 0


@dataclass(frozen=True, slots=True)
class SeriesRow:
    """Waiting count of a series and the wait range a ticket taken now would be given (None: no estimate)."""

    prefix: str
    name: str
    name_en: str
    waiting: int
    low_min: int | None = None
    high_min: int | None = None


@dataclass(frozen=True, slots=True)
class Announce:
    """A call to read out."""

    label: str
    window: int
    recall: bool = False


@dataclass(frozen=True, slots=True)
class BoardState:
    screen: Screen
    hall_name: str
    zone_name: str
    notice: str
    now: dt.datetime
    latest: CallRow | None
    recent: tuple[CallRow, ...]  # newest first, `latest` excluded
    series: tuple[SeriesRow, ...]
    connection: ConnectionState
    data_age_s: float | None
    stale: bool
    stale_for_s: float
    last_update: dt.datetime | None
    subtitle: str
    enroll_code: str = ""
    enroll_fingerprint: str = ""  # the pinned hall CA's short fingerprint, shown beside the code
    enroll_revoked: bool = False
    voice_problem: str = ""
    series_page: int = 0  # turns every few seconds; the view shows page `series_page % pages` of the tiles


@dataclass(slots=True)
class _Estimate:
    low: int | None
    high: int | None
    ahead: int


@dataclass
class DisplayFlow:
    """The board's state. `recent_size` calls are kept (the newest plus the list)."""

    config: HallConfig
    clock: Clock
    zone: str = ""
    tz: dt.tzinfo = dt.UTC
    recent_size: int = 9
    speak_max_age_s: float = 120.0
    stale_after_s: float = 30.0
    _calls: deque[CallRow] = field(init=False)
    _waiting: dict[str, int] = field(init=False, default_factory=dict)
    _estimates: dict[str, _Estimate] = field(init=False, default_factory=dict)
    _screen: Screen = field(init=False, default=Screen.STARTING)
    _connection: ConnectionState = field(init=False, default=ConnectionState.CONNECTING)
    _lost_at: float | None = field(init=False, default=None)
    _data_age_s: float | None = field(init=False, default=None)
    _last_update: dt.datetime | None = field(init=False, default=None)
    _subtitle: str = field(init=False, default="")
    _enroll_code: str = field(init=False, default="")
    _enroll_fingerprint: str = field(init=False, default="")
    _enroll_revoked: bool = field(init=False, default=False)
    _voice_problem: str = field(init=False, default="")
    _series_page: int = field(init=False, default=0)
    _zone_windows: frozenset[int] = field(init=False)
    _zone_series: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        self._calls = deque(maxlen=self.recent_size)
        windows = [w for w in self.config.windows if not self.zone or w.zone == self.zone]
        self._zone_windows = frozenset(w.number for w in windows)
        served = {s for w in windows for s in w.series}
        self._zone_series = tuple(s.prefix for s in self.config.series if s.prefix in served)
        self._lost_at = self.clock.monotonic()

    # ---- what the board shows --------------------------------------------------------------------------

    def state(self) -> BoardState:
        calls = tuple(self._calls)
        zone_name = ""
        if self.zone:
            zone_name = next((z.name for z in self.config.zones if z.id == self.zone), self.zone)
        stale_for = self._stale_for()
        return BoardState(
            screen=self._screen,
            hall_name=self.config.hall.name,
            zone_name=zone_name,
            notice=self.config.hall.notice,
            now=self.clock.now().astimezone(self.tz),
            latest=calls[0] if calls else None,
            recent=calls[1:],
            series=self._series_rows(),
            connection=self._connection,
            data_age_s=self._data_age_s,
            stale=self.stale,
            stale_for_s=stale_for,
            last_update=self._last_update.astimezone(self.tz) if self._last_update else None,
            subtitle=self._subtitle,
            enroll_code=self._enroll_code,
            enroll_fingerprint=self._enroll_fingerprint,
            enroll_revoked=self._enroll_revoked,
            voice_problem=self._voice_problem,
            series_page=self._series_page,
        )

    def calls(self) -> list[CallRow]:
        """Every kept call, newest first (what the hall LED board lists)."""
        return list(self._calls)

    @property
    def stale(self) -> bool:
        if self._screen is not Screen.BOARD:
            return False
        if self._connection is ConnectionState.OFFLINE:
            return True
        return self._connection is not ConnectionState.LIVE and self._stale_for() >= self.stale_after_s

    def _stale_for(self) -> float:
        if self._lost_at is None:
            return 0.0
        return max(0.0, self.clock.monotonic() - self._lost_at)

    def _series_rows(self) -> tuple[SeriesRow, ...]:
        rows = []
        for prefix in self._zone_series:
            s = self.config.series_by_prefix[prefix]
            waiting = self._waiting.get(prefix, 0)
            low, high = self._estimate(prefix, waiting)
            rows.append(SeriesRow(prefix, s.name, s.name_en, waiting, low, high))
        return tuple(rows)

    def _estimate(self, prefix: str, waiting: int) -> tuple[int | None, int | None]:
        """The range the last ticket of the series was given, scaled to the people waiting now: per person
        it is the server's own estimate (handle times, open windows), only the queue length has moved."""
        est = self._estimates.get(prefix)
        if est is None:
            return (0, 0) if waiting == 0 else (None, None)
        return scaled_estimate(est.low, est.high, est.ahead, waiting)

    # ---- inputs ----------------------------------------------------------------------------------------

    def show_enrollment(self, code: str, fingerprint: str = "") -> None:
        self._screen = Screen.ENROLLING
        self._enroll_code = code
        self._enroll_fingerprint = fingerprint

    def enrollment_revoked(self) -> None:
        self._screen = Screen.ENROLLING
        self._enroll_revoked = True

    def next_series_page(self) -> None:
        """Halls with more series than tiles rotate through them."""
        self._series_page += 1

    def set_voice_problem(self, reason: str) -> None:
        self._voice_problem = reason

    def subtitle_started(self, text: str) -> None:
        self._subtitle = text

    def subtitle_ended(self, text: str) -> None:
        if self._subtitle == text:
            self._subtitle = ""

    def connection_changed(self, state: ConnectionState) -> None:
        if state is ConnectionState.LIVE:
            self._lost_at = None
        elif self._lost_at is None:
            self._lost_at = self.clock.monotonic()
        self._connection = state

    def data_age(self, age_s: float | None) -> None:
        self._data_age_s = age_s

    def load_snapshot(self, snap: HallSnapshot) -> None:
        """Replace the picture with the server's (start, or too far behind to resume)."""
        self._screen = Screen.BOARD
        self._last_update = self.clock.now()
        self._waiting = dict(snap.waiting)
        self._calls.clear()
        # recent_calls are oldest first: each goes in front, as a live call does, so the newest ends up first.
        for call in snap.recent_calls:
            self._add_call(call, 0)

    def apply(self, item: StreamItem) -> list[Announce]:
        """Take one stream item; returns the calls to read out (already filtered by zone and age)."""
        self._screen = Screen.BOARD
        self._last_update = self.clock.now()
        if isinstance(item, Heartbeat):
            return []
        if not isinstance(item, EventItem):
            self.load_snapshot(item.snapshot)
            return []
        ev = item.event
        if isinstance(ev, TicketIssued):
            self._waiting.update(ev.waiting)
            self._estimates[ev.ticket.series] = _Estimate(ev.estimate_low, ev.estimate_high, ev.ahead)
            return []
        if isinstance(ev, WindowChanged):
            return []
        if not isinstance(ev, TicketChanged):
            return []
        self._waiting.update(ev.waiting)
        if ev.action not in CALL_ACTIONS:
            return []
        row = self._add_call(ev, item.seq)
        if row is None:
            return []
        t, number = ev.ticket, row.window
        age = (self.clock.now() - ev.at).total_seconds()
        if age > self.speak_max_age_s:
            log.info(
                "display: call %s to window %d is %.0f s old (seq %d); shown, not spoken",
                t.label,
                number,
                age,
                item.seq,
            )
            return []
        return [Announce(t.label, number, row.recall)]

    def _add_call(self, ev: TicketChanged, seq: int) -> CallRow | None:
        """Put a call at the top of the board (a recall replaces the earlier row); None if not this zone's."""
        t = ev.ticket
        number = ev.window.number if ev.window is not None else t.window
        if number is None or number not in self._zone_windows:
            return None
        name = (ev.window.name if ev.window is not None else t.window_name) or self._window_name(number)
        holder = mask_name(t.holder_masked) if self.config.privacy.show_names_on_boards else ""
        row = CallRow(t.label, number, name, t.matter_name, holder, ev.at, ev.action == "recalled", seq)
        for old in [c for c in self._calls if c.label == t.label]:
            self._calls.remove(old)
        self._calls.appendleft(row)
        return row

    def _window_name(self, number: int) -> str:
        w = self.config.window_by_number.get(number)
        return w.name if w is not None else ""
