// hallq booking page: slots with the places left, booking through the public API, cancel.
"use strict";
(function () {
  const $ = (id) => document.getElementById(id);
  const en = document.documentElement.lang === "en";
  const cancel = $("cancel");
  if (cancel) {
    cancel.addEventListener("click", async () => {
      const r = await fetch(`/api/bookings/${cancel.dataset.code}/cancel`, {method: "POST", headers: {"Content-Type": "application/json"},
        body: JSON.stringify({request_id: crypto.randomUUID ? crypto.randomUUID() : String(Date.now())})});
      const j = await r.json();
      if (r.ok) { $("bstate").textContent = en ? "cancelled" : "已取消"; cancel.remove(); }
      else $("msg").textContent = en ? j.message_en : j.message;
    });
    return;
  }
  let slot = null;
  // The form is sent by the script (no inline handler: the page's Content-Security-Policy allows none).
  $("bookform").addEventListener("submit", (ev) => ev.preventDefault());
  async function loadSlots() {
    slot = null;
    const box = $("slots");
    box.textContent = "…";
    const r = await fetch(`/api/booking/slots?matter=${encodeURIComponent($("matter").value)}&day=${$("day").value}`);
    const j = await r.json();
    box.innerHTML = "";
    if (!r.ok) { box.textContent = en ? j.message_en : j.message; return; }
    if (!j.length) box.textContent = en ? "No slots this day" : "当天没有可预约时段";
    j.forEach((s) => {
      const b = document.createElement("button");
      b.type = "button";
      b.textContent = `${s.start.slice(0, 5)} (${s.remaining})`;
      b.dataset.start = s.start.slice(0, 5);
      b.disabled = s.remaining <= 0;
      if (b.disabled) b.title = en ? "Fully booked" : "已约满";
      // The chosen slot is said to assistive technology too, not only by its colour.
      b.setAttribute("aria-pressed", "false");
      b.addEventListener("click", () => {
        box.querySelectorAll("button").forEach((x) => { x.classList.remove("on"); x.setAttribute("aria-pressed", "false"); });
        b.classList.add("on"); b.setAttribute("aria-pressed", "true"); slot = b.dataset.start;
      });
      box.appendChild(b);
    });
  }
  $("matter").addEventListener("change", loadSlots);
  $("day").addEventListener("change", loadSlots);
  $("book").addEventListener("click", async () => {
    $("msg").textContent = "";
    if (!slot) { $("msg").textContent = en ? "Choose a time slot" : "请选择时段"; return; }
    const body = {request_id: crypto.randomUUID ? crypto.randomUUID() : String(Date.now()), matter: $("matter").value, day: $("day").value,
      slot, id_number: $("idno").value.trim(), name: $("name").value.trim(), phone: $("bphone").value.trim()};
    const r = await fetch("/api/bookings", {method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(body)});
    const j = await r.json();
    if (r.ok) location.href = `/book/${j.code}` + (en ? "?lang=en" : "");
    else { $("msg").textContent = en ? j.message_en : j.message; loadSlots(); }
  });
  loadSlots();
})();
