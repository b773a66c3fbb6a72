"""A clerk logs in at a counter or desk station (`POST /api/counter/login`), one window at a time.

In this order, so that a station can guess as little as possible: the window must exist and be one the
station is approved for (403 `window_not_approved`); the clerk must be on its roster (an empty roster lets
any active clerk in); the attempt is counted (hallserver/throttle.py, 429 past the allowance) before the
PIN is checked; a wrong PIN or an unknown clerk is 401 (audited). A PIN that no longer meets the rule
(`hallcore.credentials`: 6 digits and not trivial; older halls allowed 4) logs in only together with a new
one: without `new_pin` the answer is 403 `pin_change_required`."""

from __future__ import annotations

import asyncio
import sqlite3

from hallcore import replies
from hallcore.credentials import PIN_MIN, pin_problem
from hallserver.auth import Principal, dummy_hash, hash_secret, rehashed, verify_secret
from hallserver.bodies import CounterLoginIn
from hallserver.deps import approved_for
from hallserver.errors import ApiError
from hallserver.managers import failed_login_job
from hallserver.service import HallServer
from hallserver.store import Job
from hallserver.throttle import login_keys
from hallserver.writectx import Reply, WriteCtx, ok


def unknown_window(n: int) -> ApiError:
    return ApiError(404, "unknown_window", f"没有 {n} 号窗口", f"there is no window {n}")


async def login(hall: HallServer, p: Principal, body: CounterLoginIn, ip: str) -> Reply:
    """Log `body.staff` in at `body.window` on station `p` (see the module's docstring)."""
    if body.window not in hall.config.window_by_number:
        raise unknown_window(body.window)
    approved_for(p, body.window)
    if body.new_pin is not None and (problem := pin_problem(body.new_pin)) is not None:
        raise ApiError(422, "weak_pin", problem.zh, problem.en, {"fields": ["new_pin"]})

    def roster(conn: sqlite3.Connection) -> list[str]:
        return [r[0] for r in conn.execute("SELECT staff FROM roster WHERE window = ?", (body.window,))]

    on_roster = await hall.store.read(roster)
    if on_roster and body.staff not in on_roster:
        raise ApiError(
            403,
            "not_on_roster",
            f"{body.staff} 不在 {body.window} 号窗口的排班中",
            f"{body.staff} is not on window {body.window}'s roster",
            {"roster": on_roster},
        )
    keys = login_keys("clerk", body.staff, ip)
    hall.logins.attempt(keys)

    def read(conn: sqlite3.Connection) -> tuple[str | None, str]:
        row = conn.execute(
            "SELECT pin_hash, name FROM staff WHERE code = ? AND active = 1", (body.staff,)
        ).fetchone()
        return (str(row[0]), str(row[1])) if row else (None, "")

    stored, name = await hall.store.read(read)
    good = await asyncio.to_thread(verify_secret, stored or dummy_hash(), body.pin)
    if stored is None or not good:
        await hall.run(failed_login_job("clerk", body.staff if stored else "", ip))
        raise ApiError(401, "bad_login", "工号或密码错误", "wrong staff code or PIN")
    hall.logins.succeeded(keys)
    new_hash = None
    if body.new_pin is not None:
        if body.new_pin == body.pin:
            raise ApiError(
                422,
                "weak_pin",
                "新 PIN 不能与原 PIN 相同",
                "the new PIN must differ",
                {"fields": ["new_pin"]},
            )
        new_hash = await asyncio.to_thread(hash_secret, body.new_pin)
    elif pin_problem(body.pin) is not None:
        raise ApiError(
            403,
            "pin_change_required",
            f"该 PIN 不再符合要求，请设置新的 PIN（至少 {PIN_MIN} 位数字，不能是重复或连续的数字）",
            f"this PIN no longer meets the rules: choose a new one (at least {PIN_MIN} digits, not"
            " repeated or consecutive) and send it as new_pin",
            {"fields": ["new_pin"], "min_length": PIN_MIN},
        )
    else:
        new_hash = await asyncio.to_thread(rehashed, stored, body.pin)  # None: the stored one is current

    def run(ctx: WriteCtx) -> Reply:
        if new_hash is not None:  # a new PIN, or the same one under the current hash parameters
            ctx.execute("UPDATE staff SET pin_hash = ? WHERE code = ?", (new_hash, body.staff))
            if body.new_pin is not None:
                ctx.audit(f"staff:{body.staff}", p.id, "change_pin", body.staff)
        ctx.execute("UPDATE stations SET staff = ?, window = ? WHERE id = ?", (body.staff, body.window, p.id))
        ctx.audit(f"staff:{body.staff}", p.id, "clerk_login", str(body.window), ip=ip)
        return ok(replies.CounterSession(body.staff, name, body.window))

    reply = await hall.run(Job(run))
    if reply.status == 200:
        hall.principals.update_staff(p.token_hash, body.staff, body.window)
    return reply
