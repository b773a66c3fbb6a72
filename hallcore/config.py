"""The hall configuration schema: one frozen dataclass per TOML table, defaults declared here.

Loading and validation (every error at once, with file, dotted key, value, expectation and "did you mean")
live in `hallcore.configload`; this module only declares the shape, so every other module can import it
cheaply. Times of day are `datetime.time`, durations are minutes or seconds as their names say.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum

from hallcore.confignotify import Notify


class MatterKind(StrEnum):
    """即办件 (done on the spot) or 承诺件 (promised by a date)."""

    ON_THE_SPOT = "即办件"
    PROMISED = "承诺件"


class StationRole(StrEnum):
    KIOSK = "kiosk"
    COUNTER = "counter"
    DESK = "desk"  # 导办台: a counter station that also issues tickets for people who cannot use the kiosk
    DISPLAY = "display"
    AGENT = "agent"  # headless device agent driving a shared LED bus


class Durability(StrEnum):
    FULL = "full"  # synchronous=FULL: an acknowledged ticket survives power loss
    NORMAL = "normal"  # synchronous=NORMAL in WAL: survives a process crash, lower tail latency


@dataclass(frozen=True, slots=True)
class Session:
    """One opening of a day, `open` to `close`: a day has one or more (a lunch break between two, an evening
    booking session after the day). A session takes walk-ins and bookings unless told otherwise; the 5+1
    Saturday takes bookings, and walk-ins for the matters on duty and 咨询 only when the hall says so."""

    open: dt.time
    close: dt.time
    walk_ins: bool = True
    bookings: bool = True
    # No new walk-in tickets this many minutes before `close`; None: the hall's cutoff_min.
    cutoff_min: int | None = None
    # Walk-ins only for these series (the matters on duty, 咨询); () = every series.
    walk_in_series: tuple[str, ...] = ()
    # Walk-ins wait behind everyone booked for the session (always so in a session without walk-ins, where
    # only the desk issues them): their effective time is the session's close.
    booked_first: bool = False


#: A weekday's sessions, in time order; no sessions: closed.
Sessions = tuple[Session, ...]


class AtClose(StrEnum):
    """What becomes of tickets still waiting when the last window of their series closes after hours."""

    EXPIRE = "expire"  # expired, with a message on the phone page
    CARRY = "carry"  # wait for the next session of the same day (expired after the last one)


@dataclass(frozen=True, slots=True)
class Season:
    """Seasonal hours (夏季/冬季作息): each year from `start` to `end` (month-day "05-01", inclusive; may run
    over the new year) the weekdays in `hours` keep these sessions instead of `hall.hours`."""

    name: str
    start: str
    end: str
    hours: dict[str, Sessions] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class DateHours:
    """The hall's own hours on some dates — a 5+1 Saturday that takes walk-ins, an evening of 延时服务, a day
    closed for a move: the sessions replace the week's for those dates (no sessions: closed)."""

    dates: tuple[dt.date, ...]
    sessions: Sessions = ()
    note: str = ""


@dataclass(frozen=True, slots=True)
class CalendarYear:
    """One year's public holidays and 调休 working days, as the State Council's notice for that year gives
    them (published each autumn for the next year). A year listed here is *known*: a year not listed is not,
    and hallq says so rather than guess (hallcore/calendar.py)."""

    year: int
    holidays: tuple[dt.date, ...] = ()
    # 调休: weekend days that are working days by the notice.
    workdays: tuple[dt.date, ...] = ()
    source: str = ""  # the notice, or the file the year was loaded from


@dataclass(frozen=True, slots=True)
class Calendar:
    """The hall's yearly calendars: years written in the config, plus one CSV file a year in `dir` (beside the
    config file; `hallq admin calendar import`), a file replacing the same year of the config."""

    years: tuple[CalendarYear, ...] = ()
    dir: str = "calendar"
    # check-config and the dashboard warn when the known years do not cover this many days ahead.
    warn_days: int = 60


