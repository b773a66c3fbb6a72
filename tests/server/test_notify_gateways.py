"""The notice adapters against fake gateways that verify signatures as the vendors' SDKs make them
(tests/fakes/smsgateways.py): delivered once per rule through restarts, a refused number alone, throttling
and outages retried, a timeout never resent by SMS (at most once), WeChat's token cached and refreshed, its
OAuth opt-in bound to the phone page's own ticket, and the dashboard's figures."""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
import pathlib
import sqlite3
import urllib.parse
from collections.abc import Callable
from typing import Any

import pytest

from hallcore.clock import FakeClock
from hallcore.config import HallConfig
from hallcore.confignotify import AliyunSms, NoticeRules, Notify, TencentSms, WeChat
from tests.fakes.live_server import MONDAY_9, wait_for
from tests.fakes.smsgateways import (
    ALIYUN_AK,
    ALIYUN_SECRET,
    TENCENT_ID,
    TENCENT_KEY,
    WECHAT_APPID,
    WECHAT_SECRET,
    fake_gateway,
)
from tests.server.conftest import Running, start_server
from tests.server.web_helpers import http_login

PHONE = "13812345678"
OTHER = "13900001111"
TEMPLATES = {"ahead": "T_AHEAD", "called": "T_CALLED"}


def secret(tmp_path: pathlib.Path, name: str, value: str) -> str:
    path = tmp_path / f"{name}.secret"
    path.write_text(value + "\n", encoding="utf-8")
    path.chmod(0o600)
    return str(path)


def gateway_notify(kind: str, url: str, tmp_path: pathlib.Path, **kw: Any) -> Notify:
    base: dict[str, Any] = {
        "enabled": True,
        "batch_s": 0.05,
        "retry_first_s": 0.1,
        "retry_max_s": 1,
        "timeout_s": 2.0,
        "rules": NoticeRules(ahead=2, within_min=0),
    }
    if kind == "aliyun":
        base["sms"] = "aliyun"
        base["aliyun"] = AliyunSms(
            url, ALIYUN_AK, secret(tmp_path, "ali", ALIYUN_SECRET), "金寨政务", TEMPLATES
        )
    elif kind == "tencent":
        base["sms"] = "tencent"
        key = secret(tmp_path, "tc", TENCENT_KEY)
        base["tencent"] = TencentSms(
            url, TENCENT_ID, key, "ap-guangzhou", "1400000001", "金寨政务", TEMPLATES
        )
    else:
        base["wechat_enabled"] = True
        base["wechat"] = WeChat(
            url.rstrip("/"),
            url + "connect/oauth2/authorize",
            WECHAT_APPID,
            secret(tmp_path, "wx", WECHAT_SECRET),
            TEMPLATES,
            "http://hall.invalid",
        )
    return Notify(**{**base, **kw})


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock(MONDAY_9)


@pytest.fixture
def logged(caplog: pytest.LogCaptureFixture) -> Callable[[], str]:
    """What was logged from DEBUG up (httpx's request lines included), as one text to search for leaks."""
    caplog.set_level(logging.DEBUG)
    return lambda: "\n".join(r.getMessage() for r in caplog.records)


def states(r: Running) -> dict[str, str]:
    found = r.rows(
        "SELECT key, CASE WHEN sent_at IS NOT NULL THEN 'sent' WHEN dead_at IS NOT NULL THEN 'dead'"
        " WHEN discarded_at IS NOT NULL THEN 'discarded' ELSE 'pending' END"
        " FROM outbox WHERE kind = 'notice'",
    )
    return {str(k).rsplit("/", 1)[1]: str(s) for k, s in found}


def opt_in(r: Running, headers: dict[str, str], ticket: str, phone: str = PHONE) -> None:
    resp = r.http.post(
        f"/api/tickets/{ticket}/notify", json={"phone": phone, "consent": True}, headers=headers
    )
    assert resp.status_code == 200, resp.text


