"""Prod-vs-sandbox parity leaves out what the sandbox makes differently by design: its own
superuser (which owns the generated tables) and, standing for it, production's administrators
(superusers the app does not log in as). Everything else is compared, the app role included,
and a hostile role name cannot widen what is left out."""

from __future__ import annotations

from datetime import date
from typing import Any

from repro.diff import diff_snapshots
from repro.replay.parity import parity_ignores, summarize
from repro.replay.sandbox_db import USER
from repro.snapshot.file import FacetResult, Snapshot

APP = {"superuser": False, "login": True, "exists": True, "used_by": ["app", "login"]}
ADMIN = {"superuser": True, "login": True, "exists": True, "used_by": ["login"]}


def _snapshot(name: str, roles: dict[str, Any]) -> Snapshot:
    facet = FacetResult("ok", {"roles": roles, "tables": {}})
    return Snapshot(name, "2026-12-05T00:00:00Z", {}, {}, {"database": facet}, source=name)


def _paths(production: Snapshot, sandbox: Snapshot) -> list[str]:
    result = diff_snapshots(
        production, sandbox, ignore=parity_ignores(production, []), today=date(2026, 12, 5)
    )
    return [item.path for item in summarize(result).top]


def test_production_administrators_and_the_sandbox_superuser_are_not_differences() -> None:
    production = _snapshot("prod", {"app": APP, "postgres": ADMIN, "rdsadmin": ADMIN})
    sandbox = _snapshot("sandbox", {"app": APP, USER: {**ADMIN, "used_by": ["app", "login"]}})
    assert _paths(production, sandbox) == []


def test_a_missing_role_or_an_app_superuser_is_still_reported() -> None:
    ops = {"superuser": False, "login": False, "exists": True, "used_by": []}
    app_superuser = {**ADMIN, "used_by": ["app", "login"]}
    production = _snapshot("prod", {"app": app_superuser, "ops": ops, "postgres": ADMIN})
    sandbox = _snapshot("sandbox", {"app": APP, USER: ADMIN})
    paths = _paths(production, sandbox)
    assert "database.roles.ops" in paths
    assert any(p.startswith("database.roles.app") for p in paths)


def test_a_role_named_like_a_glob_leaves_out_only_itself() -> None:
    production = _snapshot("prod", {"app": APP, "*": ADMIN, "o?s": ADMIN, "ops": APP})
    sandbox = _snapshot("sandbox", {USER: ADMIN})
    paths = _paths(production, sandbox)
    assert "database.roles.app" in paths and "database.roles.ops" in paths
    assert not any(p in ("database.roles.*", "database.roles.o?s") for p in paths)
