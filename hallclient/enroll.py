"""First start of a station: enroll, show the code, wait for the manager's approval, keep the token.

The credentials file (path chosen by the app) holds JSON, mode 0600 because it is a secret: while pending
`{"state": "pending", "station_id", "poll_secret", "code", "server"}`, so a restart keeps polling the same
enrollment instead of making a new one; once approved `{"state": "approved", "token", "station_id",
"server"}`. It is replaced atomically, so a crash never leaves half a token.

Over TLS it also holds `ca_pem`, the hall CA the station pinned (`hallclient.trust`, `hallclient.link`): set
before the enrollment request is sent and kept by every later write, so the station shows the same
fingerprint for as long as its code, and talks to no other server afterwards. Only forgetting the token (a
revocation) drops it: the next enrollment is compared by the manager again.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hallclient.api import HallApi
from hallclient.errors import EnrollmentError, ServerUnavailable
from hallclient.trust import Pin
from hallclient.types import EnrollState

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Credentials:
    """What the credentials file holds. `token` is None while the enrollment is pending."""

    station_id: str
    token: str | None = None
    code: str = ""
    poll_secret: str = ""
    server: str = ""
    ca_pem: str = ""  # the pinned hall CA ("" before TLS)


def _read(path: Path) -> dict[str, Any] | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def load_pin(path: Path) -> tuple[str, Pin] | None:
    """(server URL, pinned hall CA) from the credentials file, or None when the station pinned none."""
    data = _read(path)
    if data is None or not isinstance(data.get("ca_pem"), str) or not data["ca_pem"]:
        return None
    return str(data.get("server", "")), Pin.of(data["ca_pem"])


def save_pin(path: Path, server: str, pin: Pin) -> None:
    """Pin `pin` (and `server`) in the credentials file, keeping whatever else it holds."""
    data = _read(path) or {"state": "new"}
    _write_private(path, {**data, "server": server, "ca_pem": pin.ca_pem})


def _write_private(path: Path, data: dict[str, Any]) -> None:
    old = _read(path)
    if old is not None and "ca_pem" not in data and old.get("ca_pem"):
        # Every write keeps the pin (and its server, unless a new one is given).
        data = {**data, "ca_pem": old["ca_pem"], "server": data.get("server") or old.get("server", "")}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    # Create with 0600 from the start: writing first and chmod-ing after would expose the token briefly.
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(data, f, ensure_ascii=False)
        f.flush()
        os.fsync(f.fileno())
    tmp.chmod(0o600)  # an existing tmp file keeps its old mode through O_CREAT
    tmp.replace(path)


def load_credentials(path: Path) -> Credentials | None:
    """The stored credentials, or None if there are none (or the file is unreadable: enroll again)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return None
    except (OSError, ValueError) as exc:
        log.warning("credentials file %s unreadable (%s): the station enrolls again", path, exc)
        return None
    if isinstance(data, dict) and data.get("state") == "new":
        return None  # a pinned hall CA, not enrolled yet
    if not isinstance(data, dict) or not isinstance(data.get("station_id"), str):
        log.warning("credentials file %s has no station id: the station enrolls again", path)
        return None
    token = data.get("token") if data.get("state") == "approved" else None
    return Credentials(
        station_id=data["station_id"],
        token=token if isinstance(token, str) and token else None,
        code=str(data.get("code", "")),
        poll_secret=str(data.get("poll_secret", "")),
        server=str(data.get("server", "")),
        ca_pem=str(data.get("ca_pem", "")),
    )


def load_token(path: Path) -> str | None:
    """The approved token stored at `path`, or None."""
    cred = load_credentials(path)
    return cred.token if cred else None


def save_token(path: Path, token: str, *, station_id: str = "", server: str = "") -> None:
    _write_private(path, {"state": "approved", "token": token, "station_id": station_id, "server": server})


def forget_token(path: Path) -> None:
    """Drop the credentials (after a 401: the token was revoked; the next start enrolls again)."""
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


async def ensure_token(
    api: HallApi,
    path: Path,
    *,
    name: str,
    role: str,
    server: str = "",
    on_code: Callable[[str], None] | None = None,
    poll_s: float = 2.0,
    poll_max_s: float = 15.0,
    timeout_s: float | None = None,
    clock: Callable[[], float] | None = None,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> str:
    """The station's token: the stored one, else enroll (or resume a stored pending enrollment), call
    `on_code(code)` so the app shows it, and poll with backoff until the manager approves.

    Raises `EnrollmentError` if the station is revoked, or not approved within `timeout_s` (None: wait as
    long as it takes; measured with `clock`, a monotonic seconds function). The server being unreachable
    while polling is waited out, not fatal.
    """
    cred = load_credentials(path)
    if cred is not None and cred.token is not None:
        return cred.token
    loop_clock = clock or asyncio.get_running_loop().time
    deadline = None if timeout_s is None else loop_clock() + timeout_s
    while True:
        token = await _enroll_once(
            api, path, name, role, server, on_code, poll_s, poll_max_s, deadline, timeout_s, loop_clock, sleep
        )
        if token is not None:
            return token
        # The request expired unapproved (the hall keeps one a day): a new one, with a new code to show.
        forget_token(path)


async def _enroll_once(
    api: HallApi,
    path: Path,
    name: str,
    role: str,
    server: str,
    on_code: Callable[[str], None] | None,
    poll_s: float,
    poll_max_s: float,
    deadline: float | None,
    timeout_s: float | None,
    loop_clock: Callable[[], float],
    sleep: Callable[[float], Awaitable[None]],
) -> str | None:
    """One enrollment request, from the stored pending one if any: its token, or None when it expired."""
    cred = load_credentials(path)
    if cred is None or not cred.poll_secret:
        enrollment = await api.enroll(name, role)
        cred = Credentials(enrollment.station_id, None, enrollment.code, enrollment.poll_secret, server)
        _write_private(
            path,
            {
                "state": "pending",
                "station_id": cred.station_id,
                "code": cred.code,
                "poll_secret": cred.poll_secret,
                "server": server,
            },
        )
    if on_code is not None:
        on_code(cred.code)
    delay = poll_s
    while True:
        try:
            poll = await api.poll_enrollment(cred.station_id, cred.poll_secret)
        except ServerUnavailable as exc:
            log.info("enrollment poll: %s", exc)
        else:
            if poll.state is EnrollState.APPROVED:
                if poll.token is None:
                    # Approved, but the one-time token went to an earlier poll whose reply was lost.
                    forget_token(path)
                    raise EnrollmentError(
                        f"station {cred.station_id} was approved but its token was already collected: "
                        "ask the manager to revoke it, then restart to enroll again"
                    )
                save_token(path, poll.token, station_id=cred.station_id, server=server)
                return poll.token
            if poll.state is EnrollState.REVOKED:
                forget_token(path)
                raise EnrollmentError(f"station {cred.station_id} was revoked by the manager: enroll again")
            if poll.state is EnrollState.EXPIRED:
                log.warning(
                    "enrollment %s (code %s) expired unapproved: enrolling again", cred.station_id, cred.code
                )
                return None
        if deadline is not None and loop_clock() + delay > deadline:
            raise EnrollmentError(
                f"station {cred.station_id} (code {cred.code}) was not approved within {timeout_s:g} s"
            )
        await sleep(delay)
        delay = min(delay * 1.5, poll_max_s)


def pinned_fingerprint(path: Path) -> str:
    """The short fingerprint of the hall CA pinned in the credentials file ("" when none): what the station
    shows beside its enrollment code."""
    pinned = load_pin(path)
    return pinned[1].short if pinned is not None else ""