@dataclass(frozen=True, slots=True)
class Hall:
    id: str
    name: str
    name_en: str = ""
    timezone: str = "Asia/Shanghai"
    # Keys "mon".."sun", each the weekday's sessions; a missing weekday is closed.
    hours: dict[str, Sessions] = field(default_factory=dict)
    seasons: tuple[Season, ...] = ()
    dates: tuple[DateHours, ...] = ()
    # Holidays and 调休 working days, a year at a time (`hall.holidays`/`hall.extra_workdays` of older files
    # load into it, with a warning).
    calendar: Calendar = field(default_factory=Calendar)
    # No new walk-in tickets this many minutes before a session closes.
    cutoff_min: int = 30
    # 延时服务: a ticket waiting at closing is still served while a window of its series is open; when the
    # last one closes, this decides (`expire_at_close` of older files loads into it, with a warning).
    at_close: AtClose = AtClose.EXPIRE
    public_base_url: str = "http://127.0.0.1:8700"
    notice: str = ""  # scrolling notice on hall boards


@dataclass(frozen=True, slots=True)
class Department:
    id: str
    name: str
    name_en: str = ""


@dataclass(frozen=True, slots=True)
class Series:
    prefix: str  # "A", "B", "K"… numbers are A001… per business day
    name: str
    name_en: str = ""
    daily_cap: int | None = None
    open: dt.time | None = None  # narrower hours than the hall's, if set
    close: dt.time | None = None
    target_wait_min: int = 30
    number_width: int = 3


@dataclass(frozen=True, slots=True)
class Material:
    """One document of a matter's checklist. `tolerable` items may be missing under 容缺受理."""

    id: str
    name: str
    name_en: str = ""
    where: str = ""  # where to get it, printed on the 一次性告知单
    where_en: str = ""
    tolerable: bool = False
    required: bool = True


@dataclass(frozen=True, slots=True)
class When:
    """Ask a question only after `question` (an earlier question of the same matter) got `answer`."""

    question: str
    answer: bool


@dataclass(frozen=True, slots=True)
class Question:
    """A yes/no condition of the matter (hallcore/precheck.py has the rules; docs/config.md "Pre-check").

    An answer other than `expected` fails the pre-check — or makes it 容缺 if `tolerable` — unless a later
    question's `when` follows that answer (the follow-up decides: the 代办 branch). A question with `when` is
    asked only after that answer. A question that `asks_for` materials asks whether they are here: yes adds
    them to the checklist, no lists them as missing (容缺 if they are tolerable). `agent`: the question is put
    only to someone acting for the applicant (代办), so a pre-check that asks it counts as 代办."""

    id: str
    text: str
    text_en: str = ""
    help: str = ""
    help_en: str = ""
    expected: bool = True
    fail_reason: str = ""  # printed on the 一次性告知单
    fail_reason_en: str = ""
    where: str = ""  # where to sort it out
    where_en: str = ""
    when: When | None = None
    tolerable: bool = False
    asks_for: tuple[str, ...] = ()  # material ids of the matter
    agent: bool = False


@dataclass(frozen=True, slots=True)
class Precheck:
    questions: tuple[Question, ...] = ()
    materials: tuple[Material, ...] = ()
    # Deadline for supplying 容缺 items, in working days (hall holidays excluded).
    tolerance_days: int = 20
    # The 承诺书 printed with a 容缺 ticket for the citizen to sign ("" = none). Placeholders: {matter},
    # {items} (what is owed, joined with 、) and {due} (the date it is due).
    pledge: str = ""
    pledge_en: str = ""


@dataclass(frozen=True, slots=True)
class Matter:
    code: str
    name: str
    series: str  # series prefix
    department: str
    name_en: str = ""
    kind: MatterKind = MatterKind.ON_THE_SPOT
    category: str = ""
    pinyin: str = ""  # initials for kiosk search, e.g. "hjqy" for 户籍迁移
    prior_handle_min: float = 10.0
    daily_cap: int | None = None
    bookable: bool = True
    booking_quota: int | None = None  # per slot; None = the booking section's default
    precheck: Precheck = field(default_factory=Precheck)


@dataclass(frozen=True, slots=True)
class Closure:
    """A planned closure of a window (the staffing plan): its lunch turn or a scheduled break, `start` to
    `end` on each open day. The wait estimate counts on it; the day itself may run late or early."""

    start: dt.time
    end: dt.time
    reason: str = "午休"


