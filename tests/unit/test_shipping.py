"""What leaves the hall for the centre (hallcore/shipping.py), checked without a centre: the privacy filter
on every event, the enrollment code both ends show, the envelope, and the hall profile from the county
config through `parse_profile` and back. The centre's own tests (tests/central) run the same code over HTTP
against PostgreSQL; these pin the pure rules. Also the statistics periods (hallcore/periods.py) both sides
count by."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest

from hallcore import shipping
from hallcore.periods import span_for
from tests.fakes.live_server import COUNTY


def county_profile() -> dict[str, Any]:
    from hallfiles.config import read_config

    return shipping.hall_profile(read_config(COUNTY))


def test_only_allowed_fields_leave_the_hall_and_names_are_masked_again() -> None:
    body = {
        "at": "2026-11-23T09:00:00+08:00",
        "ticket": {
            "id": "2026-11-23/A012",
            "label": "A012",
            "holder_masked": "张三丰",  # a full name that slipped through: masked again at the border
            "token": "secret-status-token",
            "phone": "13800000000",
        },
        "note": "free text typed by a clerk",
        "window": 3,
    }
    out = shipping.export_body("ticket_changed", body)
    assert out == {
        "at": "2026-11-23T09:00:00+08:00",
        "ticket": {"id": "2026-11-23/A012", "label": "A012", "holder_masked": "张**"},
        "window": 3,
    }
    window = shipping.export_body("window_changed", {"window": {"number": 3, "staff": "c3", "pin": "1234"}})
    assert window == {"window": {"number": 3, "staff": "c3"}}
    # A kind this code does not know ships its time and nothing else.
    assert shipping.export_body("hologram", {"at": "t", "secret": 1}) == {"at": "t"}
    item = shipping.export_event(7, "t", "device_health", {"at": "t", "station": "k1", "reason": "free text"})
    assert item == {"seq": 7, "at": "t", "kind": "device_health", "body": {"at": "t", "station": "k1"}}


def test_the_enrollment_code_is_six_unambiguous_characters_of_the_key() -> None:
    a = shipping.enrollment_code(b"\x01" * 32)
    assert a == shipping.enrollment_code(b"\x01" * 32)
    assert a != shipping.enrollment_code(b"\x02" * 32)
    assert len(a) == 6
    assert set(a) <= set(shipping.CODE_ALPHABET)
    assert not set(a) & set("01OIL")


def test_the_envelope_carries_the_profile_only_when_given() -> None:
    events = [shipping.export_event(1, "t", "window_changed", {"at": "t"})]
    plain = shipping.envelope("jinzhai", "t", 1, None, events)
    assert plain == {
        "format": shipping.FORMAT_VERSION,
        "hall": "jinzhai",
        "sent_at": "t",
        "hall_seq": 1,
        "oldest_unshipped_at": None,
        "events": events,
    }
    assert shipping.FORMAT_VERSION in shipping.ACCEPTED_FORMATS
    profile = county_profile()
    assert shipping.envelope("jinzhai", "t", 1, "t0", [], profile)["profile"] is profile


def test_the_county_profile_reads_back_with_its_fingerprint() -> None:
    data = county_profile()
    # What crosses the wire is JSON: the centre reads the decoded text.
    got = shipping.parse_profile(json.loads(json.dumps(data, ensure_ascii=False)))
    assert got.fingerprint == shipping.profile_fingerprint(data)
    assert got.name == "金寨县政务服务中心"
    assert got.timezone == "Asia/Shanghai"
    assert ("gongan", "金寨县公安局") in got.departments
    assert [s.prefix for s in got.series] == ["A", "B", "C", "D", "E", "F", "G"]
    assert len(got.windows) == 28
    assert next(m for m in got.matters if m.code == "HJ01").series == "A"
    assert set(got.targets) == {"onsite_rate", "immediate_share", "satisfaction"}
    # No staff, stations, keys or people: configuration only.
    assert not {"staff", "stations", "central", "upload"} & set(data)


def _broken(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    data: Any = json.loads(json.dumps(county_profile(), ensure_ascii=False))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    result: dict[str, Any] = data
    return result


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (("version",), 2, "profile.version 2 is not 1"),
        (("targets",), {"satisfaction": "high"}, "profile.targets maps names to numbers"),
        (("matters", 0, "immediate"), "yes", "profile.matters[0].immediate is true or false"),
        (("matters", 0, "code"), 7, "profile.matters[0].code is text"),
        (("series", 1, "target_wait_min"), True, "profile.series[1].target_wait_min is a whole number"),
        (("windows",), {"number": 1}, "profile.windows is a list of objects"),
        (("name",), None, "profile.name is text"),
    ],
)
def test_a_profile_of_another_shape_is_refused_naming_the_field(
    path: tuple[str | int, ...], value: object, message: str
) -> None:
    with pytest.raises(shipping.ProfileError) as caught:
        shipping.parse_profile(_broken(path, value))
    assert str(caught.value) == message


def test_a_profile_that_is_not_an_object_is_refused() -> None:
    with pytest.raises(shipping.ProfileError, match="profile is an object"):
        shipping.parse_profile(["not", "a", "profile"])


@pytest.mark.parametrize(
    ("period", "anchor", "end", "first", "last"),
    [
        ("day", dt.date(2026, 11, 25), None, dt.date(2026, 11, 25), dt.date(2026, 11, 25)),
        ("week", dt.date(2026, 11, 25), None, dt.date(2026, 11, 23), dt.date(2026, 11, 29)),
        ("month", dt.date(2026, 2, 14), None, dt.date(2026, 2, 1), dt.date(2026, 2, 28)),
        ("month", dt.date(2026, 12, 31), None, dt.date(2026, 12, 1), dt.date(2026, 12, 31)),
        ("year", dt.date(2026, 7, 1), None, dt.date(2026, 1, 1), dt.date(2026, 12, 31)),
        ("custom", dt.date(2026, 3, 1), dt.date(2026, 3, 9), dt.date(2026, 3, 1), dt.date(2026, 3, 9)),
        ("custom", dt.date(2026, 3, 1), None, dt.date(2026, 3, 1), dt.date(2026, 3, 1)),
    ],
)
def test_statistics_periods(
    period: str, anchor: dt.date, end: dt.date | None, first: dt.date, last: dt.date
) -> None:
    span = span_for(period, anchor, end)
    assert (span.start, span.end, span.period) == (first, last, period)
    assert span.days == (last - first).days + 1
    assert span.label == (first.isoformat() if first == last else f"{first.isoformat()} – {last.isoformat()}")


@pytest.mark.parametrize(
    ("period", "end", "message"),
    [
        ("custom", dt.date(2026, 2, 1), "the range ends before it starts"),
        ("custom", dt.date(2037, 1, 1), "a range is at most ten years"),
        ("fortnight", None, "unknown period 'fortnight'"),
    ],
)
def test_a_period_that_is_not_one_is_refused(period: str, end: dt.date | None, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        span_for(period, dt.date(2026, 3, 1), end)
