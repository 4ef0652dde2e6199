"""The other two live demos, end to end: `make demo-up-apps` (fixtures/demo/up-apps.sh) starts
prod and staging of the ledger and of the Node.js accounts service; `repro snapshot` captures
each through its profile (profiles/ledger-*.yaml, accounts-*.yaml); `repro diff` must find the
planted difference behind each app's production-only bug, nothing else above `low`, and print
no secret; `make demo-down` removes it all.

Slow (four PostgreSQL servers, ~100,000 rows; about a minute) and needs `make images`.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.demo_diff import Planted, _env, describe, noise, rank, repro, run
from tests.helpers.dockerutil import require_image

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[1]
STATE_DIR = ROOT / ".repro" / "demo"
IMAGES = ("repro/postgres:15", "repro/demo-ledger:3.4.1", "repro/demo-accounts:1.8.0")
APPS = ("ledger", "accounts")

PLANTED: dict[str, tuple[Planted, ...]] = {
    "ledger": (
        Planted(
            "database TimeZone Europe/Berlin vs UTC",
            "database",
            "database.settings.TimeZone*",
            ("medium", "high"),
        ),
        Planted(
            "invoices, payments and clients: production's volume",
            "database",
            "database.statistics.public.*.rows_estimate",
            ("low", "medium", "high"),
        ),
        Planted(
            "DB_PASSWORD differs (fingerprints only)",
            "env",
            "env.vars.DB_PASSWORD",
            ("low", "medium", "high"),
        ),
    ),
    "accounts": (
        Planted(
            "users.profile_id: ~6% NULL in prod, none in staging",
            "database",
            "database.statistics.public.users.columns.profile_id.null_frac",
            ("medium", "high"),
        ),
        Planted(
            "users and profiles: production's volume",
            "database",
            "database.statistics.public.*.rows_estimate",
            ("low", "medium", "high"),
        ),
        Planted("Sentry only in prod", "env", "env.vars.SENTRY_DSN", ("medium", "high")),
        Planted(
            "DATABASE_URL password differs (fingerprints only)",
            "env",
            "env.vars.DATABASE_URL",
            ("low", "medium", "high"),
        ),
    ),
}


@dataclass
class Demo:
    env: dict[str, str]
    outputs: dict[str, str]  # every text a command printed or wrote, to search for secrets
    secrets: dict[str, str]


def secret_values() -> dict[str, str]:
    found: dict[str, str] = {}
    for path in sorted(STATE_DIR.glob("*-*-*.env")):
        for line in path.read_text(encoding="utf-8").splitlines():
            name, _, value = line.partition("=")
            if name in ("DB_PASSWORD", "POSTGRES_PASSWORD"):
                found[f"{path.name}:{name}"] = value
            elif name == "DATABASE_URL":
                found[f"{path.name}:DATABASE_URL password"] = value.split(":")[2].split("@")[0]
            elif name == "SENTRY_DSN":
                found[f"{path.name}:SENTRY_DSN key"] = value.split("//")[1].split("@")[0]
    assert len(found) >= 9, f"expected the demos' generated secrets, found {sorted(found)}"
    return found


@pytest.fixture(scope="module")
def demo(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Demo]:
    for image in IMAGES:
        require_image(docker_client, image)
    env = _env()
    env["REPRO_HOME"] = str(tmp_path_factory.mktemp("repro-home"))
    up = run(["bash", "fixtures/demo/up-apps.sh"], env=env, timeout=300)
    try:
        assert up.returncode == 0, f"up-apps.sh failed:\n{up.stdout}\n{up.stderr}"
        yield Demo(env, {"up stdout": up.stdout, "up stderr": up.stderr}, secret_values())
    finally:
        run(["bash", "fixtures/demo/down.sh"], env=env)


@pytest.fixture(scope="module")
def diffs(demo: Demo) -> dict[str, list[dict[str, Any]]]:
    result: dict[str, list[dict[str, Any]]] = {}
    for app in APPS:
        for side in ("prod", "staging"):
            done = repro("snapshot", f"{app}-{side}", env=demo.env)
            demo.outputs[f"snapshot {app}-{side}"] = done.stdout + done.stderr
            assert done.returncode == 0, done.stderr
            stored = Path(demo.env["REPRO_HOME"]) / "snapshots" / f"{app}-{side}"
            snapshot = stored / (stored / "latest").read_text(encoding="utf-8").strip()
            text = snapshot.read_text(encoding="utf-8")
            demo.outputs[f"snapshot file {app}-{side}"] = text
            statuses = {n: f["status"] for n, f in json.loads(text)["facets"].items()}
            assert set(statuses.values()) == {"ok"}, (app, side, statuses)
        done = repro("diff", f"{app}-prod", f"{app}-staging", "--format", "json", env=demo.env)
        demo.outputs[f"diff {app}"] = done.stdout + done.stderr
        assert done.returncode in (0, 1), done.stderr
        result[app] = json.loads(done.stdout)["discrepancies"]
        shown = repro("diff", f"{app}-prod", f"{app}-staging", "--format", "table", env=demo.env)
        demo.outputs[f"diff table {app}"] = shown.stdout + shown.stderr
    return result


def test_apps_answer_with_their_migrations_and_release(demo: Demo) -> None:
    out = demo.outputs["up stdout"]
    assert out.count('"revision":"9e4f2d71a6b8"') == 2  # the ledger migrated itself at start
    assert out.count('"release":"1.8.0"') == 2
    for app in APPS:
        for side in ("prod", "staging"):
            dsn = STATE_DIR / f"{app}-{side}.dsn"
            assert dsn.stat().st_mode & 0o777 == 0o600


@pytest.mark.parametrize(
    "app,planted",
    [(app, p) for app, items in PLANTED.items() for p in items],
    ids=lambda v: v if isinstance(v, str) else v.what,
)
def test_diff_finds_planted_difference(
    app: str, planted: Planted, diffs: dict[str, list[dict[str, Any]]]
) -> None:
    found = [item for item in diffs[app] if planted.matches(item)]
    assert found, f"{app}: missing {planted.what}:\n{describe(diffs[app])}"
    best = max(found, key=lambda item: rank(item["severity"]))
    assert best["severity"] in planted.severities, describe(found)


@pytest.mark.parametrize("app", APPS)
def test_nothing_else_above_low(app: str, diffs: dict[str, list[dict[str, Any]]]) -> None:
    found = noise(diffs[app], PLANTED[app])
    assert not found, f"{app}: noise above 'low':\n" + describe(found)


def test_no_secret_value_in_any_output(demo: Demo, diffs: dict[str, list[dict[str, Any]]]) -> None:
    leaks = [
        f"{name} in {where}"
        for where, text in demo.outputs.items()
        for name, value in demo.secrets.items()
        if value and value in text
    ]
    assert not leaks, "secret values printed or stored: " + ", ".join(leaks)
