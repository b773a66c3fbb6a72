"""The `[notify]` table: "快到您了" notices by SMS or WeChat. hallcore/notices.py has the rules,
hallserver/notify.py queues and hallserver/notify_send.py sends (docs/integrations.md "Notices"). Declared
apart from hallcore/config.py, which imports it.

Secrets (an AccessKey secret, a WeChat AppSecret) are never in the TOML: each adapter names a 0600 file.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class NoticeRules:
    """When a subscribed citizen is told; 0 (or false) turns a rule off."""

    ahead: int = 3  # "快到您了" when this many people or fewer are ahead …
    within_min: int = 15  # … or the estimate is under this many minutes (whichever comes first, once)
    called: bool = True  # "请到 N 号窗口" when the ticket is called
    owed_days: int = 3  # a 容缺 item still owed, due within this many working days (once)
    booking_eve: bool = True  # the day before a booking (once)


@dataclass(frozen=True, slots=True)
class AliyunSms:
    """Aliyun 短信服务 (dysmsapi 2017-05-25 SendSms, ACS3-HMAC-SHA256 signed)."""

    endpoint: str = "https://dysmsapi.aliyuncs.com/"
    access_key_id: str = ""
    secret_file: str = ""  # 0600, the AccessKey secret
    sign_name: str = ""  # 短信签名
    templates: dict[str, str] = field(default_factory=dict)  # notice kind (or kind.lang) -> template code
    cost_fen: int = 5  # price of one message, for the dashboard's cost today


@dataclass(frozen=True, slots=True)
class TencentSms:
    """Tencent Cloud 短信 (sms 2021-01-11 SendSms, TC3-HMAC-SHA256 signed)."""

    endpoint: str = "https://sms.tencentcloudapi.com/"
    secret_id: str = ""
    secret_file: str = ""  # 0600, the SecretKey
    region: str = "ap-guangzhou"
    sdk_app_id: str = ""
    sign_name: str = ""
    templates: dict[str, str] = field(default_factory=dict)  # notice kind (or kind.lang) -> template id
    cost_fen: int = 5  # price of one billed message (the reply's Fee counts them)


@dataclass(frozen=True, slots=True)
class WeChat:
    """A WeChat official account (服务号): template messages, and the openid from web OAuth (snsapi_base)."""

    api_base: str = "https://api.weixin.qq.com"
    oauth_url: str = "https://open.weixin.qq.com/connect/oauth2/authorize"
    app_id: str = ""
    secret_file: str = ""  # 0600, the AppSecret
    templates: dict[str, str] = field(default_factory=dict)  # notice kind (or kind.lang) -> template id
    public_url: str = ""  # the hall's address as the phone reaches it, for the OAuth redirect (https://…)


@dataclass(frozen=True, slots=True)
class Notify:
    enabled: bool = False
    sms: str = "log"  # the SMS adapter: log | aliyun | tencent
    wechat_enabled: bool = False  # offer WeChat on the phone page ([notify.wechat] configured)
    rules: NoticeRules = field(default_factory=NoticeRules)
    # No notice in these hours (hall time): reminders wait for the end, queue notices are dropped.
    quiet_start: dt.time = dt.time(21, 0)
    quiet_end: dt.time = dt.time(8, 0)
    per_ticket: int = 4  # notices to one ticket (or booking), at most
    per_number_day: int = 6  # notices to one number (or openid) in a day, at most, whatever the tickets
    # Opt-ins: one number for at most this many tickets a day (no bombing a stranger's number from a kiosk),
    # and at most this many opt-ins per station per hour.
    optin_per_number_day: int = 3
    optin_per_station_hour: int = 60
    batch_s: float = 1.0  # queue changes are gathered this long before the rules look again
    retry_first_s: float = 2.0
    retry_max_s: int = 300
    timeout_s: float = 10.0
    # lang -> notice kind -> text with {placeholders} (hallcore.notices.FIELDS); missing ones: built in.
    templates: dict[str, dict[str, str]] = field(default_factory=dict)
    aliyun: AliyunSms = field(default_factory=AliyunSms)
    tencent: TencentSms = field(default_factory=TencentSms)
    wechat: WeChat = field(default_factory=WeChat)
