"""Reply bodies built from engine state (docs/api.md). Run with the engine lock held (writer or reader)."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from typing import Any

from hallcore.engine import Engine
from hallcore.estimates import WaitEstimate
from hallcore.events import to_jsonable
from hallcore.model import Ticket, TicketState
from hallcore.precheck import PrecheckResult


def estimate_json(est: WaitEstimate | None) -> dict[str, Any] | None:
    if est is None:
        return None
    return {
        "low_min": est.low_min,
        "high_min": est.high_min,
        "point_min": est.point_min,
        "no_window_open": est.no_window_open,
    }


def precheck_json(pre: PrecheckResult | None) -> dict[str, Any] | None:
    if pre is None:
        return None
    return {
        "outcome": pre.outcome.value,
        "missing": [
            {
                "id": m.id,
                "kind": m.kind.value,
                "text": m.text,
                "text_en": m.text_en,
                "where": m.where,
                "where_en": m.where_en,
                "tolerable": m.tolerable,
            }
            for m in pre.missing
        ],
        "due": pre.due.isoformat() if pre.due else None,
    }


def status_url(base: str, token: str) -> str:
    return f"{base.rstrip('/')}/s/{token}"


def issued_json(
    engine: Engine,
    t: Ticket,
    ahead: int | None,
    est: WaitEstimate | None,
    pre: PrecheckResult | None,
    base_url: str,
) -> dict[str, Any]:
    cfg = engine.config
    m = cfg.matter_by_code[t.matter]
    url = status_url(base_url, t.token)
    return {
        "ticket": to_jsonable(engine.ticket_view(t)),
        "token": t.token,
        "status_url": url,
        "ahead": ahead,
        "estimate": estimate_json(est),
        "precheck": precheck_json(pre),
        "print": {
            "hall_name": cfg.hall.name,
            "hall_name_en": cfg.hall.name_en,
            "label": t.label,
            "matter_name": m.name,
            "matter_name_en": m.name_en,
            "issued_at": t.issued_at.isoformat(),
            "ahead": ahead,
            "estimate": estimate_json(est),
            "qr": url,
            "missing": [i.text for i in pre.missing] if pre is not None else [],
            "due": pre.due.isoformat() if pre is not None and pre.due else None,
        },
    }


def calls_json(texts: Iterable[str]) -> list[Any]:
    return [json.loads(t) for t in texts]


def ticket_status_json(engine: Engine, t: Ticket, now: dt.datetime, calls: list[Any]) -> dict[str, Any]:
    cfg = engine.config
    m = cfg.matter_by_code.get(t.matter)
    ahead = engine.people_ahead(t.id, now)
    est = (
        engine.estimate_for(t.series, ahead) if ahead is not None and t.state is TicketState.WAITING else None
    )
    w = cfg.window_by_number.get(t.window) if t.window is not None else None
    return {
        "label": t.label,
        "matter": t.matter,
        "matter_name": m.name if m else t.matter,
        "matter_name_en": m.name_en if m else "",
        "state": t.state.value,
        "issued_at": t.issued_at.isoformat(),
        "ahead": ahead,
        "estimate": estimate_json(est),
        "window": t.window,
        "window_name": w.name if w else "",
        "precheck": t.precheck,
        "missing": list(t.missing),
        "due": t.due.isoformat() if t.due else None,
        "calls": calls,
    }


def snapshot_json(
    engine: Engine,
    seq: int,
    now: dt.datetime,
    calls: list[Any],
    devices: dict[tuple[str, str], tuple[str, str]] | None,
) -> dict[str, Any]:
    """The hall as a screen needs it; `devices` None for public (status-page) subscribers."""
    cfg = engine.config
    out: dict[str, Any] = {
        "seq": seq,
        "at": now.isoformat(),
        "windows": [to_jsonable(engine.window_view(w.number)) for w in cfg.windows],
        "waiting": engine.waiting_counts(),
        "recent_calls": calls,
    }
    if devices is not None:
        out["devices"] = [
            {"station": s, "device": d, "health": h, "reason": r}
            for (s, d), (h, r) in sorted(devices.items())
        ]
    return out


def hall_json(engine: Engine) -> dict[str, Any]:
    """The hall configuration for screens (docs/api.md `GET /api/hall`)."""
    cfg = engine.config
    return {
        "hall": to_jsonable(cfg.hall),
        "departments": to_jsonable(cfg.departments),
        "series": to_jsonable(cfg.series),
        "matters": to_jsonable(cfg.matters),
        "windows": to_jsonable(cfg.windows),
        "zones": to_jsonable(cfg.zones),
        "priority_classes": to_jsonable(cfg.priority_classes),
        "pause_reasons": list(cfg.server.pause_reasons),
        "led": to_jsonable(cfg.led),
        "voice": to_jsonable(cfg.voice),
        "kiosk": to_jsonable(cfg.kiosk),
        "rating": to_jsonable(cfg.rating),
    }
