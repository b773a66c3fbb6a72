"""The checks of a hall configuration that types cannot express: references, duplicates, ranges and hours.

They run on whatever part of the file converted, so one bad window does not hide a bad matter. Names that
other tables refer to (series prefixes, department ids, window numbers, zone ids) are taken from the raw TOML,
so an item that failed to convert for another reason does not also make every reference to it look unknown.
"""

from __future__ import annotations

import ipaddress
import re
import zoneinfo
from collections.abc import Sequence
from typing import Any

from hallcore.config import (
    BrightnessStep,
    Device,
    Hall,
    Matter,
    Series,
    Station,
    StationRole,
    Upload,
    Window,
)
from hallcore.confighours import check_days
from hallcore.configimport import check_booking_import
from hallcore.configlang import check_languages
from hallcore.confignotifycheck import check_notify
from hallcore.configprecheck import check_precheck
from hallcore.configrules import at_least as _at_least
from hallcore.configrules import between as _between
from hallcore.configrules import check_template as _check_template
from hallcore.configrules import nonempty as _nonempty
from hallcore.configrules import once as _once
from hallcore.configrules import ref as _ref
from hallcore.configrules import unique as _unique
from hallcore.configwalk import MISSING, Parsed, Walker, did_you_mean, one_of
from hallcore.devicetypes import (
    BAUD_RATES,
    BUS_ADDRESSES,
    DEVICE_TYPES_BY_SLOT,
    ID_READER_ROLES,
    WHY_NOT_IN_SLOT,
)
from hallcore.provincial import ITEMS, SIGNERS
from hallcore.shipping import MAX_BATCH_EVENTS

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
# Placeholders each LED template may use; anything else would raise KeyError at the first call of the day.
LED_FIELDS = {
    "welcome": frozenset[str](),
    "calling": frozenset({"number", "window"}),
    "paused": frozenset({"reason"}),
    "closed": frozenset[str](),
}


def check_references(w: Walker, p: Parsed, data: dict[str, Any]) -> None:
    """Record an issue on `w` for every cross-table or range problem in the converted parts `p` of `data`."""
    refs = _Refs(data)
    if (hall := p.section("hall")) is not None:
        _check_hall(w, hall, refs.series)
    _check_departments(w, p)
    _check_series(w, p)
    _check_matters(w, p, refs)
    _check_windows(w, p, refs)
    _check_policies(w, p)
    _check_zones(w, p)
    _check_stations(w, p, refs)
    _check_sections(w, p)
    check_languages(w, p)


