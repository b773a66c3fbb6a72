"""Fake SMS and WeChat gateways on 127.0.0.1 port 0 (real HTTP servers in threads) for the notice adapters.

Each verifies what the vendor's own SDK would sign, with the SDK's code as the reference: Aliyun's ACS3
signature through `alibabacloud_openapi_util` (the dysmsapi SDK's signer), Tencent's TC3 through
`tencentcloud.common.sign.Sign.sign_tc3`. A bad signature is refused (recorded in `bad_signatures`). What
they do next is set by the test:

- `mode`: "ok" (default), "down" (503), "throttle" (the gateway's own throttling answer), "hang" (answer only
  after `hang_s`: the client times out first), "page" (a proxy in front answers its own HTML page with
  `page_status`, 502 unless set: the request never reached the gateway);
- `refuse`: numbers (or openids) refused for good (an illegal or blocked number);
- `hold`: numbers whose request is taken (counted in `accepted`) and then held until `release` is set (a kill
  mid-send).

`accepted` lists every message taken, repeats included: a duplicate shows as the same number twice.
WeChat also keeps access tokens (fetched at /cgi-bin/token; `expire_tokens()` makes them stale), drops a
repeated `client_msg_id` for the same openid (counted in `repeats`) and plays the OAuth side: /connect/oauth2
/authorize redirects back with a code, /sns/oauth2/access_token answers its openid.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import hashlib
import http.server
import json
import secrets
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

ALIYUN_AK = "LTAI-test-key"
ALIYUN_SECRET = "aliyun-test-secret"
TENCENT_ID = "AKID-test"
TENCENT_KEY = "tencent-test-key"
WECHAT_APPID = "wx-test-app"
WECHAT_SECRET = "wechat-test-secret"


@dataclass
class Answer:
    status: int
    body: dict[str, Any]
    headers: dict[str, str] = field(default_factory=dict)
    page: str = ""  # an HTML page instead of the JSON body


class _Fake:
    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        self.clock = clock
        self.mode = "ok"
        self.hang_s = 5.0
        self.page_status = 502
        self.refuse: set[str] = set()
        self.hold: set[str] = set()
        self.release = threading.Event()
        self.held = threading.Event()
        self.accepted: list[dict[str, Any]] = []
        self.bad_signatures: list[str] = []
        self.requests = 0
        self.lock = threading.Lock()
        owner = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def _do(self, method: str) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                with owner.lock:
                    owner.requests += 1
                if owner.mode == "page":
                    a = Answer(owner.page_status, {}, page="<html><body>502 Bad Gateway</body></html>")
                else:
                    a = owner.handle(method, self.path, {k.lower(): v for k, v in self.headers.items()}, raw)
                body = a.page.encode() if a.page else json.dumps(a.body, ensure_ascii=False).encode()
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):  # the client gave up
                    self.send_response(a.status)
                    for k, v in a.headers.items():
                        self.send_header(k, v)
                    self.send_header("Content-Type", "text/html" if a.page else "application/json")
                    self.send_header("Content-Length", str(len(body)))
                    self.end_headers()
                    self.wfile.write(body)

            def do_POST(self) -> None:
                self._do("POST")

            def do_GET(self) -> None:
                self._do("GET")

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.host = f"127.0.0.1:{self.server.server_address[1]}"
        self.url = f"http://{self.host}/"
        # A short poll: close() (shutdown) waits for it, at the end of every test that uses a fake.
        self.thread = threading.Thread(target=self.server.serve_forever, args=(0.05,), daemon=True)
        self.thread.start()

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        raise NotImplementedError

    def take(self, address: str, message: dict[str, Any]) -> Answer | None:
        """The common part: refused numbers, modes, recording, holding. None: go on and answer success."""
        if self.mode == "down":
            return Answer(503, {"Message": "maintenance"})
        if self.mode == "throttle":
            return self.throttled()
        if address in self.refuse:
            return self.refused(address)
        with self.lock:
            self.accepted.append(message)
        if address in self.hold:
            self.held.set()
            self.release.wait(30)
        if self.mode == "hang":
            time.sleep(self.hang_s)
        return None

    def throttled(self) -> Answer:
        raise NotImplementedError

    def refused(self, address: str) -> Answer:
        raise NotImplementedError

    def numbers(self) -> list[str]:
        with self.lock:
            return [str(m["to"]) for m in self.accepted]

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


class FakeAliyun(_Fake):
    """dysmsapi SendSms, ACS3-HMAC-SHA256 verified by the SDK's own signer."""

    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        super().__init__(clock)
        self._nonces: set[str] = set()

    def verify(
        self, method: str, path: str, query: dict[str, str], headers: dict[str, str], raw: bytes
    ) -> str:
        from alibabacloud_tea_openapi.utils import Utils as SdkSigner

        auth = headers.get("authorization", "")
        try:
            algo, rest = auth.split(" ", 1)
            parts = dict(p.split("=", 1) for p in rest.split(","))
        except ValueError:
            return "malformed Authorization"
        if algo != "ACS3-HMAC-SHA256" or parts.get("Credential") != ALIYUN_AK:
            return "unknown algorithm or AccessKey"
        if headers.get("x-acs-content-sha256") != hashlib.sha256(raw).hexdigest():
            return "x-acs-content-sha256 is not the body's"
        nonce = headers.get("x-acs-signature-nonce", "")
        stamp = headers.get("x-acs-date", "1970-01-01T00:00:00Z").replace("Z", "+00:00")
        if abs((dt.datetime.fromisoformat(stamp) - self.clock()).total_seconds()) > 900:
            return "x-acs-date out of the 15-minute window"
        if not nonce or nonce in self._nonces:
            return "nonce missing or used before"
        self._nonces.add(nonce)
        signed = parts.get("SignedHeaders", "").split(";")

        class Req:
            pass

        req = Req()
        req.method, req.pathname, req.query = method, path, query  # type: ignore[attr-defined]
        req.headers = {k: headers[k] for k in signed if k in headers}  # type: ignore[attr-defined]
        want = SdkSigner.get_authorization(
            req, "ACS3-HMAC-SHA256", headers["x-acs-content-sha256"], ALIYUN_AK, ALIYUN_SECRET
        )
        return "" if want == auth else "SignatureDoesNotMatch"

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        url = urllib.parse.urlsplit(path)
        query = dict(urllib.parse.parse_qsl(url.query, keep_blank_values=True))
        with self.lock:
            reason = self.verify(method, url.path, query, headers, raw)
        if reason:
            self.bad_signatures.append(reason)
            return Answer(400, {"Code": "SignatureDoesNotMatch", "Message": reason})
        if headers.get("x-acs-action") != "SendSms":
            return Answer(400, {"Code": "InvalidAction", "Message": "SendSms only"})
        phone = query.get("PhoneNumbers", "")
        message = {
            "to": phone,
            "template": query.get("TemplateCode", ""),
            "params": json.loads(query.get("TemplateParam") or "{}"),
            "out_id": query.get("OutId", ""),
            "sign": query.get("SignName", ""),
        }
        if (a := self.take(phone, message)) is not None:
            return a
        return Answer(200, {"Code": "OK", "Message": "OK", "BizId": secrets.token_hex(8), "RequestId": "r"})

    def throttled(self) -> Answer:
        return Answer(
            400, {"Code": "Throttling.User", "Message": "Request was denied due to user flow control."}
        )

    def refused(self, address: str) -> Answer:
        return Answer(200, {"Code": "isv.MOBILE_NUMBER_ILLEGAL", "Message": f"{address[:3]}… illegal"})


