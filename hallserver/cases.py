"""差评 follow-up (DOMAIN.md 好差评): the case list with working-day deadline clocks, the steps (回访, fix or
explain, close, appeal) through the engine's `CaseStepCommand`, and the rater's optional phone number.

The phone number is kept only with the rater's consent, in its own table, shown masked, and deleted after
`privacy.retention_days` like the rest of the personal data (PIPL, hallserver/purge.py).
"""

from __future__ import annotations

import datetime as dt
import json
import re
import sqlite3
from dataclasses import dataclass
from typing import Any

from hallcore import commands as c
from hallcore.calendar import HallCalendar
from hallcore.config import HallConfig
from hallcore.identity import CARD
from hallcore.model import SCORE_NAMES, CaseAction
from hallcore.privacy import mask_phone
from hallserver.errors import ApiError
from hallserver.store import Job
from hallserver.writectx import Reply, WriteCtx, ok

PHONE = re.compile(r"^1[3-9][0-9]{9}$")  # mainland mobile numbers: the call-back is a phone call
ACTIONS_ZH = {"callback": "回访", "resolve": "整改/解释", "close": "办结", "appeal": "申诉"}


@dataclass(frozen=True, slots=True)
class CaseLine:
    id: str
    ticket: str
    label: str
    score: int
    score_name: str
    matter: str
    matter_name: str
    window: int
    staff: str
    opened_at: dt.datetime
    due: dt.date
    state: str
    steps: list[dict[str, str]]
    closed_at: dt.datetime | None
    phone_masked: str
    days_left: int  # working days from today to the due day (negative: overdue by that many)
    overdue: bool
    estimated: bool = False  # the due day counted days of a year without a calendar
    # 实名回访: a carded ticket's holder (刷身份证取号), masked with the ID's last 4 so the caller can check
    # who answers; "" for a ticket taken without the holder's own card. The call still needs the rater's
    # consented phone number (`case_contacts`).
    holder: str = ""


def list_cases(
    conn: sqlite3.Connection, config: HallConfig, today: dt.date, *, open_only: bool = False
) -> list[CaseLine]:
    cal = HallCalendar(config.hall)
    where = "WHERE c.state != 'closed'" if open_only else ""
    rows = conn.execute(
        f"""SELECT c.id, c.ticket, t.label, c.score, c.matter, c.window, c.staff, c.opened_at, c.due, c.state,
                   c.steps, c.closed_at, k.phone, t.identity, t.holder_masked, t.id_last4
            FROM cases c LEFT JOIN tickets t ON t.id = c.ticket LEFT JOIN case_contacts k ON k.case_id = c.id
            {where} ORDER BY c.state = 'closed', c.due, c.opened_at"""  # noqa: S608 - fixed text
    ).fetchall()
    out = []
    for row in rows:
        cid, tid, label, score, matter, window, staff, opened, due_s, state, steps_s, closed_s, phone = row[
            :13
        ]
        kind, masked, last4 = row[13:]
        due = dt.date.fromisoformat(due_s)
        closed = dt.datetime.fromisoformat(closed_s) if closed_s else None
        left = cal.working_days_between(today, due)
        m = config.matter_by_code.get(matter)
        steps = [
            {"action": a, "action_zh": ACTIONS_ZH.get(a, a), "note": n, "staff": s, "at": at}
            for a, n, s, at in json.loads(steps_s)
        ]
        out.append(
            CaseLine(
                id=cid,
                ticket=tid,
                label=label or tid.rsplit("/", 1)[-1],
                score=score,
                score_name=SCORE_NAMES.get(score, ("", ""))[0],
                matter=matter,
                matter_name=m.name if m else matter,
                window=window,
                staff=staff,
                opened_at=dt.datetime.fromisoformat(opened),
                due=due,
                state=state,
                steps=steps,
                closed_at=closed,
                phone_masked=mask_phone(phone) if phone else "",
                days_left=left,
                overdue=(closed is None and today > due)
                or (closed is not None and closed.astimezone(cal.tz).date() > due),
                estimated=not cal.covers_span(cal.business_day(dt.datetime.fromisoformat(opened)), due),
                holder=f"{masked}（证件尾号 {last4}）" if kind == CARD and masked and last4 else "",
            )
        )
    return out


def step_job(case_id: str, action: str, note: str, actor: str) -> Job:
    """One follow-up step, validated by the engine (order of steps, a note is required)."""
    try:
        act = CaseAction(action)
    except ValueError as exc:
        raise ApiError(
            422,
            "invalid_field",
            f"没有这个处理步骤：{action}",
            f"unknown case step {action!r}: one of {', '.join(a.value for a in CaseAction)}",
        ) from exc
    cmd = c.CaseStepCommand(case_id, act, note.strip(), actor)

    def run(ctx: WriteCtx) -> Reply:
        if isinstance(out := ctx.accept(cmd), Reply):
            return out
        ctx.audit(actor, "", f"case_{act.value}", case_id, note=note.strip())
        case = ctx.engine.cases[case_id]
        return ok({"case": case_id, "state": case.state.value})

    return Job(run)


def contact_job(ticket_id: str, phone: str, source: str) -> Job:
    """Store a consented phone number for the 差评 case of `ticket_id` (a later one replaces it)."""
    phone = phone.strip().replace(" ", "").replace("-", "")
    if not PHONE.match(phone):
        raise ApiError(422, "invalid_field", "请填写 11 位手机号码", "enter an 11-digit mobile number")

    def run(ctx: WriteCtx) -> Reply:
        case_id = f"C-{ticket_id}"
        if case_id not in ctx.engine.cases:
            raise ApiError(
                404,
                "no_case",
                "这张票没有待回访的差评",
                "there is no bad rating to call back for this ticket",
            )
        ctx.execute(
            "INSERT INTO case_contacts (case_id, phone, consent_at, source) VALUES (?,?,?,?)"
            " ON CONFLICT (case_id) DO UPDATE SET phone = excluded.phone, consent_at = excluded.consent_at,"
            " source = excluded.source",
            (case_id, phone, ctx.now.isoformat(), source),
        )
        return ok({"case": case_id, "phone": mask_phone(phone)})

    return Job(run)


def case_json(line: CaseLine) -> dict[str, Any]:
    return {
        "id": line.id,
        "label": line.label,
        "score": line.score,
        "score_name": line.score_name,
        "matter_name": line.matter_name,
        "window": line.window,
        "due": line.due.isoformat(),
        "state": line.state,
        "days_left": line.days_left,
        "overdue": line.overdue,
        "phone": line.phone_masked,
        "holder": line.holder,
        "steps": line.steps,
    }
