"""The counter's state machine: pure, no Qt, no I/O (DESIGN.md §7).

It decides which actions are allowed, gives every action one request id (kept for its retries, so a double
tap or a retry never calls two tickets), applies replies and hall events to what the clerk sees, and says
what the window's devices must show. The controller (`counter.controller`) does the I/O around it.

One action at a time: while an action is in flight, or unsent because the server was unreachable, every
other action is refused here, before anything is sent. The actions are `counter.actions`, the rating of the
last finished ticket `counter.rating`, today's figures `counter.counts`.
"""

from __future__ import annotations

import datetime as dt
import itertools
import zoneinfo
from collections.abc import Callable, Mapping
from dataclasses import replace

from counter import guidance
from counter.actions import HELD, TICKET_EVENT, WINDOW_EVENT, Action, Command, Phase
from counter.counts import Counts, DayCounts
from counter.notices import Notice
from counter.rating import Rating, RatingTrack
from counter.settings import Settings
from hallclient.api import new_request_id
from hallclient.types import Candidate, CounterSession, HallSnapshot, TicketInfo, WindowInfo, WindowResult
from hallcore import caseoutcome
from hallcore.clock import Clock
from hallcore.events import Event, TicketChanged, WindowChanged
from hallcore.windowstrip import StripText, window_strip