class FakeTencent(_Fake):
    """sms 2021-01-11 SendSms, TC3-HMAC-SHA256 verified by the SDK's own `Sign.sign_tc3`."""

    def verify(self, headers: dict[str, str], raw: bytes) -> str:
        from tencentcloud.common.sign import Sign

        auth = headers.get("authorization", "")
        try:
            algo, rest = auth.split(" ", 1)
            parts = dict(p.strip().split("=", 1) for p in rest.split(","))
            secret_id, date, service, _ = parts["Credential"].split("/")
        except (ValueError, KeyError):
            return "malformed Authorization"
        if algo != "TC3-HMAC-SHA256" or secret_id != TENCENT_ID or service != "sms":
            return "unknown algorithm, SecretId or service"
        ts = int(headers.get("x-tc-timestamp", "0"))
        if abs(ts - self.clock().timestamp()) > 300:
            return "X-TC-Timestamp out of the 5-minute window"
        if dt.datetime.fromtimestamp(ts, dt.UTC).strftime("%Y-%m-%d") != date:
            return "the credential's date is not the timestamp's"
        canonical = "\n".join(
            (
                "POST",
                "/",
                "",
                f"content-type:{headers.get('content-type', '')}\nhost:{headers.get('host', '')}\n",
                "content-type;host",
                hashlib.sha256(raw).hexdigest(),
            )
        )
        scope = f"{date}/sms/tc3_request"
        to_sign = f"TC3-HMAC-SHA256\n{ts}\n{scope}\n{hashlib.sha256(canonical.encode()).hexdigest()}"
        want = Sign.sign_tc3(TENCENT_KEY, date, "sms", to_sign)
        return "" if parts.get("Signature") == want else "AuthFailure.SignatureFailure"

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        reason = self.verify(headers, raw)
        if reason:
            self.bad_signatures.append(reason)
            err = {"Code": "AuthFailure.SignatureFailure", "Message": reason}
            return Answer(200, {"Response": {"Error": err, "RequestId": "r"}})
        body = json.loads(raw)
        phone = str(body["PhoneNumberSet"][0]).removeprefix("+86")
        message = {
            "to": phone,
            "template": body.get("TemplateId", ""),
            "params": body.get("TemplateParamSet", []),
            "out_id": body.get("SessionContext", ""),
            "sign": body.get("SignName", ""),
        }
        if (a := self.take(phone, message)) is not None:
            return a
        status = {"SerialNo": secrets.token_hex(8), "PhoneNumber": f"+86{phone}", "Fee": 1, "Code": "Ok"}
        return Answer(200, {"Response": {"SendStatusSet": [status], "RequestId": "r"}})

    def throttled(self) -> Answer:
        return Answer(
            200,
            {"Response": {"Error": {"Code": "RequestLimitExceeded", "Message": "slow"}, "RequestId": "r"}},
        )

    def refused(self, address: str) -> Answer:
        status = {
            "PhoneNumber": f"+86{address}",
            "Fee": 0,
            "Code": "InvalidParameterValue.IncorrectPhoneNumber",
        }
        return Answer(200, {"Response": {"SendStatusSet": [status], "RequestId": "r"}})


