"""The headers every HTTP answer of the hall server carries (DESIGN.md §9, a browser on the hall LAN).

- `Content-Security-Policy`: scripts, styles, images and connections only from the hall server itself, no
  inline script or style (the pages have none: static/*.js, style.css), no plugins, forms post only here,
  and `frame-ancestors 'none'`: no other page may frame a manager page to trick a click (clickjacking);
- `X-Frame-Options: DENY`, the same for browsers that predate `frame-ancestors`;
- `X-Content-Type-Options: nosniff`: a JSON answer quoting what someone typed is never run as a page;
- `Referrer-Policy: same-origin` (a page that sets its own, the phone and booking pages' `no-referrer` for
  the token in their URL, keeps it).

Set here, outside the app and the hot paths, so that no answer — the snapshot cache's, a 429 from the public
limits, an error page — goes without them.
"""

from __future__ import annotations

from hallserver.asgi import HttpMiddleware, Message, Receive, Scope, Send

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self';"
    " object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)

HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"same-origin"),
)


class SecurityHeaders(HttpMiddleware):
    """ASGI: add `HEADERS` to every HTTP response that does not set the header itself."""

    async def http(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", ()))
                have = {bytes(k).lower() for k, _v in headers}
                headers += [(k, v) for k, v in HEADERS if k not in have]
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)
