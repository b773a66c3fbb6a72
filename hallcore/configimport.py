"""The checks of `[booking_import]` (bookings from outside, docs/integrations.md): partners and their keys
unique, what an enabled import needs, URLs and figures in range. Called from `hallcore.configcheck`."""

from __future__ import annotations

from hallcore.config import BookingImport
from hallcore.configrules import at_least, nonempty, unique
from hallcore.configwalk import Walker

SECTION = "booking_import"


def check_booking_import(w: Walker, bi: BookingImport) -> None:
    at_least(w, f"{SECTION}.window_s", bi.window_s, 30, " s")
    at_least(w, f"{SECTION}.retry_first_s", bi.retry_first_s, 0.1, " s")
    at_least(w, f"{SECTION}.retry_max_s", bi.retry_max_s, 1, " s")
    if bi.enabled and not bi.partners:
        w.issue(f"{SECTION}.partners", [], "at least one [[booking_import.partners]] when enabled = true")
    unique(w, list(enumerate(bi.partners)), f"{SECTION}.partners", "id", "partner id")
    owner: dict[str, str] = {}
    for i, p in enumerate(bi.partners):
        key = f"{SECTION}.partners[{i}]"
        nonempty(w, f"{key}.id", p.id, "a partner id, e.g. ywtb")
        if not p.keys:
            w.issue(f"{key}.keys", [], "at least one [[booking_import.partners.keys]] (id, secret_file)")
        for j, k in enumerate(p.keys):
            nonempty(w, f"{key}.keys[{j}].id", k.id, "the key id the partner sends as X-HQ-AppKey")
            nonempty(w, f"{key}.keys[{j}].secret_file", k.secret_file, "a 0600 file holding the secret")
            if k.id in owner:
                w.issue(
                    f"{key}.keys[{j}].id", k.id, "a key id used only once", f"partner {owner[k.id]} has it"
                )
            owner.setdefault(k.id, p.id)
        for name in ("report_url", "list_url"):
            url = getattr(p, name)
            if url and not url.startswith(("http://", "https://")):
                w.issue(f"{key}.{name}", url, "an http(s) URL, or empty")
        if p.rate_per_s <= 0:
            w.issue(f"{key}.rate_per_s", p.rate_per_s, "above 0 requests a second")
        at_least(w, f"{key}.burst", p.burst, 1)
        at_least(w, f"{key}.poll_s", p.poll_s, 10, " s")
        at_least(w, f"{key}.timeout_s", p.timeout_s, 1, " s")
