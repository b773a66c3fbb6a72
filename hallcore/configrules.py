"""Small checks the configuration checkers share (hallcore/configcheck.py, hallcore/configprecheck.py): each
records an issue on the walker instead of raising, so every problem of a file is reported at once."""

from __future__ import annotations

import string
from collections.abc import Sequence
from typing import Any

from hallcore.configwalk import Walker, did_you_mean, one_of


def ref(w: Walker, key: str, value: Any, known: Sequence[Any], what: str) -> None:
    if value not in known:
        hint = did_you_mean(str(value), [str(k) for k in known])
        w.issue(key, value, one_of(what, known), hint)


def unique(w: Walker, items: list[tuple[int, Any]], section: str, attr: str, what: str) -> None:
    holders: dict[object, str] = {}
    for i, obj in items:
        once(
            w,
            f"{section}[{i}].{attr}",
            getattr(obj, attr),
            holders,
            f"{section}[{i}]",
            f"a {what} used only once",
        )


def once(
    w: Walker, key: str, value: Any, holders: dict[Any, str], holder: str, what: str, *, by: Any = None
) -> None:
    """`value` (or `by`, where the value is unique only with more than itself) is given once: the first holder
    keeps it in `holders`, every later mention (by the same holder too) is told which holder has it."""
    token = value if by is None else by
    if token in holders:
        w.issue(key, value, what, f"{holders[token]} has it too")
    else:
        holders[token] = holder


def nonempty(w: Walker, key: str, value: str, what: str) -> None:
    if not value.strip():
        w.issue(key, value, what)


def at_least(w: Walker, key: str, value: float | None, minimum: float, unit: str = "") -> None:
    if value is not None and value < minimum:
        w.issue(key, value, f"at least {minimum:g}{unit}")


def between(w: Walker, key: str, value: float | None, low: float, high: float, *, hint: str = "") -> None:
    if value is not None and not low <= value <= high:
        w.issue(key, value, f"a value from {low:g} to {high:g}", hint)


def check_template(w: Walker, key: str, template: str, allowed: frozenset[str]) -> None:
    """A text with `{placeholders}`: braces match and only the `allowed` names are used."""
    try:
        names = {name for _, name, _, _ in string.Formatter().parse(template) if name is not None}
    except ValueError as exc:
        w.issue(key, template, "a text with {placeholders} in matching braces", str(exc))
        return
    for name in sorted(names - allowed):
        shown = ", ".join("{" + a + "}" for a in sorted(allowed)) or "no placeholders"
        w.issue(key, template, f"only the placeholders {shown}", did_you_mean(name, allowed))
