"""Contracts that list modules by name must name every one. "Apps import drivers only through the protocols
and the factory" names the modules apps may not import: a new module of `drivers` must be named there too, or
apps could import it unchecked. "The web pages are independent of each other" names every page of
hallserver/web.
"""

from __future__ import annotations

import pkgutil
import tomllib
from pathlib import Path

import drivers

ROOT = Path(__file__).resolve().parents[2]
APPS_MAY_IMPORT = {"drivers.protocols", "drivers.factory"}


def test_the_apps_contract_names_every_other_module_of_drivers() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    [contract] = [c for c in contracts if c["name"].startswith("apps import drivers only through")]
    forbidden = set(contract["forbidden_modules"])
    modules = {f"drivers.{m.name}" for m in pkgutil.iter_modules(drivers.__path__)}
    assert forbidden.isdisjoint(APPS_MAY_IMPORT)
    assert forbidden - modules == set(), "the contract names modules that are gone"
    assert modules - APPS_MAY_IMPORT - forbidden == set(), "add these to the contract's forbidden_modules"
    assert set(contract["source_modules"]) >= {"kiosk", "counter", "display", "hallq.agent"}


def test_the_web_pages_contract_names_every_page() -> None:
    """hallserver/web: one module a page, independent of each other; the shared parts are not pages."""
    import hallserver.web

    config = tomllib.loads((ROOT / "pyproject.toml").read_text("utf-8"))
    contracts = config["tool"]["importlinter"]["contracts"]
    [contract] = [c for c in contracts if c["name"] == "the web pages are independent of each other"]
    shared = {"guard", "session", "pages", "svg"}
    pages = {f"hallserver.web.{m.name}" for m in pkgutil.iter_modules(hallserver.web.__path__)} - {
        f"hallserver.web.{s}" for s in shared
    }
    assert set(contract["modules"]) == pages
