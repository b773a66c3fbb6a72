"""The web pages' accessibility checks in a real browser, in one place: the axe-core audit (WCAG 2.0/2.1/2.2 A
and AA rules, axe-core pinned in package-lock.json and installed by `./dev setup` with `npm ci`) and the
keyboard-only walk (Tab through a page: every control reached, each with a visible focus indicator).

Used by tests/server/test_browser_a11y.py; any browser test may call `assert_accessible(page, name)` on a page
state it has built."""

from __future__ import annotations

import json
import pathlib
from dataclasses import dataclass, field
from typing import Any

ROOT = pathlib.Path(__file__).resolve().parents[2]
AXE_JS = ROOT / "node_modules" / "axe-core" / "axe.min.js"
#: What issue 23 asks of every page: WCAG 2.0, 2.1 and 2.2 at levels A and AA.
TAGS = ("wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa")


def axe_source() -> str:
    """axe-core's script; a clear failure when `./dev setup` has not installed it (never a silent skip: the
    audit is an acceptance test of issue 23)."""
    if not AXE_JS.exists():
        raise AssertionError(f"{AXE_JS} is missing: run ./dev setup (npm ci installs axe-core)")
    return AXE_JS.read_text(encoding="utf-8")


@dataclass
class AuditLog:
    """The violations found per page state (name -> count), written to artifacts/a11y-audit.json so a run's
    figures can be quoted."""

    counts: dict[str, int] = field(default_factory=dict)

    def write(self, path: pathlib.Path) -> None:
        text = json.dumps(self.counts, ensure_ascii=False, indent=1, sort_keys=True)
        path.write_text(text, encoding="utf-8")


def axe_violations(page: Any) -> list[dict[str, Any]]:
    """Run axe-core in `page` for `TAGS`; the violations as axe reports them. The script goes in through the
    DevTools protocol (`evaluate`), which the pages' Content-Security-Policy does not govern, so the page is
    audited with its real CSP on."""
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(axe_source())
    result: dict[str, Any] = page.evaluate(
        """async (tags) => await axe.run(document, {runOnly: {type: "tag", values: tags},
             resultTypes: ["violations"]})""",
        list(TAGS),
    )
    violations: list[dict[str, Any]] = result["violations"]
    return violations


def describe(violations: list[dict[str, Any]]) -> str:
    """One line per failing element: rule, impact, selector and axe's own summary of what to fix."""
    lines = []
    for v in violations:
        for n in v["nodes"]:
            summary = " ".join((n.get("failureSummary") or "").split())
            lines.append(f"{v['id']} ({v['impact']}) {n['target']}: {summary[:240]}")
    return "\n".join(lines)


def assert_accessible(page: Any, name: str, log: AuditLog | None = None) -> None:
    """0 axe violations on the page as it is now; `name` says which page state in the failure."""
    found = axe_violations(page)
    if log is not None:
        log.counts[name] = sum(len(v["nodes"]) for v in found)
    assert not found, f"{name}: {sum(len(v['nodes']) for v in found)} axe violations\n{describe(found)}"


# ---- the keyboard walk ----------------------------------------------------------------------------------

#: What a keyboard user must be able to reach: visible, enabled controls.
_CONTROLS_JS = """() => [...document.querySelectorAll(
    'a[href], button, input:not([type=hidden]), select, textarea, [tabindex]:not([tabindex="-1"])')]
  .filter((el) => !el.disabled && el.getClientRects().length && getComputedStyle(el).visibility !== 'hidden')
  .map((el) => [el.dataset.a11y || (el.dataset.a11y = 'c' + Math.random().toString(36).slice(2, 10)),
                el.tagName + (el.id ? '#' + el.id : '') + ' '
                  + (el.textContent || el.name || '').trim().slice(0, 20)])"""

#: Log every element that takes the focus, with whether its focus can be seen: an outline of at least 2 px,
#: or a box shadow (the stylesheet's `:focus-visible` rule). One listener, read in batches: a walk costs one
#: round trip per Tab press, not two.
_LOG_FOCUS_JS = """() => {
  window.__a11yWalk = [];
  if (window.__a11yWalkOn) return;
  window.__a11yWalkOn = true;
  document.addEventListener('focusin', (e) => {
    const el = e.target, s = getComputedStyle(el);
    if (!el.dataset.a11y) el.dataset.a11y = 'u' + Math.random().toString(36).slice(2, 10);
    const outline = s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) >= 2;
    const shadow = s.boxShadow && s.boxShadow !== 'none';
    window.__a11yWalk.push({mark: el.dataset.a11y || '', tag: el.tagName, id: el.id,
      visible: outline || shadow, text: (el.textContent || el.value || '').trim().slice(0, 30)});
  }, true);
  document.activeElement && document.activeElement.blur();
  window.scrollTo(0, 0);
}"""


@dataclass
class Walk:
    reached: list[dict[str, Any]]
    missed: list[str]

    @property
    def unseen_focus(self) -> list[dict[str, Any]]:
        return [r for r in self.reached if not r["visible"]]


def keyboard_walk(page: Any, batch: int = 20) -> Walk:
    """Tab from the top of the page until the focus comes back round: which controls were reached, which were
    missed, and for each reached one whether its focus is visible. (A date input takes three Tabs, its year,
    month and day: one control.)"""
    controls = dict(page.evaluate(_CONTROLS_JS))
    page.evaluate(_LOG_FOCUS_JS)
    reached: list[dict[str, Any]] = []
    seen: set[str] = set()
    for _ in range(0, 3 * len(controls) + batch, batch):
        for _ in range(batch):
            page.keyboard.press("Tab")
        for f in page.evaluate("() => window.__a11yWalk.splice(0)"):
            if f["mark"] in seen:
                return Walk(reached, sorted(w for m, w in controls.items() if m not in seen))
            seen.add(f["mark"])
            reached.append(f)
    return Walk(reached, sorted(what for mark, what in controls.items() if mark not in seen))


def assert_keyboard_reaches_all(page: Any, name: str) -> Walk:
    walk = keyboard_walk(page)
    assert walk.reached, f"{name}: Tab reaches nothing"
    assert not walk.missed, f"{name}: {len(walk.missed)} controls Tab never reaches: {walk.missed}"
    assert not walk.unseen_focus, f"{name}: focus not visible on {walk.unseen_focus}"
    return walk


def tab_to(page: Any, selector: str, limit: int = 400) -> None:
    """Press Tab (only) until the element `selector` has the focus."""
    for _ in range(limit):
        if page.evaluate("(s) => document.activeElement === document.querySelector(s)", selector):
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reaches {selector}")
