"""The stations and their devices, and what the boards, the voice and the kiosk show. Part of the hall
configuration schema (`hallcore.config`, where `HallConfig` gathers the tables): one frozen dataclass per
TOML table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum


class StationRole(StrEnum):
    KIOSK = "kiosk"
    COUNTER = "counter"
    DESK = "desk"  # 导办台: a counter station that also issues tickets for people who cannot use the kiosk
    DISPLAY = "display"
    AGENT = "agent"  # headless device agent driving a shared LED bus


@dataclass(frozen=True, slots=True)
class Zone:
    id: str
    name: str
    floor: int = 1


@dataclass(frozen=True, slots=True)
class Device:
    """A device of a station. `type` picks the driver; serial devices are reached by pyserial URL."""

    # "escpos-usb" | "escpos-serial" | "escpos-network" | "hqp" | "vendor485" | "evdev" | "idcard-serial"
    # | "idcard-usb" | "fake"
    type: str
    url: str = ""  # "socket://127.0.0.1:9101", "/dev/ttyUSB0", "loop://", "tcp://host:9100"
    address: int | None = None  # bus address for HQP/1 and vendor 485 devices
    usb_vendor: int | None = None
    usb_product: int | None = None
    usb_out_ep: int | None = None  # bulk endpoints of an idcard-usb reader; None: 0x02 and 0x81
    usb_in_ep: int | None = None
    width_mm: int = 80  # printers: 58 or 80
    baud: int = 9600  # ID card readers mostly run at 115200
    path: str = ""  # evdev device path or name
    timeout_s: float = 1.0
    poll_s: float = 0.3  # ID card readers: how often to look for a card (vendors advise >= 0.3 s)


@dataclass(frozen=True, slots=True)
class Station:
    id: str
    role: StationRole
    name: str = ""
    window: int | None = None  # counter stations
    zone: str = ""  # displays: show only this zone's windows; "" = all
    printer: Device | None = None
    led: Device | None = None
    keypad: Device | None = None
    rating_pad: Device | None = None
    scanner: Device | None = None
    id_reader: Device | None = None  # 居民身份证 reader: kiosks, desks, counters
    voice: bool = False  # displays: read calls out; kiosks: spoken guidance (读给我听, elder mode)
    volume: int = 80  # a kiosk's spoken guidance, 0-100 %


@dataclass(frozen=True, slots=True)
class BrightnessStep:
    at: dt.time
    level: int  # 0-15


@dataclass(frozen=True, slots=True)
class Led:
    welcome: str = "欢迎光临"
    calling: str = "请{number}号到{window}号窗口"
    paused: str = "暂停服务 {reason}"
    closed: str = "本窗口暂停服务"  # a closed window's strip; never blank, which looks like a broken strip
    brightness: tuple[BrightnessStep, ...] = ()
    hall_rows: int = 4


@dataclass(frozen=True, slots=True)
class Voice:
    languages: tuple[str, ...] = ("zh",)
    repeats: int = 2
    max_age_s: int = 120  # a call older than this is shown but not spoken
    max_backlog: int = 20


@dataclass(frozen=True, slots=True)
class Kiosk:
    print_confirm_timeout_s: int = 120  # unconfirmed pending_print tickets are voided after this
    idle_reset_s: int = 60
    elder_idle_reset_s: int = 180
    show_remaining: bool = True
    # The languages citizens can choose, in the order shown; the first is where every visit starts. Each needs
    # a kiosk catalogue (zh, en, bo ship); matter names and materials give theirs in `names`.
    languages: tuple[str, ...] = ("zh", "en")
    # The matters on the home screen's tiles, most used first (matter codes); empty: the config's first six.
    home_matters: tuple[str, ...] = ()
