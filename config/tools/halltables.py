"""The tables every example hall writes after its windows, with the hall's own figures where they differ:
bookings and per-person limits, zones, a station's devices, and the LED, voice, kiosk, privacy, upload, TLS
and server tables."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence

from tomlwriter import Toml


def write_booking(t: Toml, *, default_quota: int, days_ahead: int, bookings_per_week: int) -> None:
    t.entry(
        "booking",
        array=False,
        slot_min=30,
        default_quota=default_quota,
        days_ahead=days_ahead,
        early_min=30,
        late_grace_min=15,
    )
    t.blank()
    t.comment("Per person (by the keyed hash of the ID number), against scalpers and number hoarding.")
    t.entry(
        "persons",
        array=False,
        bookings_per_day=2,
        bookings_per_week=bookings_per_week,
        bookings_open=3,
        tickets_per_day=3,
        tickets_per_matter=1,
        agent_tickets_per_day=20,
    )
    t.blank()
    t.comment("刷身份证取号: the age class a card gives (verified, not claimed); an expired card.")
    t.entry("identity", array=False, elder_age=70, elder_class="elderly", expired="serve")


def write_zones(t: Toml, zones: Iterable[tuple[str, str, int]]) -> None:
    for zone_id, name, floor in zones:
        t.entry("zones", id=zone_id, name=name, floor=floor)


def write_device(t: Toml, slot: str, device_type: str, **values: object) -> None:
    """A station's device table (`stations.printer`, `stations.led`, …)."""
    t.entry(f"stations.{slot}", array=False, type=device_type, **values)


def write_booking_import(t: Toml) -> None:
    t.table("booking_import")
    t.comment(
        "Bookings from the province's 一网通办 (docs/integrations.md): off until the partner has its keys."
    )
    t.kv("enabled", False)
    t.comment("A signed request's timestamp may be this far off the hall's clock; its nonce is kept as long.")
    t.kv("window_s", 300)
    t.kv("retry_first_s", 2.0)
    t.kv("retry_max_s", 600)
    t.table("booking_import.partners", array=True)
    t.kv("id", "ywtb")
    t.kv("name", "一网通办")
    t.kv("rate_per_s", 2.0)
    t.kv("burst", 60)
    t.comment('A cancellation at the hall (the citizen, the desk) is POSTed here, signed ("": not reported).')
    t.kv("report_url", "http://127.0.0.1:8791/hallq/cancelled")
    t.comment('A partner that only publishes a list: its URL, read every poll_s ("": it pushes).')
    t.kv("list_url", "")
    t.kv("poll_s", 300)
    t.kv("timeout_s", 10.0)
    t.comment(
        "A rotation: the old key taken through valid_until, the new one (listed last) signs the hall's."
    )
    t.table("booking_import.partners.keys", array=True)
    t.kv("id", "ywtb-2026a")
    t.kv("secret_file", "/etc/hallq/ywtb-2026a.secret")
    t.kv("valid_until", dt.date(2026, 12, 31))
    t.table("booking_import.partners.keys", array=True)
    t.kv("id", "ywtb-2027a")
    t.kv("secret_file", "/etc/hallq/ywtb-2027a.secret")


def write_common_tail(
    t: Toml, *, upload_endpoint: str, languages: Sequence[str] = ("zh", "en"), home: Sequence[str] = ()
) -> None:
    t.table("led")
    t.kv("welcome", "欢迎光临")
    t.kv("calling", "请{number}号到{window}号窗口")
    t.kv("paused", "暂停服务 {reason}")
    t.kv("closed", "本窗口暂停服务")
    t.kv("hall_rows", 4)
    for at, level in (("08:00", 12), ("12:00", 15), ("17:00", 8)):
        t.table("led.brightness", array=True)
        t.kv("at", at)
        t.kv("level", level)
    t.table("voice")
    t.kv("languages", ["zh", "en"])
    t.kv("repeats", 2)
    t.kv("max_age_s", 120)
    t.kv("max_backlog", 20)
    t.table("kiosk")
    t.kv("print_confirm_timeout_s", 120)
    t.kv("idle_reset_s", 60)
    t.kv("elder_idle_reset_s", 180)
    t.kv("show_remaining", True)
    t.kv("languages", list(languages), "the first is where every visit starts")
    if home:
        t.kv("home_matters", list(home), "the home screen's tiles, most used first")
    t.table("privacy")
    t.kv("retention_days", 180)
    t.kv("show_names_on_boards", False)
    t.table("notify")
    t.comment('"快到您了" notices (docs/integrations.md): the log adapter until there is an SMS contract.')
    t.kv("enabled", True)
    t.kv("sms", "log")
    t.kv("quiet_start", "21:00")
    t.kv("quiet_end", "08:00")
    t.kv("per_ticket", 4)
    t.kv("per_number_day", 6)
    t.kv("optin_per_number_day", 3)
    t.kv("optin_per_station_hour", 60)
    t.table("notify.rules")
    t.kv("ahead", 3)
    t.kv("within_min", 15)
    t.kv("called", True)
    t.kv("owed_days", 3)
    t.kv("booking_eve", True)
    t.table("upload")
    t.comment("好差评 upload to the provincial platform; off until the hall has its platform account.")
    t.kv("enabled", False)
    t.kv("endpoint", upload_endpoint)
    t.kv("retry_max_s", 600)
    t.kv("retry_first_s", 2.0)
    t.kv("timeout_s", 10.0)
    t.comment("HQ1-HMAC-SHA256 (docs/integrations.md); the secret lives in a 0600 file, never in this file.")
    t.kv("signer", "hq1-hmac-sha256")
    t.kv("app_key", "")
    t.kv("secret_file", "")
    t.table("upload.field_map")
    t.comment("platform field = hallq data item (docs/integrations.md lists them)")
    for platform, ours in (
        ("evaluateId", "idempotency_key"),
        ("evaluateType", "kind"),
        ("taskCode", "matter_code"),
        ("taskName", "matter_name"),
        ("projectNo", "case_no"),
        ("handleResult", "outcome"),
        ("ticketNo", "ticket_id"),
        ("channel", "channel"),
        ("evaluateLevel", "score"),
        ("evaluateTime", "rated_at"),
        ("deptName", "department"),
        ("windowNo", "window"),
        ("userCode", "clerk"),
        ("raterName", "rater_name"),
        ("raterKey", "rater_key"),
        ("tags", "tags"),
        ("content", "comment"),
        ("visitTime", "callback_at"),
        ("rectification", "rectification"),
        ("raterView", "rater_view"),
        ("closeTime", "closed_at"),
    ):
        t.kv(platform, ours)
    write_booking_import(t)
    t.table("tls")
    t.comment("The server certificate `hallq admin tls init` makes: the server box's names and addresses.")
    t.kv("names", ["hallq-server"])
    t.kv("addresses", ["10.0.0.2"])
    t.comment("Stations refuse plain HTTP (but 127.0.0.1, the demo's) and pin the hall CA at enrollment.")
    t.kv("required", True)
    t.comment("Enrolled before TLS: pin the CA at the first TLS contact (logged); false: enroll again.")
    t.kv("pin_on_first_contact", True)
    t.table("server")
    t.kv("durability", "full")
    t.kv("backlog_events", 10000)
    t.kv("snapshot_threshold", 5000)
    t.kv("pause_reasons", ["休息", "会议", "系统故障", "业务培训", "临时外出"])
