"""The kiosk's translation catalogues: every text a citizen sees, in Chinese and English here (the source),
and in further languages from one TOML file each beside this module (`texts_<lang>.toml`: key = "text"; the
Tibetan one, `texts_bo.toml`, is machine-drafted and needs a native speaker's review before a hall uses it).

Matter names, questions and materials come from the hall config in its languages (`Catalog.pick`).
"""

from __future__ import annotations

import tomllib
from importlib import resources

from hallui.connection import TEXTS as CONNECTION_TEXTS
from hallui.enrollment import TEXTS as ENROLLMENT_TEXTS
from hallui.i18n import Catalog

#: Each language by its own name, as the language card shows it whatever the screen's language.
LANGUAGE_NAMES = {"zh": "中文", "en": "English", "bo": "བོད་ཡིག", "pseudo": "[Pséüdö]"}

KIOSK_TEXTS: dict[str, tuple[str, str]] = {
    # welcome
    "welcome.booking": ("预约签到", "Booking check-in"),
    "welcome.elder_on": ("长者模式", "Large print"),
    "welcome.elder_off": ("标准模式", "Standard size"),
    "welcome.card": ("请刷身份证取号，或点下方按钮", "Place your ID card on the reader, or tap below"),
    # the home screen's cards, tiles and notice
    "home.card": ("刷身份证取号", "Take a number with your ID card"),
    "home.booking_hint": ("扫预约二维码或输入预约码", "Scan your booking QR or type its code"),
    "home.elder_hint": ("大字、更长时间、语音引导", "Larger text, more time, spoken help"),
    "home.elder_on_hint": ("已开启，点此恢复标准模式", "On: tap for the standard size"),
    "home.language": ("语言", "Language"),
    "home.tiles": ("常办事项", "Common matters"),
    "home.all": ("全部事项 · 搜索", "All matters · search"),
    "home.waiting": ("等候 {n} 人", "{n} waiting"),
    "home.estimate": ("约 {lo}–{hi} 分钟", "about {lo}–{hi} min"),
    "home.no_wait": ("无需等候", "No wait"),
    "home.notice": ("公告", "Notice"),
    "header.date": ("{y}年{m}月{d}日 {w}", "{w} {y}-{m}-{d}"),
    "weekday.0": ("星期一", "Monday"),
    "weekday.1": ("星期二", "Tuesday"),
    "weekday.2": ("星期三", "Wednesday"),
    "weekday.3": ("星期四", "Thursday"),
    "weekday.4": ("星期五", "Friday"),
    "weekday.5": ("星期六", "Saturday"),
    "weekday.6": ("星期日", "Sunday"),
    # 刷身份证: the greeting after a card read
    "card.hello": ("您好，{name}", "Hello, {name}"),
    "card.class": ("{name}优先（已由身份证核验）", "Priority: {name} (verified by your ID card)"),
    "card.expired": ("您的身份证已过期，请尽快换领", "Your ID card has expired; please renew it soon"),
    "card.booking": ("签到今日预约：{m} {t}", "Check in today's booking: {m} {t}"),
    "card.left": ("今日还可取号 {n} 个", "You may take {n} more numbers today"),
    "card.start": ("选择事项取号", "Choose a matter"),
    "card.failed": (
        "未能读取身份证，请拿起后重新放置",
        "The card could not be read; lift it and place it again",
    ),
    "card.unsupported": (
        "本机只能读取居民身份证，请到服务台",
        "Only resident ID cards are read here; ask the desk",
    ),
    "card.to_desk": (
        "您的身份证已过期或无法核验，请到服务台办理取号",
        "Your ID card has expired or cannot be checked; please go to the service desk",
    ),
    # choosing a matter
    "matters.title": ("请选择要办理的事项", "Choose what you came for"),
    "matters.by_department": ("按部门", "By department"),
    "matters.by_category": ("按类别", "By category"),
    "matters.search": ("搜索（汉字或拼音首字母，如 hk）", "Search (name or pinyin initials, e.g. hk)"),
    "matters.none": ("没有找到，请换个词或到服务台咨询", "Nothing found; try another word or ask the desk"),
    "matters.remaining": ("今日余号 {n}", "{n} left today"),
    "matters.full": ("今日已满", "Full today"),
    "matters.closed": ("暂停取号", "Not issuing now"),
    "matters.more": ("下一页", "More"),
    # pre-check
    "question.title": ("预审 第 {i}/{n} 题", "Pre-check {i} of {n}"),
    "steps.questions": ("回答问题", "Questions"),
    "steps.materials": ("核对材料", "Papers"),
    "steps.ticket": ("取号", "Ticket"),
    "question.yes": ("是", "Yes"),
    "question.no": ("否", "No"),
    "materials.title": ("请勾选您带来的材料", "Tick the papers you brought"),
    "materials.optional": ("（如有）", "(if any)"),
    "materials.done": ("下一步", "Next"),
    "materials.all": ("材料都带齐了，取号", "I have them all: take a number"),
    "materials.hint": (
        "没带的不要勾选，再点“下一步”",
        "Leave out what you do not have, then tap Next",
    ),
    "priority.title": ("请确认取号", "Confirm your ticket"),
    "priority.normal": ("取号", "Take the number"),
    "priority.notice": (
        "如符合优先条件请选择，工作人员将现场核验证件",
        "If a priority applies, choose it; staff will check your documents",
    ),
    "priority.tolerated": (
        "缺少的材料可容缺受理，取号后请按时补齐",
        "Missing papers are accepted for now; bring them by the deadline",
    ),
    "confirm.fail": (
        "根据您的回答，本事项暂不能受理；可打印一次性告知单，备齐后再来",
        "From your answers this cannot be handled yet; print the list of what is missing",
    ),
    "confirm.notice": ("打印一次性告知单", "Print the list of what is missing"),
    "confirm.agent": (
        "代办：请在窗口出示{items}",
        "Acting for the applicant: have these ready at the window: {items}",
    ),
    # issuing and outcomes
    "issuing.title": ("正在出票，请稍候…", "Printing your ticket, please wait…"),
    "ticket.title": ("取号成功", "Your number"),
    "ticket.tolerated": ("容缺受理", "Accepted with papers missing"),
    "ticket.matter": ("事项：{m}", "Matter: {m}"),
    "ticket.ahead": ("前面还有 {n} 人", "{n} people ahead of you"),
    "ticket.ahead_none": ("前面没有人在等候", "Nobody is ahead of you"),
    "ticket.estimate": ("预计等候 {lo}～{hi} 分钟", "Estimated wait {lo}-{hi} min"),
    "ticket.estimate_none": ("暂无窗口开放，请留意叫号", "No window open yet; listen for your number"),
    "ticket.estimate_now": ("预计很快叫到您", "You will be called soon"),
    "ticket.estimate_wide": ("人多，预计较长", "Busy: expect a long wait"),
    "ticket.priority": ("优先类别：{p}（工作人员将核验）", "Priority: {p} (staff will check)"),
    "ticket.bring": ("请于 {d} 前补齐：", "Please bring by {d}:"),
    "ticket.agent": ("代办：请在窗口出示", "Acting for the applicant: show at the window"),
    "ticket.pledge": (
        "号票下方附承诺书，请签字后交窗口工作人员",
        "A pledge is printed below the ticket: sign it and hand it in at the window",
    ),
    "ticket.scan": ("扫码在手机上查看排队进度", "Scan to follow the queue on your phone"),
    "ticket.take": ("请取走您的号票", "Please take your ticket"),
    "ticket.not_printed": (
        "号票未能打印，请凭此屏号码到服务台领取",
        "The ticket could not be printed; show this number at the service desk",
    ),
    "ticket.voided": (
        "打印失败，号码 {n} 已作废，请到服务台取号",
        "Printing failed; number {n} is void. Please get a ticket at the service desk",
    ),
    "notice.title": ("预审未通过", "The pre-check did not pass"),
    "notice.intro": (
        "办理本事项还需补齐以下材料或条件（一次性告知）：",
        "Before this can be handled, please get everything below:",
    ),
    "notice.where": ("办理地点：{w}", "Where: {w}"),
    "notice.printed": ("告知单已打印，请取走", "The list is printed; please take it"),
    "notice.not_printed": (
        "告知单未能打印，请拍照或到服务台领取",
        "The list could not be printed; ask the desk",
    ),
    # booking check-in
    "booking.title": ("预约签到", "Booking check-in"),
    "booking.hint": ("请扫描预约二维码，或输入预约码", "Scan your booking QR code or type the booking code"),
    "booking.code": ("预约码", "Booking code"),
    "booking.submit": ("签到取号", "Check in"),
    "booking.too_early": ("还没到签到时间", "Too early to check in"),
    "booking.wrong_day": ("预约日期不是今天", "Your booking is not for today"),
    "booking.late": (
        "您已超过预约时段，按普通号排队",
        "You are past your booking time; you queue as a walk-in",
    ),
    "booking.unknown": ("没有找到该预约码，请核对后重试", "That booking code was not found; check and retry"),
    "booking.used": ("该预约已签到或已取消", "That booking was already used or cancelled"),
    "booking.fallback": (
        "也可以直接按普通号取号，或到服务台咨询",
        "You can take a normal number instead, or ask the service desk",
    ),
    "booking.walk_in": ("普通取号", "Take a normal number"),
    # refusals and fallbacks
    "message.full": ("该事项今日号已取完", "Today's numbers for this matter are all taken"),
    "message.closed": ("该事项现在不取号", "This matter is not issuing numbers now"),
    "message.next": ("下次取号时间：{t}", "Next opening: {t}"),
    "message.desk": ("请到服务台咨询", "Please ask at the service desk"),
    "message.error": ("暂时无法取号", "A number cannot be issued right now"),
    "message.person_limit": ("您今日取号已达上限", "You have taken today's numbers"),
    "desk.title": ("请到服务台取号", "Please get a ticket at the service desk"),
    "desk.reason": ("本机打印机暂不可用：{r}", "This kiosk's printer is not available: {r}"),
    "offline.title": ("本机暂停服务", "This kiosk is out of service"),
    "offline.hint": (
        "无法连接大厅服务器，请到服务台取号；恢复后本机自动可用",
        "The hall server cannot be reached. Please use the service desk; this kiosk comes back by itself",
    ),
    # common
    "common.back": ("返回", "Back"),
    "common.home": ("首页", "Home"),
    "common.ok": ("好的", "OK"),
    "common.timeout": ("{s} 秒后返回首页", "Back to start in {s} s"),
    "common.speak": ("读给我听", "Read to me"),
    "common.delete": ("删除", "Delete"),
    "printer.paper_out": ("缺纸", "paper out"),
    "printer.cover_open": ("纸仓盖未关", "cover open"),
    "printer.offline": ("打印机无应答", "printer not answering"),
    "printer.missing": ("未配置打印机", "no printer configured"),
}

