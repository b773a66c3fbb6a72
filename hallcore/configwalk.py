"""The generic half of loading a hall's configuration: `Walker` turns TOML tables into the schema's frozen
dataclasses (hallcore/config.py) by reading their type hints, recording a `ConfigIssue` for every value that
does not fit instead of stopping at the first. hallcore/configload.py runs it, then the checks of
hallcore/configcheck.py, which build on it; hallcentral/config.py walks the centre's own file with it.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import difflib
import functools
import re
import types
import typing
from collections.abc import Iterable, Sequence
from enum import Enum
from typing import Any, Final

from hallcore.config import HallConfig
from hallcore.errors import HallError


class _Missing:
    """The value of an issue about a key that is absent from the file."""

    _instance: _Missing | None = None

    def __new__(cls) -> _Missing:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "<missing>"


MISSING: Final = _Missing()


@dataclasses.dataclass(frozen=True, slots=True)
class ConfigIssue:
    """One problem in a configuration file. `line`/`column` are set for TOML syntax errors only."""

    file: str
    key: str  # dotted, e.g. "matters[3].series"; "" for problems of the whole file
    value: object  # MISSING when the key is absent
    expected: str
    hint: str = ""
    line: int | None = None
    column: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        if self.line is not None and self.column is not None:
            where += f":{self.column}"
        text = where
        if self.key:
            text += f": {self.key}"
            text += " is missing" if self.value is MISSING else f" = {_show(self.value)}"
        text += f": expected {self.expected}"
        if self.hint:
            text += f" ({self.hint})"
        return text


class ConfigError(HallError):
    """A configuration that cannot be used; `issues` holds every problem found."""

    def __init__(self, issues: Sequence[ConfigIssue]) -> None:
        self.issues: tuple[ConfigIssue, ...] = tuple(issues)
        super().__init__("\n".join(str(issue) for issue in self.issues))

    def report(self, prog: str, source: object) -> str:
        """What a command prints before it exits: `prog: source has N problem(s):` and one issue a line."""
        return "\n".join(
            [f"{prog}: {source} has {len(self.issues)} problem(s):", *(f"  {i}" for i in self.issues)]
        )


def did_you_mean(word: str, choices: Iterable[str]) -> str:
    """A "did you mean 'x'?" hint for the closest choice, or "" when nothing is close."""
    options = [c for c in choices if c]
    folded = {c.casefold(): c for c in options}
    if word.casefold() in folded:
        return f"did you mean {folded[word.casefold()]!r}?"
    close = difflib.get_close_matches(word.casefold(), list(folded), n=1, cutoff=0.6)
    return f"did you mean {folded[close[0]]!r}?" if close else ""


def one_of(what: str, choices: Sequence[object], limit: int = 12) -> str:
    """'one of the series prefixes A, B, C', shortened so a 150-window hall prints no page per issue."""
    if not choices:
        return f"one of the {what} (none are defined)"
    shown = ", ".join(str(c) for c in choices[:limit])
    more = f" … ({len(choices) - limit} more)" if len(choices) > limit else ""
    return f"one of the {what} {shown}{more}"


def _show(value: object) -> str:
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def join_key(parent: str, name: str) -> str:
    return f"{parent}.{name}" if parent else name


class _Invalid:
    def __repr__(self) -> str:
        return "<invalid>"


INVALID: Final = _Invalid()  # a value that could not be converted; its issue is already recorded

_TIME = re.compile(r"^([01]\d|2[0-3]):([0-5]\d)(?::([0-5]\d))?$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


@functools.cache
def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


def init_fields(cls: type) -> list[dataclasses.Field[Any]]:
    return [f for f in dataclasses.fields(cls) if f.init]


def describe(tp: Any, plural: bool = False) -> str:
    """The TOML shape of a schema type, in words, for "expected …"."""
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin in (typing.Union, types.UnionType):
        return describe(next(a for a in args if a is not type(None)), plural)
    if origin is tuple:
        return _describe_tuple(args, plural)
    if origin is dict:
        return f"{'tables' if plural else 'a table'} of {describe(args[1], plural=True)}"
    if dataclasses.is_dataclass(tp):
        return "tables" if plural else "a table"
    if isinstance(tp, type) and issubclass(tp, Enum):
        return "one of " + ", ".join(repr(m.value) for m in tp)
    words: dict[Any, tuple[str, str]] = {
        str: ("a string", "strings"),
        int: ("an integer", "integers"),
        float: ("a number", "numbers"),
        bool: ("true or false", "true/false values"),
        dt.time: ('a time of day like "08:30"', 'times of day like "08:30"'),
        dt.date: ("a date like 2026-10-01", "dates like 2026-10-01"),
    }
    singular, many = words.get(tp, (str(tp), str(tp)))
    return many if plural else singular


def _describe_tuple(args: tuple[Any, ...], plural: bool = False) -> str:
    if len(args) == 2 and args[1] is Ellipsis:
        text = f"an array of {describe(args[0], plural=True)}"
    else:
        text = f"an array of {len(args)} {describe(args[0], plural=True)}"
    return text.replace("an array", "arrays", 1) if plural else text


@dataclasses.dataclass
class Parsed:
    """The top-level sections that converted; lists keep each item's index in the file for issue keys."""

    sections: dict[str, object] = dataclasses.field(default_factory=dict)
    lists: dict[str, list[tuple[int, Any]]] = dataclasses.field(default_factory=dict)

    def items(self, name: str) -> list[tuple[int, Any]]:
        return self.lists.get(name, [])

    def section(self, name: str) -> Any:
        """The converted section, or None when it failed to convert (its issues are already recorded)."""
        return self.sections.get(name)

    def build_kwargs(self) -> dict[str, Any]:
        kwargs: dict[str, Any] = dict(self.sections)
        for name, pairs in self.lists.items():
            kwargs[name] = tuple(obj for _, obj in pairs)
        return kwargs