@dataclass(frozen=True, slots=True)
class Window:
    number: int
    name: str
    department: str
    series: tuple[str, ...]  # served in this order (a 综合窗口 serves several)
    led_address: int | None = None
    partner: int | None = None  # A/B岗: the window that may take over this one's series
    zone: str = ""
    # A 综合窗口 merges its series by the order key; with this set it calls them in the order listed, except
    # that nobody is passed by a ticket that came more than the longest head start after them (DESIGN.md §4).
    strict_series_order: bool = False
    # The staffing plan (roster and break plan): whether a clerk is rostered here on an open day, and the
    # window's planned closures (lunch rotation, scheduled breaks). Read by the wait estimate and `hallq sim`.
    staffed: bool = True
    closures: tuple[Closure, ...] = ()


@dataclass(frozen=True, slots=True)
class PriorityClass:
    """A priority class (绿色通道): its tickets are ordered by effective time − `head_start_min`, so they go
    ahead of the tickets that came up to that many minutes before them, and no further (nobody starves)."""

    id: str  # "appointment", "elderly", "disabled", "military", "key_project"
    name: str
    name_en: str = ""
    head_start_min: int = 20
    # Called next, ahead of every key, at most `priority.absolute_in_row` times in a row at a window while
    # others wait; still never ahead of someone who came more than the longest head start before.
    absolute: bool = False
    kiosk_selectable: bool = True  # shown at the kiosk with "staff will check"


@dataclass(frozen=True, slots=True)
class PriorityPolicy:
    """How absolute classes take turns with everyone else."""

    absolute_in_row: int = 3


class ClosedWindowTransfer(StrEnum):
    """What a 转办 to a window that is closed (and not covered by its A/B partner) does."""

    REFUSE = "refuse"  # refused, with the open windows that serve its series
    SERIES = "series"  # goes to the window's series instead, keeping its time


@dataclass(frozen=True, slots=True)
class TransferPolicy:
    to_closed_window: ClosedWindowTransfer = ClosedWindowTransfer.REFUSE


@dataclass(frozen=True, slots=True)
class NoShowPolicy:
    max_recalls: int = 2  # recalls before the clerk may mark no-show
    min_recall_gap_s: int = 30  # between a call and a recall, two recalls, or the last one and 过号
    max_requeues: int = 2  # a no-show may come back this often; then it takes a new ticket


@dataclass(frozen=True, slots=True)
class RatingPolicy:
    timeout_s: int = 30
    # 4-key pads: key -> five-level score (5 = 非常满意 … 1 = 非常不满意).
    four_key_map: tuple[int, int, int, int] = (5, 4, 2, 1)
    case_deadline_days: int = 5  # working days to follow up a 差评
    # 扫码评价: a ticket finished unrated may be rated once from the phone page for this long (0: off).
    phone_window_min: int = 30


@dataclass(frozen=True, slots=True)
class Outcomes:
    """How a case ends at the window (hallcore/caseoutcome.py): the reasons a 不予受理 may give (行政许可法
    Art. 32), and how long after a finish the clerk may still change its outcome or 办件编号."""

    refusal_reasons: tuple[str, ...] = (
        "申请事项依法不需要取得行政许可",
        "申请事项不属于本机关职权范围",
        "申请材料不齐全且不能当场补正",
        "申请人不具备申请资格",
    )
    change_window_s: int = 60


@dataclass(frozen=True, slots=True)
class Alerts:
    """When the dashboard raises an alert beyond the ones every hall has (hallcore/alerts.py)."""

    pause_min: int = 30  # a window paused longer than this


@dataclass(frozen=True, slots=True)
class Targets:
    onsite_rate: float = 0.90  # 现场办结率
    immediate_share: float = 0.70  # 即办件 share
    satisfaction: float = 0.95  # 满意率


@dataclass(frozen=True, slots=True)
class Estimates:
    """How the wait estimate is shown: a range wider than `wide_band_min` minutes is no plan a citizen can
    use, so the ticket and the phone page say "人多，预计较长" instead of a point."""

    wide_band_min: int = 40


@dataclass(frozen=True, slots=True)
class Booking:
    slot_min: int = 30
    default_quota: int = 4  # per matter per slot
    days_ahead: int = 7
    early_min: int = 30  # check-in accepted this early
    late_grace_min: int = 15  # after the slot ends, a late booking becomes a walk-in


