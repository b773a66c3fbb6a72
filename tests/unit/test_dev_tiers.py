"""The whole `./dev test` stays under 20 minutes on 2 cores: the tiers' budgets in ./dev, plus the gates
(ruff, mypy --strict with a cold cache, import-linter: 40 s at load 10 here) and set-up, fit in 1,200 s."""

from __future__ import annotations

from bench.report import tier_budgets

WHOLE_SUITE_S = 20 * 60
GATES_S = 90


def test_tier_budgets_fit_in_twenty_minutes_with_the_gates() -> None:
    tiers = dict(tier_budgets())
    assert {"unit", "drivers", "server", "gui", "e2e", "central"} <= tiers.keys()
    assert all(s > 0 for s in tiers.values()), tiers
    assert sum(tiers.values()) + GATES_S <= WHOLE_SUITE_S, tiers
