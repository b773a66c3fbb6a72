"""Manager sessions for the web pages: an HttpOnly, SameSite=Strict cookie and a CSRF token per session.

The cookie holds the same kind of session token as `POST /api/manager/login` (stored hashed in `sessions`),
so revoking or expiring works the same way. Forms and script POSTs carry a CSRF token that is an HMAC of the
session with the hall's secret: a page of another site can neither read it nor make it. SameSite=Strict
already keeps the cookie off cross-site requests; the token is the second lock the issue asks for.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets

from fastapi import Request

from hallserver.auth import Principal, Role, hash_token
from hallserver.deps import get_hall, resolve

COOKIE = "hallq_session"
LOGIN_CSRF_COOKIE = "hallq_login_csrf"
CSRF_HEADER = "x-csrf-token"
CSRF_FIELD = "csrf"


def csrf_for(secret: bytes, session_token: str) -> str:
    return hmac.new(secret, b"csrf:" + hash_token(session_token).encode(), hashlib.sha256).hexdigest()[:32]


def new_login_csrf() -> str:
    return secrets.token_urlsafe(16)


def cookie_args(secure: bool) -> dict[str, object]:
    # Secure only behind HTTPS (a public gateway); on the hall LAN the pages are plain HTTP.
    return {"httponly": True, "samesite": "strict", "secure": secure, "path": "/"}


async def manager_from_cookie(request: Request) -> tuple[Principal, str] | None:
    """The manager behind the session cookie (and the token), or None."""
    token = request.cookies.get(COOKIE, "")
    if not token:
        return None
    p = await resolve(get_hall(request), token)
    if p is None or p.role != Role.MANAGER:
        return None
    return p, token


def csrf_ok(request: Request, token: str, given: str) -> bool:
    want = csrf_for(get_hall(request).store.secret, token)
    return bool(given) and hmac.compare_digest(want, given)
