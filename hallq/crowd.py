"""The demo's crowd: simulated citizens taking tickets and clerks working windows through the real API, and
fingers on the emulated keypads and rating pads of the counters that run as apps.

Handle times are short (tens of seconds) so that a person watching the demo sees the hall move.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import random
import subprocess
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from drivers.codecs.idcard_text import TextFields
from drivers.emulators.bus import HqpBusEmulator
from drivers.emulators.idcard import EmulatedCard
from drivers.protocols import KeyCode
from hallclient.enroll import save_pin, save_token
from hallclient.errors import HallClientError
from hallclient.http import HttpHall
from hallclient.trust import Pin
from hallclient.types import EnrollState, Issued
from hallcore import idnumber
from hallcore.clock import SystemClock
from hallcore.config import HallConfig, StationRole
from hallcore.privacy import mask_name

#: Windows the crowd's clerks work (the app counters' windows are driven through their keypads instead).
CROWD_WINDOWS = (2, 3, 4, 6, 7, 9, 10, 11, 14)


@dataclass(frozen=True)
class CrowdStation:
    """A counter app's window and the emulated keypad and rating pad on its bus."""

    station: str
    window: int
    bus: HqpBusEmulator
    keypad: int | None
    pad: int | None


#: The crowd's made-up residents' names (the kiosk and the hall only ever show them masked).
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛")


