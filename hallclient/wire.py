"""JSON replies to hallclient types. Every parse error becomes `BadReply` naming what was wrong.

Unknown keys are ignored so that a newer server can add fields without breaking older stations; missing
required fields are errors.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import types
import typing
from collections.abc import Mapping
from typing import Any, TypeVar

from hallclient.errors import BadReply
from hallclient.types import (
    BookingInfo,
    CallInfo,
    Candidate,
    CounterSession,
    DeviceInfo,
    Enrollment,
    EnrollPoll,
    EnrollState,
    Estimate,
    HallInfo,
    HealthInfo,
    Issued,
    NotIssued,
    PrecheckInfo,
    PrintInfo,
    RatingResult,
    Slot,
    SnapshotInfo,
    StationInfo,
    StatusInfo,
    TicketInfo,
    WindowInfo,
    WindowResult,
)

T = TypeVar("T")

_HINTS: dict[type, dict[str, Any]] = {}


def build(cls: type[T], data: Any, where: str = "") -> T:
    """Build dataclass `cls` from a JSON object, converting by its type hints (dates, enums, tuples…)."""
    where = where or cls.__name__
    if not isinstance(data, Mapping):
        raise BadReply(f"{where}: expected an object, got {type(data).__name__}")
    hints = _HINTS.get(cls)
    if hints is None:
        hints = typing.get_type_hints(cls)
        _HINTS[cls] = hints
    kwargs: dict[str, Any] = {}
    for f in dataclasses.fields(cls):  # type: ignore[arg-type]
        if not f.init:
            continue
        if f.name not in data:
            if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
                raise BadReply(f"{where}: missing field {f.name!r}")
            continue
        kwargs[f.name] = _convert(hints[f.name], data[f.name], f"{where}.{f.name}")
    return cls(**kwargs)


def _convert(tp: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(tp)
    try:
        if origin in (typing.Union, types.UnionType):
            if value is None:
                return None
            args = [a for a in typing.get_args(tp) if a is not type(None)]
            return _convert(args[0], value, where)
        if origin is tuple:
            if not isinstance(value, list | tuple):
                raise BadReply(f"{where}: expected a list")
            item_type = typing.get_args(tp)[0]
            return tuple(_convert(item_type, v, f"{where}[{i}]") for i, v in enumerate(value))
        if origin is dict:
            if not isinstance(value, Mapping):
                raise BadReply(f"{where}: expected an object")
            _kt, vt = typing.get_args(tp)
            return {str(k): _convert(vt, v, f"{where}.{k}") for k, v in value.items()}
        if tp is dt.datetime:
            return dt.datetime.fromisoformat(value)
        if tp is dt.date:
            return dt.date.fromisoformat(value)
        if tp is dt.time:
            return dt.time.fromisoformat(value)
        if isinstance(tp, type) and issubclass(tp, enum.Enum):
            return tp(value)
        if dataclasses.is_dataclass(tp):
            return build(typing.cast(type, tp), value, where)
        if tp is float and isinstance(value, int | float) and not isinstance(value, bool):
            return float(value)
        if tp in (int, str, bool) and not isinstance(value, tp):
            raise BadReply(f"{where}: expected {tp.__name__}, got {value!r}")
        if tp is int and isinstance(value, bool):
            raise BadReply(f"{where}: expected int, got {value!r}")
    except (TypeError, ValueError) as exc:
        raise BadReply(f"{where}: {exc}") from exc
    return value


def _obj(data: Any, where: str) -> Mapping[str, Any]:
    if not isinstance(data, Mapping):
        raise BadReply(f"{where}: expected an object, got {type(data).__name__}")
    return data


def _list(data: Any, where: str) -> list[Any]:
    if not isinstance(data, list):
        raise BadReply(f"{where}: expected a list, got {type(data).__name__}")
    return data


def ticket(data: Any) -> TicketInfo:
    return build(TicketInfo, data, "ticket")


def window(data: Any) -> WindowInfo:
    return build(WindowInfo, data, "window")


def ticket_reply(data: Any) -> TicketInfo:
    """`{ticket}` replies (printed, void, cancel, requeue)."""
    return ticket(_obj(data, "reply").get("ticket"))


def precheck(data: Any) -> PrecheckInfo:
    return build(PrecheckInfo, data, "precheck")


def issued(data: Any) -> Issued | NotIssued:
    """`POST /api/tickets` and check-in: 201 `Issued`, or 200 `{ticket: null, precheck}` (failed check)."""
    body = _obj(data, "reply")
    if body.get("ticket") is None:
        if body.get("precheck") is None:
            raise BadReply("reply: no ticket and no pre-check result")
        return NotIssued(precheck(body["precheck"]))
    pr = body.get("print")
    print_info = None
    if isinstance(pr, Mapping):
        typed = {k: pr[k] for k in ("hall_name", "hall_name_en", "qr", "missing", "due") if k in pr}
        print_info = build(PrintInfo, {"hall_name": "", **typed}, "print")
        extra = {str(k): v for k, v in pr.items() if k not in typed}
        print_info = dataclasses.replace(print_info, extra=extra)
    try:
        return Issued(
            ticket=ticket(body["ticket"]),
            token=_convert(str, body["token"], "reply.token"),
            status_url=_convert(str, body["status_url"], "reply.status_url"),
            ahead=_convert(int, body["ahead"], "reply.ahead"),
            estimate=build(Estimate, body["estimate"], "estimate"),
            precheck=precheck(body["precheck"]) if body.get("precheck") is not None else None,
            print=print_info,
        )
    except KeyError as exc:
        raise BadReply(f"reply: missing field {exc.args[0]!r}") from exc


def window_result(data: Any) -> WindowResult:
    body = _obj(data, "reply")
    if "window" not in body:
        raise BadReply("reply: missing field 'window'")
    t = body.get("ticket")
    return WindowResult(window(body["window"]), ticket(t) if t is not None else None)


def candidates(data: Any) -> list[Candidate]:
    """Items are `{ticket, reason, reason_en, waited_min?, over_limit?}`, or a TicketView with
    `waited_min`/`over_limit` beside its fields (read with its own call reason)."""
    out = []
    for i, item in enumerate(_list(data, "candidates")):
        where = f"candidates[{i}]"
        obj = _obj(item, where)
        if "ticket" in obj and isinstance(obj["ticket"], Mapping):
            out.append(build(Candidate, obj, where))
        else:
            t = ticket(obj)
            out.append(
                Candidate(
                    t,
                    t.call_reason,
                    t.call_reason_en,
                    _convert(float | None, obj.get("waited_min"), f"{where}.waited_min"),
                    _convert(bool, obj.get("over_limit", False), f"{where}.over_limit"),
                )
            )
    return out


def windows(data: Any) -> list[WindowInfo]:
    return [window(w) for w in _list(data, "windows")]


def status(data: Any) -> StatusInfo:
    return build(StatusInfo, data, "status")


def rating(data: Any) -> RatingResult:
    """`{rating: {ticket, score, score_name…}, case?: {case|id, due}}`."""
    body = _obj(data, "reply")
    r = _obj(body.get("rating"), "reply.rating")
    case = body.get("case")
    case_id: str | None = None
    case_due: dt.date | None = None
    if isinstance(case, Mapping):
        case_id = _convert(str, case.get("case", case.get("id", "")), "reply.case.id")
        case_due = _convert(dt.date | None, case.get("due"), "reply.case.due")
    return RatingResult(
        ticket=_convert(str, r.get("ticket", ""), "reply.rating.ticket"),
        score=_convert(int, r.get("score"), "reply.rating.score"),
        score_name=str(r.get("score_name", "")),
        case_id=case_id,
        case_due=case_due,
    )


def slots(data: Any) -> list[Slot]:
    return [build(Slot, s, f"slots[{i}]") for i, s in enumerate(_list(data, "slots"))]


def booking(data: Any) -> BookingInfo:
    return build(BookingInfo, data, "booking")


def hall(data: Any) -> HallInfo:
    """`GET /api/hall`; the hall's own fields may sit at the top or under `hall`."""
    body = dict(_obj(data, "hall"))
    inner = body.pop("hall", None)
    if isinstance(inner, Mapping):
        body = {**inner, **body}
    return build(HallInfo, body, "hall")


