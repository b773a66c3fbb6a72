"""Opting in to notices (docs/api.md "Notices", docs/integrations.md "Notices").

Who may opt a number in, and for what (a stranger's number must not be bombed from a kiosk):
- the desk, for any ticket still waiting; a kiosk, only for a ticket it issued itself;
- the phone page, only for its own ticket (its token is the key), by number or by WeChat (snsapi_base OAuth);
- every station at most `notify.optin_per_station_hour` opt-ins an hour (a token bucket), every number for
  at most `notify.optin_per_number_day` tickets a day, and the caps per ticket and number and day bound what
  any number can receive whoever typed it.
Consent is recorded (`consent_at`, audited with the masked number); withdrawing it stops sending at once.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import urllib.parse
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import Field

from hallcore import replies
from hallcore.notices import LANGS, OPENID, NoticeError, normalise_phone
from hallcore.replies import Role
from hallserver.api_tickets import _issued_by  # the one home of "which station issued it"
from hallserver.bodies import Body
from hallserver.deps import get_hall, respond, roles
from hallserver.errors import ApiError
from hallserver.limits import Bucket, Buckets, Limit, too_many
from hallserver.notify import OptIn, number_key, optin_job, sub_of, withdraw_job
from hallserver.openapi import documented
from hallserver.service import HallServer
from hallserver.store import Job
from hallserver.writectx import Reply, WriteCtx, ok

router = APIRouter()
#: The phone page's side (public, its token the key): not in the API schema, like the page itself.
web_router = APIRouter(include_in_schema=False)

OPTERS = roles(Role.DESK, Role.KIOSK)
WITHDRAWERS = roles(Role.DESK, Role.KIOSK, Role.COUNTER, Role.MANAGER)


class NotifyIn(Body):
    phone: Annotated[str, Field(min_length=1, max_length=20)]
    consent: bool
    lang: Annotated[str, Field(min_length=2, max_length=5)] = "zh"
    booking: bool = False  # `ref` is a booking code (the desk only)


def station_buckets(request: Request) -> Buckets:
    """Opt-ins per station per hour: a bucket per station, kept on the app (built at the first opt-in)."""
    app = request.app
    hall = get_hall(request)
    per_hour = hall.config.notify.optin_per_station_hour
    b: Buckets | None = getattr(app.state, "notify_buckets", None)
    if b is None or b.limits["optin"].per_address.burst != per_hour:
        rate = per_hour / 3600.0
        b = Buckets(hall.clock, {"optin": Limit(Bucket(rate, per_hour), Bucket(rate * 50, per_hour * 50))})
        app.state.notify_buckets = b
    return b


async def _kiosk_own(request: Request, p: Any, ref: str) -> None:
    """A kiosk acts only for tickets it issued itself (a kiosk is a public machine)."""
    if p.role != Role.KIOSK:
        return

    def mine(ctx: WriteCtx) -> Reply:
        return ok({"mine": _issued_by(ctx, p.id, ref)})

    if not json.loads((await get_hall(request).run(Job(mine))).text)["mine"]:
        raise ApiError(
            403, "not_issued_here", "只能为本机取的号登记提醒", "a kiosk acts only for its own tickets"
        )


def _take(request: Request, who: str) -> None:
    wait = station_buckets(request).take("optin", who)
    if wait > 0:
        raise too_many(wait)


def _checked(body: NotifyIn) -> str:
    if not body.consent:
        raise ApiError(
            422, "consent_required", "请确认同意接收提醒", "consent to receive notices is required"
        )
    if body.lang not in LANGS:
        raise ApiError(422, "invalid_field", "不支持的语言", f"lang is one of {', '.join(LANGS)}")
    try:
        return normalise_phone(body.phone)
    except NoticeError as exc:
        raise ApiError(422, "invalid_field", "请填写 11 位手机号码", str(exc)) from exc


def _enabled(hall: HallServer) -> None:
    if not hall.config.notify.enabled:
        raise ApiError(409, "notices_off", "本大厅未开通短信提醒", "this hall sends no notices")


def _poke(request: Request) -> None:
    notifier = getattr(request.app.state, "notifier", None)
    if notifier is not None:
        notifier.poke()


async def _opt_in(request: Request, o: OptIn) -> Response:
    hall = get_hall(request)
    reply = await hall.run(optin_job(o, number_key(hall.store.fingerprint_key, o.channel, o.address)))
    if reply.status == 200:
        _poke(request)
    return respond(reply)


@router.post(
    "/api/tickets/{ticket_id:path}/notify",
    tags=["notices"],
    responses=documented({200: replies.NoticeSub}, 404, 409, 429),
)
async def opt_in(
    ticket_id: str, body: NotifyIn, request: Request, p: Annotated[Any, Depends(OPTERS)]
) -> Response:
    """Opt a ticket (or, at the desk, a booking) in to notices by SMS, with the holder's consent."""
    hall = get_hall(request)
    _enabled(hall)
    phone = _checked(body)
    if body.booking and p.role != Role.DESK:
        raise ApiError(403, "desk_only", "只有导办台可为预约登记提醒", "only the desk subscribes bookings")
    _take(request, p.id)
    await _kiosk_own(request, p, ticket_id)
    return await _opt_in(
        request, OptIn(ticket_id, "sms", phone, body.lang, p.role, p.id, booking=body.booking)
    )


