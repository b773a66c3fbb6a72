"""Booking (`/book`: matter, day — the Saturday 5+1 day included —, slot with places left; `/book/{code}`: the
booking, its QR code for the kiosk, cancel). Public: a booking is reached only with its code. The slots and
the booking itself are the JSON API's (hallserver/api_tickets.py); the page script is static/booking.js."""

# ruff: noqa: E501 - HTML markup reads better on one line than split mid-tag

from __future__ import annotations

import datetime as dt
import io
import sqlite3
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, Response

from hallcore.calendar import HallCalendar
from hallcore.privacy import mask_phone
from hallserver.deps import get_hall
from hallserver.web.pages import e, page

router = APIRouter(include_in_schema=False)


@router.get("/book")
async def booking_page(request: Request, lang: Annotated[str, Query()] = "zh") -> Response:
    hall = get_hall(request)
    cfg = hall.config
    cal = HallCalendar(cfg.hall)
    today = cal.business_day(hall.clock.now())
    en = lang == "en"
    days = []
    unknown: set[int] = set()
    for i in range(cfg.booking.days_ahead + 1):
        d = today + dt.timedelta(days=i)
        if not cal.covers(d):
            unknown.add(d.year)  # maybe a holiday: the year's notice is not loaded (hallcore/calendar.py)
            continue
        sessions = [x for x in cal.sessions_on(d) if x.bookings]
        if not sessions:
            continue
        wd = "一二三四五六日"[d.weekday()]
        tag = (
            ("（周六预约日 5+1）" if not en else " (Saturday, booking only)")
            if cal.is_booking_only(d)
            else ""
        )
        label = f"{d.month}月{d.day}日 周{wd}{tag}" if not en else f"{d:%a %d %b}{tag}"
        days.append(f'<option value="{d.isoformat()}">{e(label)}</option>')
    matters = "".join(
        f'<option value="{e(m.code)}">{e(m.name_en if en and m.name_en else m.name)}</option>'
        for m in cfg.matters
        if m.bookable
    )
    t = _BOOK_EN if en else _BOOK_ZH
    later = "、".join(str(y) for y in sorted(unknown))
    if later:
        later = (
            f"Days of {later} open for booking once the year's holidays are published."
            if en
            else f"{later} 年的节假日安排公布后开放预约。"
        )
    body = f"""<a class="lang" href="?lang={"zh" if en else "en"}">{"中文" if en else "English"}</a>
      <h1>{e(t["title"])}</h1><div class="muted">{e(cfg.hall.name_en if en and cfg.hall.name_en else cfg.hall.name)}</div>
      <form id="bookform">
      <label for="matter">{e(t["matter"])}</label><select id="matter">{matters}</select>
      <label for="day">{e(t["day"])}</label><select id="day">{"".join(days)}</select>
      <p class="muted" id="calendar-later">{e(later)}</p>
      <p class="field" id="slots-label">{e(t["slot"])}</p><div class="slots" id="slots" role="group" aria-labelledby="slots-label" aria-live="polite"></div>
      <label for="idno">{e(t["id"])}</label><input id="idno" maxlength="18" autocomplete="off" inputmode="text" aria-describedby="msg">
      <label for="name">{e(t["name"])}</label><input id="name" maxlength="20" autocomplete="name">
      <label for="bphone">{e(t["phone"])}</label><input id="bphone" maxlength="11" inputmode="tel" autocomplete="tel">
      <button id="book">{e(t["book"])}</button></form>
      <p id="msg" class="badc" role="alert"></p>"""
    return HTMLResponse(
        page(t["title"], body, scripts=["booking.js"], lang="en" if en else "zh", body_class="phone")
    )


_BOOK_ZH = {
    "title": "预约取号",
    "matter": "办理事项",
    "day": "日期",
    "slot": "时段（剩余名额）",
    "id": "身份证号",
    "name": "姓名（选填）",
    "phone": "手机号（选填）",
    "book": "预约",
}
_BOOK_EN = {
    "title": "Book a visit",
    "matter": "Matter",
    "day": "Day",
    "slot": "Time slot (places left)",
    "id": "ID card number",
    "name": "Name (optional)",
    "phone": "Mobile (optional)",
    "book": "Book",
}


@router.get("/book/{code}")
async def booking_done(code: str, request: Request, lang: Annotated[str, Query()] = "zh") -> Response:
    """The booking (reached by its code, which is the secret): code, QR for the kiosk, cancel."""
    hall = get_hall(request)

    def read(conn: sqlite3.Connection) -> tuple[Any, ...] | None:
        row = conn.execute(
            "SELECT code, matter, day, slot_start, slot_end, state, holder_masked, phone FROM bookings WHERE code = ?",
            (code.upper(),),
        ).fetchone()
        return tuple(row) if row else None

    row = await hall.store.read(read)
    if row is None:
        return HTMLResponse(page("预约", "<p>没有这个预约 / no such booking</p>", body_class="phone"), 404)
    bcode, matter, day, s0, s1, state, holder, phone = row
    m = hall.config.matter_by_code.get(matter)
    en = lang == "en"
    url = f"{hall.config.hall.public_base_url.rstrip('/')}/book/{bcode}"
    states = {
        "booked": ("已预约", "booked"),
        "cancelled": ("已取消", "cancelled"),
        "checked_in": ("已签到", "checked in"),
        "missed": ("已失约", "missed"),
    }
    st = states.get(state, (state, state))[1 if en else 0]
    cancel = (
        f'<button id="cancel" data-code="{e(bcode)}">{"Cancel booking" if en else "取消预约"}</button>'
        if state == "booked"
        else ""
    )
    body = f"""<h1>{"Your booking" if en else "预约成功"}</h1>
      <div class="muted">{e(hall.config.hall.name)}</div>
      <div class="big" id="code">{e(bcode)}</div>
      <div class="row"><span>{"Matter" if en else "事项"}</span><b>{e(m.name if m else matter)}</b></div>
      <div class="row"><span>{"Time" if en else "时间"}</span><b id="when">{e(day)} {e(s0[:5])}–{e(s1[:5])}</b></div>
      <div class="row"><span>{"Name" if en else "姓名"}</span><b>{e(holder or "–")}</b></div>
      <div class="row"><span>{"Mobile" if en else "手机"}</span><b>{e(mask_phone(phone) if phone else "–")}</b></div>
      <div class="row"><span>{"State" if en else "状态"}</span><b id="bstate">{e(st)}</b></div>
      <p>{"Show this code at the kiosk to check in:" if en else "到大厅后在取号机扫描下方二维码或输入预约码签到："}</p>
      <div class="qr" role="img" aria-label="{"Check-in QR code" if en else "签到二维码"}">{qr_svg(url)}</div>{cancel}<p id="msg" class="badc" role="alert"></p>"""
    return HTMLResponse(
        page("预约", body, scripts=["booking.js"], lang="en" if en else "zh", body_class="phone"),
        headers={"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"},
    )


def qr_svg(text: str) -> str:
    """A QR code as inline SVG (qrcode's path factory; no image library, nothing fetched)."""
    import qrcode
    import qrcode.image.svg

    img = qrcode.make(text, image_factory=qrcode.image.svg.SvgPathImage, box_size=10, border=2)
    buf = io.BytesIO()
    img.save(buf)
    svg = buf.getvalue().decode()
    return svg[svg.index("<svg") :]
