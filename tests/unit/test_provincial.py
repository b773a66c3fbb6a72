"""The provincial 好差评 adapter's pure parts: the HQ1-HMAC-SHA256 signature against the vectors documented in
docs/integrations.md (computed independently with `openssl dgst -sha256 -hmac`), the verifier's refusals
(window, replay, tampering), the data items and the province's field names, and the config checks."""

from __future__ import annotations

import dataclasses
import datetime as dt
import pathlib
import random
import re

import pytest

from hallcore.config import Upload
from hallcore.configwalk import ConfigError
from hallcore.provincial import (
    CHANNELS,
    ITEMS,
    HmacSigner,
    RatingFacts,
    body_digest,
    canonical_string,
    followup_item,
    hmac_signature,
    platform_body,
    rating_item,
    verify,
)
from hallfiles.config import read_config
from hallserver.backoff import backoff_s
from hallserver.upload import classify, make_signer

ROOT = pathlib.Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "integrations.md"
SECRET = b"hq-test-secret"
T0 = dt.datetime(2026, 11, 23, 7, 30, tzinfo=dt.UTC)  # 1795419000

#: (body, nonce, digest, signature) — the table in docs/integrations.md.
VECTORS = [
    (
        '{"evaluateId":"jinzhai:2026-11-23/A001","evaluateLevel":5}',
        "0123456789abcdef0123456789abcdef",
        "e44252dc6df0dac7e8ec04875593f7648b3832f10d69ad7b3c79dfefe6ce541c",
        "hAw9RVLg9ItHUaaJSeUegRVqo5g0fBJdK9vkfZxEuCI=",
    ),
    (
        '{"evaluateId":"jinzhai:C-2026-11-23/A002:close1","taskName":"户口迁入","evaluateLevel":1}',
        "fedcba9876543210fedcba9876543210",
        "cbcd93e9adb64d9b873ae9e16c62916b8cba132cb0d14f1a950472fdcfaf160b",
        "7/ckNcpWoHlXWSdMvX2UrEjnmAm0binvxFKCiRX4/vg=",
    ),
]


@pytest.mark.parametrize(("body", "nonce", "digest", "signature"), VECTORS)
def test_documented_vectors(body: str, nonce: str, digest: str, signature: str) -> None:
    raw = body.encode()
    assert body_digest(raw) == digest
    canon = canonical_string("post", "/hcp/evaluate", "hq-test-app", "1795419000", nonce, raw)
    assert canon.split("\n") == [
        "HQ1-HMAC-SHA256",
        "POST",
        "/hcp/evaluate",
        "hq-test-app",
        "1795419000",
        nonce,
        digest,
    ]
    assert hmac_signature(SECRET, canon) == signature
    headers = HmacSigner("hq-test-app", SECRET).headers("POST", "/hcp/evaluate", raw, T0, nonce)
    assert headers["X-HQ-Signature"] == signature
    assert headers["X-HQ-Timestamp"] == "1795419000"
    # The same figures are in the documentation a province reads.
    text = DOC.read_text(encoding="utf-8")
    for value in (body, nonce, digest, signature):
        assert value in text


def _signed(
    body: bytes, nonce: str = "0123456789abcdef0123456789abcdef", at: dt.datetime = T0
) -> dict[str, str]:
    return HmacSigner("hq-test-app", SECRET).headers("POST", "/hcp/evaluate", body, at, nonce)


def _verify(headers: dict[str, str], body: bytes, now: dt.datetime, seen: dict[str, float]) -> str:
    def secret_of(key: str) -> bytes | None:
        return SECRET if key == "hq-test-app" else None

    return verify(headers, "POST", "/hcp/evaluate", body, secret_of, now, seen)