@dataclass(frozen=True, slots=True)
class Persons:
    """Limits per person, counted by the keyed hash of the ID number (never the number itself), against
    scalpers and number hoarding. One home for every per-person rule: bookings, and the tickets taken with an
    ID card (刷身份证取号, hallcore/engine/persons.py)."""

    bookings_per_day: int = 2  # bookings for one day
    bookings_per_week: int = 4  # bookings for days of one ISO week
    bookings_open: int = 3  # booked and not yet checked in, cancelled or missed, at any one time
    tickets_per_day: int = 3  # carded tickets per person and business day (voided ones do not count)
    tickets_per_matter: int = 1  # of those, for one matter
    # 代办: a card read for someone else counts against the agent's own, higher limit (网格员 and 帮办代办
    # staff act for many people a day); the principal's card, when read too, counts against theirs.
    agent_tickets_per_day: int = 20


class ExpiredCard(StrEnum):
    SERVE = "serve"  # serve anyway (the number is still the person's: limits and age class apply)
    DESK = "desk"  # send the holder to the desk (导办台), where staff look at the card


@dataclass(frozen=True, slots=True)
class Identity:
    """What a card read means at the kiosk and the desk (刷身份证取号, DOMAIN.md "Identity")."""

    elder_age: int = 60  # the age (on the day, from the ID number's birth date) that gets `elder_class`
    elder_class: str = "elderly"  # a priority class id; "" for no age class from the card
    expired: ExpiredCard = ExpiredCard.SERVE  # a card past its 有效期限, or failing its number checks


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
    voice: bool = False


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


@dataclass(frozen=True, slots=True)
class Privacy:
    retention_days: int = 180
    show_names_on_boards: bool = False


@dataclass(frozen=True, slots=True)
class Upload:
    """好差评 upload to the provincial platform."""

    enabled: bool = False
    endpoint: str = ""
    # platform field -> hallq data item (e.g. "evaluateLevel" -> "score"; hallcore.provincial.ITEMS)
    field_map: dict[str, str] = field(default_factory=dict)
    retry_max_s: int = 600
    retry_first_s: float = 2.0  # the first backoff after a transient failure; doubled up to retry_max_s
    timeout_s: float = 10.0  # one request; a timeout is a transient failure
    signer: str = "hq1-hmac-sha256"  # or "none" (docs/integrations.md)
    app_key: str = ""  # the appKey the province issued to the hall
    secret_file: str = ""  # a 0600 file holding the app secret (never the secret itself in the TOML)


@dataclass(frozen=True, slots=True)
class PartnerKey:
    """One key a booking partner signs with (docs/integrations.md "Bookings from outside"). Two keys of a
    partner are valid at once while it rotates: the new one added, the old one given `valid_until`."""

    id: str  # the key id the partner sends as X-HQ-AppKey (unique over all partners)
    secret_file: str  # a 0600 file holding the shared secret (never the secret itself in the TOML)
    valid_until: dt.date | None = None  # the last day (hall time) the key is taken; None: until removed


@dataclass(frozen=True, slots=True)
class Partner:
    """An external booking system (the province's 一网通办) that pushes bookings, or publishes a list."""

    id: str
    name: str = ""
    keys: tuple[PartnerKey, ...] = ()
    rate_per_s: float = 2.0  # its signed requests, after the signature is checked
    burst: int = 60
    report_url: str = ""  # hall-side cancellations of its bookings are POSTed here ("" none)
    list_url: str = ""  # the pull adapter: the list it publishes ("" push only)
    poll_s: int = 300  # how often the list is read
    timeout_s: float = 10.0  # one request to the partner


@dataclass(frozen=True, slots=True)
class BookingImport:
    """Bookings from outside: the signed import API and the pull adapter (hallserver/bookimport.py)."""

    enabled: bool = False
    window_s: int = 300  # a request's timestamp may be this far from the hall's clock; nonces kept as long
    retry_first_s: float = 2.0  # reporting to a partner: the first backoff, doubled up to retry_max_s
    retry_max_s: int = 600
    partners: tuple[Partner, ...] = ()


@dataclass(frozen=True, slots=True)
class Central:
    """Shipping the hall's events to the province/city centre (`hallq central`, docs/central.md)."""

    enabled: bool = False
    url: str = ""  # the centre's base URL, e.g. https://central.example.gov.cn:8800
    key_file: str = ""  # the hall's Ed25519 key (0600); default: <database>.central.key beside the database
    batch_events: int = 500
    poll_s: float = 1.0  # how often to look for new events when idle
    heartbeat_s: float = 15.0  # an empty batch this often, so the centre knows the hall is alive
    retry_max_s: int = 300
    # While catching up on a backlog, the shipper pauses after each batch so that preparing batches takes
    # at most this share of the time: issuing and calling keep the hall's core.
    catch_up_share: float = 0.1


