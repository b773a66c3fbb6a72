"""Each notice adapter's answer to each way its gateway can fail (hallserver/notify_adapters.py), against the
fake gateways of tests/fakes/smsgateways.py (real HTTP on 127.0.0.1, signatures checked as the vendors' SDKs
make them): sent, refused for this message (a dead letter, the others go on), retry (nothing was sent: the
row waits and the sender backs off) or in doubt (the request may have reached the gateway). What the sender
does with each answer is tested through the outbox in test_notify_gateways.py; here every answer of every
adapter is pinned, fast, without a hall server."""

from __future__ import annotations

import asyncio
import logging
import pathlib
import socket
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from hallcore.clock import FakeClock
from hallcore.confignotify import AliyunSms, TencentSms, WeChat
from hallserver.notify_adapters import (
    AliyunAdapter,
    Delivery,
    Message,
    NoQueryInLogs,
    TencentAdapter,
    WeChatAdapter,
    read_secret,
)
from tests.fakes import smsgateways as gw
from tests.fakes.live_server import MONDAY_9
from tests.fakes.smsgateways import fake_gateway

PHONE = "13812345678"
OPENID = "oFAKE_openid_0000000009"
TEMPLATES = {"called": "T_CALLED"}
Adapter = AliyunAdapter | TencentAdapter | WeChatAdapter


def message(
    address: str = PHONE, kind: str = "called", key: str = "jinzhai:2026-11-23/A004:called"
) -> Message:
    return Message(
        key, kind, "zh", "sms", address, "请到3号窗口", {"hall": "金寨", "number": "A004", "window": "3"}
    )


def make(kind: str, url: str, clock: FakeClock, secret: str = "") -> Adapter:
    if kind == "aliyun":
        return AliyunAdapter(
            AliyunSms(url, gw.ALIYUN_AK, "", "金寨政务", TEMPLATES), clock, secret or gw.ALIYUN_SECRET
        )
    if kind == "tencent":
        cfg = TencentSms(url, gw.TENCENT_ID, "", "ap-guangzhou", "1400000001", "金寨政务", TEMPLATES)
        return TencentAdapter(cfg, clock, secret or gw.TENCENT_KEY)
    wx = WeChat(url.rstrip("/"), url + "connect/oauth2/authorize", gw.WECHAT_APPID, "", TEMPLATES, "")
    return WeChatAdapter(wx, clock, secret or gw.WECHAT_SECRET)


def wechat(url: str, clock: FakeClock) -> WeChatAdapter:
    adapter = make("wechat", url, clock)
    assert isinstance(adapter, WeChatAdapter)
    return adapter


def send(adapter: Adapter, m: Message, timeout_s: float = 5.0) -> Delivery:
    async def go() -> Delivery:
        async with httpx.AsyncClient() as client:
            return await adapter.send(client, m, timeout_s)

    return asyncio.run(go())


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_9)


@pytest.fixture(params=["aliyun", "tencent", "wechat"])
def gateway(request: pytest.FixtureRequest, clock: FakeClock) -> Iterator[tuple[str, Any]]:
    with fake_gateway(request.param, clock.now) as g:
        yield request.param, g


def to(kind: str) -> str:
    return OPENID if kind == "wechat" else PHONE


def test_an_accepted_message_is_sent_once(gateway: tuple[str, Any], clock: FakeClock) -> None:
    kind, g = gateway
    d = send(make(kind, g.url, clock), message(to(kind)))
    assert (d.verdict, d.provider_id != "") == ("sent", True)
    assert g.numbers() == [to(kind)]
    assert [m["template"] for m in g.accepted] == ["T_CALLED"]
    assert g.bad_signatures == []


def test_a_kind_without_a_template_is_refused_before_any_request(
    gateway: tuple[str, Any], clock: FakeClock
) -> None:
    kind, g = gateway
    d = send(make(kind, g.url, clock), message(to(kind), kind="owed"))
    assert (d.verdict, d.code) == ("refused", "no_template")
    assert "owed" in d.detail
    assert g.requests == 0