def dashboard_notices(r: Running) -> dict[str, Any]:
    web = http_login(r.url)
    try:
        found: dict[str, Any] = web.get("/web/api/dashboard").json()["notices"]
    finally:
        web.close()
    return found


def serve(r: Running, counter: Any) -> None:
    for action in ("call-next", "start", "finish"):
        assert r.act(counter, action).status_code == 200


# ---- the fakes are faithful: the vendors' own SDKs pass them ----------------------------------------------


def test_the_vendor_sdks_pass_the_fake_gateways() -> None:
    from alibabacloud_dysmsapi20170525 import models as ali_models
    from alibabacloud_dysmsapi20170525.client import Client as AliClient
    from alibabacloud_tea_openapi import models as open_models
    from tencentcloud.common import credential
    from tencentcloud.common.profile.client_profile import ClientProfile
    from tencentcloud.common.profile.http_profile import HttpProfile
    from tencentcloud.sms.v20210111 import models as tc_models
    from tencentcloud.sms.v20210111 import sms_client

    with fake_gateway("aliyun") as g:
        cfg = open_models.Config(
            access_key_id=ALIYUN_AK, access_key_secret=ALIYUN_SECRET, endpoint=g.host, protocol="http"
        )
        req = ali_models.SendSmsRequest(
            phone_numbers=PHONE,
            sign_name="金寨政务",
            template_code="T_CALLED",
            template_param='{"window":"3"}',
        )
        assert AliClient(cfg).send_sms(req).body.code == "OK"
        bad = open_models.Config(
            access_key_id=ALIYUN_AK, access_key_secret="wrong", endpoint=g.host, protocol="http"
        )
        with pytest.raises(Exception, match="SignatureDoesNotMatch"):
            AliClient(bad).send_sms(req)
        assert g.numbers() == [PHONE]
        assert g.bad_signatures == ["SignatureDoesNotMatch"]
    with fake_gateway("tencent") as g:
        profile = ClientProfile(httpProfile=HttpProfile(endpoint=g.host, protocol="http"))
        client = sms_client.SmsClient(credential.Credential(TENCENT_ID, TENCENT_KEY), "ap-guangzhou", profile)
        treq = tc_models.SendSmsRequest()
        treq.PhoneNumberSet, treq.SmsSdkAppId, treq.SignName = [f"+86{PHONE}"], "1400000001", "金寨政务"
        treq.TemplateId, treq.TemplateParamSet = "T_CALLED", ["3"]
        assert client.SendSms(treq).SendStatusSet[0].Code == "Ok"
        wrong = sms_client.SmsClient(credential.Credential(TENCENT_ID, "wrong"), "ap-guangzhou", profile)
        with pytest.raises(Exception, match="SignatureFailure"):
            wrong.SendSms(treq)
        assert g.numbers() == [PHONE]


