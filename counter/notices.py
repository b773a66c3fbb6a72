"""Messages for the clerk, as data: a catalogue key with values, or the hall's own text in both languages.

The flows say what to tell the clerk; the views render it in the station's language (`render`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from hallui.i18n import Catalog


@dataclass(frozen=True, slots=True)
class Notice:
    """A message for the clerk: a catalogue key with values, or a server text in both languages."""

    key: str
    values: Mapping[str, str | int] = field(default_factory=dict)
    level: str = "info"  # info | warning | error
    raw: tuple[str, str] | None = None
    refs: Mapping[str, str] = field(default_factory=dict)  # value name -> catalogue key to translate


def render(notice: Notice, catalog: Catalog) -> str:
    if notice.raw is not None:
        return catalog.pick(*notice.raw)
    values = dict(notice.values)
    for name, key in notice.refs.items():
        values[name] = catalog.t(key)
    return catalog.t(notice.key, **values)