TEXTS: dict[str, tuple[str, str]] = KIOSK_TEXTS | CONNECTION_TEXTS | ENROLLMENT_TEXTS


#: Languages with a catalogue file beside this module.
FURTHER = ("bo",)


def further_catalogue(language: str) -> dict[str, str]:
    """The catalogue file of a further language (key -> text); {} for one the kiosk does not ship."""
    try:
        raw = resources.files("kiosk").joinpath(f"texts_{language}.toml").read_bytes()
    except FileNotFoundError:
        return {}
    data = tomllib.loads(raw.decode("utf-8"))
    texts = data.get("texts", {})
    return {str(k): str(v) for k, v in texts.items()}


def catalog(language: str = "zh") -> Catalog:
    return Catalog(TEXTS, language, {lang: further_catalogue(lang) for lang in FURTHER})


def language_problem(languages: tuple[str, ...]) -> str:
    """Why the kiosk cannot show a hall's `kiosk.languages` ("" when it can)."""
    lacking = [x for x in languages if x not in ("zh", "en") and not further_catalogue(x)]
    if lacking:
        shipped = ", ".join(("zh", "en", *FURTHER))
        return f"kiosk.languages: no kiosk catalogue for {', '.join(lacking)} (the kiosk has {shipped})"
    return ""
