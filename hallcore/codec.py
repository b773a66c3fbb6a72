"""The one JSON codec of the hall API: events, replies and print blocks, encoded by the server and decoded by
hallclient with the same type hints, and described to OpenAPI from the same hints (`json_schema`).

- `encode(value)`: dataclasses to dicts (every field, always, so a reply has one shape), datetimes, dates and
  times to ISO strings, tuples to lists; an `Event` also gets its `kind`.
- `decode(cls, data)`: the inverse, driven by `cls`'s type hints. Strict where a silent coercion would hide a
  bug ("5" is not an int, `1` is not a bool, an unknown enum value is an error); unknown keys are ignored so a
  newer server can add fields without breaking older stations. Every error is a `CodecError` naming the path
  (`Issued.ticket.issued_at: …`).
- `json_schema(tp, defs)`: the JSON Schema of what `encode` writes for `tp`; dataclasses become references
  into `defs` (the OpenAPI `components/schemas`).

Decoders are built once per type and cached: a display decodes every call event of the hall.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import inspect
import json
import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

T = TypeVar("T")

Decoder = Callable[[Any, str], Any]


class CodecError(ValueError):
    """JSON that does not fit the type it was read as; the message names the path and what was wrong."""


# ---- encode ------------------------------------------------------------------------------------------------

_FIELD_NAMES: dict[type, tuple[tuple[str, ...], str | None]] = {}


def _fields_of(cls: type) -> tuple[tuple[str, ...], str | None]:
    found = _FIELD_NAMES.get(cls)
    if found is None:
        names = tuple(f.name for f in dataclasses.fields(cls))
        kind = getattr(cls, "kind", None) if getattr(cls, "__wire_kind__", False) else None
        found = (names, kind if isinstance(kind, str) and kind else None)
        _FIELD_NAMES[cls] = found
    return found


_PLAIN = frozenset({str, int, float, bool, type(None)})

Encoder = Callable[[Any], Any]
#: One encoder per type met, built on first use: the issue path encodes three objects of about fifty values
#: per ticket (its event, the event's public form, the reply), and finding out what a value is (is it a
#: dataclass? an enum? a date?) cost more than encoding it.
_ENCODERS: dict[type, Encoder] = {}


def encode(value: Any) -> Any:
    """`value` as JSON-able data: what the server sends and `decode` reads back."""
    tp = type(value)
    if tp in _PLAIN:  # most values: checked first
        return value
    enc = _ENCODERS.get(tp)
    if enc is None:
        enc = _ENCODERS[tp] = _encoder_for(tp)
    return enc(value)


def _encoder_for(tp: type) -> Encoder:
    """How to encode a value of type `tp` (a plain value inside is kept as is without a call)."""
    plain = _PLAIN
    if dataclasses.is_dataclass(tp):
        names, kind = _fields_of(tp)

        def dataclass(value: Any) -> Any:
            out = {}
            for name in names:
                v = getattr(value, name)
                out[name] = v if type(v) in plain else encode(v)
            if kind is not None:
                out["kind"] = kind
            return out

        return dataclass
    if issubclass(tp, enum.Enum):
        return _enum_value
    if issubclass(tp, (dt.datetime, dt.date, dt.time)):
        return _iso
    if issubclass(tp, (list, tuple)):
        return lambda value: [v if type(v) in plain else encode(v) for v in value]
    if issubclass(tp, dict):
        return lambda value: {str(k): v if type(v) in plain else encode(v) for k, v in value.items()}
    return _same


def _enum_value(value: Any) -> Any:
    return value.value


def _iso(value: Any) -> Any:
    return value.isoformat()


def _same(value: Any) -> Any:
    return value


def dumps(value: Any) -> str:
    """`encode(value)` as compact UTF-8 JSON text (Chinese kept as is)."""
    return json.dumps(encode(value), ensure_ascii=False, separators=(",", ":"))


# ---- decode ------------------------------------------------------------------------------------------------

_DECODERS: dict[Any, Decoder] = {}


def decode(tp: type[T], data: Any, where: str = "") -> T:
    """Build a `tp` from JSON data; raises `CodecError` naming what does not fit."""
    return typing.cast(T, decoder_for(tp)(data, where or getattr(tp, "__name__", str(tp))))


def decoder_for(tp: Any) -> Decoder:
    found = _DECODERS.get(tp)
    if found is None:
        found = _build(tp)
        _DECODERS[tp] = found
    return found


def _fail(where: str, expected: str, value: Any) -> CodecError:
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return CodecError(f"{where}: expected {expected}, got {shown}")


def _build(tp: Any) -> Decoder:
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return lambda v, _w: v
    if tp is type(None) or tp is None:

        def none(v: Any, w: str) -> Any:
            if v is not None:
                raise _fail(w, "null", v)
            return None

        return none
    if origin in (typing.Union, types.UnionType):
        return _union(args)
    if origin is typing.Literal:
        allowed = args

        def literal(v: Any, w: str) -> Any:
            if v not in allowed or isinstance(v, bool) != any(isinstance(a, bool) for a in allowed):
                raise _fail(w, f"one of {list(allowed)}", v)
            return v

        return literal
    if origin in (tuple, list):
        return _sequence(origin, args)
    if origin is dict:
        return _mapping(args[1])
    if tp is dt.datetime or tp is dt.date or tp is dt.time:
        parse = tp.fromisoformat
        name = tp.__name__

        def when(v: Any, w: str) -> Any:
            if not isinstance(v, str):
                raise _fail(w, f"an ISO {name} string", v)
            try:
                return parse(v)
            except ValueError:
                raise _fail(w, f"an ISO {name} string", v) from None

        return when
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        return _enum(tp)
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass(tp)
    if tp is float:

        def number(v: Any, w: str) -> Any:
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise _fail(w, "a number", v)
            return float(v)

        return number
    if tp in (int, str, bool):
        name = {int: "an integer", str: "a string", bool: "true or false"}[tp]

        def scalar(v: Any, w: str) -> Any:
            if not isinstance(v, tp) or (tp is int and isinstance(v, bool)):
                raise _fail(w, name, v)
            return v

        return scalar
    raise TypeError(f"the codec cannot decode {tp!r}")


def _union(args: tuple[Any, ...]) -> Decoder:
    optional = type(None) in args
    rest = [a for a in args if a is not type(None)]
    decoders = [decoder_for(a) for a in rest]

    def union(v: Any, w: str) -> Any:
        if v is None:
            if optional:
                return None
            raise _fail(w, " or ".join(str(getattr(a, "__name__", a)) for a in rest), v)
        if len(decoders) == 1:
            return decoders[0](v, w)
        errors = []
        for d in decoders:
            try:
                return d(v, w)
            except CodecError as exc:
                errors.append(str(exc))
        raise CodecError(" / ".join(errors))

    return union


def _sequence(origin: Any, args: tuple[Any, ...]) -> Decoder:
    fixed = origin is tuple and not (len(args) == 2 and args[1] is Ellipsis)
    if fixed:
        items = [decoder_for(a) for a in args]

        def fixed_tuple(v: Any, w: str) -> Any:
            if not isinstance(v, list | tuple) or len(v) != len(items):
                raise _fail(w, f"a list of {len(items)}", v)
            return tuple(d(x, f"{w}[{i}]") for i, (d, x) in enumerate(zip(items, v, strict=True)))

        return fixed_tuple
    item = decoder_for(args[0]) if args else decoder_for(Any)
    make: Callable[[Any], Any] = tuple if origin is tuple else list

    def sequence(v: Any, w: str) -> Any:
        if not isinstance(v, list | tuple):
            raise _fail(w, "a list", v)
        return make(item(x, f"{w}[{i}]") for i, x in enumerate(v))

    return sequence


def _mapping(value_type: Any) -> Decoder:
    item = decoder_for(value_type)

    def mapping(v: Any, w: str) -> Any:
        if not isinstance(v, dict):
            raise _fail(w, "an object", v)
        return {str(k): item(x, f"{w}.{k}") for k, x in v.items()}

    return mapping


def _enum(cls: type[enum.Enum]) -> Decoder:
    values = {m.value: m for m in cls}

    def member(v: Any, w: str) -> Any:
        try:
            return values[v]
        except (KeyError, TypeError):
            raise _fail(w, f"one of {list(values)}", v) from None

    return member


def _dataclass(cls: type) -> Decoder:
    hints = typing.get_type_hints(cls)
    plan: list[tuple[str, Decoder | None, bool]] = []
    for f in dataclasses.fields(cls):
        if not f.init:
            continue
        required = f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING
        plan.append((f.name, None, required))
    resolved: list[tuple[str, Decoder, bool]] = []

    def obj(v: Any, w: str) -> Any:
        if not isinstance(v, dict):
            raise _fail(w, f"a {cls.__name__} object", v)
        if not resolved:  # built on first use: a dataclass may refer to itself through its fields
            resolved.extend((n, decoder_for(hints[n]), r) for n, _d, r in plan)
        kwargs = {}
        for name, dec, required in resolved:
            if name in v:
                kwargs[name] = dec(v[name], f"{w}.{name}")
            elif required:
                raise CodecError(f"{w}: missing field {name!r}")
        return cls(**kwargs)

    return obj


# ---- JSON Schema -------------------------------------------------------------------------------------------

_TIME_PATTERN = r"^[0-9]{2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?$"


def json_schema(tp: Any, defs: dict[str, dict[str, Any]], ref_prefix: str = "#/components/schemas/") -> Any:
    """The JSON Schema (OpenAPI 3.1) of what `encode` writes for a `tp`; dataclasses go into `defs`."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if tp is Any:
        return {}
    if tp is type(None) or tp is None:
        return {"type": "null"}
    if origin in (typing.Union, types.UnionType):
        return {"anyOf": [json_schema(a, defs, ref_prefix) for a in args]}
    if origin is typing.Literal:
        return {"enum": list(args)}
    if origin in (tuple, list):
        if origin is tuple and not (len(args) == 2 and args[1] is Ellipsis):
            return {
                "type": "array",
                "prefixItems": [json_schema(a, defs, ref_prefix) for a in args],
                "minItems": len(args),
                "maxItems": len(args),
            }
        return {"type": "array", "items": json_schema(args[0] if args else Any, defs, ref_prefix)}
    if origin is dict:
        return {"type": "object", "additionalProperties": json_schema(args[1], defs, ref_prefix)}
    if tp is dt.datetime:
        return {"type": "string", "format": "date-time"}
    if tp is dt.date:
        return {"type": "string", "format": "date"}
    if tp is dt.time:
        return {"type": "string", "pattern": _TIME_PATTERN}
    if isinstance(tp, type) and issubclass(tp, enum.Enum):
        values = [m.value for m in tp]
        kind = "string" if all(isinstance(x, str) for x in values) else "integer"
        return {"type": kind, "enum": values}
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        name = tp.__name__
        if name not in defs:
            defs[name] = {}  # placed first: a dataclass may refer to itself
            defs[name] = _object_schema(tp, defs, ref_prefix)
        elif defs[name].get("x-python") not in (None, _qualname(tp)):
            raise TypeError(f"two wire types are called {name}: {defs[name]['x-python']} and {_qualname(tp)}")
        return {"$ref": ref_prefix + name}
    simple = {bool: "boolean", int: "integer", float: "number", str: "string"}
    if tp in simple:
        return {"type": simple[tp]}
    raise TypeError(f"no JSON Schema for {tp!r}")


def _qualname(tp: type) -> str:
    return f"{tp.__module__}.{tp.__qualname__}"


def _object_schema(cls: type, defs: dict[str, dict[str, Any]], ref_prefix: str) -> dict[str, Any]:
    hints = typing.get_type_hints(cls)
    props = {f.name: json_schema(hints[f.name], defs, ref_prefix) for f in dataclasses.fields(cls)}
    _names, kind = _fields_of(cls)
    if kind is not None:
        props["kind"] = {"const": kind}
    out: dict[str, Any] = {
        "type": "object",
        "properties": props,
        "required": list(props),  # `encode` writes every field
        "x-python": _qualname(cls),
    }
    doc = inspect.getdoc(cls)
    if doc and not doc.startswith(f"{cls.__name__}("):  # not the generated signature
        out["description"] = doc.split("\n\n")[0].replace("\n", " ")
    return out