def test_verifier_refuses_replay_tampering_and_stale_requests() -> None:
    body = VECTORS[0][0].encode()
    seen: dict[str, float] = {}
    h = _signed(body)
    assert _verify(h, body, T0 + dt.timedelta(seconds=10), seen) == ""
    assert _verify(h, body, T0 + dt.timedelta(seconds=20), seen) == "nonce replayed"
    fresh = "00000000000000000000000000000001"
    assert _verify(_signed(body, fresh), body.replace(b"5", b"1"), T0, seen) == "bad signature"
    assert _verify(_signed(body, fresh), body, T0 + dt.timedelta(seconds=301), seen) == (
        "timestamp outside the window"
    )
    assert _verify({**_signed(body, fresh), "X-HQ-AppKey": "other"}, body, T0, seen).startswith(
        "unknown appKey"
    )
    assert _verify({}, body, T0, seen) == "missing signature headers"
    assert _verify(_signed(body, "not-hex"), body, T0, seen) == "bad nonce"
    # Once outside the window, an old nonce is forgotten (the timestamp check refuses its replay anyway).
    later = T0 + dt.timedelta(seconds=400)
    assert _verify(_signed(body, fresh, later), body, later, seen) == ""
    assert "0123456789abcdef0123456789abcdef" not in seen


RATING = {
    "ticket": "2026-11-23/A002",
    "score": 1,
    "matter": "HJ01",
    "window": 3,
    "staff": "c3",
    "at": "2026-11-23T09:40:00+08:00",
    "issued_at": "2026-11-23T09:00:00+08:00",
    "serving_at": "2026-11-23T09:20:00+08:00",
    "finished_at": "2026-11-23T09:35:00+08:00",
    "source": "phone",
}
FACTS = RatingFacts(matter_name="户口迁入", department="公安", rater_name="张*")


def test_rating_and_followup_items() -> None:
    item = rating_item("jinzhai", RATING, FACTS)
    assert set(item) <= set(ITEMS)
    assert item["idempotency_key"] == "jinzhai:2026-11-23/A002"
    assert item["channel"] == CHANNELS["phone"] == "扫码"
    assert item["level_name"] == "非常不满意"
    assert (item["clerk"], item["department"], item["rater_name"]) == ("c3", "公安", "张*")
    steps = [
        ("callback", "电话回访，群众反映等候太久", "m1", "2026-11-24T10:00:00+08:00"),
        ("resolve", "增开窗口 5", "m1", "2026-11-25T10:00:00+08:00"),
        ("close", "群众表示满意", "m1", "2026-11-26T10:00:00+08:00"),
    ]
    case = {
        "id": "C-2026-11-23/A002",
        "opened_at": RATING["at"],
        "closed_at": steps[-1][3],
        "steps": steps,
    }
    f = followup_item("jinzhai", RATING, FACTS, case, 1)
    assert set(f) <= set(ITEMS)
    assert f["idempotency_key"] == "jinzhai:C-2026-11-23/A002:close1"
    assert f["kind"] == "followup"
    assert (f["callback_at"], f["rectification"], f["rater_view"]) == (
        steps[0][3],
        "增开窗口 5",
        "群众表示满意",
    )
    # The province's names: only what is mapped goes, and the key always rides along.
    body = platform_body(f, {"evaluateLevel": "score", "rectification": "rectification"})
    assert body == {"evaluateLevel": 1, "rectification": "增开窗口 5", "idempotencyKey": f["idempotency_key"]}
    assert platform_body(item, {}) == item


def test_retry_verdicts_and_backoff() -> None:
    assert [classify(s) for s in (200, 204, 408, 429, 500, 503, 302, 400, 401, 403, 404, 409, 422)] == [
        "sent",
        "sent",
        "transient",
        "transient",
        "transient",
        "transient",
        "transient",
        "dead",
        "dead",
        "dead",
        "dead",
        "dead",
        "dead",
    ]
    rng = random.Random(7)
    waits = [backoff_s(n, 2.0, 60.0, rng) for n in range(1, 9)]
    bases = [2, 4, 8, 16, 32, 60, 60, 60]
    for wait, base in zip(waits, bases, strict=True):
        assert base / 2 <= wait <= base  # equal jitter: the upper half of the doubled wait, capped
    assert len({round(w, 6) for w in waits[5:]}) == 3  # jitter: capped waits still differ