@router.delete(
    "/api/tickets/{ticket_id:path}/notify",
    tags=["notices"],
    responses=documented({200: replies.NoticeWithdrawn}, 404),
)
async def withdraw(ticket_id: str, request: Request, p: Annotated[Any, Depends(WITHDRAWERS)]) -> Response:
    """Withdraw consent: no more notices, the number is forgotten at once (a kiosk: its own tickets only)."""
    await _kiosk_own(request, p, ticket_id)
    return respond(await get_hall(request).run(withdraw_job(ticket_id, p.id, p.id)))


# ---- the phone page ----------------------------------------------------------------------------------------


def _ticket_of(request: Request, token: str) -> str:
    tid = get_hall(request).store.tokens.get(token) if len(token) >= 16 else None
    if not tid:
        raise ApiError(404, "not_found", "找不到这张票", "no ticket for this token")
    return tid


@web_router.get("/web/api/status/{token}/notify", tags=["notices"])
async def phone_sub(token: str, request: Request) -> Response:
    """The phone page's own subscription, masked (or null), and which channels the hall offers."""
    hall = get_hall(request)
    tid = _ticket_of(request, token)
    sub = await hall.store.read(lambda conn: sub_of(conn, tid))
    n = hall.config.notify
    body = {"enabled": n.enabled, "wechat": n.enabled and n.wechat_enabled, "sub": sub}
    return Response(
        json.dumps(body, ensure_ascii=False),
        media_type="application/json",
        headers={"Cache-Control": "no-store"},
    )


@web_router.post("/web/api/status/{token}/notify", tags=["notices"])
async def phone_opt_in(token: str, body: NotifyIn, request: Request) -> Response:
    """The phone page opts its own ticket in (public: its token is the key; the public write budget)."""
    hall = get_hall(request)
    _enabled(hall)
    tid = _ticket_of(request, token)
    phone = _checked(body)
    _take(request, f"phone:{tid}")
    return await _opt_in(request, OptIn(tid, "sms", phone, body.lang, "phone", "public"))


@web_router.post("/web/api/status/{token}/notify/withdraw", tags=["notices"])
async def phone_withdraw(token: str, request: Request) -> Response:
    tid = _ticket_of(request, token)
    return respond(await get_hall(request).run(withdraw_job(tid, "public", "phone")))


def _wechat_on(hall: HallServer) -> None:
    n = hall.config.notify
    if not (n.enabled and n.wechat_enabled):
        raise ApiError(409, "notices_off", "本大厅未开通微信提醒", "this hall sends no WeChat notices")


def _state_of(hall: HallServer, token: str) -> str:
    return hmac.new(hall.store.fingerprint_key, f"wechat\n{token}".encode(), hashlib.sha256).hexdigest()[:32]


@web_router.get("/s/{token}/wechat", tags=["notices"])
async def wechat_start(token: str, request: Request) -> Response:
    """To WeChat's web OAuth (snsapi_base: no prompt, only the openid), back to `/s/{token}/wechat/back`."""
    hall = get_hall(request)
    _wechat_on(hall)
    n = hall.config.notify
    _ticket_of(request, token)
    back = f"{n.wechat.public_url.rstrip('/')}/s/{token}/wechat/back"
    query = urllib.parse.urlencode(
        {
            "appid": n.wechat.app_id,
            "redirect_uri": back,
            "response_type": "code",
            "scope": "snsapi_base",
            "state": _state_of(hall, token),
        }
    )
    return RedirectResponse(f"{n.wechat.oauth_url}?{query}#wechat_redirect", status_code=302)


@web_router.get("/s/{token}/wechat/back", tags=["notices"])
async def wechat_back(
    token: str,
    request: Request,
    code: Annotated[str, Query(max_length=128)] = "",
    state: Annotated[str, Query(max_length=64)] = "",
    lang: Annotated[str, Query(max_length=5)] = "zh",
) -> Response:
    """WeChat sends the citizen back with a code: its openid is subscribed for this token's ticket only (the
    state ties the code to the token, so a link made for another ticket does nothing)."""
    hall = get_hall(request)
    _wechat_on(hall)
    tid = _ticket_of(request, token)
    if not code or not hmac.compare_digest(state, _state_of(hall, token)):
        raise ApiError(403, "bad_state", "请从排队页面重新打开", "the OAuth state does not match this ticket")
    notifier = request.app.state.notifier
    adapter = notifier.adapters().get("wechat")
    try:
        openid = await adapter.openid(notifier.client, code, hall.config.notify.timeout_s)
    except Exception as exc:
        raise ApiError(
            502, "wechat_failed", "微信授权失败，请重试", "WeChat did not answer with an openid"
        ) from exc
    if not OPENID.match(openid):
        raise ApiError(502, "wechat_failed", "微信授权失败，请重试", "WeChat answered an odd openid")
    _take(request, f"phone:{tid}")
    o = OptIn(tid, "wechat", openid, lang if lang in LANGS else "zh", "wechat", "public")
    reply = await hall.run(optin_job(o, number_key(hall.store.fingerprint_key, "wechat", openid)))
    if reply.status != 200:
        return respond(reply)
    notifier.poke()
    return RedirectResponse(f"/s/{token}?notify=wechat", status_code=303)
