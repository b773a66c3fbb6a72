"""Errors of the hall server. `ApiError` carries the HTTP status and the error body of docs/api.md."""

from __future__ import annotations

import math
from typing import Any

from hallcore.engine import Refused
from hallcore.errors import HallError
from hallcore.replies import ErrorBody, refusal_status


class ServerError(HallError):
    """Base class of hallserver's errors."""


class StoreError(ServerError):
    """The database could not be opened or written."""


class DiskFullError(StoreError):
    """SQLite reported SQLITE_FULL: nothing of the batch was written."""


class ApiError(ServerError):
    """An error reply: `{"error", "message" (zh), "message_en", "detail"}` with an HTTP status."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        message_en: str,
        detail: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message_en}")
        self.status = status
        self.code = code
        self.message = message
        self.message_en = message_en
        self.detail = detail or {}
        self.headers = headers

    def body(self) -> ErrorBody:
        return ErrorBody(self.code, self.message, self.message_en, self.detail)


def from_refusal(refused: Refused) -> ApiError:
    return ApiError(
        refusal_status(refused.code),
        refused.code.value,
        refused.message,
        refused.message_en,
        dict(refused.detail),
    )


def internal() -> ApiError:
    """500 `internal`: what a caller is told of a failure that is the server's own (it is logged)."""
    return ApiError(500, "internal", "服务器内部错误", "internal server error")


def not_found(what: str, what_en: str, **detail: Any) -> ApiError:
    return ApiError(404, "not_found", f"没有{what}", f"no such {what_en}", detail)


def disk_full() -> ApiError:
    return ApiError(
        507,
        "disk_full",
        "服务器磁盘已满，暂停取号；请联系管理员清理磁盘后重试",
        "the server's disk is full: no new tickets until an administrator frees space; nothing was saved",
    )


def retry_later(code: str, zh: str, en: str, wait_s: float) -> ApiError:
    """429 `code` with `Retry-After` (whole seconds, at least 1); `zh` and `en` say it with `{secs}`."""
    secs = max(1, math.ceil(wait_s))
    return ApiError(
        429,
        code,
        zh.format(secs=secs),
        en.format(secs=secs),
        {"retry_after_s": secs},
        headers={"Retry-After": str(secs)},
    )