# ---- through the outbox ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["aliyun", "tencent"])
def test_sms_rules_fire_once_through_a_restart(
    kind: str,
    tmp_path: pathlib.Path,
    county: HallConfig,
    seeded_db: pathlib.Path,
    clock: FakeClock,
    logged: Callable[[], str],
) -> None:
    with fake_gateway(kind, clock.now) as g:
        cfg = dataclasses.replace(county, notify=gateway_notify(kind, g.url, tmp_path))
        with start_server(tmp_path, cfg, seeded_db, clock=clock) as (_st, hall):
            desk = hall.station("desk")
            counter = hall.station("counter", window=1)
            ids = [hall.issue(desk).json()["ticket"]["id"] for _ in range(4)]
            opt_in(hall, desk.headers, ids[3])
            assert hall.act(counter, "open").status_code == 200
            serve(hall, counter)  # two ahead: "ahead"
            wait_for(lambda: states(hall) == {"A004:ahead": "sent"}, what="the ahead notice delivered")
            db = hall.db
        # Restarted: the rules see the same ticket again and fire nothing twice.
        with start_server(tmp_path, cfg, seeded_db, clock=clock, db=db) as (_st, hall):
            serve(hall, counter)
            serve(hall, counter)
            assert hall.act(counter, "call-next").status_code == 200
            wait_for(
                lambda: states(hall) == {"A004:ahead": "sent", "A004:called": "sent"}, what="called delivered"
            )
            dash = dashboard_notices(hall)
            assert (dash["sent"], dash["failed"], dash["cost_fen"]) == (2, 0, 10)
            results = hall.rows("SELECT adapter, ok, provider_id != '', cost_fen FROM notice_results")
            assert results == [(kind, 1, 1, 5), (kind, 1, 1, 5)]
    assert g.bad_signatures == []
    assert g.numbers() == [PHONE, PHONE]
    log_text = logged()
    assert "HTTP Request: POST" in log_text  # httpx's lines are there, without the query
    for secret_value in (PHONE, ALIYUN_SECRET, TENCENT_KEY):
        assert secret_value not in log_text
    assert [m["template"] for m in g.accepted] == ["T_AHEAD", "T_CALLED"]
    called = g.accepted[1]
    assert called["out_id"] == f"{cfg.hall.id}:{ids[3]}:called"
    assert "1" in (called["params"].values() if isinstance(called["params"], dict) else called["params"])


def test_a_refused_number_does_not_block_others_and_outages_are_retried(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path, clock: FakeClock
) -> None:
    with fake_gateway("aliyun", clock.now) as g:
        g.refuse = {PHONE}
        g.mode = "throttle"
        cfg = dataclasses.replace(county, notify=gateway_notify("aliyun", g.url, tmp_path))
        with start_server(tmp_path, cfg, seeded_db, clock=clock) as (_st, hall):
            desk = hall.station("desk")
            ids = [hall.issue(desk).json()["ticket"]["id"] for _ in range(3)]
            opt_in(hall, desk.headers, ids[1], PHONE)  # one ahead: due at once
            opt_in(hall, desk.headers, ids[2], OTHER)  # two ahead: due at once
            wait_for(lambda: g.requests >= 3, what="retries while the gateway throttles")
            assert states(hall) == {"A002:ahead": "pending", "A003:ahead": "pending"}
            assert "Throttling.User" in hall.rows("SELECT last_error FROM outbox WHERE kind = 'notice'")[0][0]
            g.mode = "down"
            n = g.requests
            wait_for(lambda: g.requests > n, what="retries while the gateway is down")
            g.mode = "ok"
            wait_for(
                lambda: states(hall) == {"A002:ahead": "dead", "A003:ahead": "sent"},
                what="the refused number set aside, the other delivered",
            )
            error = hall.rows("SELECT last_error FROM outbox WHERE key LIKE '%A002:ahead'")[0][0]
            assert error.startswith("isv.MOBILE_NUMBER_ILLEGAL")
            dash = dashboard_notices(hall)
            assert (dash["sent"], dash["failed"]) == (1, 1)
    assert g.numbers() == [OTHER]


def test_an_sms_timeout_is_in_doubt_and_never_resent(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path, clock: FakeClock
) -> None:
    with fake_gateway("tencent", clock.now) as g:
        g.mode = "hang"
        g.hang_s = 4.0
        cfg = dataclasses.replace(county, notify=gateway_notify("tencent", g.url, tmp_path, timeout_s=1.0))
        with start_server(tmp_path, cfg, seeded_db, clock=clock) as (_st, hall):
            desk = hall.station("desk")
            ids = [hall.issue(desk).json()["ticket"]["id"] for _ in range(3)]
            opt_in(hall, desk.headers, ids[1])
            wait_for(lambda: states(hall) == {"A002:ahead": "dead"}, what="the timed-out SMS set aside")
            assert hall.rows("SELECT last_error FROM outbox WHERE kind = 'notice'")[0][0].startswith(
                "no_answer"
            )
            g.mode = "ok"
            opt_in(hall, desk.headers, ids[2], OTHER)  # a later notice still goes, the doubtful one does not
            wait_for(lambda: states(hall).get("A003:ahead") == "sent", what="the next notice delivered")
            assert states(hall)["A002:ahead"] == "dead"
        assert g.numbers() == [PHONE, OTHER]  # taken once (its answer lost), never again


