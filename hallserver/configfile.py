"""Kept for branches in flight on 2026-12-03: the one home of reading a hall's config file is
`hallfiles.config` (import it from there; this alias goes once no branch uses it)."""

from __future__ import annotations

from hallfiles.config import calendar_files, read_config

__all__ = ["calendar_files", "read_config"]
