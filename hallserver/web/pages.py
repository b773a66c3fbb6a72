"""The hall's pages in the shared layout (hallweb): the hall's navigation bar."""

from __future__ import annotations

from collections.abc import Sequence

from hallweb.html import e, hidden_csrf, layout, table

__all__ = ["NAV", "e", "hidden_csrf", "page", "table"]

NAV = (
    ("/web/dashboard", "实时看板", "Dashboard"),
    ("/web/stats", "统计", "Statistics"),
    ("/web/cases", "差评整改", "Cases"),
    ("/web/admin", "管理", "Admin"),
)


def page(
    title: str,
    body: str,
    *,
    nav: str = "",
    csrf: str = "",
    scripts: Sequence[str] = (),
    lang: str = "zh",
    body_class: str = "",
) -> str:
    """A whole page. `csrf` goes into a meta tag the scripts read for their POST header."""
    return layout(
        title,
        body,
        nav_items=NAV,
        nav=nav,
        logout_action="/web/logout",
        csrf=csrf,
        scripts=scripts,
        lang=lang,
        body_class=body_class,
    )
