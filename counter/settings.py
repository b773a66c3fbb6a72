"""What the counter needs from the hall config for its window."""

from __future__ import annotations

from dataclasses import dataclass

from hallcore.config import HallConfig, Led


@dataclass(frozen=True, slots=True)
class Settings:
    """What the counter needs from the hall config for its window."""

    window: int
    window_name: str
    partners: tuple[int, ...]
    max_recalls: int
    pause_reasons: tuple[str, ...]
    series: tuple[tuple[str, str, str], ...]  # (prefix, name, name_en)
    rating_timeout_s: float
    led: Led  # the strip's texts (hallcore.windowstrip)
    timezone: str = "Asia/Shanghai"
    classes: tuple[tuple[str, str, str], ...] = ()  # priority classes (id, name, name_en)
    refusal_reasons: tuple[str, ...] = ()  # 不予受理's reasons (`outcomes.refusal_reasons`)
    outcome_change_s: int = 60  # how long an outcome may be changed (`outcomes.change_window_s`)


def settings_from_config(config: HallConfig, window: int) -> Settings:
    w = config.window_by_number[window]
    partners = {w.partner} if w.partner is not None else set()
    partners |= {o.number for o in config.windows if o.partner == window}
    partners.discard(None)
    partners.discard(window)
    return Settings(
        window=window,
        window_name=w.name,
        partners=tuple(sorted(p for p in partners if p is not None)),
        max_recalls=config.no_show.max_recalls,
        pause_reasons=config.server.pause_reasons,
        series=tuple((s.prefix, s.name, s.name_en) for s in config.series),
        rating_timeout_s=float(config.rating.timeout_s),
        led=config.led,
        timezone=config.hall.timezone,
        classes=tuple((pc.id, pc.name, pc.name_en) for pc in config.priority_classes),
        refusal_reasons=config.outcomes.refusal_reasons,
        outcome_change_s=config.outcomes.change_window_s,
    )
