"""The hall CA's fingerprint, the one thing a station pins and a manager compares (DESIGN.md §9).

The fingerprint is SHA-256 of the CA certificate's DER bytes, as `openssl x509 -fingerprint -sha256` prints
it (without the colons). Stations show its short form beside their enrollment code and the dashboard shows
the hall's own, so a station that reached an impostor is seen before it is approved.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re

_PEM = re.compile(r"-----BEGIN CERTIFICATE-----\s*(.+?)\s*-----END CERTIFICATE-----", re.DOTALL)


class FingerprintError(ValueError):
    """The text holds no readable PEM certificate."""


def first_certificate_der(pem: str) -> bytes:
    """The DER bytes of the first certificate in `pem`."""
    found = _PEM.search(pem)
    if found is None:
        raise FingerprintError("no PEM certificate (-----BEGIN CERTIFICATE-----) in the text")
    try:
        return base64.b64decode("".join(found.group(1).split()), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise FingerprintError(f"the PEM certificate is not valid base64: {exc}") from exc


def ca_fingerprint(pem: str) -> str:
    """SHA-256 of the first certificate in `pem`, 64 lowercase hex digits."""
    return hashlib.sha256(first_certificate_der(pem)).hexdigest()


def short_fingerprint(fingerprint: str) -> str:
    """What people compare: the first 16 hex digits in groups of four, e.g. `3F2A-91C0-7B44-E1D8`.

    64 bits: an impostor would need ~2^63 certificates to find one with the same short form."""
    digits = fingerprint.replace(":", "").upper()[:16]
    return "-".join(digits[i : i + 4] for i in range(0, len(digits), 4))
