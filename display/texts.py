"""The hall display's catalogue: every text the board shows, in Chinese and English."""

from __future__ import annotations

from hallui.connection import TEXTS as CONNECTION_TEXTS
from hallui.enrollment import TEXTS as ENROLLMENT_TEXTS
from hallui.i18n import Catalog

TEXTS: dict[str, tuple[str, str]] = {
    "board.now_calling": ("正在呼叫", "Now calling"),
    "board.no_call": ("请留意叫号", "Please wait for your number"),
    "board.to_window": ("请到 {window} 号窗口", "Please go to window {window}"),
    "board.recall": ("再次呼叫", "Calling again"),
    "board.recent": ("最近呼叫", "Recent calls"),
    "board.recent_row": ("{number}  →  {window}号窗口", "{number}  →  window {window}"),
    "board.waiting": ("等候情况", "Waiting"),
    "board.series_row": ("{prefix} {name}  等候 {waiting} 人", "{prefix} {name}  {waiting} waiting"),
    "board.estimate": ("预计 {low}–{high} 分钟", "about {low}–{high} min"),
    "board.estimate_none": ("无需等候", "no wait"),
    "board.estimate_unknown": ("等候时间暂无估计", "no estimate yet"),
    "board.stale_title": ("叫号信息暂停更新", "Calls are not being updated"),
    "board.stale_body": (
        "本屏与服务器的连接已中断 {duration}，请以窗口条屏和工作人员指引为准。最后更新 {at}",
        "This screen lost the server {duration} ago; follow the window strips and staff. Last update {at}",
    ),
    "duration.s": ("{n} 秒", "{n} s"),
    "duration.min": ("{n} 分钟", "{n} min"),
    "board.zone": ("本屏显示：{zone}", "This screen: {zone}"),
    "board.date": ("{month}月{day}日 {weekday}", "{weekday} {day}/{month}"),
    "voice.unavailable": ("语音播报不可用：{reason}", "voice unavailable: {reason}"),
    "weekday.0": ("星期一", "Mon"),
    "weekday.1": ("星期二", "Tue"),
    "weekday.2": ("星期三", "Wed"),
    "weekday.3": ("星期四", "Thu"),
    "weekday.4": ("星期五", "Fri"),
    "weekday.5": ("星期六", "Sat"),
    "weekday.6": ("星期日", "Sun"),
    "check.ok": ("配置检查通过：{path}", "config OK: {path}"),
    **CONNECTION_TEXTS,
    **ENROLLMENT_TEXTS,
}


def catalog(language: str = "zh") -> Catalog:
    return Catalog(TEXTS, language)
