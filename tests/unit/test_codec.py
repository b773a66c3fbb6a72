"""The one codec: every reply built from a real engine survives encode → JSON → decode unchanged, matches the
JSON Schema generated from its type, and a reply that does not fit is refused with the path of the fault."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import typing
from typing import Any, Literal

import jsonschema_rs
import pytest
from hypothesis import given
from hypothesis import strategies as st

from hallcore import commands as c
from hallcore import replies
from hallcore import replybuilders as build
from hallcore.codec import CodecError, decode, dumps, encode, json_schema
from hallcore.engine import Accepted, Engine
from hallcore.events import TicketChanged, TicketView, decode_event, encode_event
from hallcore.model import Source
from hallcore.printout import PRINT_LANGUAGES
from tests.fakes.halls import MONDAY_9, small_hall


def accept(e: Engine, cmd: c.Command, now: dt.datetime = MONDAY_9) -> Accepted:
    out = e.handle(cmd, now)
    assert isinstance(out, Accepted), out
    return out


def sample_replies() -> list[Any]:
    """One of each reply, built by the same builders the server uses, from a small hall mid-morning."""
    cfg = small_hall()
    e = Engine(cfg)
    accept(e, c.OpenWindow(1, "S01"))
    all_there = frozenset({"idcard", "photo"})
    first = accept(
        e, c.IssueTicket("hj01", Source.DESK, "tok-first-0000001", "", {"resident": True}, all_there)
    )
    tolerated = accept(
        e,
        c.IssueTicket(
            "hj01", Source.KIOSK, "tok-second-000001", "elderly", {"resident": True}, frozenset({"idcard"})
        ),
    )
    failed = accept(e, c.IssueTicket("hj01", Source.KIOSK, "tok-none-00000001", "", {"resident": False}))
    assert tolerated.ticket is not None
    accept(e, c.ConfirmPrint(tolerated.ticket.id))
    now = MONDAY_9 + dt.timedelta(minutes=5)
    called = accept(e, c.CallNext(1, "S01"), now)
    assert first.ticket is not None
    assert tolerated.ticket is not None
    assert tolerated.ahead is not None
    assert tolerated.estimate is not None
    assert failed.precheck is not None
    assert called.ticket is not None
    call = next(ev for ev in called.events if isinstance(ev, TicketChanged))
    accept(e, c.StartServing(1), now)
    accept(e, c.Finish(1), now)
    accept(e, c.Rate(called.ticket.id, 1, "pad"), now)
    base = cfg.hall.public_base_url
    issued = build.issued(e, tolerated.ticket, tolerated.ahead, tolerated.estimate, tolerated.precheck, base)
    return [
        issued,
        build.not_issued(cfg, failed.precheck, now),
        build.window_result(e, 1, called.ticket),
        build.window_result(e, 2, None),
        *build.candidates(e, 1, now),
        build.rated(e, called.ticket),
        build.ticket_status(e, tolerated.ticket, now, [call]),
        build.snapshot(e, 9, now, [call], {("k1", "printer"): ("degraded", "paper low")}),
        build.hall_view(cfg),
        build.remaining(e, now),
        replies.TicketReply(e.ticket_view(tolerated.ticket)),
        replies.ErrorBody("window_closed", "窗口未开启", "closed", {"window": 1}),
        replies.EnrollPoll(replies.EnrollState.APPROVED, "t"),
        replies.StationInfo("s1", "一楼", "kiosk", "approved", "ABC123", None, "", now),
        replies.Empty(),
    ]


SAMPLES = sample_replies()


def ids(value: Any) -> str:
    return type(value).__name__


@pytest.mark.parametrize("reply", SAMPLES, ids=ids)
def test_every_reply_round_trips_through_json(reply: Any) -> None:
    text = json.dumps(encode(reply), ensure_ascii=False)
    assert decode(type(reply), json.loads(text)) == reply


@pytest.mark.parametrize("reply", SAMPLES, ids=ids)
def test_every_reply_matches_the_schema_generated_from_its_type(reply: Any) -> None:
    defs: dict[str, dict[str, Any]] = {}
    ref = json_schema(type(reply), defs)
    root = {"$schema": "https://json-schema.org/draft/2020-12/schema", "components": {"schemas": defs}, **ref}
    validator = jsonschema_rs.validator_for(root, validate_formats=True)
    errors = [str(err) for err in validator.iter_errors(encode(reply))]
    assert errors == []


def test_the_issued_reply_prints_in_every_language() -> None:
    (issued,) = [r for r in SAMPLES if isinstance(r, replies.Issued)]
    assert tuple(issued.print) == PRINT_LANGUAGES
    en = issued.printout("en")
    assert (en.hall, en.matter, en.priority) == ("小厅", "hukou move", "elderly 70+")  # no English hall name
    assert en.tolerance_items == ("photo",)
    assert issued.printout("zh").tolerance_items == ("照片",)
    assert issued.printout("fr") == issued.printout("zh")


def test_an_event_keeps_its_kind_and_seq() -> None:
    (status,) = [r for r in SAMPLES if isinstance(r, replies.TicketStatus)]
    call = status.calls[0]
    text = encode_event(call, 12)
    assert json.loads(text)["kind"] == "ticket_changed"
    assert decode_event(text) == (call, 12)


@pytest.mark.parametrize(
    ("data", "fault"),
    [
        ({**encode(SAMPLES[0]), "ahead": "3"}, "Issued.ahead: expected an integer"),
        ({**encode(SAMPLES[0]), "ahead": True}, "Issued.ahead: expected an integer"),
        ({**encode(SAMPLES[0]), "ticket": None}, "Issued.ticket: expected a TicketView object"),
        (
            {**encode(SAMPLES[0]), "ticket": {**encode(SAMPLES[0].ticket), "issued_at": "monday"}},
            "Issued.ticket.issued_at: expected an ISO datetime string",
        ),
        (
            {**encode(SAMPLES[0]), "precheck": {**encode(SAMPLES[0].precheck), "outcome": "ok"}},
            "Issued.precheck.outcome: expected one of",
        ),
        ({k: v for k, v in encode(SAMPLES[0]).items() if k != "token"}, "Issued: missing field 'token'"),
        ({**encode(SAMPLES[0]), "print": {"zh": {"hall": 1}}}, "Issued.print.zh.hall: expected a string"),
        ([], "Issued: expected a Issued object"),
    ],
)
def test_a_reply_that_does_not_fit_names_the_fault(data: Any, fault: str) -> None:
    with pytest.raises(CodecError) as err:
        decode(replies.Issued, data)
    assert fault in str(err.value)


def test_unknown_keys_are_ignored_so_a_newer_server_may_add_fields() -> None:
    reply = SAMPLES[0]
    data = {**encode(reply), "new_field": [1, 2]}
    data["ticket"] = {**data["ticket"], "also_new": True}
    assert decode(replies.Issued, data) == reply


@dataclasses.dataclass(frozen=True)
class Shapes:
    pair: tuple[int, int] | None
    mode: Literal["a", "b"]
    scores: dict[str, float]
    when: dt.time


@given(
    st.builds(
        Shapes,
        st.none() | st.tuples(st.integers(), st.integers()),
        st.sampled_from(["a", "b"]),
        st.dictionaries(st.text(), st.floats(allow_nan=False)),
        st.times(),
    )
)
def test_shapes_round_trip(value: Shapes) -> None:
    assert decode(Shapes, json.loads(json.dumps(encode(value)))) == value


def test_literal_and_fixed_tuples_are_checked() -> None:
    good = {"pair": [1, 2], "mode": "a", "scores": {"x": 1}, "when": "09:00:00"}
    assert decode(Shapes, good) == Shapes((1, 2), "a", {"x": 1.0}, dt.time(9))
    for key, bad in (("pair", [1, 2, 3]), ("mode", "c"), ("scores", {"x": "1"}), ("when", 900)):
        with pytest.raises(CodecError, match=key):
            decode(Shapes, {**good, key: bad})


def test_two_wire_types_with_one_name_are_refused() -> None:
    defs: dict[str, dict[str, Any]] = {}
    json_schema(TicketView, defs)
    other = dataclasses.make_dataclass("TicketView", [("id", str)])
    with pytest.raises(TypeError, match="two wire types"):
        json_schema(other, defs)


def test_a_wire_type_is_named_by_its_class_not_its_module() -> None:
    # The same declaration in another module publishes the same component: where a reply type lives
    # (hallcore.replyschema.*) is not part of the contract; only the internal x-python note differs.
    defs: dict[str, dict[str, Any]] = {}
    assert json_schema(replies.Slot, defs) == {"$ref": "#/components/schemas/Slot"}
    fields = list(typing.get_type_hints(replies.Slot).items())
    moved = dataclasses.make_dataclass(
        "Slot", fields, frozen=True, namespace={"__module__": "somewhere.else"}
    )
    moved_defs: dict[str, dict[str, Any]] = {}
    assert json_schema(moved, moved_defs) == {"$ref": "#/components/schemas/Slot"}
    assert moved_defs["Slot"].pop("x-python") == "somewhere.else.Slot"
    assert defs["Slot"].pop("x-python") == "hallcore.replyschema.bookings.Slot"
    assert moved_defs == defs


@dataclasses.dataclass(frozen=True)
class Loose:
    """Shapes no reply has today but the codec promises: a union of two types, a required union, a list, a
    map, nothing at all, and a field the constructor does not take."""

    either: int | str
    required: int | None
    items: list[int]
    extra: dict[str, int]
    nothing: None = None
    derived: int = dataclasses.field(default=0, init=False)


def test_a_union_tries_each_type_and_names_every_fault() -> None:
    good = {"either": "x", "required": None, "items": [1], "extra": {"a": 1}}
    assert decode(Loose, good).either == "x"
    assert decode(Loose, {**good, "either": 5}).either == 5
    with pytest.raises(CodecError) as err:
        decode(Loose, {**good, "either": 1.5})
    assert (
        str(err.value)
        == "Loose.either: expected an integer, got 1.5 / Loose.either: expected a string, got 1.5"
    )
    with pytest.raises(CodecError) as err:
        decode(Loose, {**good, "either": None})
    assert str(err.value) == "Loose.either: expected int or str, got None"


@pytest.mark.parametrize(
    ("key", "bad", "fault"),
    [
        ("items", {"0": 1}, "Loose.items: expected a list"),
        ("items", [1, "2"], "Loose.items[1]: expected an integer"),
        ("extra", [1], "Loose.extra: expected an object"),
        ("extra", {"a": None}, "Loose.extra.a: expected an integer"),
        ("nothing", 0, "Loose.nothing: expected null"),
        # A long value is shown cut, so the error line stays readable.
        ("items", "y" * 100, f"Loose.items: expected a list, got '{'y' * 56}..."),
    ],
)
def test_a_shape_that_does_not_fit_names_the_path(key: str, bad: Any, fault: str) -> None:
    good = {"either": 1, "required": 2, "items": [1], "extra": {}}
    with pytest.raises(CodecError) as err:
        decode(Loose, {**good, key: bad})
    assert str(err.value).startswith(fault)


def test_a_field_the_constructor_does_not_take_is_not_read() -> None:
    value = decode(Loose, {"either": 1, "required": 2, "items": [], "extra": {}, "derived": 7})
    assert value.derived == 0
    assert encode(value)["derived"] == 0  # still written: `encode` writes every field


def test_a_type_the_codec_does_not_know_is_refused_when_first_used() -> None:
    with pytest.raises(TypeError, match="cannot decode"):
        decode(complex, 1)
    with pytest.raises(TypeError, match="no JSON Schema"):
        json_schema(complex, {})


def test_dumps_is_compact_utf8_and_unknown_values_pass_through() -> None:
    assert dumps({"名": ("甲", dt.date(2026, 11, 23))}) == '{"名":["甲","2026-11-23"]}'
    marker = object()
    assert encode(marker) is marker  # not JSON-able: json.dumps names it, the codec does not guess
