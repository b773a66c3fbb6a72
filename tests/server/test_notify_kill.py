"""`kill -9` of the real server process while a notice is on the wire: the gateway took the message, the
server died before it stored the answer. An SMS gateway has no idempotency key, so the notice is never sent
again (at most once: the row is a dead letter "in doubt"); WeChat's client_msg_id makes the resend safe (the
gateway drops the repeat: delivered once)."""

from __future__ import annotations

import json
import pathlib
import shutil
import sqlite3

import pytest

from hallq.serverproc import server_command
from hallserver.store import migrate
from tests.fakes.live_server import COUNTY, kill9, server_process, wait_for
from tests.fakes.smsgateways import ALIYUN_AK, ALIYUN_SECRET, WECHAT_APPID, WECHAT_SECRET, fake_gateway

PHONE = "13812345678"
OPENID = "oFAKE_openid_0000000001"
KEY = "jinzhai:2026-11-23/A001:called"


def _config(tmp_path: pathlib.Path, kind: str, url: str) -> pathlib.Path:
    secret = tmp_path / "gateway.secret"
    secret.write_text(ALIYUN_SECRET if kind == "aliyun" else WECHAT_SECRET, encoding="utf-8")
    secret.chmod(0o600)
    section = f"""
[notify]
enabled = true
sms = "{"aliyun" if kind == "aliyun" else "log"}"
wechat_enabled = {"true" if kind == "wechat" else "false"}
batch_s = 0.1
retry_first_s = 0.2
retry_max_s = 2
quiet_start = "00:00"
quiet_end = "00:00"

[notify.aliyun]
endpoint = "{url}"
access_key_id = "{ALIYUN_AK}"
secret_file = "{secret}"
sign_name = "金寨政务"
templates = {{ called = "T_CALLED" }}

[notify.wechat]
api_base = "{url.rstrip("/")}"
app_id = "{WECHAT_APPID}"
secret_file = "{secret}"
public_url = "http://hall.invalid"
templates = {{ called = "T_CALLED" }}
"""
    path = tmp_path / "hall.toml"
    county = COUNTY.read_text(encoding="utf-8")
    head, rest = county.split("\n[notify]\n", 1)
    tail = rest[rest.index("\n[upload]\n") :]  # the example's own [notify] (log adapter) replaced
    path.write_text(head + tail + section, encoding="utf-8")
    return path


def _queue_notice(db: pathlib.Path, channel: str, address: str) -> None:
    """A subscription and its due "called" notice, as the rules' batch writes them."""
    migrate(db)
    conn = sqlite3.connect(str(db))
    try:
        with conn:
            conn.execute(
                "INSERT INTO notice_subs (ref, ref_kind, day, channel, address, masked, number_key, lang,"
                " via, consent_at) VALUES ('2026-11-23/A001', 'ticket', '2026-11-23', ?, ?, 'x', 'k', 'zh',"
                " 'desk', '2026-11-23T09:00:00+08:00')",
                (channel, address),
            )
            body = {
                "sub": 1,
                "ref": "2026-11-23/A001",
                "kind": "called",
                "channel": channel,
                "lang": "zh",
                "params": {"hall": "金寨", "number": "A001", "window": "3"},
                "text": "请A001号到3号窗口办理。",
                "not_before": "2026-11-23T09:00:00+08:00",
            }
            conn.execute(
                "INSERT INTO outbox (at, kind, key, body)"
                " VALUES ('2026-11-23T09:00:00+08:00', 'notice', ?, ?)",
                (KEY, json.dumps(body, ensure_ascii=False)),
            )
    finally:
        conn.close()


def _row(db: pathlib.Path) -> tuple[str | None, str | None, str | None, str]:
    conn = sqlite3.connect(str(db))
    try:
        sent, dead, claimed, error = conn.execute(
            "SELECT sent_at, dead_at, claimed_at, last_error FROM outbox WHERE key = ?", (KEY,)
        ).fetchone()
        return sent, dead, claimed, error
    finally:
        conn.close()


@pytest.mark.parametrize(
    ("kind", "channel", "address"), [("aliyun", "sms", PHONE), ("wechat", "wechat", OPENID)]
)
def test_kill9_mid_send_sends_no_duplicate(
    kind: str, channel: str, address: str, tmp_path: pathlib.Path, seeded_db: pathlib.Path
) -> None:
    db = tmp_path / "hall.db"
    shutil.copy(seeded_db, db)
    _queue_notice(db, channel, address)
    log = tmp_path / "server.log"
    with fake_gateway(kind) as g:
        g.hold = {address}
        cmd = server_command(_config(tmp_path, kind, g.url), db, "--tick-s", "3600")
        with server_process(cmd, log) as popen:
            assert g.held.wait(30), "the notice never reached the gateway"
            kill9(popen)
        g.release.set()
        sent, dead, claimed, _error = _row(db)
        assert (sent, dead) == (None, None)
        assert claimed is not None  # on the wire when the process died
        with server_process(cmd, log):
            wait_for(lambda: _row(db)[0] is not None or _row(db)[1] is not None, 30, "the row settled")
    sent, dead, claimed, error = _row(db)
    assert claimed is None
    assert g.bad_signatures == []
    if kind == "aliyun":
        assert dead is not None
        assert sent is None
        assert error.startswith("in_doubt")
        assert g.numbers() == [PHONE]  # taken once, not sent again
    else:
        assert sent is not None
        assert dead is None
        assert g.numbers() == [OPENID]  # delivered once …
        assert g.repeats == [KEY]  # … the resend dropped by its client_msg_id
    assert PHONE not in log.read_text(encoding="utf-8")
