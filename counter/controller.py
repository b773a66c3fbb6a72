"""The counter's I/O around the pure flow: sends commands, follows the hall's events, drives the devices.

Qt-free asyncio, so it runs on qasync in the app and on a plain loop in benchmarks. Every change ends in
`on_change()` (the bridge turns it into a Qt signal) and in a device refresh: LED strip and keypad show what
the flow says, the rating pad is asked after a finish.

"No action lost or applied twice": a command that gets no answer keeps its request id in the flow and is sent
again with that id when the server is back (the server replays the first result if it had applied it).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine, Mapping
from typing import Any

from counter.actions import Action, Command
from counter.devices import WindowDevices
from counter.flow import CounterFlow
from counter.keymap import intent_for
from counter.notices import Notice
from drivers.protocols import DeviceUnavailable, DriverError, KeyEvent
from hallclient.api import EventFeed, HallApi
from hallclient.errors import AuthError, HallReplyError, Refusal, ServerUnavailable
from hallclient.types import ConnectionState, EventItem, Snapshot, StateChange, TicketInfo
from hallui.tasks import Tasks

log = logging.getLogger(__name__)


class CounterController:
    """Runs one counter station. `start()` it on the running loop, `aclose()` it at the end."""

    def __init__(
        self,
        api: HallApi,
        flow: CounterFlow,
        devices: WindowDevices,
        *,
        on_change: Callable[[], None] = lambda: None,
        retry_s: float = 1.0,
        health_s: float = 2.0,
    ) -> None:
        self.api = api
        self.flow = flow
        self.devices = devices
        self.on_change = on_change
        self._retry_s = retry_s
        self._health_s = health_s
        self._tasks = Tasks("counter")
        self._feed: EventFeed | None = None
        self._refreshing = False
        self._reported: dict[str, tuple[str, str]] = {}
        self._closed = False
        self.sent: list[Command] = []  # every send attempt, for tests and diagnostics

    # ---- lifecycle ----------------------------------------------------------------------------------

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self.devices.subscribe_keys(loop, self.on_key)
        self._spawn(self._follow())
        self._spawn(self._watch_health())
        self._changed()

    async def aclose(self) -> None:
        self._closed = True
        if self._feed is not None:
            await self._feed.aclose()
        await self._tasks.aclose()

    def _spawn(self, coro: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        return self._tasks.spawn(coro)

    # ---- actions ------------------------------------------------------------------------------------

    def request(self, action: Action, args: Mapping[str, str | int] | None = None) -> bool:
        """A clerk's action from a button, a shortcut or the keypad; False when it was not sent."""
        cmd = self.flow.begin(action, args)
        if cmd is not None:
            self._spawn(self._run(cmd))
        self._changed()
        return cmd is not None

    def advance(self) -> bool:
        cmd = self.flow.advance()
        if cmd is not None:
            self._spawn(self._run(cmd))
        self._changed()
        return cmd is not None

    def discard_unsent(self) -> None:
        self.flow.discard_unsent()
        self._changed()
        self._spawn(self._resync())

    def on_key(self, event: KeyEvent) -> None:
        intent = intent_for(event, self.flow.settings)
        if intent.problem is not None:
            self.flow.notice = intent.problem
            self._changed()
        elif intent.advance:
            self.advance()
        elif intent.action is not None:
            self.request(intent.action, intent.args)

    async def _send(self, cmd: Command) -> object:
        api, w, a, rid = self.api, self.flow.window, cmd.args, cmd.request_id
        self.sent.append(cmd)
        match cmd.action:
            case Action.LOGIN:
                new_pin = str(a.get("new_pin", "")) or None
                return await api.counter_login(str(a["staff"]), str(a["pin"]), w, new_pin=new_pin)
            case Action.LOGOUT:
                await api.counter_logout()
                return None
            case Action.OPEN:
                return await api.open_window(w, request_id=rid)
            case Action.CLOSE:
                return await api.close_window(w, request_id=rid)
            case Action.CALL_NEXT:
                return await api.call_next(w, request_id=rid)
            case Action.RECALL:
                return await api.recall(w, request_id=rid)
            case Action.START:
                return await api.start_serving(w, request_id=rid)
            case Action.FINISH:
                return await api.finish(
                    w,
                    outcome=str(a.get("outcome", "") or "") or None,
                    reason=str(a.get("reason", "") or ""),
                    case_no=str(a.get("case_no", "") or ""),
                    request_id=rid,
                )
            case Action.SET_OUTCOME:
                return await api.set_outcome(
                    w,
                    str(a["ticket"]),
                    str(a["outcome"]),
                    reason=str(a.get("reason", "") or ""),
                    case_no=str(a.get("case_no", "") or ""),
                    request_id=rid,
                )
            case Action.NO_SHOW:
                return await api.no_show(w, request_id=rid)
            case Action.REQUEUE:
                return await api.requeue(str(a["ticket"]).strip().upper(), request_id=rid)
            case Action.TRANSFER:
                to_window = a.get("to_window")
                return await api.transfer(
                    w,
                    to_series=str(a.get("to_series") or "") or None,
                    to_window=int(to_window) if to_window not in (None, "", 0) else None,
                    reason=str(a.get("reason", "")),
                    request_id=rid,
                )
            case Action.CALL_SPECIFIC:
                ticket = str(a["ticket"]).strip().upper()
                return await api.call_specific(w, ticket, str(a["reason"]).strip(), request_id=rid)
            case Action.PAUSE:
                return await api.pause_window(w, str(a.get("reason", "")), request_id=rid)
            case Action.RESUME:
                return await api.resume_window(w, request_id=rid)
            case Action.TAKE_OVER:
                return await api.take_over(w, int(a["partner"]), request_id=rid)
            case Action.END_TAKE_OVER:
                return await api.end_take_over(w, int(a["partner"]), request_id=rid)
            case Action.CONFIRM_CLASS | Action.REVOKE_CLASS:
                return await api.review_class(
                    w,
                    str(a["ticket"]),
                    confirm=cmd.action is Action.CONFIRM_CLASS,
                    reason=str(a.get("reason", "")).strip(),
                    request_id=rid,
                )
            case Action.RATE_AGAIN:
                raise AssertionError("ratings are sent by _send_rating")

    async def _run(self, cmd: Command) -> None:
        try:
            result = await self._send(cmd)
        except ServerUnavailable as e:
            log.info("%s (request %s) not delivered: %s", cmd.action, cmd.request_id, e)
            self.flow.unreachable(cmd)
            self._spawn(self._retry_later())
        except (Refusal, AuthError) as e:
            self.flow.refused(cmd, e.message, e.message_en, e.code)
        except HallReplyError as e:  # DiskFull and the like: the hall refused, nothing changed
            self.flow.refused(cmd, e.message, e.message_en)
        else:
            self.flow.succeeded(cmd, result)
            if cmd.action is Action.LOGIN and self.flow.window_state == "closed":
                # The clerk starts the shift: open the window, unless it is already open (A/B, re-login).
                nxt = self.flow.follow_up(Action.OPEN, ())
                if nxt is not None:
                    self._changed()
                    await self._run(nxt)
                    return
            if cmd.then:
                nxt = self.flow.follow_up(cmd.then[0], cmd.then[1:])
                if nxt is not None:
                    self._changed()
                    await self._run(nxt)
                    return
        self._changed()

    async def _retry_later(self) -> None:
        """Send the unsent command again with its own request id once the server answers again."""
        delay = self._retry_s
        while not self._closed and self.flow.unsent is not None:
            await asyncio.sleep(delay)
            delay = min(delay * 2, 10.0)
            if not self.flow.online:
                continue
            cmd = self.flow.retry()
            if cmd is None:
                return
            self._changed()
            await self._run(cmd)
            return

    # ---- events -------------------------------------------------------------------------------------

    async def _follow(self) -> None:
        feed = self.api.events(since=0)
        self._feed = feed
        feed.add_state_listener(self._on_state)
        self._on_state(StateChange(feed.state, 0.0))
        try:
            async for item in feed:
                if isinstance(item, EventItem):
                    self.flow.on_event(item.event)
                elif isinstance(item, Snapshot):
                    self.flow.on_snapshot(item.snapshot)
                else:
                    continue
                self._changed()
        except AuthError as e:
            self.flow.notice = Notice("msg.refused", raw=(e.message, e.message_en), level="error")
            self.flow.set_connection("offline")
            self._changed()

    def _on_state(self, change: StateChange) -> None:
        was_online = self.flow.online
        age = self._feed.data_age_s() if self._feed is not None else None
        self.flow.set_connection(change.state.value, age)
        if change.state is ConnectionState.LIVE and not was_online and not self._closed:
            self._spawn(self._resync())
        self._changed()

    async def _resync(self) -> None:
        """After a (re)connect: the window's truth from the server, then the unsent command, if any."""
        try:
            views = await self.api.windows()
        except (ServerUnavailable, HallReplyError) as e:
            log.info("resync: %s", e)
            return
        self.flow.set_windows(views)
        self._changed()
        if self.flow.unsent is not None and self.flow.in_flight is None:
            cmd = self.flow.retry()
            if cmd is not None:
                await self._run(cmd)
        rating = self.flow.ratings.to_resend()
        if rating is not None and rating.score is not None:
            await self._send_rating(rating.ticket, rating.score, rating.request_id)

    async def _refresh_candidates(self) -> None:
        if self._refreshing:
            return
        self._refreshing = True
        try:
            while self.flow.candidates_stale and self.flow.online and self.flow.window_view is not None:
                self.flow.candidates_stale = False
                try:
                    cands = await self.api.candidates(self.flow.window)
                except (ServerUnavailable, HallReplyError) as e:
                    log.info("candidates: %s", e)
                    self.flow.candidates_stale = True
                    return
                self.flow.set_candidates(cands)
                self._push_devices()
                self.on_change()
        finally:
            self._refreshing = False

    # ---- devices and rating -------------------------------------------------------------------------

    def _changed(self) -> None:
        self._push_devices()
        ticket = self.flow.ratings.take_request()
        if ticket is not None:
            self._spawn(self._ask_rating(ticket))
        if self.flow.candidates_stale and not self._refreshing and self.flow.online:
            self._spawn(self._refresh_candidates())
        self.on_change()

    def _push_devices(self) -> None:
        if self._closed:
            return
        with contextlib.suppress(RuntimeError):  # no running loop (shutting down)
            self.devices.show(self.flow.strip(), self.flow.keypad_display())

    async def _ask_rating(self, ticket: TicketInfo) -> None:
        timeout = self.flow.settings.rating_timeout_s
        try:
            score = await self.devices.request_rating(ticket.label, timeout)
        except (DeviceUnavailable, DriverError, OSError) as e:
            self.flow.ratings.pad_down(ticket, str(e))
            self._changed()
            return
        if score is None:
            self.flow.ratings.timed_out(ticket)  # never a made-up score: the ticket stays unrated
            self._changed()
            return
        cmd = self.flow.rating_score(ticket, score)
        self._changed()
        await self._send_rating(ticket, score, cmd.request_id)

    async def _send_rating(self, ticket: TicketInfo, score: int, request_id: str) -> None:
        try:
            result = await self.api.rate(ticket.id, score, source="pad", request_id=request_id)
        except ServerUnavailable:
            self.flow.ratings.queued(ticket)
        except HallReplyError as e:
            self.flow.ratings.failed(ticket, e.message)
        else:
            self.flow.ratings.stored(ticket, result)
        self._changed()

    async def _watch_health(self) -> None:
        while not self._closed:
            changed = False
            for name, state in self.devices.states().items():
                if self.flow.set_device(name, state.health.value, state.reason):
                    changed = True
                    self._spawn(self._report(name, state.health.value, state.reason))
            self.devices.retry_failed()
            if changed:
                self.on_change()
            await asyncio.sleep(self._health_s)

    async def _report(self, name: str, health: str, reason: str) -> None:
        if self._reported.get(name) == (health, reason):
            return
        try:
            await self.api.report_device_health(name, health, reason)
        except Exception as e:  # best effort: the dashboard learns it at the next change
            log.debug("device health report failed: %s", e)
            return
        self._reported[name] = (health, reason)
