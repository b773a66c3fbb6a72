"""The hall's pages in the shared layout (hallweb): the hall's navigation bar."""

from __future__ import annotations

import functools

from hallweb.html import e, hidden_csrf, label, layout, table

__all__ = ["NAV", "e", "hidden_csrf", "label", "page", "table"]

NAV = (
    ("/web/dashboard", "实时看板", "Dashboard"),
    ("/web/stats", "统计", "Statistics"),
    ("/web/cases", "差评整改", "Cases"),
    ("/web/admin", "管理", "Admin"),
    ("/web/audit", "审计", "Audit"),
)


#: A whole page of the hall's: the shared layout with the hall's navigation bar and logout form (`csrf` goes
#: into a meta tag the scripts read for their POST header).
page = functools.partial(layout, nav_items=NAV, logout_action="/web/logout")