def test_wechat_oauth_opt_in_token_cache_and_refresh(
    tmp_path: pathlib.Path,
    county: HallConfig,
    seeded_db: pathlib.Path,
    clock: FakeClock,
    logged: Callable[[], str],
) -> None:
    with fake_gateway("wechat", clock.now) as g:
        cfg = dataclasses.replace(county, notify=gateway_notify("wechat", g.url, tmp_path))
        with start_server(tmp_path, cfg, seeded_db, clock=clock) as (_st, hall):
            desk = hall.station("desk")
            counter = hall.station("counter", window=1)
            issued = [hall.issue(desk).json() for _ in range(3)]
            token = issued[2]["token"]
            # The phone page sends the citizen to WeChat's OAuth (snsapi_base) and back with a code.
            r = hall.http.get(f"/s/{token}/wechat", follow_redirects=False)
            assert r.status_code == 302
            to_wechat = urllib.parse.urlsplit(r.headers["location"])
            assert "scope=snsapi_base" in to_wechat.query
            r = httpx_get(f"{g.url}connect/oauth2/authorize?{to_wechat.query}")
            back = urllib.parse.urlsplit(r.headers["location"])
            assert back.path == f"/s/{token}/wechat/back"
            # A code sent back for another ticket's page does nothing (the state is the token's).
            other = issued[1]["token"]
            forged = hall.http.get(f"/s/{other}/wechat/back?{back.query}", follow_redirects=False)
            assert forged.status_code == 403
            r = hall.http.get(f"{back.path}?{back.query}", follow_redirects=False)
            assert r.status_code == 303, r.text
            # The same code again (a reload, a replay): WeChat refuses a used code, the page says try again.
            r = hall.http.get(f"{back.path}?{back.query}", follow_redirects=False)
            assert (r.status_code, r.json()["error"]) == (502, "wechat_failed")
            assert WECHAT_SECRET not in r.text
            sub = hall.http.get(f"/web/api/status/{token}/notify").json()["sub"]
            assert sub["channel"] == "wechat"
            assert sub["masked"].endswith("***")
            assert hall.act(counter, "open").status_code == 200
            assert hall.act(counter, "call-next").status_code == 200
            wait_for(lambda: states(hall) == {"A003:ahead": "sent"}, what="the WeChat notice delivered")
            g.expire_tokens()  # WeChat calls the cached token stale: fetched again, message sent once
            assert hall.act(counter, "start").status_code == 200
            assert hall.act(counter, "finish").status_code == 200
            serve(hall, counter)
            assert hall.act(counter, "call-next").status_code == 200
            wait_for(lambda: states(hall).get("A003:called") == "sent", what="called after the token refresh")
    assert g.token_fetches == 2
    log_text = logged()
    assert "/cgi-bin/token" in log_text
    assert WECHAT_SECRET not in log_text
    assert g.next_openid not in log_text
    assert g.numbers() == [g.next_openid, g.next_openid]
    assert g.repeats == []


def httpx_get(url: str) -> Any:
    import httpx

    return httpx.get(url, follow_redirects=False, timeout=10)


