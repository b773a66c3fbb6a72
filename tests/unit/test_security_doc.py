"""docs/security.md cannot rot: every test it names exists, and every `hallq admin` command it names is
one the command's parser takes."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

import pytest

from hallserver.admin import build_parser

ROOT = Path(__file__).resolve().parents[2]
DOC = (ROOT / "docs" / "security.md").read_text(encoding="utf-8")


def test_every_test_named_exists() -> None:
    named = set(re.findall(r"`(tests/[\w/]+\.py)(?:::(\w+))?`", DOC))
    assert len(named) > 15
    for path, name in sorted(named):
        source = (ROOT / path).read_text(encoding="utf-8")
        if name:
            assert re.search(rf"^(async )?def {name}\(", source, re.M), f"{path}::{name} is not a test"


@pytest.mark.parametrize("command", sorted(set(re.findall(r"`hallq admin ([^`]+)`", DOC))))
def test_every_admin_command_named_parses(command: str) -> None:
    words = [
        w if w not in ("NAME", "DATE", "DEST") else {"DATE": "2026-01-01"}.get(w, "x")
        for w in shlex.split(command)
    ]
    build_parser().parse_args(["--db", "hall.db", *words])
