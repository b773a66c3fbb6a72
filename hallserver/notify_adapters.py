"""Where notices go: one adapter per gateway, all async over one httpx client (never blocking the loop).

Every adapter answers a `Delivery`: `sent`; `refused` (this message never will be: a bad or blocked number,
a number's own flow control, a missing template — the row becomes a dead letter, the others go on);
`retry` (the gateway refused the request before sending: throttled, 5xx, unreachable, or the hall's own
credentials or clock refused — the row waits and the sender backs off); `doubt` (the request may have reached
the gateway: a timeout or a dropped answer).
A gateway with an idempotency key (`idempotent`: WeChat's client_msg_id) may take a doubtful message again;
the SMS gateways have none, so a doubtful SMS is never resent (at most once; docs/integrations.md).

Secrets are read from their 0600 files (`read_secret`), never logged; addresses are logged masked.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
import pathlib
import secrets
import urllib.parse
from dataclasses import dataclass
from typing import Protocol

import httpx

from hallcore.clock import Clock
from hallcore.confignotify import AliyunSms, TencentSms, WeChat
from hallcore.gatewaysign import acs3_authorization, sha256_hex, tc3_authorization
from hallcore.notices import mask_address

log = logging.getLogger("hallq.notices")


@dataclass(frozen=True, slots=True)
class Message:
    key: str  # the notice's idempotency key
    kind: str
    lang: str
    channel: str
    address: str
    text: str
    params: dict[str, str]


@dataclass(frozen=True, slots=True)
class Delivery:
    verdict: str  # sent | refused | retry | doubt
    code: str = ""
    detail: str = ""
    provider_id: str = ""
    cost_fen: int = 0
    retry_after_s: float = 0.0
    # The gateway refused the hall's own credentials or clock (a retry): the sender reads the secret files
    # again before the next try, so a corrected file is taken without a reload.
    account: bool = False


class Adapter(Protocol):
    name: str
    idempotent: bool

    async def send(self, client: httpx.AsyncClient, m: Message, timeout_s: float) -> Delivery: ...


class NoQueryInLogs(logging.Filter):
    """httpx logs every request's URL at INFO; SMS numbers (Aliyun's `PhoneNumbers`), a WeChat AppSecret
    and access token ride in query strings, so the query is cut from those lines (the path stays)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple) and any(isinstance(a, httpx.URL) for a in record.args):
            record.args = tuple(
                a.copy_with(query=None) if isinstance(a, httpx.URL) else a for a in record.args
            )
        return True


def quiet_urls() -> None:
    """Install `NoQueryInLogs` on httpx's logger, once per process."""
    target = logging.getLogger("httpx")
    if not any(isinstance(f, NoQueryInLogs) for f in target.filters):
        target.addFilter(NoQueryInLogs())


def read_secret(path_text: str) -> str:
    """A secret from its file: refused when other users could read it, or when empty."""
    path = pathlib.Path(path_text)
    if path.stat().st_mode & 0o077:
        raise ValueError(f"{path} can be read by other users: chmod 600 {path}")
    value = path.read_text(encoding="utf-8").strip()
    if not value:
        raise ValueError(f"{path} is empty")
    return value


def template_for(templates: dict[str, str], kind: str, lang: str) -> str:
    return templates.get(f"{kind}.{lang}") or templates.get(kind, "")


def _http_failure(exc: httpx.HTTPError) -> Delivery:
    """No answer: before the request left (connect) it is safe to retry, after it the message is in doubt."""
    if isinstance(exc, (httpx.ConnectError, httpx.ConnectTimeout)):
        return Delivery("retry", "unreachable", f"{type(exc).__name__}")
    return Delivery("doubt", "no_answer", f"{type(exc).__name__}")


class LogAdapter:
    """For a hall without an SMS contract (and the demo): the notice is written to the log, masked."""

    name = "log"
    idempotent = True

    async def send(self, client: httpx.AsyncClient, m: Message, timeout_s: float) -> Delivery:  # noqa: ARG002
        log.info("notice %s to %s: %s", m.key, mask_address(m.channel, m.address), m.text)
        return Delivery("sent", "logged")


#: Aliyun codes that refuse one message for good (the number, its flow control, the template).
_ALIYUN_REFUSED = (
    "isv.MOBILE_NUMBER_ILLEGAL",
    "isv.BUSINESS_LIMIT_CONTROL",
    "isv.BLACK_KEY_CONTROL_LIMIT",
    "isv.TEMPLATE_MISSING_PARAMETERS",
    "isv.SMS_TEMPLATE_ILLEGAL",
    "isv.SMS_SIGNATURE_ILLEGAL",
    "isv.DAY_LIMIT_CONTROL",
    "isv.MOBILE_COUNT_OVER_LIMIT",
    "isv.PARAM_LENGTH_LIMIT",
)


#: Aliyun codes that refuse the hall's own credentials or clock, not the message: every message would be
#: refused alike, so the rows wait (retried with backoff, the dashboard shows the code) until it is fixed.
_ALIYUN_ACCOUNT = (
    "SignatureDoesNotMatch",
    "IncompleteSignature",
    "InvalidAccessKeyId",
    "InvalidTimeStamp",
    "SignatureNonceUsed",
)


