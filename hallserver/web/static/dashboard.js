// hallq manager dashboard: live from /web/events (cookie-authenticated), no reloads, no libraries.
// Window cells change at once from the event itself; waits, alerts and devices are re-read from
// /web/api/dashboard shortly after (coalesced), so a burst of events costs one read.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const csrf = document.querySelector('meta[name="csrf"]').content;
  const STATE = {open: "开放", paused: "暂停", closed: "关闭"};
  let windows = new Map();
  let lastEvent = Date.now();
  let live = false;
  // No event (heartbeats included) for this long, or the feed down: the page says its data is old.
  const STALE_S = 15;
  let refreshTimer = null;

  function windowCell(w) {
    let el = $("win-" + w.number);
    if (!el) {
      el = document.createElement("div");
      el.id = "win-" + w.number;
      $("windows").appendChild(el);
    }
    const paused = w.state === "paused";
    const since = paused && w.paused_min != null ? `（${Math.floor(w.paused_min)} 分钟）` : "";
    const ab = (w.taken_over || []).length ? ` · 顶 ${w.taken_over.join("、")} 号岗` : (w.partner ? ` · B岗 ${w.partner} 号` : "");
    el.className = "win " + w.state;
    // The state in words as well as in the card's frame (never colour alone): 开放 / 暂停 / 关闭.
    el.innerHTML = `<div class="n">${w.number} 号 <span class="state">${esc(w.name)}</span></div>`
      + `<div class="current">${esc(w.current || "")}${w.current ? ` <small>${w.current_state === "serving" ? "办理中" : "已叫号"}</small>` : ""}</div>`
      + `<div class="state"><span class="badge">${STATE[w.state] || esc(w.state)}</span>${paused ? " " + esc(w.pause_reason) + since : ""}`
      + `${w.staff ? " · " + esc(w.staff_name || w.staff) : ""}${ab}</div>`;
  }

  function render(d) {
    d.windows.forEach((w) => { windows.set(w.number, w); windowCell(w); });
    const cal = d.calendar || {};
    $("calendar").innerHTML = (cal.warning ? `<div class="alert" id="calendar-warning">⚠ ${esc(cal.warning)}</div>` : "")
      + (cal.estimated_owed ? `<div class="alert" id="calendar-estimated">⚠ ${cal.estimated_owed} 个容缺补齐期限跨入未载入日历的年份，按“约 N 个工作日（日历待更新）”显示</div>` : "");
    // Every alert (hallcore/alerts.py) with its kind and key, so each is found by kind; a wait alert has its
    // Erlang C advice beside it.
    $("alerts").innerHTML = d.alerts.map((a) => `<div class="alert" data-kind="${esc(a.kind)}" data-key="${esc(a.key)}">`
      + `⚠ ${esc(a.text)}${a.advice ? ` <span class="advice">${esc(a.advice)}</span>` : ""}</div>`).join("");
    $("series").innerHTML = `<table><thead><tr><th>队列</th><th class=num>等候</th><th class=num>最长等候(分)</th>`
      + `<th class=num>预计(分)</th><th class=num>目标(分)</th><th class=num>开放窗口</th><th class=num>近1小时取号</th>`
      + `<th class=num>Erlang C 建议窗口</th></tr></thead><tbody>`
      + d.series.map((s) => `<tr id="series-${esc(s.prefix)}" class="${s.alert ? "overdue" : ""}"><td>${esc(s.prefix)} ${esc(s.name)}</td>`
        + `<td class="num waiting">${s.waiting}</td><td class=num>${s.longest_min}</td>`
        + `<td class=num>${s.estimate ? s.estimate[0] + "–" + s.estimate[1] : "–"}</td><td class=num>${s.target_min}</td>`
        + `<td class=num>${s.open_windows}</td><td class=num>${s.arrivals_per_hour}</td><td class=num>${s.needed_windows}</td></tr>`).join("")
      + `</tbody></table>`;
    $("owed").innerHTML = d.overdue_owed.length ? `<table><thead><tr><th>号码</th><th>申请人</th><th>事项</th>`
      + `<th>欠交材料</th><th>补齐期限</th><th class=num>逾期(工作日)</th></tr></thead><tbody>`
      + d.overdue_owed.map((o) => `<tr class="overdue owed"><td>${esc(o.label)}</td><td>${esc(o.holder || "–")}</td>`
        + `<td>${esc(o.matter_name)}</td><td>${o.items.filter((i) => !i.supplied_at).map((i) => esc(i.name)).join("、")}</td>`
        + `<td>${esc(o.estimated ? o.due_text : o.due)}</td><td class=num>${-o.days_left}</td></tr>`).join("") + `</tbody></table>`
      : `<p class="muted">没有逾期未补齐的容缺件</p>`;
    $("devices").innerHTML = d.devices.length ? `<table><tr><th>站点</th><th>设备</th><th>状态</th><th>最后上报</th></tr>`
      + d.devices.map((x) => `<tr class="${x.health === "ok" ? "" : "overdue"}"><td>${esc(x.station_name)}</td><td>${esc(x.device)}</td>`
        + `<td>${esc(x.health)} ${esc(x.reason)}</td><td>${esc((x.at || "").slice(11, 19))}</td></tr>`).join("") + `</table>` : `<p class="muted">暂无设备上报</p>`;
    $("pending").innerHTML = d.pending.length ? d.pending.map((s) => `<div class="card" id="pending-${esc(s.station_id)}">`
      + `<b>${esc(s.name)}</b> (${esc(s.role)}) 注册码 <b>${esc(s.code)}</b> ${esc(s.ip)} `
      + `<label class="field" for="win-of-${esc(s.station_id)}">窗口</label><input size="4" id="win-of-${esc(s.station_id)}" data-window="${esc(s.station_id)}"> `
      + `<button data-approve="${esc(s.station_id)}">批准</button> <button data-revoke="${esc(s.station_id)}">拒绝</button></div>`).join("")
      : `<p class="muted">没有待批准的站点</p>`;
    const u = d.upload;
    $("upload").innerHTML = !u ? "–" : !u.enabled ? `<span class="muted">未启用</span>`
      : `<span id="upload-state" class="${u.failures ? "badc" : "okc"}">${u.failures ? "上传失败，重试中" : "正常"}</span>`
        + ` 待上传 <b id="upload-pending">${u.pending}</b>，已上传 ${u.sent}`
        + (u.failures ? `<br>连续失败 ${u.failures} 次：${esc(u.last_error)}，${u.next_try_in_s} 秒后重试` : "")
        + (u.dead ? `<br><span class="badc">被省平台拒收 <b id="upload-dead">${u.dead}</b> 条（见下表）</span>` : "")
        + (u.last_sent_at ? `<br><span class="muted">最后上传 ${esc(u.last_sent_at.slice(11, 19))}</span>` : "");
    if (u && u.enabled) loadOutbox();
    const n = d.notices;
    $("notices").innerHTML = !n || !n.enabled ? `<span class="muted">未启用</span>`
      : `<span id="notices-state" class="${n.failures ? "badc" : "okc"}">${n.failures ? "网关失败，重试中" : "正常"}</span>`
        + ` 已发送 <b id="notices-sent">${n.sent}</b> 条，失败 <b id="notices-failed">${n.failed}</b> 条，`
        + `费用 <b id="notices-cost">${(n.cost_fen / 100).toFixed(2)}</b> 元，待发 ${n.pending} 条（${esc(n.sms)}）`
        + (n.failures ? `<br>${esc(n.last_error)}` : "");
    const c = d.central;
    const shipNames = {starting: "启动中", pending: "等待中心批准", shipping: "正常", refused: "被中心拒绝", offline: "中心不可达"};
    $("central").innerHTML = !c || !c.enabled ? `<span class="muted">未启用</span>`
      : `<span id="central-state" class="${c.failures || c.state !== "shipping" ? "badc" : "okc"}">${esc(shipNames[c.state] || c.state)}</span>`
        + (c.state === "pending" ? ` 登记码 <b id="central-code">${esc(c.code)}</b>（请中心管理员核对后批准）` : "")
        + (c.backlog === null ? "" : ` 待上报 <b id="central-backlog">${c.backlog}</b> 条`)
        + (c.backlog && c.backlog_age_s !== null ? `，最早 ${Math.round(c.backlog_age_s / 60)} 分钟前` : "")
        + (c.last_error ? `<br>${esc(c.last_error)}` : "");
  }

  // Dead letters: rows the provincial platform refused for good, each with retry and discard (audited).
  async function loadOutbox() {
    const r = await fetch("/web/api/outbox?state=dead", {credentials: "same-origin"});
    if (!r.ok) return;
    const rows = (await r.json()).rows;
    const kinds = {rating: "评价", followup: "整改结果"};
    $("outbox").innerHTML = !rows.length ? "" : `<table id="dead-letters"><thead><tr><th>编号</th><th>类型</th>`
      + `<th>内容</th><th>拒收原因</th><th><span class="vh">操作</span></th></tr></thead><tbody>`
      + rows.map((x) => `<tr id="dead-${x.id}"><td>${x.id}</td><td>${esc(kinds[x.kind] || x.kind)}</td>`
        + `<td>${esc(x.summary)}</td><td>${esc(x.last_error)}</td>`
        + `<td><button data-outbox="retry" data-row="${x.id}">重试</button> `
        + `<button data-outbox="discard" data-row="${x.id}">作废</button></td></tr>`).join("") + `</tbody></table>`;
  }

  async function refresh() {
    refreshTimer = null;
    try {
      const r = await fetch("/web/api/dashboard", {credentials: "same-origin"});
      if (r.status === 401) { location.href = "/web/login"; return; }
      render(await r.json());
    } catch (e) { /* the stream state shows the problem */ }
  }
  function soon(ms) { if (!refreshTimer) refreshTimer = setTimeout(refresh, ms); }

  function onEvent(ev) {
    lastEvent = Date.now();
    if (ev.kind === "heartbeat" || ev.kind === "hello") return;
    const w = ev.window;
    if (w && typeof w === "object" && w.number != null) {
      const prev = windows.get(w.number) || {};
      const merged = Object.assign({}, prev, w, {paused_min: w.state === "paused" ? 0 : null});
      windows.set(w.number, merged);
      windowCell(merged);
    }
    soon(150);
  }

  let backoff = 500;
  function connect() {
    const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/web/events");
    ws.onopen = () => { live = true; $("conn").textContent = "实时"; $("conn").className = "live"; backoff = 500; lastEvent = Date.now(); showAge(); refresh(); };
    ws.onmessage = (m) => { try { onEvent(JSON.parse(m.data)); } catch (e) { /* ignore a bad frame */ } };
    ws.onclose = (c) => {
      live = false;
      $("conn").textContent = "已断开，重连中"; $("conn").className = "down"; showAge();
      if (c.code === 4401) { location.href = "/web/login"; return; }
      setTimeout(connect, backoff); backoff = Math.min(backoff * 2, 10000);
    };
  }

  document.addEventListener("click", async (e) => {
    const t = e.target;
    if (t.dataset && t.dataset.outbox) {
      if (t.dataset.outbox === "discard" && !confirm("作废后这条记录不再上传省平台，确定？")) return;
      const r = await fetch(`/web/api/outbox/${t.dataset.row}/${t.dataset.outbox}`, {method: "POST",
        credentials: "same-origin", headers: {"X-CSRF-Token": csrf}});
      if (!r.ok) alert((await r.json()).message || r.status);
      refresh();
      return;
    }
    const id = t.dataset && (t.dataset.approve || t.dataset.revoke);
    if (!id) return;
    const action = t.dataset.approve ? "approve" : "revoke";
    const win = document.querySelector(`input[data-window="${id}"]`);
    const body = action === "approve" && win && win.value ? {window: Number(win.value)} : {};
    const r = await fetch(`/web/api/stations/${id}/${action}`, {method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": csrf}, body: JSON.stringify(body)});
    if (!r.ok) alert((await r.json()).message || r.status);
    refresh();
  });

  function showAge() {
    const age = Math.round((Date.now() - lastEvent) / 1000);
    const stale = !live || age > STALE_S;
    document.body.classList.toggle("stale", stale);
    $("age").textContent = stale ? `数据已过时（${age} 秒前）` : `数据 ${age} 秒前`;
  }
  setInterval(showAge, 1000);
  setInterval(refresh, 30000);  // paused-for minutes and longest waits grow without events
  connect();
})();
