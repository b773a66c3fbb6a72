"""HTML building blocks for the web pages: one layout, escaped text, tables. No template engine to vendor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

NAV = (
    ("/web/dashboard", "实时看板", "Dashboard"),
    ("/web/stats", "统计", "Statistics"),
    ("/web/cases", "差评整改", "Cases"),
    ("/web/admin", "管理", "Admin"),
)


def e(value: object) -> str:
    return escape("" if value is None else str(value))


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
    links = ""
    if nav:
        items = "".join(
            f'<a href="{href}"{" class=on" if href == nav else ""}>{zh}</a>' for href, zh, _en in NAV
        )
        links = (
            f'<nav class="top"><b>hallq</b>{items}'
            '<form method="post" action="/web/logout" class="logout">'
            f'<input type="hidden" name="csrf" value="{e(csrf)}"><button>退出</button></form></nav>'
        )
    meta = f'<meta name="csrf" content="{e(csrf)}">' if csrf else ""
    js = "".join(f'<script src="/web/static/{s}" defer></script>' for s in scripts)
    return (
        f'<!doctype html><html lang="{e(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(title)}</title>{meta}"
        '<link rel="stylesheet" href="/web/static/style.css">'
        f'{js}</head><body class="{e(body_class)}">{links}<main>{body}</main></body></html>'
    )


def table(
    headers: Sequence[str], rows: Iterable[Sequence[object]], *, cls: str = "", row_ids: Sequence[str] = ()
) -> str:
    head = "".join(f"<th>{e(h)}</th>" for h in headers)
    out = [f'<table class="{e(cls)}"><thead><tr>{head}</tr></thead><tbody>']
    for i, r in enumerate(rows):
        rid = f' id="{e(row_ids[i])}"' if i < len(row_ids) else ""
        out.append(f"<tr{rid}>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def hidden_csrf(csrf: str) -> str:
    return f'<input type="hidden" name="csrf" value="{e(csrf)}">'
