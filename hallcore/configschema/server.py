"""The server and what leaves and enters the hall: durability, privacy, the 好差评 upload, bookings from
outside, the centre, TLS. Part of
the hall configuration schema (`hallcore.config`, where `HallConfig` gathers the tables): one frozen
dataclass per TOML table."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum


class Durability(StrEnum):
    FULL = "full"  # synchronous=FULL: an acknowledged ticket survives power loss
    NORMAL = "normal"  # synchronous=NORMAL in WAL: survives a process crash, lower tail latency


@dataclass(frozen=True, slots=True)
class Privacy:
    retention_days: int = 180
    show_names_on_boards: bool = False


@dataclass(frozen=True, slots=True)
class Upload:
    """好差评 upload to the provincial platform."""

    enabled: bool = False
    endpoint: str = ""
    # platform field -> hallq data item (e.g. "evaluateLevel" -> "score"; hallcore.provincial.ITEMS)
    field_map: dict[str, str] = field(default_factory=dict)
    retry_max_s: int = 600
    retry_first_s: float = 2.0  # the first backoff after a transient failure; doubled up to retry_max_s
    timeout_s: float = 10.0  # one request; a timeout is a transient failure
    signer: str = "hq1-hmac-sha256"  # or "none" (docs/integrations.md)
    app_key: str = ""  # the appKey the province issued to the hall
    secret_file: str = ""  # a 0600 file holding the app secret (never the secret itself in the TOML)


@dataclass(frozen=True, slots=True)
class PartnerKey:
    """One key a booking partner signs with (docs/integrations.md "Bookings from outside"). Two keys of a
    partner are valid at once while it rotates: the new one added, the old one given `valid_until`."""

    id: str  # the key id the partner sends as X-HQ-AppKey (unique over all partners)
    secret_file: str  # a 0600 file holding the shared secret (never the secret itself in the TOML)
    valid_until: dt.date | None = None  # the last day (hall time) the key is taken; None: until removed


@dataclass(frozen=True, slots=True)
class Partner:
    """An external booking system (the province's 一网通办) that pushes bookings, or publishes a list."""

    id: str
    name: str = ""
    keys: tuple[PartnerKey, ...] = ()
    rate_per_s: float = 2.0  # its signed requests, after the signature is checked
    burst: int = 60
    report_url: str = ""  # hall-side cancellations of its bookings are POSTed here ("" none)
    list_url: str = ""  # the pull adapter: the list it publishes ("" push only)
    poll_s: int = 300  # how often the list is read
    timeout_s: float = 10.0  # one request to the partner


@dataclass(frozen=True, slots=True)
class BookingImport:
    """Bookings from outside: the signed import API and the pull adapter (hallserver/bookimport.py)."""

    enabled: bool = False
    window_s: int = 300  # a request's timestamp may be this far from the hall's clock; nonces kept as long
    retry_first_s: float = 2.0  # reporting to a partner: the first backoff, doubled up to retry_max_s
    retry_max_s: int = 600
    partners: tuple[Partner, ...] = ()


@dataclass(frozen=True, slots=True)
class Central:
    """Shipping the hall's events to the province/city centre (`hallq central`, docs/central.md)."""

    enabled: bool = False
    url: str = ""  # the centre's base URL, e.g. https://central.example.gov.cn:8800
    key_file: str = ""  # the hall's Ed25519 key (0600); default: <database>.central.key beside the database
    batch_events: int = 500
    poll_s: float = 1.0  # how often to look for new events when idle
    heartbeat_s: float = 15.0  # an empty batch this often, so the centre knows the hall is alive
    retry_max_s: int = 300
    # While catching up on a backlog, the shipper pauses after each batch so that preparing batches takes
    # at most this share of the time: issuing and calling keep the hall's core.
    catch_up_share: float = 0.1


@dataclass(frozen=True, slots=True)
class Tls:
    """TLS on the hall LAN (DESIGN.md §9, docs/install.md): the names the server certificate made by `hallq
    admin tls init` carries, and how stations treat the server."""

    names: tuple[str, ...] = ()  # DNS names of the server box in its certificate (e.g. "hallq-server")
    addresses: tuple[str, ...] = ()  # its LAN addresses in the certificate (e.g. "192.168.10.2")
    server_days: int = 397  # a server certificate's life; `hallq admin tls renew` makes the next one
    ca_days: int = 3650  # the hall CA's life (stations pin it: a new CA means enrolling again)
    # Stations refuse a plain-http server (but 127.0.0.1, the demo's), so nobody can talk one out of TLS.
    required: bool = False
    # A station enrolled before TLS pins the CA its server shows at the first TLS contact (and logs it);
    # false: such a station drops its token and enrolls again, so the manager compares the fingerprint.
    pin_on_first_contact: bool = True


@dataclass(frozen=True, slots=True)
class Server:
    durability: Durability = Durability.FULL
    backlog_events: int = 10_000  # events kept in memory for resume
    snapshot_threshold: int = 5_000  # a client further behind than this gets a snapshot
    pause_reasons: tuple[str, ...] = ("休息", "会议", "系统故障", "业务培训", "临时外出")
