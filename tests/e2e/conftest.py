"""The end-to-end tier's browser: one headless Chromium for each browser test module, as the fixture `browser`
(tests/server/web_helpers.py). Per module, not per session: this tier has asyncio tests, and Playwright's sync
API holds a running loop while it is open."""

from __future__ import annotations

from tests.server.web_helpers import module_browser

__all__ = ["module_browser"]
