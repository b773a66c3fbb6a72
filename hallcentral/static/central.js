// The centre's live pages: the overview of every hall in the user's subtree, and one hall's live view.
// Both follow a WebSocket that sends the whole (scoped) picture on every change and every few seconds.
(function () {
  "use strict";
  const $ = (id) => document.getElementById(id);
  const esc = (s) => String(s ?? "").replace(/[&<>"']/g, (c) => ({"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;"}[c]));
  const pct = (x) => (x === null || x === undefined ? "–" : (x * 100).toFixed(1) + "%");
  const mins = (x) => (x === null || x === undefined ? "–" : Math.round(x) + " 分钟");
  const ageText = (s) => (s === null || s === undefined ? "–" : s < 90 ? Math.round(s) + " 秒" : s < 5400 ? Math.round(s / 60) + " 分钟" : (s / 3600).toFixed(1) + " 小时");
  let lastAt = null;

  function overview(d) {
    const rows = d.halls.map((h) => `<tr id="hall-${esc(h.hall_id)}" class="${h.offline ? "overdue" : ""}">`
      + `<td><a href="/halls/${encodeURIComponent(h.hall_id)}">${esc(h.name)}</a></td><td>${esc(h.region)}</td>`
      + `<td><span class="state ${h.offline ? "badc" : "okc"}">${h.offline ? "离线" : "在线"}</span>`
      + (h.offline && h.silent_s !== null ? ` <span class="muted">${ageText(h.silent_s)}未联系</span>` : "") + `</td>`
      + `<td class="num waiting">${h.waiting}</td><td class="num longest">${mins(h.longest_wait_min)}</td>`
      + `<td class="num open">${h.open_windows}</td><td class="num sat">${pct(h.satisfaction_today)}</td>`
      + `<td class="num backlog">${h.backlog}${h.backlog && h.backlog_age_s !== null ? "（最早 " + ageText(h.backlog_age_s) + "前）" : ""}</td></tr>`).join("");
    $("halls").innerHTML = `<table><thead><tr><th>大厅</th><th>地区</th><th>状态</th><th>等候</th><th>最长等候</th>`
      + `<th>开放窗口</th><th>今日满意率</th><th>待上报</th></tr></thead><tbody>${rows}</tbody></table>`;
  }

  function hall(d) {
    $("hall-state").innerHTML = `<span id="hall-online" class="${d.offline ? "badc" : "okc"}">${d.offline ? "离线" : "在线"}</span>`
      + ` 待上报 ${d.backlog} 条` + (d.last_seen ? ` <span class="muted">最后联系 ${esc(d.last_seen.slice(11, 19))}</span>` : "");
    $("windows").innerHTML = d.windows.map((w) => `<div class="win ${w.state === "closed" ? "closed" : w.state === "paused" ? "paused" : "open"}" id="win-${w.number}">`
      + `<div class="n">${w.number} ${esc(w.name)}</div><div class="current">${esc(w.current)}</div>`
      + `<div class="state">${esc(w.state)}${w.pause_reason ? " · " + esc(w.pause_reason) : ""}</div></div>`).join("");
    $("series").innerHTML = d.series.length ? `<table><tr><th>队列</th><th>等候</th><th>最长等候</th></tr>`
      + d.series.map((s) => `<tr id="series-${esc(s.series)}"><td>${esc(s.series)}</td><td class="num">${s.waiting}</td><td class="num">${mins(s.longest_wait_min)}</td></tr>`).join("")
      + `</table>` : `<p class="muted">无人等候</p>`;
    $("calls").innerHTML = d.calls.length ? `<table><tr><th>号码</th><th>窗口</th><th>时间</th></tr>`
      + d.calls.map((c) => `<tr><td>${esc(c.label)}</td><td>${esc(c.window)} ${esc(c.window_name)}</td><td>${esc((c.at || "").slice(11, 19))}</td></tr>`).join("")
      + `</table>` : `<p class="muted">暂无叫号</p>`;
    const t = d.today;
    $("today").innerHTML = !t ? "–" : `<table><tr><th>日期</th><th>取号</th><th>已叫号</th><th>办结</th><th>过号</th><th>评价</th><th>满意率</th></tr>`
      + `<tr><td>${esc(t.day)}</td><td class="num" id="today-tickets">${t.tickets}</td><td class="num" id="today-called">${t.called}</td><td class="num">${t.served}</td>`
      + `<td class="num">${t.no_shows}</td><td class="num">${t.rated}</td><td class="num">${pct(t.satisfaction)}</td></tr></table>`;
  }

  function connect(path, draw) {
    let delay = 500;
    const open = () => {
      const ws = new WebSocket((location.protocol === "https:" ? "wss://" : "ws://") + location.host + path);
      ws.onopen = () => { delay = 500; $("conn").textContent = "实时"; $("conn").className = "live"; };
      ws.onmessage = (m) => { const d = JSON.parse(m.data); lastAt = Date.now(); draw(d); };
      ws.onclose = (ev) => {
        $("conn").textContent = "重新连接中…"; $("conn").className = "down";
        if (ev.code === 4401) { location.href = "/login"; return; }
        setTimeout(open, delay); delay = Math.min(delay * 2, 10000);
      };
    };
    open();
    setInterval(() => { if (lastAt) $("age").textContent = "数据 " + Math.round((Date.now() - lastAt) / 1000) + " 秒前"; }, 1000);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const h1 = document.querySelector("h1[data-hall]");
    if (h1) connect("/ws/halls/" + encodeURIComponent(h1.dataset.hall), hall);
    else if ($("halls")) connect("/ws/overview", overview);
  });
})();