class AliyunAdapter:
    """dysmsapi 2017-05-25 SendSms. `OutId` carries the notice key for reconciliation (not an idempotency
    key: Aliyun sends a repeated request again)."""

    name = "aliyun"
    idempotent = False

    def __init__(self, cfg: AliyunSms, clock: Clock, secret: str) -> None:
        self.cfg, self.clock, self._secret = cfg, clock, secret

    async def send(self, client: httpx.AsyncClient, m: Message, timeout_s: float) -> Delivery:
        code = template_for(self.cfg.templates, m.kind, m.lang)
        if not code:
            return Delivery("refused", "no_template", f"no Aliyun template for {m.kind}")
        query = {
            "PhoneNumbers": m.address,
            "SignName": self.cfg.sign_name,
            "TemplateCode": code,
            "TemplateParam": json.dumps(m.params, ensure_ascii=False, separators=(",", ":")),
            "OutId": m.key[-256:],
        }
        url = urllib.parse.urlsplit(self.cfg.endpoint)
        headers = {
            "host": url.netloc,
            "x-acs-action": "SendSms",
            "x-acs-version": "2017-05-25",
            "x-acs-date": self.clock.now().astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "x-acs-signature-nonce": secrets.token_hex(16),
            "x-acs-content-sha256": sha256_hex(b""),
        }
        path = url.path or "/"
        auth = acs3_authorization("POST", path, query, headers, self.cfg.access_key_id, self._secret)
        target = (
            f"{url.scheme}://{url.netloc}{path}?{urllib.parse.urlencode(query, quote_via=urllib.parse.quote)}"
        )
        try:
            r = await client.post(target, headers={**headers, "Authorization": auth}, timeout=timeout_s)
        except httpx.HTTPError as exc:
            return _http_failure(exc)
        try:
            body = r.json()
        except ValueError:
            body = {}
        got = str(body.get("Code", ""))
        detail = str(body.get("Message", r.text[:200]))[:200]
        if r.status_code == 200 and got == "OK":
            return Delivery("sent", "OK", "", str(body.get("BizId", "")), self.cfg.cost_fen)
        if got.startswith(_ALIYUN_ACCOUNT):
            return Delivery("retry", got, detail, account=True)
        if got.startswith("Throttling") or r.status_code in (429, 503) or r.status_code >= 500:
            return Delivery("retry", got or f"HTTP {r.status_code}", detail)
        if got in _ALIYUN_REFUSED or 400 <= r.status_code < 500 or got.startswith("isv."):
            return Delivery("refused", got or f"HTTP {r.status_code}", detail)
        return Delivery("retry", got or f"HTTP {r.status_code}", detail)


#: Tencent errors that are not the message's: throttling and Tencent's own faults; and the hall's credentials
#: or clock (every message would be refused alike). Both wait. The rest (`FailedOperation`,
#: `InvalidParameter*`, `LimitExceeded.PhoneNumber*`, the number's own flow control) refuse one message: a
#: dead letter, the others go on.
_TENCENT_RETRY = ("RequestLimitExceeded", "InternalError", "ResourceUnavailable")
_TENCENT_ACCOUNT = ("AuthFailure", "UnauthorizedOperation")