class Crowd:
    def __init__(
        self,
        config: HallConfig,
        url: str,
        manager: tuple[str, str],
        pin: str,
        clerk_code: Callable[[int], str],
        log: Callable[[str], None],
        seed: int = 7,
        ca_pem: str = "",
    ) -> None:
        self.cfg = config
        self.url = url
        # An https hall: its CA, verified as a pinned station does, and pinned for the provisioned apps.
        self.ca_pin = Pin.of(ca_pem) if ca_pem else None
        self.tls = self.ca_pin.context() if self.ca_pin is not None else None
        self.manager = manager
        self.pin = pin
        self.clerk_code = clerk_code
        self.log = log
        self.rng = random.Random(seed)
        self.clock = SystemClock()
        self.issued = 0
        self.carded = 0
        self.phone_printed = False
        # 刷身份证取号: the share of citizens who take their number with an ID card, and the demo kiosk's
        # emulated reader, where their cards are laid (the kiosk greets them) when the demo has one.
        self.card_share = 0.3
        # The share of citizens who ask for notices at the kiosk (the demo's log adapter shows them).
        self.notice_share = 0.2
        self.reader: Any = None

    # ---- stations ----

    async def _enroll(self, boss: HttpHall, name: str, role: str, window: int | None) -> str:
        anon = HttpHall(self.url, None, clock=self.clock, verify=self.tls)
        try:
            e = await anon.enroll(name, role)
            await boss.approve_station(e.station_id, window=window)
            for _ in range(50):
                poll = await anon.poll_enrollment(e.station_id, e.poll_secret)
                if poll.state is EnrollState.APPROVED and poll.token:
                    return poll.token
                await asyncio.sleep(0.1)
            raise RuntimeError(f"station {name} was approved but got no token")
        finally:
            await anon.aclose()

    async def provision(self, station_ids: list[str], state: Path) -> dict[str, str]:
        """Enroll and approve the app stations (the manager's job on a real first day); their tokens are
        stored where each app looks for them."""
        boss = HttpHall(self.url, None, clock=self.clock, verify=self.tls)
        try:
            boss.set_token(await boss.manager_login(*self.manager))
            tokens: dict[str, str] = {}
            for sid in station_ids:
                st = self.cfg.station_by_id[sid]
                role = "counter" if st.role is StationRole.COUNTER else st.role.value
                token = await self._enroll(boss, st.name or sid, role, st.window)
                save_token(state / f"{sid}.json", token, station_id=sid, server=self.url)
                if self.ca_pin is not None:
                    save_pin(state / f"{sid}.json", self.url, self.ca_pin)
                tokens[sid] = token
            self._boss_token = boss.token
            return tokens
        finally:
            await boss.aclose()

    # ---- the crowd ----

    async def run(
        self,
        keypads: list[CrowdStation],
        *,
        enabled: bool,
        stop_at: float | None,
        watch: dict[str, subprocess.Popen[bytes]],
    ) -> None:
        tasks = [asyncio.create_task(self._watch(watch))]
        if enabled:
            boss = HttpHall(self.url, self._boss_token, clock=self.clock, verify=self.tls)
            kiosk_token = await self._enroll(boss, "人群模拟取号", "kiosk", None)
            kiosk = HttpHall(self.url, kiosk_token, clock=self.clock, verify=self.tls)
            tasks.append(asyncio.create_task(self._citizens(kiosk)))
            for w in CROWD_WINDOWS:
                if self.cfg.window_by_number.get(w) is None:
                    continue
                token = await self._enroll(boss, f"人群模拟 {w} 号窗口", "counter", w)
                clerk = HttpHall(self.url, token, clock=self.clock, verify=self.tls)
                tasks.append(asyncio.create_task(self._clerk(clerk, w)))
            for ks in keypads:
                tasks.append(asyncio.create_task(self._keypad_clerk(ks)))
            await boss.aclose()
        try:
            while stop_at is None or time.monotonic() < stop_at:
                await asyncio.sleep(0.5)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _watch(self, procs: dict[str, subprocess.Popen[bytes]]) -> None:
        reported: set[str] = set()
        while True:
            for name, p in procs.items():
                if name not in reported and p.poll() is not None:
                    reported.add(name)
                    self.log(f"{name} exited with code {p.returncode} (see its log)")
            await asyncio.sleep(1.0)

    async def _citizens(self, kiosk: HttpHall) -> None:
        matters = [m for m in self.cfg.matters if m.series in {s for w in self.cfg.windows for s in w.series}]
        while True:
            m = self.rng.choice(matters)
            answers = {q.id: q.expected for q in m.precheck.questions}
            present = {x.id for x in m.precheck.materials}
            if self.rng.random() < 0.1 and m.precheck.materials:
                present.discard(self.rng.choice(m.precheck.materials).id)  # some forget a paper
            classes = [p.id for p in self.cfg.priority_classes if p.kiosk_selectable]
            prio = self.rng.choice(classes) if classes and self.rng.random() < 0.1 else ""
            card = self._citizen_card() if self.rng.random() < self.card_share else None
            if card is not None:
                prio = ""  # the card decides the age class
                self._lay_on_reader(card)
            with contextlib.suppress(HallClientError):
                out = await kiosk.issue_ticket(
                    m.code,
                    priority=prio,
                    answers=answers,
                    present=frozenset(present),
                    holder_name=mask_name(card.name) if card is not None else "",
                    id_number=card.id_number if card is not None else "",
                )
                if isinstance(out, Issued):
                    await kiosk.confirm_print(out.ticket.id)
                    self.issued += 1
                    if self.rng.random() < self.notice_share:
                        # "快到您了": a made-up number (the demo's log adapter writes the notices, masked).
                        with contextlib.suppress(HallClientError):
                            phone = f"1390000{self.rng.randrange(10_000):04d}"
                            await kiosk.notify_opt_in(out.ticket.id, phone)
                    self.carded += card is not None
                    if not self.phone_printed:
                        self.phone_printed = True
                        self.log(f"phone page of {out.ticket.label}: {out.status_url}")
            await asyncio.sleep(self.rng.uniform(1.0, 3.0))

    def _citizen_card(self) -> TextFields:
        """A made-up resident's card: a real GB 11643 number (a county of 安徽, a birth date of 1935-2005)."""
        born = dt.date(1935, 1, 1) + dt.timedelta(days=self.rng.randrange(70 * 365))
        male = self.rng.random() < 0.5
        seq = self.rng.randrange(50) * 20 + self.rng.randrange(5) * 2 + (1 if male else 0)
        number = idnumber.complete(f"341524{born:%Y%m%d}{seq:03d}")
        name = self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)
        return TextFields(
            name, "1" if male else "2", "01", f"{born:%Y%m%d}", "安徽省六安市金寨县梅山镇", number,
            "金寨县公安局", "20200101", "长期",
        )  # fmt: skip

    def _lay_on_reader(self, card: TextFields) -> None:
        """Lay the card on the demo kiosk's reader (it greets the holder) and lift it a few seconds later."""
        if self.reader is None:
            return
        self.reader.place(EmulatedCard.from_fields(card))
        asyncio.get_running_loop().call_later(3.0, self.reader.lift)

    async def _clerk(self, api: HttpHall, window: int) -> None:
        with contextlib.suppress(HallClientError):
            await api.counter_login(self.clerk_code(window), self.pin, window)
        with contextlib.suppress(HallClientError):
            await api.open_window(window)
        while True:
            try:
                got = await api.call_next(window)
                if got.ticket is None:
                    raise HallClientError("nothing called")
                await asyncio.sleep(self.rng.uniform(2, 6))
                if self.rng.random() < 0.05:
                    await api.recall(window)
                    await asyncio.sleep(3)
                await api.start_serving(window)
                await asyncio.sleep(self.rng.uniform(10, 40))
                await api.finish(window)
                if self.rng.random() < 0.8:
                    await api.rate(got.ticket.id, self.rng.choices([5, 4, 3, 2, 1], [70, 18, 7, 4, 1])[0])
            except HallClientError:
                await asyncio.sleep(3)

    async def _keypad_clerk(self, ks: CrowdStation) -> None:
        """A clerk at a counter app: logs in on the keypad, then presses "next" (it calls, starts, and
        finishes-and-calls), and a citizen presses the rating pad when it asks."""
        if ks.keypad is None:
            return
        await asyncio.sleep(5)  # the app connects to its bus first
        ks.bus.press(ks.keypad, KeyCode.LOGIN, f"{self.clerk_code(ks.window)}*{self.pin}")
        pad = ks.bus.devices.get(ks.pad) if ks.pad is not None else None
        while True:
            await asyncio.sleep(self.rng.uniform(8, 25))
            ks.bus.press(ks.keypad, KeyCode.NEXT)
            for _ in range(20):
                await asyncio.sleep(0.5)
                pending = getattr(pad, "pending", None)
                if pending:
                    with contextlib.suppress(Exception):
                        pad.press(self.rng.choices([5, 4, 3, 2], [75, 15, 7, 3])[0])  # type: ignore[union-attr]
                    break
