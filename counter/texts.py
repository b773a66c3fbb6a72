"""The counter app's catalogue: every user-facing string, Chinese and English (key -> (zh, en))."""

from __future__ import annotations

from hallui.connection import TEXTS as CONN_TEXTS
from hallui.enrollment import TEXTS as ENROLL_TEXTS
from hallui.i18n import Catalog

TEXTS: dict[str, tuple[str, str]] = {
    "app.title": ("{window} 号窗口 · 叫号终端", "Window {window} · counter"),
    "app.desk_title": ("导办台 · {window} 号窗口", "Service desk · window {window}"),
    # login
    "login.title": ("工作人员登录", "Clerk login"),
    "login.window": ("{window} 号窗口（{name}）", "Window {window} ({name})"),
    "login.staff": ("工号", "Staff code"),
    "login.pin": ("密码", "PIN"),
    "login.go": ("登录", "Log in"),
    "login.new_pin": ("新密码（至少 6 位数字）", "New PIN (6 digits or more)"),
    "login.keypad_hint": (
        "也可在呼叫器上输入 工号*密码 后按登录键",
        "Or type staff*PIN on the call keypad and press login",
    ),
    "login.keypad_new_pin": (
        "请设置新密码：在呼叫器上输入 工号*原密码*新密码 后按登录键，或在上方填写",
        "Choose a new PIN: type staff*PIN*new PIN on the call keypad and press login, or fill it in above",
    ),
    "login.missing": ("请输入工号和密码", "Enter your staff code and PIN"),
    # window and clerk
    "win.header": ("{window} 号窗口 · {clerk}", "Window {window} · {clerk}"),
    "win.state.closed": ("窗口已关闭", "closed"),
    "win.state.open": ("空闲，可叫号", "idle, ready to call"),
    "win.state.paused": ("暂停中：{reason}", "paused: {reason}"),
    "win.state.called": ("已叫号，等候群众到窗口", "called, waiting for the citizen"),
    "win.state.serving": ("办理中", "serving"),
    "win.takeover": ("正在接管 {windows} 号窗口（A/B岗）", "covering window {windows} (A/B post)"),
    # current ticket
    "cur.none": ("当前无号", "No current ticket"),
    "cur.reason": ("叫号原因：{reason}", "Why this ticket: {reason}"),
    "cur.priority": ("优先类别：{name}", "Priority: {name}"),
    "cur.priority_confirmed": ("优先类别：{name}（已核实）", "Priority: {name} (checked)"),
    "cur.priority_revoked": (
        "优先类别已撤销（申报：{name}），按普通号办理",
        "Priority revoked (claimed {name})",
    ),
    "cur.normal": ("普通", "normal"),
    "cur.recalls": ("重呼 {n}/{max}", "Recalls {n}/{max}"),
    "cur.wait": ("已等候 {min} 分钟", "Waited {min} min"),
    "cur.missing": ("容缺待补：{items}（{due} 前）", "Missing (容缺): {items} (by {due})"),
    "cur.transferred": ("已转办 {n} 次", "Transferred {n} time(s)"),
    # actions
    "act.call_next": ("叫号 F1", "Call next F1"),
    "act.recall": ("重呼 F2", "Recall F2"),
    "act.start": ("开始办理 F3", "Start F3"),
    "act.finish": ("办结 F4", "Finish F4"),
    "act.no_show": ("过号 F5", "No-show F5"),
    "act.transfer": ("转办 F6", "Transfer F6"),
    "act.call_specific": ("指定叫号 F7", "Call ticket F7"),
    "act.pause": ("暂停 F8", "Pause F8"),
    "act.resume": ("恢复 F9", "Resume F9"),
    "act.requeue": ("过号重排 F10", "Requeue F10"),
    "act.open": ("开窗", "Open window"),
    "act.close": ("关窗", "Close window"),
    "act.take_over": ("接管搭档窗口", "Cover partner"),
    "act.end_take_over": ("结束接管", "End cover"),
    "act.logout": ("退出登录", "Log out"),
    "act.rate_again": ("再次请求评价", "Ask for rating again"),
    "act.confirm_class": ("核实优先", "Confirm priority"),
    "act.revoke_class": ("撤销优先", "Revoke priority"),
    "act.discard": ("放弃未发送操作", "Discard unsent action"),
    "act.name.login": ("登录", "log in"),
    "act.name.logout": ("退出登录", "log out"),
    "act.name.open": ("开窗", "open window"),
    "act.name.close": ("关窗", "close window"),
    "act.name.call_next": ("叫号", "call next"),
    "act.name.recall": ("重呼", "recall"),
    "act.name.start": ("开始办理", "start serving"),
    "act.name.finish": ("办结", "finish"),
    "act.name.no_show": ("过号", "no-show"),
    "act.name.requeue": ("过号重排", "requeue"),
    "act.name.transfer": ("转办", "transfer"),
    "act.name.call_specific": ("指定叫号", "call ticket"),
    "act.name.pause": ("暂停", "pause"),
    "act.name.resume": ("恢复", "resume"),
    "act.name.take_over": ("接管", "cover partner"),
    "act.name.end_take_over": ("结束接管", "end cover"),
    "act.name.rate_again": ("请求评价", "ask for rating"),
    "act.name.confirm_class": ("核实优先", "confirm priority"),
    "act.name.revoke_class": ("撤销优先", "revoke priority"),
    "act.name.rate": ("提交评价", "send rating"),
    "act.name.set_outcome": ("更改办结结果", "change the outcome"),
    # how the case ended (hallcore/caseoutcome.py): buttons with their shortcuts
    "outcome.办结": ("办结 Ctrl+1", "Concluded Ctrl+1"),
    "outcome.受理": ("受理 Ctrl+2", "Accepted Ctrl+2"),
    "outcome.补正": ("补正 Ctrl+3", "Correction Ctrl+3"),
    "outcome.不予受理": ("不予受理 Ctrl+4", "Refused Ctrl+4"),
    "outcome.咨询": ("咨询 Ctrl+5", "Advice Ctrl+5"),
    "outcome.case_no": ("办件编号（可扫码，可选）", "Case number (scan or type, optional)"),
    "outcome.last": ("{label} 办结结果：{outcome}{case_no}", "{label} outcome: {outcome}{case_no}"),
    "outcome.change": ("（{s} 秒内可更改）", " (can be changed for {s} s)"),
    "outcome.refusal_reason": ("不予受理理由", "Reason for refusal"),
    "outcome.correction": ("须补正的材料（一次性告知）", "What to supply (told all at once)"),
    # forms
    "form.ok": ("确定", "OK"),
    "form.cancel": ("取消", "Cancel"),
    "form.transfer_series": ("转到业务类别", "To series"),
    "form.transfer_window": ("或转到窗口号", "or to window"),
    "form.transfer_reason": ("转办说明（可选）", "Note (optional)"),
    "form.ticket": ("票号（如 A012）", "Ticket (e.g. A012)"),
    "form.reason": ("原因（必填，将记录审计）", "Reason (required, audited)"),
    "form.pause_reason": ("暂停原因", "Pause reason"),
    "form.revoke_reason": ("撤销原因（必填，将记录审计）", "Why (required, audited)"),
    "form.no_series": ("（不按类别）", "(not by series)"),
    # waiting list and counts
    "list.title": ("本窗口可叫的等候号（{n}）", "Waiting for this window ({n})"),
    "list.item": ("{label} {matter} · {reason} · 已等 {min} 分", "{label} {matter} · {reason} · {min} min"),
    "counts": (
        "今日：叫号 {called} · 办结 {finished} · 过号 {no_show} · 转办 {transferred} · 评价 {rated}",
        "Today: called {called} · done {finished} · no-show {no_show} · moved {transferred} · rated {rated}",
    ),
    # rating
    "rate.asking": ("请群众在评价器上评价 {label}…", "Asking the citizen to rate {label}…"),
    "rate.sending": ("{label} 评价：{score}，正在提交…", "{label} rated {score}, sending…"),
    "rate.done": ("{label} 评价：{score}", "{label} rated: {score}"),
    "rate.case": (
        "{label} 评价：{score}，已建立差评整改单 {case}（{due} 前回访）",
        "{label} rated {score}: 差评 case {case} opened (follow up by {due})",
    ),
    "rate.timeout": ("{label} 未评价（评价器超时）", "{label} not rated (the pad timed out)"),
    "rate.no_pad": ("{label} 未评价：本窗口没有评价器", "{label} not rated: this window has no rating pad"),
    "rate.pad_down": (
        "{label} 未评价：评价器故障（{reason}）",
        "{label} not rated: rating pad down ({reason})",
    ),
    "rate.failed": ("{label} 评价未能提交：{reason}", "{label} rating not stored: {reason}"),
    "rate.queued": (
        "{label} 评价 {score} 待服务器恢复后提交",
        "{label} rated {score}; sent when the server is back",
    ),
    "score.1": ("非常不满意", "very dissatisfied"),
    "score.2": ("不满意", "dissatisfied"),
    "score.3": ("基本满意", "fairly satisfied"),
    "score.4": ("满意", "satisfied"),
    "score.5": ("非常满意", "very satisfied"),
    # messages
    "msg.busy": ("上一个操作还在处理中", "The previous action is still being processed"),
    "msg.not_now": ("现在不能{action}", "Cannot {action} now"),
    "msg.offline": ("服务器不可用，操作已停用", "Server unreachable: actions are disabled"),
    "msg.queued": (
        "“{action}”未能送达服务器，恢复后自动重发（不会重复执行）",
        "“{action}” did not reach the server; it is re-sent when the server is back (never applied twice)",
    ),
    "msg.resent": ("“{action}”已重发成功", "“{action}” re-sent successfully"),
    "msg.discarded": ("已放弃未发送的“{action}”", "Discarded the unsent “{action}”"),
    "msg.refused": ("{text}", "{text}"),
    "msg.reason_required": ("指定叫号必须填写原因", "Calling a specific ticket needs a reason"),
    "msg.revoke_reason_required": ("撤销优先必须填写原因", "Revoking a priority class needs a reason"),
    "msg.ticket_required": ("请输入票号", "Enter a ticket number"),
    "msg.target_required": ("请选择转办的业务类别或窗口", "Choose a series or a window to transfer to"),
    "msg.login_ok": (
        "{name}（{staff}）已登录 {window} 号窗口",
        "{name} ({staff}) logged in at window {window}",
    ),
    "msg.logged_out": ("已退出登录", "Logged out"),
    "msg.no_partner": ("本窗口没有 A/B 岗搭档", "This window has no A/B partner"),
    "msg.bad_outcome": ("办结结果无效：{outcome}", "Not an outcome: {outcome}"),
    "msg.refusal_reason_required": ("不予受理必须选择理由", "A refusal needs one of the hall's reasons"),
    "msg.key_unknown": ("呼叫器按键 {code} 未定义", "Keypad key {code} is not assigned"),
    "msg.bad_login_digits": ("呼叫器登录格式：工号*密码", "Keypad login format: staff*PIN"),
    "msg.done": ("{action}：{label}", "{action}: {label}"),
    "msg.done_window": ("{action}完成", "{action} done"),
    # devices
    "dev.ok": ("设备正常", "devices OK"),
    "dev.down": ("设备故障：{list}（按钮照常可用）", "device down: {list} (buttons still work)"),
    "dev.led": ("窗口条屏", "LED strip"),
    "dev.keypad": ("呼叫器", "call keypad"),
    "dev.rating_pad": ("评价器", "rating pad"),
    "dev.printer": ("打印机", "printer"),
    "dev.none": ("未配置窗口设备", "no window devices configured"),
    # LED texts not in the hall config
    # desk mode
    "tab.window": ("窗口叫号", "Window"),
    "tab.desk": ("导办取号", "Issue tickets"),
    "desk.search": ("搜索事项（名称、拼音首字母或编码）", "Search matters (name, pinyin initials or code)"),
    "desk.matches": ("找到 {n} 个事项", "{n} matters found"),
    "desk.matter": ("事项：{name}", "Matter: {name}"),
    "desk.questions": ("预审问题", "Pre-check questions"),
    "desk.materials": ("已带材料（勾选）", "Materials brought (tick)"),
    "desk.priority": ("优先类别（核验证件后选择）", "Priority (after checking documents)"),
    "desk.no_priority": ("普通", "normal"),
    "desk.holder": ("姓名（可选，仅显示脱敏）", "Name (optional, shown masked)"),
    "desk.issue": ("取号并打印", "Issue and print"),
    "desk.back": ("返回", "Back"),
    "desk.yes": ("是", "yes"),
    "desk.issuing": ("正在取号…", "Issuing…"),
    "desk.issued": (
        "已取号 {label}（{matter}），前面 {ahead} 人，已打印",
        "Issued {label} ({matter}), {ahead} ahead, printed",
    ),
    "desk.tolerated": (
        "已取号 {label}（{matter}），前面 {ahead} 人，已打印；容缺受理：{items}，{due} 前补齐",
        "Issued {label} ({matter}), {ahead} ahead, printed; accepted with items missing: {items}, by {due}",
    ),
    "desk.issued_agent": (
        "已取号 {label}（{matter}），前面 {ahead} 人，已打印；代办：请核验{papers}",
        "Issued {label} ({matter}), {ahead} ahead, printed; acting for the applicant: check the {papers}",
    ),
    "desk.tolerated_agent": (
        (
            "已取号 {label}（{matter}），前面 {ahead} 人，已打印；代办：请核验{papers}；"
            "容缺受理：{items}，{due} 前补齐"
        ),
        (
            "Issued {label} ({matter}), {ahead} ahead, printed; acting for the applicant: check the "
            "{papers}; accepted with items missing: {items}, by {due}"
        ),
    ),
    "desk.notice": (
        "预审未通过，已打印一次性告知单（{n} 项）",
        "Pre-check failed: the 一次性告知单 was printed ({n} items)",
    ),
    "desk.notice_failed": (
        "预审未通过（{n} 项），告知单打印失败：{reason}",
        "Pre-check failed ({n} items); the notice did not print: {reason}",
    ),
    "desk.print_failed": (
        "打印失败（{reason}），{label} 已作废，请检查打印机后重试",
        "Printing failed ({reason}); {label} was cancelled: check the printer and try again",
    ),
    "desk.print_unknown": (
        "打印结果不明（{reason}），{label} 已作废，请重新取号",
        "Print outcome unknown ({reason}); {label} was cancelled: issue again",
    ),
    "desk.print_kept": (
        "打印失败（{reason}），预约号 {label} 仍有效，请告知群众号码",
        "Printing failed ({reason}); booking ticket {label} stays valid: tell the citizen the number",
    ),
    "desk.printer_down": ("打印机不可用：{reason}，未取号", "Printer unavailable: {reason}; nothing issued"),
    "desk.no_printer": ("本导办台未配置打印机", "This desk has no printer configured"),
    "desk.owed_label": ("容缺补齐：号票上的号码", "容缺 items brought in: the ticket's number"),
    "desk.owed_find": ("查找待补材料", "Find what is owed"),
    "desk.owed_entry": (
        "{label}（{matter}）{holder} 补齐期限 {due}：{state}",
        "{label} ({matter}) {holder} due {due}: {state}",
    ),
    "desk.owed_one": ("已补：{item}", "Brought: {item}"),
    "desk.owed_all": ("全部补齐", "All brought"),
    "desk.owed_none": ("号码 {label} 没有待补的容缺材料", "Number {label} owes no 容缺 items"),
    "desk.owed_supplied": ("{label} 已登记补齐：{items}", "{label}: recorded as brought: {items}"),
    "desk.owed_done": (
        "{label} 已登记补齐：{items}；所欠材料已全部补齐（{state}）",
        "{label}: {items} brought; nothing owed any more ({state})",
    ),
    "desk.owed_failed": ("{text}", "{text}"),
    "desk.checkin": ("预约签到码", "Booking code"),
    "desk.checkin_go": ("签到取号", "Check in"),
    "desk.refused": ("未能取号：{text}", "Not issued: {text}"),
    "desk.offline": ("服务器不可用，未取号", "Server unreachable; nothing issued"),
}


def catalog(language: str = "zh") -> Catalog:
    return Catalog(TEXTS | CONN_TEXTS | ENROLL_TEXTS, language)
