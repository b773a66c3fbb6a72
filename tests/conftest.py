"""Settings every tier needs before anything imports Qt: offscreen, PySide6 for qasync, artifacts folder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ.setdefault("QT_API", "pyside6")

ROOT = Path(__file__).resolve().parent.parent
ARTIFACTS = ROOT / "artifacts"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Screenshots and rendered device output land here (kept by CI for people to look at)."""
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return ROOT
