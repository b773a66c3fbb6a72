"""The errors hallclient raises. Apps catch by class, and each class maps to one thing the app does:

- `Refusal`: the hall said no (engine refusal, bad input, unknown thing): show `message`, stay on the screen.
- `AuthError`: the token is missing, wrong or revoked (401) or the role may not do this (403): re-enroll or
  log in.
- `DiskFull`: the server cannot store anything (507): the station is out of service, "请到服务台".
- `ServerUnavailable`: no answer (connect error, timeout, 5xx): show "server unreachable"; retrying with
  the same `request_id` is safe, the server replays the first result.
- `ServerUntrusted` (a `ServerUnavailable`): a server answered with a certificate that is not the pinned hall
  CA's: show "服务器证书不符，请联系管理员"; nothing was sent to it.
- `BadReply`: the server answered with something this client cannot read (a version mismatch or a bug).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


class HallClientError(Exception):
    """Base of every error hallclient raises."""


class HallReplyError(HallClientError):
    """An error body from the server: `{"error": code, "message", "message_en", "detail"}` with its status."""

    def __init__(
        self,
        code: str,
        message: str,
        message_en: str = "",
        detail: Mapping[str, Any] | None = None,
        status: int = 0,
    ) -> None:
        self.code = code
        self.message = message
        self.message_en = message_en or message
        self.detail: Mapping[str, Any] = dict(detail or {})
        self.status = status
        super().__init__(f"{status} {code}: {self.message_en}")


# The names are the project's vocabulary (docs/api.md, the apps): a suffix would add nothing.
class Refusal(HallReplyError):
    """A 4xx refusal (409 state conflict, 422 bad input, 404 unknown thing, 400, 413): nothing changed."""


class AuthError(HallReplyError):
    """401 (no, bad or revoked token; wrong credentials) or 403 (the role may not do this)."""


class DiskFull(HallReplyError):
    """507: the server's disk is full; it refuses new tickets and keeps what it has."""


class ServerUnavailable(HallClientError):
    """The server could not be reached or failed (connect error, timeout, 5xx) after the bounded retries.

    `request_id` is the id the command was sent with (None for reads): sending the same command again with it
    is safe, so an app can retry later without issuing or calling twice.
    """

    def __init__(self, reason: str, *, status: int | None = None, request_id: str | None = None) -> None:
        self.reason = reason
        self.status = status
        self.request_id = request_id
        super().__init__(f"hall server unreachable: {reason}")


class BadReply(HallClientError):
    """A reply this client cannot parse: fields missing or of the wrong type."""


class EnrollmentError(HallClientError):
    """Enrollment did not give a token: revoked by the manager, or not approved within the time allowed."""


class ServerUntrusted(ServerUnavailable):
    """A server answered, but its certificate is not the pinned hall CA's (another CA, a wrong name, expired),
    or it speaks plain HTTP where TLS is pinned or required. Nothing was sent to it: the station shows
    "服务器证书不符，请联系管理员" and keeps looking for its own server."""
