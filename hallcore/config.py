"""The hall configuration schema: one frozen dataclass per TOML table, defaults declared there. `HallConfig`
(here) gathers the tables, which are declared by concern in `hallcore.configschema` (`hours`, `matters`,
`windows`, `policies`, `stations`, `server`) and imported from here by every other module.

Loading and validation (every error at once, with file, dotted key, value, expectation and "did you mean")
live in `hallcore.configload`; the schema only declares the shape, so every other module can import it
cheaply. Times of day are `datetime.time`, durations are minutes or seconds as their names say.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from hallcore.confignotify import Notify
from hallcore.configschema.hours import (
    AtClose,
    Calendar,
    CalendarYear,
    DateHours,
    Hall,
    Season,
    Session,
    Sessions,
)
from hallcore.configschema.matters import (
    Department,
    Material,
    Matter,
    MatterKind,
    Precheck,
    Question,
    Series,
    When,
)
from hallcore.configschema.policies import (
    Alerts,
    Booking,
    Estimates,
    ExpiredCard,
    Identity,
    Outcomes,
    Persons,
    RatingPolicy,
    Targets,
)
from hallcore.configschema.server import (
    BookingImport,
    Central,
    Durability,
    Partner,
    PartnerKey,
    Privacy,
    Server,
    Tls,
    Upload,
)
from hallcore.configschema.stations import (
    BrightnessStep,
    Device,
    Kiosk,
    Led,
    Station,
    StationRole,
    Voice,
    Zone,
)
from hallcore.configschema.windows import (
    ClosedWindowTransfer,
    Closure,
    NoShowPolicy,
    PriorityClass,
    PriorityPolicy,
    TransferPolicy,
    Window,
)

__all__ = [
    "Alerts",
    "AtClose",
    "Booking",
    "BookingImport",
    "BrightnessStep",
    "Calendar",
    "CalendarYear",
    "Central",
    "ClosedWindowTransfer",
    "Closure",
    "DateHours",
    "Department",
    "Device",
    "Durability",
    "Estimates",
    "ExpiredCard",
    "Hall",
    "HallConfig",
    "Identity",
    "Kiosk",
    "Led",
    "Material",
    "Matter",
    "MatterKind",
    "NoShowPolicy",
    "Notify",
    "Outcomes",
    "Partner",
    "PartnerKey",
    "Persons",
    "Precheck",
    "PriorityClass",
    "PriorityPolicy",
    "Privacy",
    "Question",
    "RatingPolicy",
    "Season",
    "Series",
    "Server",
    "Session",
    "Sessions",
    "Station",
    "StationRole",
    "Targets",
    "Tls",
    "TransferPolicy",
    "Upload",
    "Voice",
    "When",
    "Window",
    "Zone",
]


@dataclass(frozen=True)
class HallConfig:
    hall: Hall
    departments: tuple[Department, ...]
    series: tuple[Series, ...]
    matters: tuple[Matter, ...]
    windows: tuple[Window, ...]
    priority_classes: tuple[PriorityClass, ...] = ()
    priority: PriorityPolicy = field(default_factory=PriorityPolicy)
    no_show: NoShowPolicy = field(default_factory=NoShowPolicy)
    transfer: TransferPolicy = field(default_factory=TransferPolicy)
    rating: RatingPolicy = field(default_factory=RatingPolicy)
    outcomes: Outcomes = field(default_factory=Outcomes)
    alerts: Alerts = field(default_factory=Alerts)
    targets: Targets = field(default_factory=Targets)
    estimates: Estimates = field(default_factory=Estimates)
    booking: Booking = field(default_factory=Booking)
    persons: Persons = field(default_factory=Persons)
    identity: Identity = field(default_factory=Identity)
    zones: tuple[Zone, ...] = ()
    stations: tuple[Station, ...] = ()
    led: Led = field(default_factory=Led)
    voice: Voice = field(default_factory=Voice)
    kiosk: Kiosk = field(default_factory=Kiosk)
    privacy: Privacy = field(default_factory=Privacy)
    upload: Upload = field(default_factory=Upload)
    notify: Notify = field(default_factory=Notify)
    booking_import: BookingImport = field(default_factory=BookingImport)
    central: Central = field(default_factory=Central)
    tls: Tls = field(default_factory=Tls)
    server: Server = field(default_factory=Server)
    # Lookup tables, built once; the config is immutable so they never go stale.
    matter_by_code: dict[str, Matter] = field(init=False, repr=False, compare=False)
    series_by_prefix: dict[str, Series] = field(init=False, repr=False, compare=False)
    window_by_number: dict[int, Window] = field(init=False, repr=False, compare=False)
    class_by_id: dict[str, PriorityClass] = field(init=False, repr=False, compare=False)
    station_by_id: dict[str, Station] = field(init=False, repr=False, compare=False)
    # What loading said about settings it replaced (`hallcore.configmigrate`): shown, never fatal.
    warnings: tuple[str, ...] = field(init=False, repr=False, compare=False, default=())

    def __post_init__(self) -> None:
        object.__setattr__(self, "matter_by_code", {m.code: m for m in self.matters})
        object.__setattr__(self, "series_by_prefix", {s.prefix: s for s in self.series})
        object.__setattr__(self, "window_by_number", {w.number: w for w in self.windows})
        object.__setattr__(self, "class_by_id", {c.id: c for c in self.priority_classes})
        object.__setattr__(self, "station_by_id", {s.id: s for s in self.stations})
