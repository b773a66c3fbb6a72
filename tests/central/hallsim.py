"""The simulator (hallq/sim.py) driving a real hall server in process: every command goes through the hall's
store (its one writer, its rows, its numbered events) on the hall's fake clock, so the hall's own statistics
and the events its shipper sends come from the same real path. Small days (a few dozen citizens, a few
windows) keep the central tier light."""

from __future__ import annotations

import datetime as dt
from typing import Any

from hallcore import commands as c
from hallcore.engine import Accepted, Outcome, Refused
from hallcore.model import CaseAction
from hallq.sim import SimParams, SimResult, simulate
from hallq.simports import EnginePort
from hallserver.store import Job
from hallserver.writectx import Reply, WriteCtx, ok
from tests.fakes.live_server import LiveServer


class StorePort(EnginePort):
    """EnginePort's commands, each as a job of the hall's store at the simulator's time."""

    def __init__(self, live: LiveServer) -> None:  # no engine of its own: the store's
        self.live = live
        self.engine = live.hall.store.engine  # read in jobs only (the writer thread owns it)
        self.forecast = False  # the hall's server makes its own estimates
        self.forecasts = 0
        self.commands = 0
        self._tokens = 0

    def run(self, fn: Any, now: dt.datetime) -> Any:
        if now > self.live.clock.now():
            self.live.clock.set(now)
        box: list[Any] = []

        def job(ctx: WriteCtx) -> Reply:
            box.append(fn(ctx))
            return ok({})

        self.live.hall.store.submit_nowait(Job(job)).result(timeout=60)
        return box[0]

    def _do(self, cmd: c.Command, now: dt.datetime) -> Accepted | Refused:
        self.commands += 1
        out: Outcome = self.run(lambda ctx: ctx.apply(cmd), now)
        return out

    def slots(self, matter: str, day: dt.date) -> list[tuple[dt.time, dt.time, int]]:
        out: list[tuple[dt.time, dt.time, int]] = self.run(
            lambda ctx: ctx.engine.slots(matter, day), self.live.clock.now()
        )
        return out


def sim_day(
    port: StorePort, day: dt.date, seed: int, start: dt.time, windows: tuple[int, ...], arrivals: int
) -> SimResult:
    """A short simulated morning at the hall (windows close at 11:30; what still waits expires later)."""
    params = SimParams(
        day=day,
        start=start,
        end=dt.time(11, 30),
        arrivals=arrivals,
        seed=seed,
        windows=windows,
        lunch=False,
        no_show_rate=0.1,
        transfer_rate=0.08,
        rating_rate=0.9,
        booking_share=0.1,
    )
    return simulate(port.live.config, params, port=port)


def rate_badly(port: StorePort, now: dt.datetime) -> str | None:
    """A 非常不满意 for one served ticket nobody rated (a 差评 case opens); its case id."""

    def pick(ctx: WriteCtx) -> str | None:
        for t in ctx.engine.tickets.values():
            if t.state.value == "done" and not t.rated and t.day == now.date():
                return t.id
        return None

    tid = port.run(pick, now)
    if tid is None or not isinstance(port._do(c.Rate(tid, 1), now), Accepted):
        return None
    return f"C-{tid}"


def close_case(port: StorePort, case: str, now: dt.datetime) -> None:
    """回访, 整改 and 办结 of a 差评 case, as the hall's manager does on its dashboard."""
    for action in (CaseAction.CALLBACK, CaseAction.RESOLVE, CaseAction.CLOSE):
        out = port._do(c.CaseStepCommand(case, action, f"{action.value} by test", "c1"), now)
        assert isinstance(out, Accepted), out


def late_tickets(port: StorePort, matter: str, now: dt.datetime) -> None:
    """Two tickets after the windows closed: one printed (it expires at closing time, counted), one whose
    print is never confirmed (it is voided, not counted)."""
    m = port.live.config.matter_by_code[matter]
    answers = {q.id: q.expected for q in m.precheck.questions}
    present = frozenset(x.id for x in m.precheck.materials)
    printed = port.issue(matter, "", answers, present, now)
    assert printed.ticket is not None, printed
    assert port.confirm_print(printed.ticket, now + dt.timedelta(seconds=5))
    lost = port.issue(matter, "", answers, present, now + dt.timedelta(seconds=10))
    assert lost.ticket is not None, lost