class FakeWeChat(_Fake):
    """The official account's API: tokens, template messages (client_msg_id dedup) and web OAuth."""

    def __init__(self, clock: Callable[[], dt.datetime]) -> None:
        super().__init__(clock)
        self.tokens: set[str] = set()
        self.token_fetches = 0
        self.codes: dict[str, str] = {}  # OAuth code -> openid
        self.next_openid = "oFAKE_openid_0000000001"
        self.repeats: list[str] = []
        self._msg_ids: set[tuple[str, str]] = set()

    def expire_tokens(self) -> None:
        with self.lock:
            self.tokens.clear()

    def handle(self, method: str, path: str, headers: dict[str, str], raw: bytes) -> Answer:
        url = urllib.parse.urlsplit(path)
        q = dict(urllib.parse.parse_qsl(url.query))
        if url.path == "/cgi-bin/token":
            if q.get("appid") != WECHAT_APPID or q.get("secret") != WECHAT_SECRET:
                self.bad_signatures.append("bad appid/secret")
                return Answer(200, {"errcode": 40125, "errmsg": "invalid appsecret"})
            token = secrets.token_hex(16)
            with self.lock:
                self.tokens.add(token)
                self.token_fetches += 1
            return Answer(200, {"access_token": token, "expires_in": 7200})
        if url.path == "/connect/oauth2/authorize":
            if q.get("scope") != "snsapi_base" or q.get("appid") != WECHAT_APPID:
                return Answer(400, {"errmsg": "scope must be snsapi_base"})
            code = secrets.token_hex(8)
            self.codes[code] = self.next_openid
            back = (
                f"{q['redirect_uri']}?{urllib.parse.urlencode({'code': code, 'state': q.get('state', '')})}"
            )
            return Answer(302, {}, {"Location": back})
        if url.path == "/sns/oauth2/access_token":
            openid = self.codes.pop(q.get("code", ""), None)
            if openid is None or q.get("secret") != WECHAT_SECRET:
                return Answer(200, {"errcode": 40029, "errmsg": "invalid code"})
            return Answer(200, {"access_token": "web", "openid": openid, "scope": "snsapi_base"})
        if url.path == "/cgi-bin/message/template/send":
            with self.lock:
                valid = q.get("access_token", "") in self.tokens
            if not valid:
                return Answer(200, {"errcode": 42001, "errmsg": "access_token expired"})
            body = json.loads(raw)
            openid = str(body.get("touser", ""))
            msg_id = str(body.get("client_msg_id", ""))
            with self.lock:
                if (openid, msg_id) in self._msg_ids:
                    self.repeats.append(msg_id)
                    return Answer(200, {"errcode": 0, "errmsg": "ok", "msgid": 1})
            message = {
                "to": openid,
                "template": body.get("template_id"),
                "params": body.get("data"),
                "out_id": msg_id,
            }
            if (a := self.take(openid, message)) is not None:
                return a
            with self.lock:
                self._msg_ids.add((openid, msg_id))
            return Answer(200, {"errcode": 0, "errmsg": "ok", "msgid": secrets.randbelow(10**9)})
        return Answer(404, {"errmsg": "no such path"})

    def throttled(self) -> Answer:
        return Answer(200, {"errcode": 45009, "errmsg": "reach max api daily quota limit"})

    def refused(self, address: str) -> Answer:
        return Answer(200, {"errcode": 43004, "errmsg": "require subscribe"})


@contextmanager
def fake_gateway(
    kind: str, clock: Callable[[], dt.datetime] = lambda: dt.datetime.now(dt.UTC)
) -> Iterator[Any]:
    g: _Fake = {"aliyun": FakeAliyun, "tencent": FakeTencent, "wechat": FakeWeChat}[kind](clock)
    try:
        yield g
    finally:
        g.close()