class Walker:
    """Converts TOML values to schema types, recording an issue for each value that does not fit."""

    def __init__(self, source: str) -> None:
        self.source = source
        self.issues: list[ConfigIssue] = []

    def issue(self, key: str, value: object, expected: str, hint: str = "") -> None:
        """Record a problem, unless the key, a table it is in or a value inside it already has one: a value
        that failed to convert was replaced by its default or left out, and a second issue about that would be
        noise."""
        if key and any(_within(key, i.key) or _within(i.key, key) for i in self.issues if i.key):
            return
        self.issues.append(ConfigIssue(self.source, key, value, expected, hint))

    def walk_top(self, data: dict[str, Any]) -> Parsed:
        """Convert the top level item by item, so one bad window does not hide the other windows' problems."""
        parsed = Parsed()
        missing = self._check_keys(HallConfig, data, "")
        hints = _hints(HallConfig)
        for f in init_fields(HallConfig):
            if f.name not in data:
                if f.name in missing:
                    self.issue(f.name, MISSING, describe(hints[f.name]))
                continue
            tp = hints[f.name]
            value = data[f.name]
            element = _tuple_element(tp)
            if element is not None and dataclasses.is_dataclass(element) and isinstance(value, list):
                pairs = [(i, self.convert(v, element, f"{f.name}[{i}]")) for i, v in enumerate(value)]
                parsed.lists[f.name] = [(i, obj) for i, obj in pairs if obj is not INVALID]
                continue
            obj = self.convert(value, tp, f.name)
            if obj is not INVALID:
                parsed.sections[f.name] = obj
        return parsed

    def _check_keys(self, cls: type, table: dict[str, Any], key: str) -> set[str]:
        """Report unknown keys; return the names of required fields that are missing and not explained by a
        misspelt key (a typo already says what is wrong, a second "missing" line would only confuse)."""
        fields = init_fields(cls)
        names = [f.name for f in fields]
        suggested: set[str] = set()
        for name, value in table.items():
            if name in names:
                continue
            hint = did_you_mean(name, names)
            if hint:
                suggested.add(hint.split("'")[1])
            self.issue(join_key(key, name), value, one_of("keys", names, limit=30), hint)
        return {f.name for f in fields if _is_required(f) and f.name not in table and f.name not in suggested}

    def convert(self, value: object, tp: Any, key: str) -> object:
        """The value as `tp`, or INVALID after recording an issue."""
        origin = typing.get_origin(tp)
        args = typing.get_args(tp)
        if origin in (typing.Union, types.UnionType):
            # TOML has no null: an optional field is left unset by leaving the key out.
            (inner,) = (a for a in args if a is not type(None))
            return self.convert(value, inner, key)
        if origin is tuple:
            return self._convert_tuple(value, args, key)
        if origin is dict:
            return self._convert_dict(value, args[1], key)
        if dataclasses.is_dataclass(tp) and isinstance(tp, type):
            return self.convert_dataclass(tp, value, key)
        if isinstance(tp, type) and issubclass(tp, Enum):
            return self._convert_enum(value, tp, key)
        return self._convert_scalar(value, tp, key)

    def convert_dataclass(self, cls: type, value: object, key: str) -> object:
        """The table as `cls`. When only optional fields are wrong, the object is still built with their
        defaults (the issues are recorded, so the config is rejected anyway): the reference checks can then
        look at the rest of the table instead of going silent about it."""
        if not isinstance(value, dict):
            self.issue(key, value, f"a table of {', '.join(f.name for f in init_fields(cls))}")
            return INVALID
        missing = self._check_keys(cls, value, key)
        hints = _hints(cls)
        kwargs: dict[str, object] = {}
        for f in init_fields(cls):
            sub = join_key(key, f.name)
            if f.name in value:
                obj = self.convert(value[f.name], hints[f.name], sub)
                if obj is not INVALID:
                    kwargs[f.name] = obj
            elif f.name in missing:
                self.issue(sub, MISSING, describe(hints[f.name]))
        required = [f.name for f in init_fields(cls) if _is_required(f)]
        return cls(**kwargs) if all(name in kwargs for name in required) else INVALID

    def _convert_tuple(self, value: object, args: tuple[Any, ...], key: str) -> object:
        homogeneous = len(args) == 2 and args[1] is Ellipsis
        expected = _describe_tuple(args)
        if not isinstance(value, list):
            self.issue(key, value, expected)
            return INVALID
        if not homogeneous and len(value) != len(args):
            self.issue(key, value, expected, f"it has {len(value)}")
            return INVALID
        types_ = [args[0]] * len(value) if homogeneous else list(args)
        items = [
            self.convert(v, t, f"{key}[{i}]") for i, (v, t) in enumerate(zip(value, types_, strict=True))
        ]
        return INVALID if any(i is INVALID for i in items) else tuple(items)

    def _convert_dict(self, value: object, item_type: Any, key: str) -> object:
        if not isinstance(value, dict):
            self.issue(key, value, f"a table of {describe(item_type, plural=True)}")
            return INVALID
        items = {k: self.convert(v, item_type, join_key(key, k)) for k, v in value.items()}
        # Entries are named, not numbered, so the good ones can still be checked without the bad ones.
        return {k: v for k, v in items.items() if v is not INVALID}

    def _convert_enum(self, value: object, enum: type[Enum], key: str) -> object:
        if isinstance(value, str):
            for member in enum:
                # The value is what the docs show; the English member name is accepted too (e.g. "promised").
                if value == member.value or value.casefold() == member.name.casefold():
                    return member
        values = [str(m.value) for m in enum]
        hint = did_you_mean(value, values) if isinstance(value, str) else ""
        self.issue(key, value, describe(enum), hint)
        return INVALID

    def _convert_scalar(self, value: object, tp: Any, key: str) -> object:
        # bool is an int in Python but `cutoff_min = true` is a mistake, not 1.
        if tp is bool:
            if isinstance(value, bool):
                return value
        elif tp is int:
            if isinstance(value, int) and not isinstance(value, bool):
                return value
        elif tp is float:
            if isinstance(value, int | float) and not isinstance(value, bool):
                return float(value)
        elif tp is str:
            if isinstance(value, str):
                return value
        elif tp is dt.time:
            return self._convert_time(value, key)
        elif tp is dt.date:
            return self._convert_date(value, key)
        else:
            raise TypeError(f"hallcore.config uses a type the loader does not know: {tp!r} at {key}")
        hint = ""
        if isinstance(value, str) and tp in (int, float) and _is_number(value):
            hint = "write the number without quotes"
        elif isinstance(value, str) and tp is bool and value.lower() in ("true", "false"):
            hint = f"write {value.lower()} without quotes"
        self.issue(key, value, describe(tp), hint)
        return INVALID

    def _convert_time(self, value: object, key: str) -> object:
        if isinstance(value, dt.time) and value.tzinfo is None:
            return value
        if isinstance(value, str):
            match = _TIME.match(value.strip())
            if match:
                return dt.time(int(match.group(1)), int(match.group(2)), int(match.group(3) or 0))
        hint = ""
        if isinstance(value, str) and re.fullmatch(r"\d:\d\d", value.strip()):
            hint = f"did you mean '0{value.strip()}'?"
        self.issue(key, value, describe(dt.time), hint)
        return INVALID

    def _convert_date(self, value: object, key: str) -> object:
        # A TOML datetime is also a dt.date: a holiday with a clock time is a mistake, not a day.
        if isinstance(value, dt.date) and not isinstance(value, dt.datetime):
            return value
        if isinstance(value, str) and _DATE.match(value.strip()):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError as exc:
                self.issue(key, value, describe(dt.date), str(exc))
                return INVALID
        self.issue(key, value, describe(dt.date))
        return INVALID


def _within(key: str, outer: str) -> bool:
    return key == outer or key.startswith((outer + ".", outer + "["))


def _is_required(f: dataclasses.Field[Any]) -> bool:
    return f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _tuple_element(tp: Any) -> Any:
    args = typing.get_args(tp)
    if typing.get_origin(tp) is tuple and len(args) == 2 and args[1] is Ellipsis:
        return args[0]
    return None