class TencentAdapter:
    """sms 2021-01-11 SendSms. `SessionContext` carries the notice key (no idempotency on Tencent's side)."""

    name = "tencent"
    idempotent = False

    def __init__(self, cfg: TencentSms, clock: Clock, secret: str) -> None:
        self.cfg, self.clock, self._secret = cfg, clock, secret

    async def send(self, client: httpx.AsyncClient, m: Message, timeout_s: float) -> Delivery:
        tid = template_for(self.cfg.templates, m.kind, m.lang)
        if not tid:
            return Delivery("refused", "no_template", f"no Tencent template for {m.kind}")
        payload = {
            "PhoneNumberSet": [f"+86{m.address}"],
            "SmsSdkAppId": self.cfg.sdk_app_id,
            "SignName": self.cfg.sign_name,
            "TemplateId": tid,
            # Tencent templates number their parameters {1}, {2}, …: the kind's fields in name order.
            "TemplateParamSet": [m.params[k] for k in sorted(m.params) if k != "hall"],
            "SessionContext": m.key,
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        url = urllib.parse.urlsplit(self.cfg.endpoint)
        ts = int(self.clock.now().timestamp())
        ctype = "application/json"
        headers = {
            "Content-Type": ctype,
            "Host": url.netloc,
            "X-TC-Action": "SendSms",
            "X-TC-Version": "2021-01-11",
            "X-TC-Timestamp": str(ts),
            "X-TC-Region": self.cfg.region,
            "Authorization": tc3_authorization(
                self.cfg.secret_id, self._secret, "sms", url.netloc, ctype, body, ts
            ),
        }
        try:
            r = await client.post(self.cfg.endpoint, content=body, headers=headers, timeout=timeout_s)
        except httpx.HTTPError as exc:
            return _http_failure(exc)
        if r.status_code >= 500:
            return Delivery("retry", f"HTTP {r.status_code}", r.text[:200])
        try:
            resp = r.json().get("Response", {})
        except ValueError:
            return Delivery("retry", f"HTTP {r.status_code}", "not JSON")
        if err := resp.get("Error"):
            code = str(err.get("Code", ""))
            message = str(err.get("Message", ""))[:200]
            if code.startswith(_TENCENT_ACCOUNT):
                return Delivery("retry", code, message, account=True)
            return Delivery("retry" if code.startswith(_TENCENT_RETRY) else "refused", code, message)
        status = (resp.get("SendStatusSet") or [{}])[0]
        code = str(status.get("Code", ""))
        if code == "Ok":
            fee = int(status.get("Fee", 1) or 0)
            return Delivery("sent", "Ok", "", str(status.get("SerialNo", "")), fee * self.cfg.cost_fen)
        verdict = "retry" if code.startswith(_TENCENT_RETRY) else "refused"
        return Delivery(verdict, code or "unknown", str(status.get("Message", ""))[:200])


#: WeChat errcodes: the access token is stale (fetch a new one and try again at once).
_WX_TOKEN_STALE = frozenset({40001, 40014, 42001})
#: The account is throttled or WeChat is busy: try again later.
_WX_RETRY = frozenset({-1, 45009, 45011, 45047})


class WeChatAdapter:
    """Official-account template messages; the access token (2 h) is cached and fetched again 5 minutes
    before it runs out or when WeChat calls it stale. `client_msg_id` (WeChat drops a repeat of the same id to
    the same openid) makes a resend after a doubtful answer safe."""

    name = "wechat"
    idempotent = True

    def __init__(self, cfg: WeChat, clock: Clock, secret: str) -> None:
        self.cfg, self.clock, self._secret = cfg, clock, secret
        self._token = ""
        self._expires = 0.0
        self.token_fetches = 0

    async def token(self, client: httpx.AsyncClient, timeout_s: float, *, fresh: bool = False) -> str:
        if self._token and not fresh and self.clock.monotonic() < self._expires:
            return self._token
        r = await client.get(
            f"{self.cfg.api_base}/cgi-bin/token",
            params={"grant_type": "client_credential", "appid": self.cfg.app_id, "secret": self._secret},
            timeout=timeout_s,
        )
        body = r.json()
        if "access_token" not in body:
            raise _WxError(int(body.get("errcode", -1)), str(body.get("errmsg", ""))[:200])
        self.token_fetches += 1
        self._token = str(body["access_token"])
        self._expires = self.clock.monotonic() + max(60.0, float(body.get("expires_in", 7200)) - 300)
        return self._token

    async def openid(self, client: httpx.AsyncClient, code: str, timeout_s: float) -> str:
        """The openid an OAuth (snsapi_base) code stands for."""
        r = await client.get(
            f"{self.cfg.api_base}/sns/oauth2/access_token",
            params={
                "appid": self.cfg.app_id,
                "secret": self._secret,
                "code": code,
                "grant_type": "authorization_code",
            },
            timeout=timeout_s,
        )
        body = r.json()
        if "openid" not in body:
            raise _WxError(int(body.get("errcode", -1)), str(body.get("errmsg", ""))[:200])
        return str(body["openid"])

    async def send(self, client: httpx.AsyncClient, m: Message, timeout_s: float) -> Delivery:
        tid = template_for(self.cfg.templates, m.kind, m.lang)
        if not tid:
            return Delivery("refused", "no_template", f"no WeChat template for {m.kind}")
        payload = {
            "touser": m.address,
            "template_id": tid,
            "data": {k: {"value": v} for k, v in m.params.items()},
            "client_msg_id": m.key[-64:],
        }
        try:
            for attempt in range(2):
                token = await self.token(client, timeout_s, fresh=attempt > 0)
                r = await client.post(
                    f"{self.cfg.api_base}/cgi-bin/message/template/send",
                    params={"access_token": token},
                    json=payload,
                    timeout=timeout_s,
                )
                body = r.json()
                errcode = int(body.get("errcode", -1))
                if errcode not in _WX_TOKEN_STALE:
                    break
        except httpx.HTTPError as exc:
            return _http_failure(exc)
        except _WxError as exc:  # no token: the AppSecret, the AppID or the server's address refused, or busy
            return Delivery("retry", f"token {exc.errcode}", exc.errmsg, account=exc.errcode not in _WX_RETRY)
        except ValueError:
            return Delivery("doubt", "not_json", "")
        detail = str(body.get("errmsg", ""))[:200]
        if errcode == 0:
            return Delivery("sent", "0", "", str(body.get("msgid", "")))
        if errcode in _WX_RETRY or errcode in _WX_TOKEN_STALE:
            return Delivery("retry", str(errcode), detail)
        return Delivery("refused", str(errcode), detail)


class _WxError(Exception):
    def __init__(self, errcode: int, errmsg: str) -> None:
        super().__init__(f"{errcode} {errmsg}")
        self.errcode, self.errmsg = errcode, errmsg