@dataclass(frozen=True, slots=True)
class Tls:
    """TLS on the hall LAN (DESIGN.md §9, docs/install.md): the names the server certificate made by `hallq
    admin tls init` carries, and how stations treat the server."""

    names: tuple[str, ...] = ()  # DNS names of the server box in its certificate (e.g. "hallq-server")
    addresses: tuple[str, ...] = ()  # its LAN addresses in the certificate (e.g. "192.168.10.2")
    server_days: int = 397  # a server certificate's life; `hallq admin tls renew` makes the next one
    ca_days: int = 3650  # the hall CA's life (stations pin it: a new CA means enrolling again)
    # Stations refuse a plain-http server (but 127.0.0.1, the demo's), so nobody can talk one out of TLS.
    required: bool = False
    # A station enrolled before TLS pins the CA its server shows at the first TLS contact (and logs it);
    # false: such a station drops its token and enrolls again, so the manager compares the fingerprint.
    pin_on_first_contact: bool = True


@dataclass(frozen=True, slots=True)
class Server:
    durability: Durability = Durability.FULL
    backlog_events: int = 10_000  # events kept in memory for resume
    snapshot_threshold: int = 5_000  # a client further behind than this gets a snapshot
    pause_reasons: tuple[str, ...] = ("休息", "会议", "系统故障", "业务培训", "临时外出")


@dataclass(frozen=True)
class HallConfig:
    hall: Hall
    departments: tuple[Department, ...]
    series: tuple[Series, ...]
    matters: tuple[Matter, ...]
    windows: tuple[Window, ...]
    priority_classes: tuple[PriorityClass, ...] = ()
    priority: PriorityPolicy = field(default_factory=PriorityPolicy)
    no_show: NoShowPolicy = field(default_factory=NoShowPolicy)
    transfer: TransferPolicy = field(default_factory=TransferPolicy)
    rating: RatingPolicy = field(default_factory=RatingPolicy)
    outcomes: Outcomes = field(default_factory=Outcomes)
    alerts: Alerts = field(default_factory=Alerts)
    targets: Targets = field(default_factory=Targets)
    estimates: Estimates = field(default_factory=Estimates)
    booking: Booking = field(default_factory=Booking)
    persons: Persons = field(default_factory=Persons)
    identity: Identity = field(default_factory=Identity)
    zones: tuple[Zone, ...] = ()
    stations: tuple[Station, ...] = ()
    led: Led = field(default_factory=Led)
    voice: Voice = field(default_factory=Voice)
    kiosk: Kiosk = field(default_factory=Kiosk)
    privacy: Privacy = field(default_factory=Privacy)
    upload: Upload = field(default_factory=Upload)
    notify: Notify = field(default_factory=Notify)
    booking_import: BookingImport = field(default_factory=BookingImport)
    central: Central = field(default_factory=Central)
    tls: Tls = field(default_factory=Tls)
    server: Server = field(default_factory=Server)
    # Lookup tables, built once; the config is immutable so they never go stale.
    matter_by_code: dict[str, Matter] = field(init=False, repr=False, compare=False)
    series_by_prefix: dict[str, Series] = field(init=False, repr=False, compare=False)
    window_by_number: dict[int, Window] = field(init=False, repr=False, compare=False)
    class_by_id: dict[str, PriorityClass] = field(init=False, repr=False, compare=False)
    station_by_id: dict[str, Station] = field(init=False, repr=False, compare=False)
    # What loading said about settings it replaced (`hallcore.configmigrate`): shown, never fatal.
    warnings: tuple[str, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "matter_by_code", {m.code: m for m in self.matters})
        object.__setattr__(self, "series_by_prefix", {s.prefix: s for s in self.series})
        object.__setattr__(self, "window_by_number", {w.number: w for w in self.windows})
        object.__setattr__(self, "class_by_id", {c.id: c for c in self.priority_classes})
        object.__setattr__(self, "station_by_id", {s.id: s for s in self.stations})
