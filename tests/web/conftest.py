"""The web tier: the hall's pages in one headless Debian chromium for the whole tier (accessibility audit)."""

from __future__ import annotations

from tests.server.web_helpers import session_browser

__all__ = ["session_browser"]
