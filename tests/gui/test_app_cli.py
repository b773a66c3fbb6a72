"""The apps' command lines refuse a broken hall config before anything starts: every problem at once on
stderr, named by the file, and exit 2 (`hallui.configfile.read_config_or_report`)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from counter.__main__ import main as counter_main
from display.__main__ import main as display_main
from kiosk.__main__ import main as kiosk_main

BROKEN = """
[hall]
id = "x"
"""


@pytest.mark.parametrize(
    ("prog", "main"), [("kiosk", kiosk_main), ("counter", counter_main), ("display", display_main)]
)
def test_a_broken_config_is_reported_whole_and_stops_the_app(
    prog: str, main: Callable[[list[str]], int], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "hall.toml"
    path.write_text(BROKEN, encoding="utf-8")
    assert main(["--config", str(path), "--check-config"]) == 2
    err = capsys.readouterr().err
    first, *issues = err.splitlines()
    assert first.startswith(f"hallq {prog}: {path} has {len(issues)} problem(s):")
    assert len(issues) > 1  # every problem, not the first one only
    assert any("hall.name is missing" in line for line in issues)
