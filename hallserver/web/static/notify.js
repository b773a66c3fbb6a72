// hallq phone page: "快到您了" notices for this page's own ticket (issue 30): a mobile number with consent, or
// WeChat (the official account's OAuth, snsapi_base), and withdrawal. The number is only ever shown masked.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const token = location.pathname.split("/").pop();
  const en = document.documentElement.lang === "en";
  const T = en ? {
    h: "Text me when my turn is near", phone: "Mobile number", consent: "I agree to receive queue reminders from this hall",
    send: "Send", wechat: "Remind me on WeChat", on: (m) => `Reminders go to ${m}.`, withdraw: "Stop reminders", off: "Reminders stopped.",
  } : {
    h: "快到您时提醒我", phone: "手机号", consent: "我同意接收本大厅的排队提醒", send: "提交", wechat: "用微信提醒我",
    on: (m) => `提醒将发送至 ${m}。`, withdraw: "不再提醒", off: "已取消提醒。",
  };
  const base = `/web/api/status/${encodeURIComponent(token)}/notify`;
  function show(j) {
    $("notify").hidden = !j.enabled;
    $("notify-form").hidden = Boolean(j.sub);
    $("notify-withdraw").hidden = !j.sub;
    $("notify-wechat").hidden = !j.wechat || Boolean(j.sub);
    if (j.sub) $("notify-state").textContent = T.on(j.sub.masked);
  }
  async function load() {
    const r = await fetch(base, {cache: "no-store"});
    if (r.ok) show(await r.json());
  }
  $("notify-h").textContent = T.h;
  $("notify-phone-l").textContent = T.phone;
  $("notify-consent-l").textContent = T.consent;
  $("notify-send").textContent = T.send;
  $("notify-withdraw").textContent = T.withdraw;
  $("notify-wechat").textContent = T.wechat;
  $("notify-wechat").href = `/s/${encodeURIComponent(token)}/wechat`;
  $("notify-send").addEventListener("click", async () => {
    const r = await fetch(base, {method: "POST", headers: {"Content-Type": "application/json"},
      body: JSON.stringify({phone: $("notify-phone").value, consent: $("notify-consent").checked, lang: en ? "en" : "zh"})});
    const j = await r.json();
    $("notify-phone").value = "";
    if (r.ok) load(); else $("notify-state").textContent = en ? j.message_en : j.message;
  });
  $("notify-withdraw").addEventListener("click", async () => {
    const r = await fetch(base + "/withdraw", {method: "POST", headers: {"Content-Type": "application/json"}, body: "{}"});
    if (r.ok) { $("notify-state").textContent = T.off; load(); }
  });
  load();
})();
