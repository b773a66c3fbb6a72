"""Where the screenshots that docs/ shows are written by tests."""

from __future__ import annotations

import os
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def docs_dir() -> Path:
    """`docs/screenshots` when HALLQ_DOCS_SHOTS=1 (to refresh them on purpose), else `artifacts/docs`.

    A test run must not modify tracked files: the ticket screens carry a fresh QR token and time each run.
    """
    if os.environ.get("HALLQ_DOCS_SHOTS") == "1":
        target = ROOT / "docs" / "screenshots"
    else:
        target = ROOT / "artifacts" / "docs"
    target.mkdir(parents=True, exist_ok=True)
    return target
