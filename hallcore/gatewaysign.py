"""Request signatures of the SMS gateways (pure: the adapters in hallserver/notify_adapters.py send).

- Aliyun ACS3-HMAC-SHA256 (the V3 signature the dysmsapi SDK signs with): a canonical request of method,
  path, sorted percent-encoded query, the signed headers (lower-case, sorted) and the body's SHA-256;
  hex HMAC-SHA256 over "ACS3-HMAC-SHA256\\n" + its hex SHA-256.
- Tencent Cloud TC3-HMAC-SHA256: a canonical request over content-type and host and the body's SHA-256;
  the key derived from "TC3" + secret, the UTC date, the service and "tc3_request".

tests/server/test_notify_gateways.py checks both against the vendors' own SDK code.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac

ACS3 = "ACS3-HMAC-SHA256"
TC3 = "TC3-HMAC-SHA256"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


#: RFC 3986 unreserved characters: never percent-encoded.
_UNRESERVED = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.~")


def percent_encode(text: str) -> str:
    """RFC 3986 encoding of a query value (as the SDK's `quote(v, safe='~')`): UTF-8, upper-case hex."""
    return "".join(chr(b) if b in _UNRESERVED else f"%{b:02X}" for b in text.encode())


def acs3_canonical_query(query: dict[str, str]) -> str:
    return "&".join(f"{k}={percent_encode(query[k])}" for k in sorted(query))


def acs3_authorization(
    method: str, path: str, query: dict[str, str], headers: dict[str, str], access_key_id: str, secret: str
) -> str:
    """The Authorization header over `headers` (all of them are signed; `x-acs-content-sha256` among them)."""
    low = {k.lower(): v.strip() for k, v in headers.items()}
    names = sorted(low)
    canonical_headers = "".join(f"{k}:{low[k]}\n" for k in names)
    signed = ";".join(names)
    canonical = "\n".join(
        (
            method,
            path or "/",
            acs3_canonical_query(query),
            canonical_headers,
            signed,
            low["x-acs-content-sha256"],
        )
    )
    to_sign = f"{ACS3}\n{sha256_hex(canonical.encode())}"
    signature = hmac.new(secret.encode(), to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{ACS3} Credential={access_key_id},SignedHeaders={signed},Signature={signature}"


def tc3_authorization(
    secret_id: str, secret_key: str, service: str, host: str, content_type: str, body: bytes, timestamp: int
) -> str:
    """The Authorization header of a TC3-signed POST to "/" (the JSON style every Tencent Cloud API takes)."""
    date = dt.datetime.fromtimestamp(timestamp, dt.UTC).strftime("%Y-%m-%d")
    canonical = "\n".join(
        (
            "POST",
            "/",
            "",
            f"content-type:{content_type}\nhost:{host}\n",
            "content-type;host",
            sha256_hex(body),
        )
    )
    scope = f"{date}/{service}/tc3_request"
    to_sign = f"{TC3}\n{timestamp}\n{scope}\n{sha256_hex(canonical.encode())}"

    def mac(key: bytes, msg: str) -> bytes:
        return hmac.new(key, msg.encode(), hashlib.sha256).digest()

    key = mac(mac(mac(f"TC3{secret_key}".encode(), date), service), "tc3_request")
    signature = hmac.new(key, to_sign.encode(), hashlib.sha256).hexdigest()
    return f"{TC3} Credential={secret_id}/{scope}, SignedHeaders=content-type;host, Signature={signature}"
