"""The checks of `[notify]` (hallcore/confignotify.py) that types cannot express: the adapter and its
settings, the rules' ranges, caps and each template's placeholders. Called by hallcore/configcheck.py."""

from __future__ import annotations

from typing import Any

from hallcore.confignotify import Notify
from hallcore.configrules import at_least as _at_least
from hallcore.configrules import between as _between
from hallcore.configrules import check_template as _check_template
from hallcore.configwalk import Walker
from hallcore.notices import FIELDS, KINDS, LANGS, SMS_ADAPTERS


def check_notify(w: Walker, n: Notify) -> None:
    """`[notify]`: the adapter and its settings, rules, caps and templates (docs/integrations.md)."""
    if n.sms not in SMS_ADAPTERS:
        w.issue("notify.sms", n.sms, f"one of {', '.join(SMS_ADAPTERS)}")
    for name in (
        "per_ticket",
        "per_number_day",
        "optin_per_number_day",
        "optin_per_station_hour",
        "retry_max_s",
    ):
        _at_least(w, f"notify.{name}", getattr(n, name), 1)
    for name in ("ahead", "within_min", "owed_days"):
        _at_least(w, f"notify.rules.{name}", getattr(n.rules, name), 0)
    _between(w, "notify.batch_s", n.batch_s, 0.05, 60)
    _at_least(w, "notify.timeout_s", n.timeout_s, 1, " s")
    _at_least(w, "notify.retry_first_s", n.retry_first_s, 0.1, " s")
    for lang, texts in n.templates.items():
        if lang not in LANGS:
            w.issue(f"notify.templates.{lang}", lang, f"a language: one of {', '.join(LANGS)}")
        for kind, text in texts.items():
            if kind not in FIELDS:
                w.issue(f"notify.templates.{lang}.{kind}", text, f"a notice kind: one of {', '.join(KINDS)}")
            else:
                _check_template(w, f"notify.templates.{lang}.{kind}", text, FIELDS[kind])
    gateways: list[tuple[str, Any, tuple[str, ...], str]] = [
        ("aliyun", n.aliyun, ("access_key_id", "secret_file", "sign_name"), "endpoint"),
        ("tencent", n.tencent, ("secret_id", "secret_file", "sdk_app_id", "sign_name"), "endpoint"),
        ("wechat", n.wechat, ("app_id", "secret_file", "public_url"), "api_base"),
    ]
    for name, g, needed, url in gateways:
        for key in g.templates:
            if key.partition(".")[0] not in FIELDS or (key.partition(".")[2] not in ("", *LANGS)):
                w.issue(f"notify.{name}.templates.{key}", key, "a notice kind, or kind.lang (e.g. called.en)")
        used = n.enabled and (n.sms == name or (name == "wechat" and n.wechat_enabled))
        if not used:
            continue
        if not str(getattr(g, url)).startswith(("http://", "https://")):
            w.issue(f"notify.{name}.{url}", getattr(g, url), "an http(s) URL")
        for key in needed:
            if not getattr(g, key):
                w.issue(f"notify.{name}.{key}", getattr(g, key), f"set when notify uses {name}")
