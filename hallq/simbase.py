"""The simulated day's frame: its clerks (`Clerk`), its event queue on the virtual clock and the hall's real
handle times (`SimBase`). Staffing is `hallq.simstaff`, citizens and calls `hallq.sim`."""

from __future__ import annotations

import datetime as dt
import heapq
import random
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

from hallcore.calendar import HallCalendar
from hallcore.config import HallConfig
from hallcore.engine import APPOINTMENT
from hallq.simcrowd import Demand
from hallq.simparams import Pacer, SimParams, SimResult
from hallq.simports import EnginePort, HallPort


@dataclass(slots=True)
class Clerk:
    window: int
    staff: str
    speed: float
    rng: random.Random  # the clerk's own draws (lunch return, the pause before the next call)
    busy: bool = False  # holds a ticket (called or serving)
    away: bool = True  # closed or paused
    pending: list[Callable[[], None]] = field(default_factory=list)  # breaks waiting for the case to end


class SimBase:
    """One simulated day's state and its event queue; `hallq.sim._Sim` is the day itself."""

    def __init__(
        self,
        config: HallConfig,
        params: SimParams,
        port: HallPort,
        *,
        pacer: Pacer | None = None,
        on_call: Callable[[str], None] | None = None,
        start_at: dt.datetime | None = None,
    ) -> None:
        self.cfg = config
        self.p = params
        self.port = port
        self.pacer = pacer or Pacer(None)
        self.on_call = on_call
        self.rng = random.Random(params.seed)
        self.tz = HallCalendar(config.hall).tz
        self.now = start_at or dt.datetime.combine(params.day, params.start, self.tz)
        self.queue: list[tuple[dt.datetime, int, Callable[[], None]]] = []
        self.n = 0
        self.result = SimResult(config, params, {}, tz=self.tz)
        if isinstance(port, EnginePort):
            self.result.engine = port.engine
        self.records = self.result.records
        self.clerks: dict[int, Clerk] = {}
        self.idle_by_series: dict[str, set[int]] = defaultdict(set)
        self.serves: dict[int, tuple[str, ...]] = {w.number: w.series for w in config.windows}
        self.persons = 0
        # Common random numbers: each citizen and each clerk draws from a generator of their own, seeded when
        # the day is planned, so two runs of a seed under different queue rules see the same people, the same
        # case lengths and the same no-shows; only the order differs (a fair comparison, e.g. --no-priority).
        self.citizens: dict[str, random.Random] = {}
        shares = dict(params.class_shares)
        self.class_shares = [
            (pc.id, shares.get(pc.id, params.other_class_share))
            for pc in config.priority_classes
            if pc.id != APPOINTMENT
        ]
        self.demand = Demand.of(config, params)

    # ---- scheduling ---------------------------------------------------------------------------------------

    def at(self, when: dt.datetime, action: Callable[[], None]) -> None:
        self.n += 1
        heapq.heappush(self.queue, (when, self.n, action))

    def after(self, seconds: float, action: Callable[[], None]) -> None:
        self.at(self.now + dt.timedelta(seconds=seconds), action)

    def clock(self, hour: int, minute: int = 0) -> dt.datetime:
        return dt.datetime.combine(self.p.day, dt.time(hour, minute), self.tz)

    # ---- the hall's real handle times -------------------------------------------------------------------

    def handle_minutes(self, matter: str, clerk: Clerk, rng: random.Random) -> float:
        sigma = self.demand.real_sigma[matter]
        # exp(N(−σ²/2, σ)) has mean 1, so the matter's mean is what real_mean says.
        minutes = self.demand.real_mean[matter] * clerk.speed * rng.lognormvariate(-sigma * sigma / 2, sigma)
        if self.demand.hour_pace:
            minutes *= self.demand.hour_pace[self.now.astimezone(self.tz).hour]
        return minutes

    def free(self, n: int) -> None:
        """The clerk is done with the case in hand (the day's clerks, `hallq.sim`)."""
        raise NotImplementedError
