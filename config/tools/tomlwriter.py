"""A tiny TOML writer for the example halls' generators: enough for their tables, with blank lines and
comments where they help, so that the files read like ones a hall's IT staff would write by hand."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field


@dataclass
class Toml:
    """A tiny TOML writer: enough for the example halls, with blank lines and comments where they help."""

    lines: list[str] = field(default_factory=list)

    def comment(self, text: str) -> None:
        self.lines.extend(f"# {line}".rstrip() for line in text.splitlines())

    def blank(self) -> None:
        # A comment belongs to the table under it: no blank line between them.
        if self.lines and self.lines[-1] != "" and not self.lines[-1].startswith("#"):
            self.lines.append("")

    def table(self, name: str, *, array: bool = False) -> None:
        self.blank()
        self.lines.append(f"[[{name}]]" if array else f"[{name}]")

    def kv(self, key: str, value: object, comment: str = "") -> None:
        line = f"{key} = {render(value)}"
        self.lines.append(f"{line}  # {comment}" if comment else line)

    def entry(self, table: str, /, *, array: bool = True, **values: object) -> None:
        """A table (by default one more of an array of tables) with these keys; None values are left out."""
        self.table(table, array=array)
        for key, value in values.items():
            if value is not None:
                self.kv(key, value)

    def text(self) -> str:
        return "\n".join(self.lines).rstrip() + "\n"


def render(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return json.dumps(value, ensure_ascii=False)
    if isinstance(value, dt.time):
        return f'"{value:%H:%M}"'
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, list | tuple):
        return "[" + ", ".join(render(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {render(v)}" for k, v in value.items()) + " }"
    raise TypeError(f"cannot render {value!r}")