class _Refs:
    """Names declared in the raw file, in file order, for reference checks and their messages."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.departments = _raw_names(data, "departments", "id", str)
        self.series = _raw_names(data, "series", "prefix", str)
        self.windows = _raw_names(data, "windows", "number", int)
        self.zones = _raw_names(data, "zones", "id", str)
        self.window_series = [
            prefix
            for table in _raw_tables(data, "windows")
            if isinstance(table.get("series"), list)
            for prefix in table["series"]
        ]


def _raw_tables(data: dict[str, Any], section: str) -> list[dict[str, Any]]:
    tables = data.get(section)
    return [t for t in tables if isinstance(t, dict)] if isinstance(tables, list) else []


def _raw_names(data: dict[str, Any], section: str, key: str, kind: type) -> list[Any]:
    names: list[Any] = []
    for table in _raw_tables(data, section):
        value = table.get(key)
        if isinstance(value, kind) and not isinstance(value, bool) and value not in names:
            names.append(value)
    return names


def _check_hall(w: Walker, hall: Hall, series: Sequence[str]) -> None:
    _nonempty(w, "hall.id", hall.id, "a short id for the hall, e.g. 'jinzhai'")
    _nonempty(w, "hall.name", hall.name, "the hall's name shown on tickets and boards")
    try:
        zoneinfo.ZoneInfo(hall.timezone)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        w.issue("hall.timezone", hall.timezone, "an IANA time zone name", "did you mean 'Asia/Shanghai'?")
    _at_least(w, "hall.cutoff_min", hall.cutoff_min, 0, " minutes")
    if not hall.public_base_url.startswith(("http://", "https://")):
        w.issue("hall.public_base_url", hall.public_base_url, "an http:// or https:// URL")
    check_days(w, hall, series)


def _check_departments(w: Walker, p: Parsed) -> None:
    items = p.items("departments")
    for i, dept in items:
        _nonempty(w, f"departments[{i}].id", dept.id, "a short id, e.g. 'gongan'")
        _nonempty(w, f"departments[{i}].name", dept.name, "the department's name")
    _unique(w, items, "departments", "id", "department id")


def _check_series(w: Walker, p: Parsed) -> None:
    items: list[tuple[int, Series]] = p.items("series")
    for i, s in items:
        key = f"series[{i}]"
        if not (1 <= len(s.prefix) <= 2 and s.prefix.isascii() and s.prefix.isalpha() and s.prefix.isupper()):
            w.issue(f"{key}.prefix", s.prefix, "one or two capital letters A-Z (printed before the number)")
        _nonempty(w, f"{key}.name", s.name, "the series' name")
        _between(w, f"{key}.number_width", s.number_width, 1, 6)
        _at_least(w, f"{key}.daily_cap", s.daily_cap, 1)
        if s.daily_cap is not None and 1 <= s.number_width <= 6 and s.daily_cap >= 10**s.number_width:
            w.issue(
                f"{key}.daily_cap",
                s.daily_cap,
                f"at most {10**s.number_width - 1} with number_width = {s.number_width}",
            )
        if s.open is not None and s.close is not None and s.open >= s.close:
            w.issue(f"{key}.close", s.close, f"a time after open ({s.open:%H:%M})")
        _at_least(w, f"{key}.target_wait_min", s.target_wait_min, 1, " minute")
    _unique(w, items, "series", "prefix", "series prefix")


def _check_matters(w: Walker, p: Parsed, refs: _Refs) -> None:
    items: list[tuple[int, Matter]] = p.items("matters")
    for i, m in items:
        key = f"matters[{i}]"
        if not m.code or any(c.isspace() for c in m.code):
            w.issue(f"{key}.code", m.code, "a code without spaces, e.g. 'HJ01'")
        _nonempty(w, f"{key}.name", m.name, "the matter's name as citizens know it")
        _ref(w, f"{key}.series", m.series, refs.series, "series prefixes")
        _ref(w, f"{key}.department", m.department, refs.departments, "department ids")
        if not (m.pinyin.isascii() and (m.pinyin.isalpha() or not m.pinyin) and m.pinyin == m.pinyin.lower()):
            w.issue(f"{key}.pinyin", m.pinyin, "lowercase pinyin initials, e.g. 'hjqy' for 户籍迁移")
        if m.prior_handle_min <= 0:
            w.issue(f"{key}.prior_handle_min", m.prior_handle_min, "a positive number of minutes")
        _at_least(w, f"{key}.daily_cap", m.daily_cap, 1)
        _at_least(w, f"{key}.booking_quota", m.booking_quota, 1)
        check_precheck(w, f"{key}.precheck", m.precheck)
    _unique(w, items, "matters", "code", "matter code")


def _check_windows(w: Walker, p: Parsed, refs: _Refs) -> None:
    items: list[tuple[int, Window]] = p.items("windows")
    led_holders: dict[int, str] = {}
    for i, win in items:
        key = f"windows[{i}]"
        _at_least(w, f"{key}.number", win.number, 1)
        _nonempty(w, f"{key}.name", win.name, "the window's name shown on boards")
        _ref(w, f"{key}.department", win.department, refs.departments, "department ids")
        if not win.series:
            w.issue(f"{key}.series", win.series, "at least one series prefix")
        for j, prefix in enumerate(win.series):
            _ref(w, f"{key}.series[{j}]", prefix, refs.series, "series prefixes")
            if prefix in win.series[:j]:
                w.issue(f"{key}.series[{j}]", prefix, "each series once per window")
        if win.partner is not None:
            if win.partner == win.number:
                w.issue(
                    f"{key}.partner", win.partner, "the number of another window (A/B岗 pairs two windows)"
                )
            elif win.partner not in refs.windows:
                w.issue(f"{key}.partner", win.partner, "the number of a window defined in [[windows]]")
        if win.led_address is not None:
            if win.led_address not in BUS_ADDRESSES:
                w.issue(f"{key}.led_address", win.led_address, "a bus address from 1 to 247")
            else:
                what = "an LED address used by one window only"
                _once(w, f"{key}.led_address", win.led_address, led_holders, key, what)
        if win.zone:
            _ref(w, f"{key}.zone", win.zone, refs.zones, "zone ids")
        for j, closure in enumerate(win.closures):
            if closure.start >= closure.end:
                w.issue(
                    f"{key}.closures[{j}].end", closure.end, f"a time after start ({closure.start:%H:%M})"
                )
    _unique(w, items, "windows", "number", "window number")
    # A series no window serves would sell tickets that are never called.
    for i, s in p.items("series"):
        if refs.window_series and s.prefix not in refs.window_series:
            w.issue(
                f"series[{i}].prefix",
                s.prefix,
                "a series served by at least one window",
                "add it to a window's series",
            )


def _check_policies(w: Walker, p: Parsed) -> None:
    classes = p.items("priority_classes")
    for i, c in classes:
        _nonempty(w, f"priority_classes[{i}].id", c.id, "a short id, e.g. 'elderly'")
        _nonempty(w, f"priority_classes[{i}].name", c.name, "the name shown at the kiosk and to the clerk")
        # A day is the longest a head start can mean anything; more is a typo (hours for minutes).
        _between(w, f"priority_classes[{i}].head_start_min", c.head_start_min, 0, 24 * 60)
    _unique(w, classes, "priority_classes", "id", "priority class id")
    if (pol := p.section("priority")) is not None:
        _at_least(w, "priority.absolute_in_row", pol.absolute_in_row, 1)
    if (ns := p.section("no_show")) is not None:
        _at_least(w, "no_show.max_recalls", ns.max_recalls, 0)
        _at_least(w, "no_show.min_recall_gap_s", ns.min_recall_gap_s, 0, " s")
        _at_least(w, "no_show.max_requeues", ns.max_requeues, 0)
    if (rating := p.section("rating")) is not None:
        _at_least(w, "rating.timeout_s", rating.timeout_s, 1, " s")
        _at_least(w, "rating.case_deadline_days", rating.case_deadline_days, 1, " working day")
        _at_least(w, "rating.phone_window_min", rating.phone_window_min, 0, " minutes")
        for j, score in enumerate(rating.four_key_map):
            _between(w, f"rating.four_key_map[{j}]", score, 1, 5, hint="5 = 非常满意 … 1 = 非常不满意")
    if (al := p.section("alerts")) is not None:
        _at_least(w, "alerts.pause_min", al.pause_min, 1, " minutes")
    if (oc := p.section("outcomes")) is not None:
        _at_least(w, "outcomes.change_window_s", oc.change_window_s, 0, " s")
        if not oc.refusal_reasons:
            w.issue("outcomes.refusal_reasons", oc.refusal_reasons, "at least one reason for 不予受理")
        for j, reason in enumerate(oc.refusal_reasons):
            if not reason.strip():
                w.issue(f"outcomes.refusal_reasons[{j}]", reason, "a reason the citizen is told")
            elif reason in oc.refusal_reasons[:j]:
                w.issue(f"outcomes.refusal_reasons[{j}]", reason, "each reason once")
    if (targets := p.section("targets")) is not None:
        for name in ("onsite_rate", "immediate_share", "satisfaction"):
            value = getattr(targets, name)
            hint = f"write {value / 100:g} for {value:g} %" if value > 1 else ""
            _between(w, f"targets.{name}", value, 0, 1, hint=hint)
    if (est := p.section("estimates")) is not None:
        _at_least(w, "estimates.wide_band_min", est.wide_band_min, 1, " minutes")
    if (b := p.section("booking")) is not None:
        _between(w, "booking.slot_min", b.slot_min, 5, 240)
        _at_least(w, "booking.default_quota", b.default_quota, 1)
        _at_least(w, "booking.days_ahead", b.days_ahead, 0, " days")
        _at_least(w, "booking.early_min", b.early_min, 0, " minutes")
        _at_least(w, "booking.late_grace_min", b.late_grace_min, 0, " minutes")
    if (people := p.section("persons")) is not None:
        _at_least(w, "persons.bookings_per_day", people.bookings_per_day, 1)
        _at_least(w, "persons.bookings_open", people.bookings_open, 1)
        if people.bookings_per_week < people.bookings_per_day:
            w.issue(
                "persons.bookings_per_week",
                people.bookings_per_week,
                f"at least bookings_per_day ({people.bookings_per_day})",
            )
        _at_least(w, "persons.tickets_per_day", people.tickets_per_day, 1)
        _at_least(w, "persons.agent_tickets_per_day", people.agent_tickets_per_day, 1)
        if not 1 <= people.tickets_per_matter <= people.tickets_per_day:
            w.issue(
                "persons.tickets_per_matter",
                people.tickets_per_matter,
                f"1 to tickets_per_day ({people.tickets_per_day})",
            )
    if (ident := p.section("identity")) is not None:
        _between(w, "identity.elder_age", ident.elder_age, 50, 100)
        known = {c.id for _i, c in p.items("priority_classes")}
        if ident.elder_class and ident.elder_class not in known:
            w.issue(
                "identity.elder_class", ident.elder_class, f"one of the priority classes: {sorted(known)}"
            )


def _check_zones(w: Walker, p: Parsed) -> None:
    zones = p.items("zones")
    for i, z in zones:
        _nonempty(w, f"zones[{i}].id", z.id, "a short id, e.g. 'f1'")
        _nonempty(w, f"zones[{i}].name", z.name, "the zone's name, e.g. '一楼大厅'")
    _unique(w, zones, "zones", "id", "zone id")


def _check_stations(w: Walker, p: Parsed, refs: _Refs) -> None:
    stations: list[tuple[int, Station]] = p.items("stations")
    windows = {win.number: win for _, win in p.items("windows")}
    counter_of: dict[int, str] = {}
    bus_seen: dict[tuple[str, int], str] = {}
    for i, st in stations:
        key = f"stations[{i}]"
        _nonempty(w, f"{key}.id", st.id, "a short id, e.g. 'kiosk-1'")
        if st.role is StationRole.COUNTER and st.window is None:
            w.issue(f"{key}.window", MISSING, "the number of the window this counter serves")
        if st.window is not None:
            if st.role not in (StationRole.COUNTER, StationRole.DESK):
                w.issue(
                    f"{key}.window",
                    st.window,
                    f"no window for a {st.role.value} station (counter and desk only)",
                )
            elif st.window not in refs.windows:
                w.issue(f"{key}.window", st.window, "the number of a window defined in [[windows]]")
            else:
                _once(w, f"{key}.window", st.window, counter_of, key, "a window driven by one station only")
        if st.zone:
            _ref(w, f"{key}.zone", st.zone, refs.zones, "zone ids")
        if st.id_reader is not None and st.role not in ID_READER_ROLES:
            w.issue(
                f"{key}.id_reader", st.role.value, "an ID card reader on a kiosk, desk or counter station"
            )
        for slot, allowed in DEVICE_TYPES_BY_SLOT.items():
            device = getattr(st, slot)
            if isinstance(device, Device):
                # An agent owns a whole bus of window strips, addressed by each window's led_address.
                on_bus = st.role is not StationRole.AGENT
                _check_device(w, f"{key}.{slot}", device, allowed, bus_seen, needs_address=on_bus)
        win = windows.get(st.window) if st.window is not None else None
        if (
            win is not None
            and st.led is not None
            and st.led.address is not None
            and win.led_address in BUS_ADDRESSES
            and st.led.address != win.led_address
        ):
            w.issue(f"{key}.led.address", st.led.address, f"the window's led_address ({win.led_address})")
    _unique(w, stations, "stations", "id", "station id")


def _check_device(
    w: Walker,
    key: str,
    d: Device,
    allowed: Sequence[str],
    bus_seen: dict[tuple[str, int], str],
    *,
    needs_address: bool,
) -> None:
    if d.type not in allowed:
        why = WHY_NOT_IN_SLOT.get((key.rsplit(".", 1)[-1], d.type))
        w.issue(f"{key}.type", d.type, one_of("device types", allowed), why or did_you_mean(d.type, allowed))
        return
    if d.type in ("escpos-usb", "idcard-usb"):
        for name in ("usb_vendor", "usb_product"):
            if getattr(d, name) is None:
                w.issue(f"{key}.{name}", MISSING, f"a USB id for an {d.type} device, e.g. 0x0416")
        for name, low in (("usb_out_ep", 0x01), ("usb_in_ep", 0x81)):
            ep = getattr(d, name)
            if ep is not None and not low <= ep <= low + 0x0E:
                w.issue(f"{key}.{name}", ep, f"an endpoint address 0x{low:02x}..0x{low + 0x0E:02x}")
    elif d.type == "escpos-network":
        if not d.url.startswith(("socket://", "tcp://")):
            w.issue(f"{key}.url", d.url, "a socket://host:port or tcp://host:port URL")
    elif d.type == "evdev":
        _nonempty(w, f"{key}.path", d.path, "an evdev device path or name")
    elif d.type != "fake":
        _nonempty(
            w,
            f"{key}.url",
            d.url,
            "a pyserial URL or device, e.g. '/dev/ttyUSB0' or 'socket://127.0.0.1:9200'",
        )
    if needs_address and d.type in ("hqp", "vendor485") and d.address is None:
        w.issue(f"{key}.address", MISSING, "a bus address from 1 to 247 for a device on a shared bus")
    if d.address is not None:
        if d.address not in BUS_ADDRESSES:
            w.issue(f"{key}.address", d.address, "a bus address from 1 to 247")
        elif d.url:
            what = f"an address used once on the bus {d.url}"
            _once(w, f"{key}.address", d.address, bus_seen, key, what, by=(d.url, d.address))
    if d.type.startswith("escpos") and d.width_mm not in (58, 80):
        w.issue(f"{key}.width_mm", d.width_mm, "58 or 80 (paper width in mm)")
    if d.baud not in BAUD_RATES:
        w.issue(f"{key}.baud", d.baud, one_of("baud rates", BAUD_RATES))
    if d.timeout_s <= 0:
        w.issue(f"{key}.timeout_s", d.timeout_s, "a positive number of seconds")
    if not 0.05 <= d.poll_s <= 10:
        w.issue(f"{key}.poll_s", d.poll_s, "0.05 to 10 seconds between polls (readers: 0.3 advised)")


def _check_sections(w: Walker, p: Parsed) -> None:
    if (led := p.section("led")) is not None:
        for name, allowed in LED_FIELDS.items():
            _check_template(w, f"led.{name}", getattr(led, name), allowed)
        steps: list[BrightnessStep] = list(led.brightness)
        for j, step in enumerate(steps):
            _between(w, f"led.brightness[{j}].level", step.level, 0, 15)
            if j and step.at <= steps[j - 1].at:
                w.issue(
                    f"led.brightness[{j}].at",
                    step.at,
                    f"a time after {steps[j - 1].at:%H:%M} (steps in time order)",
                )
        _at_least(w, "led.hall_rows", led.hall_rows, 1)
    if (voice := p.section("voice")) is not None:
        if not voice.languages:
            w.issue("voice.languages", voice.languages, "at least one language, e.g. ['zh']")
        _at_least(w, "voice.repeats", voice.repeats, 1)
        _at_least(w, "voice.max_age_s", voice.max_age_s, 1, " s")
        _at_least(w, "voice.max_backlog", voice.max_backlog, 1)
    if (kiosk := p.section("kiosk")) is not None:
        for name in ("print_confirm_timeout_s", "idle_reset_s", "elder_idle_reset_s"):
            _at_least(w, f"kiosk.{name}", getattr(kiosk, name), 1, " s")
    if (privacy := p.section("privacy")) is not None:
        _at_least(w, "privacy.retention_days", privacy.retention_days, 1, " day")
    if (upload := p.section("upload")) is not None:
        if upload.enabled and not upload.endpoint.startswith(("http://", "https://")):
            w.issue("upload.endpoint", upload.endpoint, "an http(s) URL when upload.enabled = true")
        _at_least(w, "upload.retry_max_s", upload.retry_max_s, 1, " s")
        _check_upload(w, upload)
    if (notify := p.section("notify")) is not None:
        check_notify(w, notify)
    if (booking_import := p.section("booking_import")) is not None:
        check_booking_import(w, booking_import)
    if (central := p.section("central")) is not None:
        if central.enabled and not central.url.startswith(("http://", "https://")):
            w.issue("central.url", central.url, "an http(s) URL when central.enabled = true")
        _at_least(w, "central.batch_events", central.batch_events, 1)
        if central.batch_events > MAX_BATCH_EVENTS:
            w.issue("central.batch_events", central.batch_events, f"at most {MAX_BATCH_EVENTS}")
        _at_least(w, "central.retry_max_s", central.retry_max_s, 1, " s")
        if central.poll_s <= 0 or central.heartbeat_s <= 0:
            w.issue("central.poll_s", central.poll_s, "poll_s and heartbeat_s above 0 s")
        if not 0 < central.catch_up_share <= 1:
            w.issue("central.catch_up_share", central.catch_up_share, "a share above 0 and at most 1")
    if (tls := p.section("tls")) is not None:
        _check_tls(w, tls)
    if (server := p.section("server")) is not None:
        _at_least(w, "server.backlog_events", server.backlog_events, 1)
        _at_least(w, "server.snapshot_threshold", server.snapshot_threshold, 1)
        # A client behind by more than the backlog cannot resume from it, so it must get a snapshot first.
        if server.snapshot_threshold > server.backlog_events:
            w.issue(
                "server.snapshot_threshold",
                server.snapshot_threshold,
                f"at most backlog_events ({server.backlog_events})",
            )
        if not server.pause_reasons:
            w.issue("server.pause_reasons", server.pause_reasons, "at least one pause reason")
        for j, reason in enumerate(server.pause_reasons):
            if reason in server.pause_reasons[:j]:
                w.issue(f"server.pause_reasons[{j}]", reason, "each reason once")


#: A DNS name in a certificate: labels of letters, digits and hyphens (no wildcard: one hall, one box).
_DNS_NAME = re.compile(r"^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$")


def _check_tls(w: Walker, tls: Any) -> None:
    """What `hallq admin tls init` puts in the server certificate: real names and addresses."""
    for j, name in enumerate(tls.names):
        if not _DNS_NAME.match(name):
            w.issue(f"tls.names[{j}]", name, "a host name like hallq-server or hallq.hall.local")
    for j, address in enumerate(tls.addresses):
        try:
            ipaddress.ip_address(address)
        except ValueError:
            w.issue(f"tls.addresses[{j}]", address, "an IP address like 192.168.10.2")
    _between(w, "tls.server_days", tls.server_days, 1, 825)
    _between(w, "tls.ca_days", tls.ca_days, 30, 36500)


def _check_upload(w: Walker, upload: Upload) -> None:
    """The provincial adapter (docs/integrations.md): known data items, a known signer, and what it needs."""
    for platform, ours in upload.field_map.items():
        if ours not in ITEMS:
            w.issue(f"upload.field_map.{platform}", ours, f"one of hallq's data items: {', '.join(ITEMS)}")
    if upload.signer not in SIGNERS:
        w.issue("upload.signer", upload.signer, f"one of {', '.join(SIGNERS)}")
    elif upload.enabled and upload.signer != "none":
        if not upload.app_key:
            w.issue("upload.app_key", upload.app_key, "the appKey the province issued (signer needs it)")
        if not upload.secret_file:
            w.issue("upload.secret_file", upload.secret_file, "a 0600 file holding the app secret")
    _at_least(w, "upload.timeout_s", upload.timeout_s, 1, " s")
    _at_least(w, "upload.retry_first_s", upload.retry_first_s, 0.1, " s")
