// hallq phone status page: follows one ticket through the public event stream (?token=), re-reads its
// status on every event, says why the number of people ahead grew, and alerts when it is called.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const token = location.pathname.split("/").pop();
  const en = document.documentElement.lang === "en";
  const T = en ? {
    ahead: "People ahead", estimate: "Estimated wait", state: "State", calls: "Now calling", min: "min",
    turn: (w, n) => `Your turn → window ${w}${n ? " " + n : ""}`, none: "No window open yet", wide: "Busy: expect a long wait",
    states: {pending_print: "printing", waiting: "waiting", called: "called", serving: "being served", done: "done", no_show: "missed (no-show)", cancelled: "cancelled", voided: "void", expired: "expired"},
    grew: (n, r) => `${n} more ahead: ` + [r.priority ? `${r.priority} priority (elderly, booked…)` : "", r.transfer ? `${r.transfer} transferred in, keeping their original time` : "", r.requeue ? `${r.requeue} returning after a missed call` : ""].filter(Boolean).join("; "),
    outcome: {"受理": (s) => `Accepted: you will be told the result by the promised date${s.case_no ? " (case " + s.case_no + ")" : ""}.`,
      "补正": (s) => `Please bring${s.outcome_reason ? ": " + s.outcome_reason : " the missing materials"} (everything you need, told at once)${s.case_no ? "; case " + s.case_no : ""}.`,
      "不予受理": (s) => `Not accepted: ${s.outcome_reason}.`},
    missing: (m, d) => `Accepted with items missing (容缺): bring ${m} by ${d}`, live: "live", down: "reconnecting…", age: (s) => `updated ${s} s ago`,
    rate_h: "How was the service?", rate_p: "One rating for this visit; it goes to the provincial rating scheme.",
    levels: {5: "Very satisfied", 4: "Satisfied", 3: "Fair", 2: "Dissatisfied", 1: "Very dissatisfied"}, thanks: "Thank you for your rating.",
    contact_h: "Call me back about my rating", contact_p: "We are sorry. Leave a mobile number and the hall will call you back.", consent: "I agree to be called back about this rating", phone_l: "Mobile number", send: "Send", sent: "Thank you, we will call you back.",
    call: (c) => `${c.ticket.label} → window ${c.window ? c.window.number : ""}`,
    noshow: (left) => `You missed your call. Tell the service desk or the window when you are back: you can queue again (${left} more time${left === 1 ? "" : "s"}).`,
    noshow_done: (n) => `You missed your call after coming back ${n} time${n === 1 ? "" : "s"}: this ticket cannot queue again. Please take a new ticket.`,
    expired: "Service has ended for today and this ticket was not reached: it has expired. Please come again on a working day, or book a slot.",
  } : {
    ahead: "前面还有", estimate: "预计等候", state: "状态", calls: "正在叫号", min: "分钟",
    turn: (w, n) => `轮到您了 → ${w} 号窗口${n ? "（" + n + "）" : ""}`, none: "暂无窗口开放", wide: "人多，预计较长",
    states: {pending_print: "打印中", waiting: "等候中", called: "已叫号", serving: "办理中", done: "已办结", no_show: "已过号", cancelled: "已取消", voided: "已作废", expired: "已过期"},
    grew: (n, r) => `前面人数增加了 ${n} 位：` + [r.priority ? `${r.priority} 位优先办理（老年人、预约等）` : "", r.transfer ? `${r.transfer} 位转办过来的群众（保留原取号时间）` : "", r.requeue ? `${r.requeue} 位过号后重新排队` : ""].filter(Boolean).join("，"),
    outcome: {"受理": (s) => `已受理（承诺件），将在承诺时限内办结${s.case_no ? "，办件编号 " + s.case_no : ""}。`,
      "补正": (s) => `一次性告知：请补正${s.outcome_reason ? "：" + s.outcome_reason : "所需材料"}${s.case_no ? "（办件编号 " + s.case_no + "）" : ""}。`,
      "不予受理": (s) => `不予受理：${s.outcome_reason}。`},
    missing: (m, d) => `容缺受理：请于 ${d} 前补交 ${m}`, live: "实时更新", down: "重新连接中…", age: (s) => `${s} 秒前更新`,
    rate_h: "请您评价本次服务", rate_p: "每次办事评价一次，评价结果上报省政务服务“好差评”系统。",
    levels: {5: "非常满意", 4: "满意", 3: "基本满意", 2: "不满意", 1: "非常不满意"}, thanks: "感谢您的评价！",
    contact_h: "差评回访", contact_p: "很抱歉没有让您满意。留下手机号，大厅会回访您。", consent: "我同意工作人员就本次评价回访我", phone_l: "手机号", send: "提交", sent: "已收到，我们会尽快回访。",
    call: (c) => `${c.ticket.label} → ${c.window ? c.window.number : ""} 号窗口`,
    noshow: (left) => `您已过号。回来后请告知服务台或窗口，可重新排队（还可 ${left} 次）。`,
    noshow_done: (n) => `您已过号重排 ${n} 次，这张票不能再排队，请重新取号。`,
    expired: "今日服务已结束，您的号未能办理，已过期。请在工作日再来，或网上预约后前来。",
  };
  document.querySelectorAll("[data-t]").forEach((el) => { const v = T[el.dataset.t]; if (typeof v === "string") el.textContent = v; });
  document.querySelectorAll("[data-score]").forEach((b) => { b.textContent = T.levels[b.dataset.score]; });

  let lastAhead = null, lastState = null, lastUpdate = Date.now(), pending = null, busy = false;

  function render(s) {
    lastUpdate = Date.now();
    $("label").textContent = s.label;
    $("matter").textContent = en && s.matter_name_en ? s.matter_name_en : s.matter_name;
    $("ahead").textContent = s.ahead == null ? "–" : String(s.ahead);
    $("estimate").textContent = s.estimate ? (s.estimate.no_window_open ? T.none : s.estimate.wide ? T.wide : `${s.estimate.low_min}–${s.estimate.high_min} ${T.min}`) : "–";
    $("state").textContent = T.states[s.state] || s.state;
    const turn = $("turn");
    if (s.state === "called" && s.window != null) {
      turn.hidden = false;
      turn.textContent = T.turn(s.window, s.window_name);
      if (lastState !== "called") {
        // Vibrate where the browser allows it (Android Chrome; iOS ignores it).
        if (navigator.vibrate) { try { navigator.vibrate([400, 200, 400, 200, 400]); } catch (e) { /* not allowed */ } }
        document.title = "⚠ " + turn.textContent;
      }
    } else {
      turn.hidden = true;
    }
    const why = $("why");
    if (lastAhead != null && s.ahead != null && s.ahead > lastAhead && s.ahead_reasons) {
      why.hidden = false;
      why.textContent = T.grew(s.ahead - lastAhead, s.ahead_reasons);
    } else if (s.ahead != null && lastAhead != null && s.ahead < lastAhead) {
      why.hidden = true;
    }
    // 过号: say whether the ticket may still come back (the hall limits re-queues), so nobody waits in vain.
    const noshow = $("noshow");
    noshow.hidden = s.state !== "no_show" || s.requeues_left == null;
    if (!noshow.hidden) noshow.textContent = s.requeues_left > 0 ? T.noshow(s.requeues_left) : T.noshow_done(s.requeues);
    // 延时服务 ended: the last window of the series closed with this ticket still waiting.
    $("expired").hidden = s.state !== "expired";
    if (s.state === "expired") $("expired").textContent = T.expired;
    // How the case ended: what a 补正 asks for (the 一次性告知), a refusal's reason, a 承诺件's case number.
    const said = T.outcome[s.outcome];
    $("outcome").hidden = !said;
    if (said) $("outcome").textContent = said(s);
    // Past the loaded calendar the due day is an estimate: the hall sends the count instead (due_text).
    const due = (en ? s.due_text_en : s.due_text) || s.due;
    if (s.missing && s.missing.length && due) { $("missing").hidden = false; $("missing").textContent = T.missing(s.missing.join("、"), due); }
    $("calls").innerHTML = "";
    (s.calls || []).slice(-5).reverse().forEach((c) => {
      const d = document.createElement("div"); d.className = "row"; d.textContent = T.call(c); $("calls").appendChild(d);
    });
    $("contact").hidden = !s.case;
    $("rate").hidden = !s.rate_until;
    lastAhead = s.ahead; lastState = s.state;
  }

  async function load() {
    if (busy) { pending = true; return; }
    busy = true;
    try {
      const r = await fetch("/web/api/status/" + encodeURIComponent(token), {cache: "no-store"});
      const j = await r.json();
      if (r.ok) render(j); else $("label").textContent = j.message || r.status;
    } catch (e) { /* offline: the connection line says so */ }
    busy = false;
    if (pending) { pending = false; load(); }
  }

  let backoff = 500, lastBeat = 0;
  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/events?token=" + encodeURIComponent(token));
    ws.onopen = () => { $("conn").textContent = T.live; backoff = 500; load(); };
    ws.onmessage = (m) => {
      let ev = {};
      try { ev = JSON.parse(m.data); } catch (e) { return; }
      // Heartbeats refresh too (at most every 3 s): priority arrivals are not sent to this stream.
      if (ev.kind === "heartbeat") { if (Date.now() - lastBeat > 3000) { lastBeat = Date.now(); load(); } return; }
      load();
    };
    ws.onclose = (c) => {
      $("conn").textContent = T.down;
      if (c.code === 4404) { load(); return; }
      setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 15000);
    };
  }
  // 扫码评价: one tap sends the level; the server refuses a second rating (pad, clerk or phone) and a late one.
  document.querySelectorAll("[data-score]").forEach((b) => b.addEventListener("click", async () => {
    document.querySelectorAll("[data-score]").forEach((x) => { x.disabled = true; });
    const r = await fetch(`/web/api/status/${encodeURIComponent(token)}/rating`, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({score: Number(b.dataset.score)})});
    const j = await r.json();
    $("rated").hidden = false;
    $("rated").textContent = r.ok ? T.thanks : (en ? j.message_en : j.message);
    $("rate").hidden = true;
    load();
  }));
  $("send").addEventListener("click", async () => {
    const r = await fetch(`/web/api/status/${encodeURIComponent(token)}/contact`, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({phone: $("phone").value, consent: $("consent").checked})});
    const j = await r.json();
    $("sent").textContent = r.ok ? T.sent + " " + j.phone : (en ? j.message_en : j.message);
  });
  setInterval(() => { $("age").textContent = T.age(Math.round((Date.now() - lastUpdate) / 1000)); }, 1000);
  load();
  connect();
})();