def test_dashboard_day_figures_start_at_the_hall_midnight(clock: FakeClock) -> None:
    from hallserver.notify_send import figures_today

    conn = sqlite3.connect(":memory:")
    conn.executescript(
        "CREATE TABLE notice_results (ok INTEGER, at TEXT, cost_fen INTEGER);"
        "CREATE TABLE outbox (kind TEXT, dead_at TEXT, sent_at TEXT, discarded_at TEXT);"
    )
    start = dt.datetime(2026, 11, 23, tzinfo=dt.timezone(dt.timedelta(hours=8))).astimezone(dt.UTC)
    conn.executemany(
        "INSERT INTO notice_results VALUES (?, ?, ?)",
        [
            (1, (start - dt.timedelta(minutes=1)).isoformat(), 5),
            (1, start.isoformat(), 5),
            (0, start.isoformat(), 0),
        ],
    )
    assert figures_today(conn, start.isoformat()) == {"sent": 1, "failed": 0, "cost_fen": 5, "pending": 0}


def test_a_secret_others_can_read_is_refused_and_notices_wait(
    tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path, clock: FakeClock
) -> None:
    with fake_gateway("aliyun", clock.now) as g:
        notify = gateway_notify("aliyun", g.url, tmp_path)
        secret_file = pathlib.Path(notify.aliyun.secret_file)
        secret_file.chmod(0o644)
        cfg = dataclasses.replace(county, notify=notify)
        with start_server(tmp_path, cfg, seeded_db, clock=clock) as (_st, hall):
            desk = hall.station("desk")
            ids = [hall.issue(desk).json()["ticket"]["id"] for _ in range(2)]
            opt_in(hall, desk.headers, ids[1])
            notifier = hall.app.state.notifier
            wait_for(lambda: states(hall) == {"A002:ahead": "pending"}, what="the notice queued")
            wait_for(lambda: "chmod 600" in notifier.state.last_error, what="the refusal shown")
            assert notifier.state.failures >= 1
            assert ALIYUN_SECRET not in notifier.state.last_error
            assert states(hall) == {"A002:ahead": "pending"}  # waits, nothing lost
            assert "chmod 600" in dashboard_notices(hall)["last_error"]
            secret_file.chmod(0o600)
            wait_for(
                lambda: states(hall) == {"A002:ahead": "sent"}, timeout=30, what="sent once it is private"
            )
    assert g.numbers() == [PHONE]


@pytest.mark.parametrize("kind", ["aliyun", "tencent"])
def test_a_wrong_secret_waits_and_goes_once_the_file_is_corrected(
    kind: str, tmp_path: pathlib.Path, county: HallConfig, seeded_db: pathlib.Path, clock: FakeClock
) -> None:
    # The gateway refuses the hall's own signature: no notice is set aside for that (every one would be), they
    # wait with the code on the dashboard, and the corrected file is read at the next try (no reload).
    with fake_gateway(kind, clock.now) as g:
        notify = gateway_notify(kind, g.url, tmp_path)
        secret_file = pathlib.Path(
            notify.aliyun.secret_file if kind == "aliyun" else notify.tencent.secret_file
        )
        right = secret_file.read_text(encoding="utf-8")
        secret_file.write_text("typed-wrong\n", encoding="utf-8")
        cfg = dataclasses.replace(county, notify=notify)
        with start_server(tmp_path, cfg, seeded_db, clock=clock) as (_st, hall):
            desk = hall.station("desk")
            ids = [hall.issue(desk).json()["ticket"]["id"] for _ in range(2)]
            opt_in(hall, desk.headers, ids[1])
            code = "SignatureDoesNotMatch" if kind == "aliyun" else "AuthFailure.SignatureFailure"
            wait_for(lambda: len(g.bad_signatures) >= 2, what="tries with the wrong secret")
            assert states(hall) == {"A002:ahead": "pending"}
            assert dashboard_notices(hall)["last_error"].startswith(code)
            secret_file.write_text(right, encoding="utf-8")
            wait_for(
                lambda: states(hall) == {"A002:ahead": "sent"}, timeout=30, what="sent with the right secret"
            )
    assert g.numbers() == [PHONE]
    assert "typed-wrong" not in str(g.bad_signatures)