#: What each gateway's own refusal of one number is called: a dead letter, the others go on.
REFUSED = {
    "aliyun": "isv.MOBILE_NUMBER_ILLEGAL",
    "tencent": "InvalidParameterValue.IncorrectPhoneNumber",
    "wechat": "43004",
}


def test_a_refused_number_is_refused_for_good(gateway: tuple[str, Any], clock: FakeClock) -> None:
    kind, g = gateway
    g.refuse = {to(kind)}
    d = send(make(kind, g.url, clock), message(to(kind)))
    assert (d.verdict, d.code) == ("refused", REFUSED[kind])
    assert g.numbers() == []


#: The account's flow control, and the gateway down: nothing was sent, the row waits.
THROTTLED = {"aliyun": "Throttling.User", "tencent": "RequestLimitExceeded", "wechat": "45009"}


@pytest.mark.parametrize("mode", ["throttle", "down"])
def test_throttling_and_outages_are_retried(gateway: tuple[str, Any], clock: FakeClock, mode: str) -> None:
    kind, g = gateway
    adapter = make(kind, g.url, clock)
    if kind == "wechat":
        assert send(adapter, message(OPENID, key="k:first")).verdict == "sent"  # the token is cached
    g.mode = mode
    d = send(adapter, message(to(kind)))
    assert d.verdict == "retry", d
    assert not d.account  # the gateway's state, not the hall's credentials: the secrets are not read again
    if mode == "throttle":
        assert d.code == THROTTLED[kind]
    elif kind != "wechat":
        assert d.code == "HTTP 503"
    g.mode = "ok"
    assert send(adapter, message(to(kind))).verdict == "sent"  # the same message goes once it is back


def test_a_wrong_secret_waits_with_every_other_message(gateway: tuple[str, Any], clock: FakeClock) -> None:
    # The hall's own credentials (or clock) are refused: not this message's fault, every message would be
    # refused alike. The rows wait (retried with backoff, the code on the dashboard) instead of all becoming
    # dead letters; once the secret is fixed they go.
    kind, g = gateway
    d = send(make(kind, g.url, clock, secret="not-the-secret"), message(to(kind)))
    assert d.verdict == "retry", d
    assert (
        d.code
        == {
            "aliyun": "SignatureDoesNotMatch",
            "tencent": "AuthFailure.SignatureFailure",
            "wechat": "token 40125",
        }[kind]
    )
    assert d.account  # the sender reads the secret files again before the next try
    assert "not-the-secret" not in d.detail
    assert g.numbers() == []
    assert send(make(kind, g.url, clock), message(to(kind))).verdict == "sent"


def test_a_clock_minutes_off_is_retried_not_dead(clock: FakeClock) -> None:
    # A signature dated outside the gateway's window: the hall's clock, not the message.
    with fake_gateway("tencent", lambda: MONDAY_9) as g:
        clock.advance(600)
        d = send(make("tencent", g.url, clock), message())
        assert (d.verdict, d.code) == ("retry", "AuthFailure.SignatureFailure")
        assert g.bad_signatures == ["X-TC-Timestamp out of the 5-minute window"]


def test_an_error_page_of_a_proxy_in_front_is_retried(gateway: tuple[str, Any], clock: FakeClock) -> None:
    kind, g = gateway
    adapter = make(kind, g.url, clock)
    if kind == "wechat":
        assert send(adapter, message(OPENID, key="k:first")).verdict == "sent"
    g.mode = "page"
    d = send(adapter, message(to(kind)))
    if kind == "wechat":
        # WeChat's answer to the send itself is not JSON: it may have been delivered, but the message's
        # client_msg_id makes a resend safe (the sender resends a WeChat notice in doubt).
        assert (d.verdict, d.code) == ("doubt", "not_json")
        assert adapter.idempotent
    else:
        assert (d.verdict, d.code) == ("retry", "HTTP 502")
    assert g.numbers() == ([OPENID] if kind == "wechat" else [])


