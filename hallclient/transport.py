"""The HTTP under `HttpHall` (hallclient/http.py): one logical request with bounded retries, and a reply read
into the client's exceptions (docs/api.md "Errors").

A command is sent with one `request_id`, made once per call (or given by the caller), and the same id is
sent again on every retry: after a timeout the command may have been applied, and the server then replays the
first result instead of applying it twice. Retries are bounded, with exponential backoff, and only for
failures where nothing or the same thing can happen again (connect errors, timeouts, 502/503/504).
"""

from __future__ import annotations

import asyncio
import json
import logging
import ssl
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

import httpx

from hallclient.api import new_request_id
from hallclient.errors import AuthError, BadReply, DiskFull, Refusal, ServerUnavailable, ServerUntrusted
from hallclient.trust import certificate_problem

log = logging.getLogger(__name__)

#: Statuses that mean "the server (or a proxy in front of it) could not do it now": retried, then unreachable.
_RETRY_STATUS = frozenset({502, 503, 504})
_RETRY_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class Transport:
    """Requests to one hall server with a bearer `token` (None before enrollment); `HttpHall`'s arguments."""

    def __init__(
        self,
        base_url: str,
        token: str | None,
        *,
        transport: httpx.AsyncBaseTransport | None,
        timeout: float,
        retries: int,
        backoff_s: float,
        backoff_max_s: float,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        verify: ssl.SSLContext | None,
    ) -> None:
        self.base_url = base_url
        self.token: str | None = token
        self._retries = max(0, retries)
        self._backoff_s = backoff_s
        self._backoff_max_s = backoff_max_s
        self._sleep = sleep
        self._client = httpx.AsyncClient(
            base_url=base_url,
            transport=transport,
            timeout=timeout,
            verify=verify if verify is not None else True,
        )

    async def aclose(self) -> None:
        await self._client.aclose()

    async def send(
        self,
        method: str,
        path: str,
        *,
        body: Mapping[str, Any] | None = None,
        params: Mapping[str, str] | None = None,
        request_id: str | None = None,
    ) -> tuple[int, Any]:
        """One logical request with bounded retries; returns (status, parsed JSON) of a 2xx reply."""
        headers = {"Authorization": f"Bearer {self.token}"} if self.token else {}
        delay = self._backoff_s
        reason = ""
        status: int | None = None
        for attempt in range(self._retries + 1):
            if attempt:
                await self._sleep(delay)
                delay = min(delay * 2, self._backoff_max_s)
            try:
                resp = await self._client.request(method, path, json=body, params=params, headers=headers)
            except _RETRY_ERRORS as exc:
                problem = certificate_problem(exc)
                if problem is not None:
                    # Another server (or ours with a wrong certificate): asking again would not change it.
                    raise ServerUntrusted(f"{self.base_url}: {problem}", request_id=request_id) from exc
                reason = f"{type(exc).__name__} on {method} {path}"
                status = None
                log.debug("attempt %d: %s", attempt + 1, reason)
                continue
            except httpx.HTTPError as exc:
                raise ServerUnavailable(f"{type(exc).__name__}: {exc}", request_id=request_id) from exc
            if resp.status_code in _RETRY_STATUS:
                reason, status = f"status {resp.status_code} on {method} {path}", resp.status_code
                continue
            return resp.status_code, self.check(resp, request_id)
        raise ServerUnavailable(
            f"{reason} (after {self._retries + 1} attempts)", status=status, request_id=request_id
        )

    @staticmethod
    def check(resp: httpx.Response, request_id: str | None) -> Any:
        status = resp.status_code
        try:
            data = resp.json() if resp.content else None
        except (json.JSONDecodeError, UnicodeDecodeError):
            data = None
            if 200 <= status < 300:
                raise BadReply(f"{resp.request.method} {resp.request.url.path}: reply is not JSON") from None
        if 200 <= status < 300:
            return data
        if status >= 500 and status != 507:
            raise ServerUnavailable(f"status {status}", status=status, request_id=request_id)
        err = data if isinstance(data, Mapping) else {}
        code = str(err.get("error") or f"http_{status}")
        message = str(err.get("message") or resp.reason_phrase or code)
        message_en = str(err.get("message_en") or message)
        detail = err.get("detail")
        detail = detail if isinstance(detail, Mapping) else {}
        if status in (401, 403):
            raise AuthError(code, message, message_en, detail, status)
        if status == 507:
            raise DiskFull(code, message, message_en, detail, status)
        raise Refusal(code, message, message_en, detail, status)

    async def get(self, path: str, params: Mapping[str, str] | None = None) -> Any:
        return (await self.send("GET", path, params=params))[1]

    async def post(self, path: str, body: Mapping[str, Any] | None) -> Any:
        return (await self.send("POST", path, body=body))[1]

    async def command(self, path: str, body: Mapping[str, Any], request_id: str | None) -> Any:
        return (await self.command_status(path, body, request_id))[1]

    async def command_status(
        self, path: str, body: Mapping[str, Any], request_id: str | None
    ) -> tuple[int, Any]:
        rid = request_id or new_request_id()
        return await self.send("POST", path, body={**body, "request_id": rid}, request_id=rid)
