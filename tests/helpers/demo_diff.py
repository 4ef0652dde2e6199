"""The live demos' shared machinery: running the demo scripts and the CLI with the team's
redaction key, the planted differences a diff must find, and how to print discrepancies.
Used by tests/test_demo.py (the shop) and tests/test_demo_apps.py (ledger, accounts)."""

from __future__ import annotations

import fnmatch
import json
import os
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.helpers.cli import run_repro

ROOT = Path(__file__).resolve().parents[2]
# Both environments' fingerprints must be made with one key to be comparable.
TEAM_KEY = "repro-demo-team-key"
SEVERITIES = ("info", "low", "medium", "high", "critical")


def rank(severity: str) -> int:
    return SEVERITIES.index(severity)


@dataclass(frozen=True)
class Planted:
    """A difference an up script plants, and how `repro diff` must report it."""

    what: str
    facet: str
    path: str  # fnmatch glob over the discrepancy's path
    severities: tuple[str, ...]  # acceptable severities

    def matches(self, item: dict[str, Any]) -> bool:
        return item["facet"] == self.facet and fnmatch.fnmatchcase(item["path"], self.path)


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["REPRO_REDACTION_KEY"] = TEAM_KEY
    env.pop("REPRO_REDACTION_KEY_FILE", None)
    env.pop("REPRO_PROFILES_DIR", None)  # the repo's profiles/*.yaml
    return env


def run(
    argv: list[str], *, env: dict[str, str] | None = None, timeout: float = 180
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        argv,
        cwd=ROOT,
        env=env or _env(),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def repro(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_repro(*args, env=env, timeout=180)


def describe(items: list[dict[str, Any]]) -> str:
    return "\n".join(
        f"  {i['severity']:>8}  {i['facet']:<9} {i['path']}  ({i['kind']}; rule {i['rule']}): "
        f"{json.dumps(i['left'])[:60]} -> {json.dumps(i['right'])[:60]}"
        for i in items
    )


def noise(items: list[dict[str, Any]], planted: tuple[Planted, ...]) -> list[dict[str, Any]]:
    """Discrepancies above `low` that no planted difference explains."""
    return [
        i
        for i in items
        if rank(i["severity"]) > rank("low")
        and not any(p.matches(i) and i["severity"] in p.severities for p in planted)
    ]
