"""Engine entities to SQLite rows and back. Explicit columns (not a JSON blob) so statistics can query them.

One `Table` per entity: a column per dataclass field, of the same name, converted by the field's type (times
and dates as ISO text, enums by value, tuples as JSON lists, flags as 0/1); the few fields stored otherwise
say how (`Stored`: a ticket's position key in three columns, its call reason and a case's steps as JSON).

`Table.upsert` is one statement keyed by the primary key: `INSERT … ON CONFLICT DO UPDATE` rewrites the row
in place (unlike `INSERT OR REPLACE`, which deletes and re-inserts and so touches every index).
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import enum
import json
import operator
import types
import typing
from collections.abc import Callable, Sequence
from typing import Any, Generic, TypeVar

from hallcore.model import (
    Booking,
    CallReason,
    CallReasonKind,
    Case,
    CaseAction,
    CaseStep,
    Rating,
    Ticket,
    WindowRuntime,
)

Row = Sequence[Any]
E = TypeVar("E")
Convert = Callable[[Any], Any]


@dataclasses.dataclass(frozen=True, slots=True)
class Stored:
    """A field kept in other columns than one of its name: `dump` gives their values, `load` takes them."""

    columns: tuple[str, ...]
    dump: Callable[[Any], tuple[Any, ...]]
    load: Callable[..., Any]


def _iso(v: Any) -> Any:
    return v.isoformat()


def _json_list(v: Any) -> str:
    return json.dumps(list(v))


def _json_tuple(text: str) -> tuple[Any, ...]:
    return tuple(json.loads(text))


def _by_type(tp: Any) -> tuple[Convert | None, Convert | None]:
    """(to SQL, from SQL) for a field's type; None where SQLite keeps the value as it is."""
    args = typing.get_args(tp)
    optional = typing.get_origin(tp) in (typing.Union, types.UnionType) and type(None) in args
    if optional:
        (tp,) = [a for a in args if a is not type(None)]
    dump: Convert | None
    load: Convert | None
    if tp in (dt.datetime, dt.date, dt.time):
        dump, load = _iso, tp.fromisoformat
    elif isinstance(tp, type) and issubclass(tp, enum.Enum):
        dump, load = operator.attrgetter("value"), tp
    elif tp is bool:
        dump, load = int, bool
    elif typing.get_origin(tp) is tuple:
        dump, load = _json_list, _json_tuple
    else:
        return None, None
    if not optional:
        return dump, load
    d, ld = dump, load
    return (lambda v: None if v is None else d(v)), (lambda v: ld(v) if v else None)


class Table(Generic[E]):
    """The rows of one table and the entity dataclass they hold."""

    def __init__(
        self, name: str, cls: type[E], primary: str, stored: dict[str, Stored | None] | None = None
    ) -> None:
        """`stored` names the fields kept otherwise than by their type (a `Stored`), or not at all (None)."""
        stored = stored or {}
        hints = typing.get_type_hints(cls)
        fields = [f.name for f in dataclasses.fields(cls) if stored.get(f.name, True) is not None]  # type: ignore[arg-type]
        self.cls = cls
        self.columns: list[str] = []
        self._dumps: list[tuple[Convert | None, bool]] = []  # (convert, spreads over several columns)
        self._plain: list[tuple[str, int]] = []  # (field, column) read as SQLite gives it
        self._parsed: list[tuple[str, int, Convert]] = []  # (field, column, convert)
        self._wide: list[tuple[str, int, int, Callable[..., Any]]] = []  # (field, first column, count, load)
        for f in fields:
            at = len(self.columns)
            how = stored.get(f)
            if how is not None:
                self.columns.extend(how.columns)
                self._dumps.append((how.dump, True))
                self._wide.append((f, at, len(how.columns), how.load))
                continue
            dump, load = _by_type(hints[f])
            self.columns.append(f)
            self._dumps.append((dump, False))
            if load is None:
                self._plain.append((f, at))
            else:
                self._parsed.append((f, at, load))
        self._get = operator.attrgetter(*fields)
        cols = ", ".join(self.columns)
        marks = ", ".join("?" for _ in self.columns)
        sets = ", ".join(f"{c} = excluded.{c}" for c in self.columns if c != primary)
        self.upsert = (
            f"INSERT INTO {name} ({cols}) VALUES ({marks}) ON CONFLICT ({primary}) DO UPDATE SET {sets}"  # noqa: S608
        )
        self.select = f"SELECT {cols} FROM {name}"  # noqa: S608

    def row(self, e: E) -> tuple[Any, ...]:
        out: list[Any] = []
        for value, (dump, wide) in zip(self._get(e), self._dumps, strict=True):
            if dump is None:
                out.append(value)
            elif wide:
                out.extend(dump(value))
            else:
                out.append(dump(value))
        return tuple(out)

    def entity(self, row: Row) -> E:
        kw = {f: row[i] for f, i in self._plain}
        for f, i, load in self._parsed:
            kw[f] = load(row[i])
        for f, i, n, wide in self._wide:
            kw[f] = wide(*row[i : i + n])
        return self.cls(**kw)


def _reason_dump(r: CallReason | None) -> tuple[Any, ...]:
    return (json.dumps([r.kind.value, r.text, r.text_en], ensure_ascii=False) if r else None,)


def _reason_load(text: str | None) -> CallReason | None:
    if not text:
        return None
    kind, zh, en = json.loads(text)
    return CallReason(CallReasonKind(kind), zh, en)


def _steps_dump(steps: list[CaseStep]) -> tuple[Any, ...]:
    return (
        json.dumps([[s.action.value, s.note, s.staff, s.at.isoformat()] for s in steps], ensure_ascii=False),
    )


def load_steps(text: str) -> list[CaseStep]:
    """A case's stored steps (also read back by the purge after it scrubbed them)."""
    return [CaseStep(CaseAction(a), n, s, dt.datetime.fromisoformat(at)) for a, n, s, at in json.loads(text)]


TICKETS: Table[Ticket] = Table(
    "tickets",
    Ticket,
    "id",
    {
        "key": Stored(
            ("key_ts", "key_seq", "key_rq"), tuple, lambda ts, seq, rq: (float(ts), int(seq), int(rq))
        ),
        "call_reason": Stored(("call_reason",), _reason_dump, _reason_load),
        "estimate_point": None,  # not stored: the estimates table has it
    },
)
WINDOWS: Table[WindowRuntime] = Table("windows", WindowRuntime, "number")
BOOKINGS: Table[Booking] = Table("bookings", Booking, "code")
RATINGS: Table[Rating] = Table("ratings", Rating, "ticket")
CASES: Table[Case] = Table("cases", Case, "id", {"steps": Stored(("steps",), _steps_dump, load_steps)})
