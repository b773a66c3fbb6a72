"""HTML building blocks: one layout, escaped text, tables. No template engine to vendor."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from html import escape

#: Where both servers serve `hallweb/static/` (the hall also serves its own scripts there).
STATIC_PREFIX = "/web/static"


def e(value: object) -> str:
    return escape("" if value is None else str(value))


def layout(
    title: str,
    body: str,
    *,
    nav_items: Sequence[tuple[str, str, str]] = (),
    nav: str = "",
    brand: str = "hallq",
    logout_action: str = "",
    csrf: str = "",
    scripts: Sequence[str] = (),
    lang: str = "zh",
    body_class: str = "",
) -> str:
    """A whole page. `nav_items` are (href, zh, en); `nav` marks the current one and turns the bar on.
    `csrf` goes into a meta tag the scripts read for their POST header."""
    links = ""
    if nav:
        items = "".join(
            f'<a href="{href}"{" class=on" if href == nav else ""}>{zh}</a>' for href, zh, _en in nav_items
        )
        logout = (
            f'<form method="post" action="{e(logout_action)}" class="logout">'
            f'<input type="hidden" name="csrf" value="{e(csrf)}"><button>退出</button></form>'
            if logout_action
            else ""
        )
        links = f'<nav class="top"><b>{e(brand)}</b>{items}{logout}</nav>'
    meta = f'<meta name="csrf" content="{e(csrf)}">' if csrf else ""
    js = "".join(f'<script src="{STATIC_PREFIX}/{s}" defer></script>' for s in scripts)
    return (
        f'<!doctype html><html lang="{e(lang)}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width,initial-scale=1">'
        f"<title>{e(title)}</title>{meta}"
        f'<link rel="stylesheet" href="{STATIC_PREFIX}/style.css">'
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


def label(for_id: str, text: str) -> str:
    """The visible label of the control `for_id` (every form control has one: WCAG 1.3.1 and 3.3.2)."""
    return f'<label class="field" for="{e(for_id)}">{e(text)}</label> '
