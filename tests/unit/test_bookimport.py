"""`hallcore.bookimport`, pure: entries checked field by field, the keys of a rotation, and the pull adapter's
plan, which never cancels a booking because a list was partial or bad (docs/integrations.md)."""

from __future__ import annotations

import datetime as dt
import pathlib
import tomllib
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from hallcore import bookimport as bi
from hallcore.config import BookingImport, Partner, PartnerKey
from hallcore.configload import ConfigError, parse_config
from hallcore.idnumber import complete

TODAY = dt.date(2026, 11, 23)
PERSON = complete("11010119900307001")


def item(ext: str, **more: Any) -> dict[str, Any]:
    return {
        "external_id": ext,
        "matter": "SW03",
        "day": "2026-11-24",
        "slot": "10:00",
        "id_number": PERSON,
        **more,
    }


def test_an_entry_is_checked_field_by_field_without_echoing_the_number() -> None:
    e = bi.parse_entry(item("YW-1", name="张三", phone="138-0000-1111"), TODAY)
    assert isinstance(e, bi.Entry)
    assert e.slot == dt.time(10, 0)
    assert e.state == "booked"
    bad = bi.parse_entry(
        {
            "external_id": "a b",
            "matter": "SW03",
            "day": "24.11.2026",
            "slot": "10",
            "id_number": PERSON[:-1] + "0",
            "name": "x\u202ey",
            "extra": 1,
        },
        TODAY,
    )
    assert isinstance(bad, list)
    assert [p.field for p in bad] == ["extra", "external_id", "day", "slot", "id_number", "name"]
    refusal = bi.invalid(bad)
    assert refusal.status == 422
    assert refusal.code == "invalid_field"
    assert PERSON[:12] not in str(refusal)
    assert bi.parse_entry([1, 2], TODAY) == [bi.FieldProblem("", "a JSON object", "应为 JSON 对象")]


def test_rotation_keys_and_the_key_the_hall_signs_with() -> None:
    old = PartnerKey("k1", "/s1", valid_until=TODAY)
    new = PartnerKey("k2", "/s2")
    p = Partner("ywtb", keys=(old, new))
    assert bi.key_taken(old, TODAY)
    assert not bi.key_taken(old, TODAY + dt.timedelta(days=1))
    assert bi.signing_key(p, TODAY) == new
    assert bi.signing_key(Partner("x", keys=(old,)), TODAY + dt.timedelta(days=1)) is None
    cfg = BookingImport(enabled=True, partners=(p,))
    assert bi.find_key(cfg, "k2") == (p, new)
    assert bi.find_key(cfg, "k3") is None
    assert bi.key_retired(old).code == "key_retired"


def test_the_plan_books_new_ones_and_cancels_only_on_a_whole_clean_list() -> None:
    known = {"A": "booked", "B": "booked", "C": "checked_in", "D": "cancelled"}
    plan = bi.plan_pull(
        {"bookings": [item("A"), item("E"), item("B", state="cancelled")], "complete": True}, known, TODAY
    )
    assert [e.external_id for e in plan.book] == ["E"]
    assert plan.cancel == ("B",)  # C is checked in, D cancelled already: missing, but nothing to do
    assert plan.complete
    # Without "complete": nothing is cancelled for being missing.
    plan = bi.plan_pull({"bookings": [item("E")]}, known, TODAY)
    assert plan.cancel == ()
    assert not plan.complete
    # A bad entry makes the list unsure: no cancellation by absence, the good entries still book.
    plan = bi.plan_pull({"bookings": [item("E"), item("F", slot="nine")], "complete": True}, known, TODAY)
    assert [e.external_id for e in plan.book] == ["E"]
    assert plan.cancel == ()
    assert len(plan.problems) == 1
    assert "F" in plan.problems[0]
    # A duplicate is reported, the first one used.
    plan = bi.plan_pull({"bookings": [item("E"), item("E", slot="11:00")]}, {}, TODAY)
    assert [e.slot for e in plan.book] == [dt.time(10, 0)]
    assert plan.problems
    junks: list[object] = [None, [], {"bookings": {}}, {"items": []}, "x"]
    for junk in junks:
        assert bi.plan_pull(junk, known, TODAY).malformed