class CounterFlow:
    """The clerk's screen and the window's devices, as data. Every method is synchronous and pure."""

    def __init__(
        self,
        settings: Settings,
        clock: Clock,
        *,
        has_rating_pad: bool = True,
        make_id: Callable[[], str] = new_request_id,
        enrolled: bool = True,
    ) -> None:
        self.settings = settings
        self._clock = clock
        self._make_id = make_id
        self._tz = zoneinfo.ZoneInfo(settings.timezone)
        self.ratings = RatingTrack(has_rating_pad)
        self.phase = Phase.LOGIN if enrolled else Phase.ENROLLING
        self.enroll_code = ""
        self.session: CounterSession | None = None
        self.pin_change = False  # the hall asked for a new PIN at this login
        self.window_view: WindowInfo | None = None
        self.current: TicketInfo | None = None
        self.candidates: list[Candidate] = []
        self.candidates_stale = True
        self._day = DayCounts(settings.window, self._tz)
        self.in_flight: Command | None = None
        self.unsent: Command | None = None  # failed to reach the server: retried with the same id
        self.connection = "connecting"
        self.data_age_s: float | None = None
        self.notice: Notice | None = None
        self.no_shows: list[TicketInfo] = []  # today's no-shows at this window, newest first
        self.devices: dict[str, tuple[str, str]] = {}  # name -> (health, reason)
        self.finished_at: dt.datetime | None = None  # when this window last finished a ticket
        # (ticket id, event action) / (window, event action) already applied from a reply.
        self._own: list[tuple[str, str]] = []
        self.version = itertools.count()  # bumped by the controller, lets views skip identical redraws

    # ---- derived state ------------------------------------------------------------------------------

    @property
    def window(self) -> int:
        return self.settings.window

    @property
    def has_rating_pad(self) -> bool:
        return self.ratings.has_pad

    @property
    def rating(self) -> Rating | None:
        """The rating of the last ticket finished here, as the clerk sees it."""
        return self.ratings.current

    @property
    def last_finished(self) -> TicketInfo | None:
        return self.ratings.last_finished

    @property
    def counts(self) -> Counts:
        return self._day.counts

    @property
    def online(self) -> bool:
        return self.connection == "live"

    @property
    def window_state(self) -> str:
        return self.window_view.state if self.window_view is not None else "closed"

    @property
    def busy(self) -> bool:
        return self.in_flight is not None or self.unsent is not None

    @property
    def waiting(self) -> int:
        return len(self.candidates)

    @property
    def covering(self) -> tuple[int, ...]:
        return self.window_view.taken_over if self.window_view is not None else ()

    @property
    def held_label(self) -> str:
        if self.current is not None:
            return self.current.label
        return self.window_view.current if self.window_view is not None else ""

    @property
    def held_state(self) -> str:
        """called / serving / "" — from the ticket, else from the window (known by label after a restart)."""
        if self.current is not None:
            return self.current.state if self.current.state in HELD else ""
        if self.window_view is not None and self.window_view.current:
            return self.window_view.current_state
        return ""

    def change_left_s(self) -> int:
        """Seconds left to change the outcome of the case finished here last (0: too late, or none)."""
        if self.ratings.last_finished is None or self.finished_at is None:
            return 0
        spent = (self._clock.now() - self.finished_at).total_seconds()
        return max(0, int(self.settings.outcome_change_s - spent))

    def outcome_action(self) -> Action | None:
        """What an outcome button or keypad outcome does now: finish the case being served with it, or
        change the outcome of the case just finished here (a keypad finished it as 办结); None: neither."""
        if self.allowed(Action.FINISH):
            return Action.FINISH
        if self.allowed(Action.SET_OUTCOME):
            return Action.SET_OUTCOME
        return None

    def today(self) -> dt.date:
        return self._clock.now().astimezone(self._tz).date()

    def waited_min(self, ticket: TicketInfo) -> int:
        return max(0, int((self._clock.now() - ticket.issued_at).total_seconds() // 60))

    def allowed(self, action: Action) -> bool:
        """Whether `action` may be sent now (buttons are enabled from this; the rules and the reason a
        disabled button gives are counter/guidance.py's)."""
        return guidance.blocked(self, action) is None

    # ---- starting actions ---------------------------------------------------------------------------

    def begin(self, action: Action, args: Mapping[str, str | int] | None = None) -> Command | None:
        """The command to send for a clerk's action, or None (with a notice) when it may not be sent now.

        A second tap while the first is in flight returns None: one tap, one request.
        """
        args = dict(args or {})
        if action is Action.FINISH and args.get("outcome") and self.held_state != "serving":
            # An outcome key or button after the finish: it changes the outcome of the case just finished.
            action = Action.SET_OUTCOME
        if self.busy:
            self.notice = Notice("msg.busy", level="warning")
            return None
        if not self.online:
            self.notice = Notice("msg.offline", level="error")
            return None
        if not self.allowed(action):
            self.notice = Notice("msg.not_now", refs={"action": f"act.name.{action.value}"}, level="warning")
            return None
        problem = self._check_args(action, args)
        if problem is not None:
            self.notice = problem
            return None
        if action is Action.RATE_AGAIN:
            self.ratings.ask_again()
            return None
        cmd = Command(action, self._make_id(), args)
        self.in_flight = cmd
        self.notice = None
        return cmd

    def advance(self) -> Command | None:
        """The call keypad's "next" key: call when idle, start when called, finish-and-call when serving.

        Keypads without start/finish keys (the common vendor 485 ones) serve a whole day with it.
        """
        cur = self.held_state
        if cur == "serving":
            cmd = self.begin(Action.FINISH)
            if cmd is not None:
                cmd = replace(cmd, then=(Action.CALL_NEXT,))
                self.in_flight = cmd
            return cmd
        if cur == "called":
            return self.begin(Action.START)
        return self.begin(Action.CALL_NEXT)

    def follow_up(self, action: Action, rest: tuple[Action, ...]) -> Command | None:
        """The next step of a compound keypad action, with a fresh request id (it is a new command)."""
        if not self.allowed(action):
            return None
        cmd = Command(action, self._make_id(), {}, rest)
        self.in_flight = cmd
        return cmd

    def _check_args(self, action: Action, args: dict[str, str | int]) -> Notice | None:
        if action is Action.LOGIN and (not str(args.get("staff", "")) or not str(args.get("pin", ""))):
            return Notice("login.missing", level="warning")
        if action is Action.CALL_SPECIFIC:
            if not str(args.get("ticket", "")).strip():
                return Notice("msg.ticket_required", level="warning")
            if not str(args.get("reason", "")).strip():
                return Notice("msg.reason_required", level="warning")
        if action is Action.REQUEUE and not str(args.get("ticket", "")).strip():
            return Notice("msg.ticket_required", level="warning")
        if action in (Action.CONFIRM_CLASS, Action.REVOKE_CLASS):
            if action is Action.REVOKE_CLASS and not str(args.get("reason", "")).strip():
                return Notice("msg.revoke_reason_required", level="warning")
            assert self.current is not None  # allowed() checked it
            args["ticket"] = self.current.id
        if action in (Action.FINISH, Action.SET_OUTCOME):
            problem = self._check_outcome(action, args)
            if problem is not None:
                return problem
        if action is Action.TRANSFER:
            series = str(args.get("to_series", "") or "")
            win = args.get("to_window")
            if bool(series) == (win not in (None, "", 0)):
                return Notice("msg.target_required", level="warning")
        if action is Action.PAUSE:
            reason = str(args.get("reason", "") or "")
            if not reason and self.settings.pause_reasons:
                args["reason"] = self.settings.pause_reasons[0]
        if action in (Action.TAKE_OVER, Action.END_TAKE_OVER):
            if not self.settings.partners:
                return Notice("msg.no_partner", level="warning")
            if "partner" not in args:
                pool = (
                    [p for p in self.settings.partners if p not in self.covering]
                    if action is Action.TAKE_OVER
                    else list(self.covering)
                )
                args["partner"] = pool[0]
        return None

    def _check_outcome(self, action: Action, args: dict[str, str | int]) -> Notice | None:
        """The outcome named (办结 when none), its reason and the 办件编号, checked as the hall will."""
        text = str(args.get("outcome", "") or "")
        outcome = caseoutcome.parse(text) if text else caseoutcome.CaseOutcome.DONE
        if outcome is None:
            return Notice("msg.bad_outcome", {"outcome": text}, level="warning")
        if outcome is caseoutcome.CaseOutcome.REFUSED and str(args.get("reason", "")) not in (
            self.settings.refusal_reasons
        ):
            return Notice("msg.refusal_reason_required", level="warning")
        args["outcome"] = outcome.value
        args["case_no"] = str(args.get("case_no", "") or "").strip()
        if action is Action.SET_OUTCOME:
            assert self.ratings.last_finished is not None  # allowed() checked it
            args["ticket"] = self.ratings.last_finished.id
        return None

    # ---- outcomes -----------------------------------------------------------------------------------

    def succeeded(self, cmd: Command, result: object) -> None:
        """Apply the reply of `cmd` (a `WindowResult`, `TicketInfo`, `CounterSession` or None)."""
        if self.in_flight is cmd or (
            self.in_flight is not None and self.in_flight.request_id == cmd.request_id
        ):
            self.in_flight = None
        resent = self.unsent is not None and self.unsent.request_id == cmd.request_id
        if resent:
            self.unsent = None
        label = ""
        if cmd.action is Action.LOGIN:
            assert isinstance(result, CounterSession)
            self.session = result
            self.pin_change = False
            self.phase = Phase.MAIN
            self.notice = Notice(
                "msg.login_ok", {"name": result.name, "staff": result.staff, "window": result.window}
            )
            return
        if cmd.action is Action.LOGOUT:
            self.session = None
            self.phase = Phase.LOGIN
            self.notice = Notice("msg.logged_out")
            return
        if isinstance(result, WindowResult):
            self._set_window(result.window)
            t = result.ticket
            if cmd.action in TICKET_EVENT and t is not None:
                self._own.append((t.id, TICKET_EVENT[cmd.action]))
                label = t.label
                self._ticket_step(t, TICKET_EVENT[cmd.action])
            elif cmd.action in WINDOW_EVENT:
                self._own.append((f"window:{self.window}", WINDOW_EVENT[cmd.action]))
            self.candidates_stale = True
        elif isinstance(result, TicketInfo):  # requeue
            label = result.label
            self.no_shows = [t for t in self.no_shows if t.id != result.id]
            self.candidates_stale = True
        del self._own[:-20]
        name = {"action": f"act.name.{cmd.action.value}"}
        if resent:
            self.notice = Notice("msg.resent", refs=name)
        elif label:
            self.notice = Notice("msg.done", {"label": label}, refs=name)
        else:
            self.notice = Notice("msg.done_window", refs=name)

    def refused(self, cmd: Command, message: str, message_en: str, code: str = "") -> None:
        """The hall said no (or the clerk's credentials were wrong): nothing changed there. A login whose
        PIN no longer meets the rules opens the new-PIN field (`pin_change`)."""
        if cmd.action is Action.LOGIN:
            self.pin_change = code == "pin_change_required" or (self.pin_change and code == "weak_pin")
        if self.in_flight is not None and self.in_flight.request_id == cmd.request_id:
            self.in_flight = None
        if self.unsent is not None and self.unsent.request_id == cmd.request_id:
            self.unsent = None
        self.notice = Notice("msg.refused", raw=(message, message_en), level="error")
        self.candidates_stale = True

    def unreachable(self, cmd: Command) -> None:
        """The server did not answer: keep the command (and its id) to send again when it is back."""
        if self.in_flight is not None and self.in_flight.request_id == cmd.request_id:
            self.in_flight = None
        self.unsent = cmd
        self.notice = Notice("msg.queued", refs={"action": f"act.name.{cmd.action.value}"}, level="error")

    def retry(self) -> Command | None:
        """The unsent command, to send again with the same request id (the server replays if it had it)."""
        if self.unsent is None or self.in_flight is not None:
            return None
        self.in_flight = self.unsent
        return self.unsent

    def discard_unsent(self) -> None:
        if self.unsent is not None and self.in_flight is None:
            self.notice = Notice("msg.discarded", refs={"action": f"act.name.{self.unsent.action.value}"})
            self.unsent = None
            self.candidates_stale = True

    # ---- hall state ---------------------------------------------------------------------------------

    def _set_window(self, view: WindowInfo) -> None:
        if view.number != self.window:
            return
        self.window_view = view
        if self.current is not None and view.current != self.current.label:
            self.current = None

    def _ticket_step(self, t: TicketInfo, action: str) -> None:
        if action in ("called", "recalled", "serving"):
            self.current = t
            return
        if action in ("class_confirmed", "class_revoked"):
            if self.current is not None and self.current.id == t.id:
                self.current = t
            return
        if action == "outcome_changed":
            last = self.ratings.last_finished
            if last is not None and last.id == t.id:
                self.ratings.last_finished = t
            return
        if self.current is not None and self.current.id == t.id:
            self.current = None
        if action == "finished":
            self.finished_at = self._clock.now()
            self.ratings.finished_here(t)
        elif action == "no_show":
            self.no_shows = [t, *[x for x in self.no_shows if x.id != t.id]][:20]

    def set_windows(self, views: list[WindowInfo]) -> None:
        """A fresh list of windows (after a (re)connect): the truth about this window."""
        for v in views:
            if v.number == self.window:
                self.window_view = v
                if not v.current:
                    self.current = None
                elif self.current is None or self.current.label != v.current:
                    # Known by label only until the next event or candidates refresh brings the ticket.
                    self.current = None
        self._own.clear()
        self.candidates_stale = True

    def set_current(self, ticket: TicketInfo | None) -> None:
        self.current = ticket

    def set_candidates(self, candidates: list[Candidate]) -> None:
        # Staleness is cleared by the caller before it asks: an event during the request marks it again.
        self.candidates = candidates

    def on_snapshot(self, snap: HallSnapshot) -> None:
        self.set_windows(list(snap.windows))

    def on_event(self, event: Event) -> None:
        self._day.count(event, self.today())
        if isinstance(event, TicketChanged):
            self.candidates_stale = True
            mine = event.window is not None and event.window.number == self.window
            if not mine:
                if self.current is not None and event.ticket.id == self.current.id:
                    self.current = None  # moved by someone else (a manager)
                return
            key = (event.ticket.id, event.action)
            if key in self._own:
                self._own.remove(key)  # our own reply already showed it
                return
            assert event.window is not None
            self._set_window(event.window)
            self._ticket_step(event.ticket, event.action)
            if event.action == "finished":
                self.ratings.finished_elsewhere()
        elif isinstance(event, WindowChanged):
            if event.window.number != self.window:
                if self.window in event.window.taken_over or event.action == "takeover_ended":
                    self.candidates_stale = True
                return
            key = (f"window:{self.window}", event.action)
            if key in self._own:
                self._own.remove(key)
                return
            self._set_window(event.window)
            self.candidates_stale = True
        elif event.kind in ("ticket_issued",):
            self.candidates_stale = True

    def set_connection(self, state: str, age_s: float | None = None) -> None:
        self.connection = state
        self.data_age_s = age_s

    def set_device(self, name: str, health: str, reason: str = "") -> bool:
        """Record a device's state; True when it changed."""
        old = self.devices.get(name)
        self.devices[name] = (health, reason)
        return old != (health, reason)

    def enrolling(self, code: str) -> None:
        self.phase = Phase.ENROLLING
        self.enroll_code = code

    def enrolled(self) -> None:
        if self.phase is Phase.ENROLLING:
            self.phase = Phase.LOGIN

    # ---- rating -------------------------------------------------------------------------------------

    def rating_score(self, ticket: TicketInfo, score: int) -> Command:
        """The citizen pressed `score` on the pad: the command that stores it (its id kept for a resend)."""
        cmd = Command(Action.RATE_AGAIN, self._make_id(), {"ticket": ticket.id, "score": score})
        self.ratings.scored(ticket, score, cmd.request_id)
        return cmd

    # ---- what the devices show ----------------------------------------------------------------------

    def strip(self) -> StripText:
        """The window strip: the call, the ticket being served, the pause reason, welcome, or closed."""
        held_state = self.held_state
        reason = self.window_view.pause_reason if self.window_view is not None else ""
        return window_strip(
            self.settings.led,
            self.window,
            self.window_state,
            held=self.held_label if held_state else "",
            held_state=held_state,
            matter=self.current.matter_name if self.current is not None else "",
            pause_reason=reason,
        )

    def keypad_display(self) -> tuple[str, int]:
        return (self.held_label, self.waiting)