def call(data: Any) -> CallInfo:
    """A recent call: a `CallInfo` object, or a ticket view with its window."""
    obj = _obj(data, "call")
    if "ticket" in obj and isinstance(obj["ticket"], Mapping):
        t = ticket(obj["ticket"])
        w = obj.get("window")
        wn = w.get("number") if isinstance(w, Mapping) else t.window
        at = obj.get("at")
        return CallInfo(
            t.label,
            _convert(int | None, wn, "call.window"),
            t.window_name,
            t.matter_name,
            _convert(dt.datetime | None, at, "call.at"),
        )
    return build(CallInfo, obj, "call")


def snapshot(data: Any) -> SnapshotInfo:
    body = _obj(data, "snapshot")
    try:
        return SnapshotInfo(
            seq=_convert(int, body["seq"], "snapshot.seq"),
            at=_convert(dt.datetime, body["at"], "snapshot.at"),
            windows=tuple(window(w) for w in _list(body.get("windows", []), "snapshot.windows")),
            waiting=_convert(dict[str, int], body.get("waiting", {}), "snapshot.waiting"),
            recent_calls=tuple(call(c) for c in _list(body.get("recent_calls", []), "snapshot.recent_calls")),
            devices=tuple(
                build(DeviceInfo, d, "snapshot.devices") for d in _list(body.get("devices", []), "devices")
            ),
        )
    except KeyError as exc:
        raise BadReply(f"snapshot: missing field {exc.args[0]!r}") from exc


def health(data: Any) -> HealthInfo:
    return build(HealthInfo, data, "health")


def enrollment(data: Any) -> Enrollment:
    return build(Enrollment, data, "enrollment")


def enroll_poll(data: Any) -> EnrollPoll:
    body = _obj(data, "enrollment")
    return EnrollPoll(
        state=_convert(EnrollState, body.get("state"), "enrollment.state"),
        token=_convert(str | None, body.get("token"), "enrollment.token"),
    )


def station(data: Any) -> StationInfo:
    body = dict(_obj(data, "station"))
    inner = body.get("station")
    if isinstance(inner, Mapping):
        body = dict(inner)
    return build(StationInfo, body, "station")


def stations(data: Any) -> list[StationInfo]:
    return [station(s) for s in _list(data, "stations")]


def counter_session(data: Any) -> CounterSession:
    return build(CounterSession, data, "counter session")


def token(data: Any) -> str:
    body = _obj(data, "reply")
    value = body.get("token")
    if not isinstance(value, str) or not value:
        raise BadReply("reply: missing field 'token'")
    return value
