"""The dashboard's alerts (DESIGN.md §1: "alerts when a service level is breached"), pure: a series whose
longest wait is past its target (with the Erlang C advice beside it), a window paused longer than
`alerts.pause_min`, a device that is not healthy, 容缺 items owed past their due day, 差评 cases past their
follow-up deadline. The dashboard's page draws them; the shell gathers the facts (engine state, the
device reports, the 容缺 register)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from hallcore.model import Case, CaseState


@dataclass(frozen=True, slots=True)
class Alert:
    """One alert: its kind (wait, paused, device, owed, case), a key unique within the kind, the text."""

    kind: str
    key: str
    text: str
    advice: str = ""  # wait alerts: the Erlang C advice, shown beside the text


def wait_alert(
    prefix: str,
    name: str,
    longest_min: float,
    target_min: int,
    arrivals: int,
    window_min: int,
    handle_min: float,
    needed: int,
    open_now: int,
) -> Alert:
    return Alert(
        "wait",
        prefix,
        f"{name}（{prefix}）最长已等 {longest_min:.0f} 分钟，超过目标 {target_min} 分钟",
        f"按近 {window_min} 分钟到达 {arrivals} 人、平均办理 {handle_min:.1f} 分钟，"
        f"Erlang C 建议开 {needed} 个窗口（现开 {open_now} 个）",
    )


def paused_alerts(paused: Iterable[tuple[int, str, str, float]], limit_min: int) -> list[Alert]:
    """Windows paused longer than `limit_min`: (number, name, reason, minutes paused)."""
    return [
        Alert(
            "paused",
            str(n),
            f"{n} 号窗口（{name}）暂停已 {minutes:.0f} 分钟（{reason}），超过 {limit_min} 分钟",
        )
        for n, name, reason, minutes in paused
        if minutes > limit_min
    ]


def device_alerts(devices: Iterable[tuple[str, str, str, str]]) -> list[Alert]:
    """Devices whose last report is not "ok": (station id, station name, device, health and reason)."""
    return [
        Alert("device", f"{station}/{device}", f"设备异常：{name} 的{device}（{health}）")
        for station, name, device, health in devices
    ]


def owed_alert(overdue: Sequence[str]) -> list[Alert]:
    """容缺 tickets (their numbers) with items still owed after their due day."""
    if not overdue:
        return []
    shown = "、".join(overdue[:5]) + ("…" if len(overdue) > 5 else "")
    return [Alert("owed", "owed", f"容缺逾期未补齐 {len(overdue)} 件（{shown}），请督促补齐")]


def overdue_cases(cases: Iterable[Case], today: dt.date) -> list[Case]:
    """差评 cases not closed whose follow-up deadline has passed."""
    return [c for c in cases if c.state is not CaseState.CLOSED and c.due < today]


def case_alert(overdue: Sequence[tuple[str, dt.date]]) -> list[Alert]:
    """差评 cases past their deadline: (ticket number, due day)."""
    if not overdue:
        return []
    shown = "、".join(f"{label}（{due.isoformat()} 到期）" for label, due in overdue[:5])
    more = "…" if len(overdue) > 5 else ""
    return [Alert("case", "case", f"差评整改超期 {len(overdue)} 件：{shown}{more}")]