@given(st.lists(st.sampled_from(["A", "B", "C", "E"]), max_size=6), st.booleans(), st.booleans())
def test_a_listed_booking_is_never_cancelled_by_its_absence(
    names: list[str], whole: bool, broken: bool
) -> None:
    known = {"A": "booked", "B": "booked", "C": "booked"}
    items = [item(n) for n in dict.fromkeys(names)]
    if broken:
        items.append({"external_id": "Z"})
    plan = bi.plan_pull({"bookings": items, "complete": whole}, known, TODAY)
    assert not set(plan.cancel) & set(names)
    if broken or not whole:
        assert plan.cancel == ()


COUNTY = pathlib.Path(__file__).resolve().parents[2] / "config" / "county.toml"


def _issues(section: dict[str, Any]) -> list[str]:
    data = tomllib.loads(COUNTY.read_text(encoding="utf-8"))
    data["booking_import"] = section
    try:
        parse_config(data, "county.toml")
    except ConfigError as exc:
        return [i.key for i in exc.issues]
    return []


def test_config_checks() -> None:
    k1 = {"id": "k1", "secret_file": "/etc/hallq/k1.secret", "valid_until": dt.date(2026, 12, 31)}
    k2 = {"id": "k2", "secret_file": "/etc/hallq/k2.secret"}
    good = {
        "enabled": True,
        "partners": [{"id": "ywtb", "report_url": "https://y.example/c", "keys": [k1, k2]}],
    }
    assert _issues(good) == []
    bad = {
        "enabled": True,
        "window_s": 5,
        "partners": [
            {"id": "ywtb", "list_url": "ftp://x", "rate_per_s": 0, "keys": [{"id": "k1", "secret_file": ""}]},
            {"id": "ywtb", "keys": [{"id": "k1", "secret_file": "/s"}]},
            {"id": "other"},
        ],
    }
    assert set(_issues(bad)) == {
        "booking_import.window_s",
        "booking_import.partners[0].list_url",
        "booking_import.partners[0].rate_per_s",
        "booking_import.partners[0].keys[0].secret_file",
        "booking_import.partners[1].id",
        "booking_import.partners[1].keys[0].id",
        "booking_import.partners[2].keys",
    }
    assert _issues({"enabled": True}) == ["booking_import.partners"]


def test_every_setting_is_documented() -> None:
    import dataclasses

    docs = (COUNTY.parents[1] / "docs" / "config.md").read_text(encoding="utf-8")
    rows = {
        "BookingImport": BookingImport,
        "Partner": Partner,
        "PartnerKey": PartnerKey,
    }
    for name, cls in rows.items():
        row = next(line for line in docs.splitlines() if f"| `{name}` |" in line)
        for f in dataclasses.fields(cls):
            if f.name not in ("partners", "keys"):
                assert f"`{f.name}`" in row, (name, f.name)


DOC = COUNTY.parents[1] / "docs" / "integrations.md"


def test_the_documented_codes_and_configuration() -> None:
    """docs/integrations.md names every code the import API answers, and its example is a valid config."""
    import re

    doc = DOC.read_text(encoding="utf-8")
    part = doc[doc.index("## Bookings from outside") :]
    codes = {code for _status, code, _zh, _en in bi._SIGNATURE.values()}
    codes |= {"key_retired", "replayed", "external_id_conflict", "unknown_booking", "invalid_field"}
    codes |= {"import_disabled", "too_many_requests", "slot_full", "person_limit"}
    for code in codes:
        assert f"`{code}`" in part, code
    block = re.search(r"### Configuration\n\n```toml\n(.*?)```", part, flags=re.S)
    assert block is not None
    data = tomllib.loads(COUNTY.read_text(encoding="utf-8"))
    data["booking_import"] = tomllib.loads(block.group(1))["booking_import"]
    cfg = parse_config(data, "county.toml").booking_import
    assert cfg.enabled
    assert [k.id for k in cfg.partners[0].keys] == ["ywtb-2026a", "ywtb-2027a"]
    assert cfg.partners[0].keys[0].valid_until == dt.date(2026, 12, 31)