def test_an_sms_gateway_answering_200_with_a_page_is_retried(clock: FakeClock) -> None:
    # A captive portal or a misrouted endpoint answers 200 with HTML: no code the adapter knows, so the
    # message was not taken and may go later.
    for kind in ("aliyun", "tencent"):
        with fake_gateway(kind, clock.now) as g:
            g.mode, g.page_status = "page", 200
            d = send(make(kind, g.url, clock), message())
            assert d.verdict == "retry", (kind, d)
            assert d.code == "HTTP 200"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.mark.parametrize("kind", ["aliyun", "tencent", "wechat"])
def test_an_unreachable_gateway_is_retried(kind: str, clock: FakeClock) -> None:
    # Nothing listens there: the request never left, so even an SMS is safe to send again.
    d = send(make(kind, f"http://127.0.0.1:{free_port()}/", clock), message(to(kind)))
    assert (d.verdict, d.code) == ("retry", "unreachable")


@pytest.mark.parametrize("kind", ["aliyun", "tencent", "wechat"])
def test_no_answer_after_the_request_left_is_in_doubt(kind: str, clock: FakeClock) -> None:
    with fake_gateway(kind, clock.now) as g:
        adapter = make(kind, g.url, clock)
        if kind == "wechat":
            assert send(adapter, message(OPENID, key="k:first")).verdict == "sent"
        g.mode, g.hang_s = "hang", 2.0
        d = send(adapter, message(to(kind)), timeout_s=0.3)
        assert (d.verdict, d.code) == ("doubt", "no_answer")
        assert to(kind) in g.numbers()  # the gateway did take it: why an SMS in doubt is never resent
        assert adapter.idempotent is (kind == "wechat")


def test_wechat_caches_its_token_and_fetches_a_fresh_one_when_called_stale(clock: FakeClock) -> None:
    with fake_gateway("wechat", clock.now) as g:
        adapter = wechat(g.url, clock)
        for n in range(3):
            assert send(adapter, message(OPENID, key=f"k:{n}")).verdict == "sent"
        assert (g.token_fetches, adapter.token_fetches) == (1, 1)
        g.expire_tokens()
        assert send(adapter, message(OPENID, key="k:3")).verdict == "sent"
        assert g.token_fetches == 2
        clock.advance(7200 - 300)  # five minutes before the token runs out: fetched again before use
        assert send(adapter, message(OPENID, key="k:4")).verdict == "sent"
        assert g.token_fetches == 3
        assert g.repeats == []


def test_wechat_oauth_code_is_refused_once_used(clock: FakeClock) -> None:
    with fake_gateway("wechat", clock.now) as g:
        adapter = wechat(g.url, clock)
        g.codes["c0de"] = OPENID

        async def openid(code: str) -> str:
            async with httpx.AsyncClient() as client:
                return await adapter.openid(client, code, 5.0)

        assert asyncio.run(openid("c0de")) == OPENID
        with pytest.raises(Exception, match="40029") as err:
            asyncio.run(openid("c0de"))
        assert gw.WECHAT_SECRET not in str(err.value)


def test_a_secret_file_is_refused_when_others_can_read_it_or_it_is_empty(tmp_path: pathlib.Path) -> None:
    path = tmp_path / "sms.secret"
    path.write_text(" s3cret \n", encoding="utf-8")
    path.chmod(0o600)
    assert read_secret(str(path)) == "s3cret"
    path.chmod(0o640)
    with pytest.raises(ValueError, match="chmod 600"):
        read_secret(str(path))
    path.write_text("\n", encoding="utf-8")
    path.chmod(0o600)
    with pytest.raises(ValueError, match="is empty"):
        read_secret(str(path))


def test_request_lines_are_logged_without_their_query() -> None:
    # httpx logs "HTTP Request: POST <url>"; Aliyun's number and WeChat's token ride in the query.
    url = httpx.URL(f"https://sms.example.invalid/?PhoneNumbers={PHONE}&access_token=tok")
    record = logging.LogRecord(
        "httpx", logging.INFO, __file__, 1, 'HTTP Request: %s %s "%s"', ("POST", url, "200"), None
    )
    assert NoQueryInLogs().filter(record)
    text = record.getMessage()
    assert PHONE not in text
    assert "tok" not in text
    assert "https://sms.example.invalid/" in text