def test_example_configs_map_only_known_items() -> None:
    for name in ("county.toml", "provincial.toml"):
        cfg = read_config(ROOT / "config" / name)
        assert cfg.upload.field_map
        assert set(cfg.upload.field_map.values()) <= set(ITEMS)
        assert cfg.upload.signer == "hq1-hmac-sha256"


def _with_upload(tmp_path: pathlib.Path, **upload: object) -> pathlib.Path:
    text = (ROOT / "config" / "county.toml").read_text(encoding="utf-8")
    base = dataclasses.asdict(Upload())
    base.update(upload)
    lines = ["[upload]"] + [f"{k} = {v!r}".replace("'", '"') for k, v in base.items() if k != "field_map"]
    lines.append("[upload.field_map]")
    lines += [f'{k} = "{v}"' for k, v in dict(upload.get("field_map", {})).items()]  # type: ignore[call-overload]
    text = re.sub(r"\[upload\].*?(?=\n\[server\])", "\n".join(lines) + "\n", text, flags=re.S)
    path = tmp_path / "hall.toml"
    path.write_text(text.replace("True", "true").replace("False", "false"), encoding="utf-8")
    return path


def test_config_refuses_unknown_items_and_an_unsigned_enabled_upload(tmp_path: pathlib.Path) -> None:
    path = _with_upload(
        tmp_path, enabled=True, endpoint="https://p.example/hcp", field_map={"evaluateLevel": "scroe"}
    )
    with pytest.raises(ConfigError) as err:
        read_config(path)
    text = str(err.value)
    for part in ("upload.field_map.evaluateLevel", "scroe", "upload.app_key", "upload.secret_file"):
        assert part in text
    path = _with_upload(tmp_path, signer="md5")
    with pytest.raises(ConfigError, match=r"upload\.signer"):
        read_config(path)
    path = _with_upload(tmp_path, enabled=True, endpoint="https://p.example/hcp", signer="none")
    assert read_config(path).upload.signer == "none"


def test_the_secret_file_must_be_private(tmp_path: pathlib.Path) -> None:
    secret = tmp_path / "hcp.secret"
    secret.write_bytes(SECRET + b"\n")
    secret.chmod(0o644)
    cfg = Upload(
        enabled=True, endpoint="https://p.example/hcp", app_key="hq-test-app", secret_file=str(secret)
    )
    with pytest.raises(ValueError, match="chmod 600"):
        make_signer(cfg)
    secret.chmod(0o600)
    signer = make_signer(cfg)
    assert isinstance(signer, HmacSigner)
    assert signer.secret == SECRET  # the trailing newline is not part of it
    empty = tmp_path / "empty.secret"
    empty.write_bytes(b"\n")
    empty.chmod(0o600)
    with pytest.raises(ValueError, match="empty"):
        make_signer(dataclasses.replace(cfg, secret_file=str(empty)))


def test_the_documented_configuration_is_a_valid_hall_config(tmp_path: pathlib.Path) -> None:
    """The [upload] example of docs/integrations.md, put in the county hall's config, reads as documented."""
    doc = DOC.read_text(encoding="utf-8")
    block = re.search(r"## Configuration\n\n```toml\n(.*?)```", doc, flags=re.S)
    assert block is not None
    text = (ROOT / "config" / "county.toml").read_text(encoding="utf-8")
    text = re.sub(r"\[upload\].*?(?=\n\[server\])", block.group(1), text, flags=re.S)
    path = tmp_path / "hall.toml"
    path.write_text(text, encoding="utf-8")
    up = read_config(path).upload
    assert (up.enabled, up.signer, up.retry_first_s, up.timeout_s) == (True, "hq1-hmac-sha256", 2.0, 10.0)
    assert up.field_map == {
        "evaluateId": "idempotency_key",
        "evaluateLevel": "score",
        "taskCode": "matter_code",
    }
