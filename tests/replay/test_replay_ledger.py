"""`repro replay` of the ledger's incident (fixtures/incidents/revenue-timezone), end to end on
the real engine: an app of another shape than the shop — SQLAlchemy with `alembic upgrade head`
run at start, database settings from separate variables (DB_HOST, DB_PORT, DB_USER,
DB_PASSWORD, DB_NAME), no Sentry SDK.

The incident is what its logs hold: nginx's access line, imported with the Python traceback
the app logged (``repro import log ACCESS --traceback app.log``). On production's snapshot
(PostgreSQL TimeZone Europe/Berlin) the report fails with the same KeyError in
``daily_revenue``: REPRODUCED; on staging's (UTC) it answers 200: NOT_REPRODUCED. Both sandboxes
start because production's ``alembic_version`` row is loaded as captured, and the app reaches
the sandbox database through its own five variables.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.cli import json_report, run_repro
from tests.helpers.dockerutil import require_image

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
INCIDENT = ROOT / "fixtures" / "incidents" / "revenue-timezone"
SNAPSHOTS = ROOT / "fixtures" / "snapshots"
WIRED = {"DB_HOST", "DB_PORT", "DB_USER", "DB_PASSWORD", "DB_NAME"}


def repro(*args: str) -> subprocess.CompletedProcess[str]:
    return run_repro(*args, timeout=300)


@pytest.fixture(scope="module")
def incident(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    for image in ("repro/demo-ledger:3.4.1", "postgres:15"):
        require_image(docker_client, image)
    path = tmp_path_factory.mktemp("ledger") / "revenue-timezone.yaml"
    access = (INCIDENT / "access.log").read_text()
    made = repro("import", "log", access, "--traceback", str(INCIDENT / "app.log"), "-o", str(path))
    assert made.returncode == 0, made.stderr
    return path


def test_the_incident_carries_the_logged_traceback(incident: Path) -> None:
    signature = yaml.safe_load(incident.read_text())["signature"]
    assert signature["status"] == 500
    (error,) = signature["exceptions"]
    assert error["type"] == "KeyError"
    in_app = [(f["function"], f["context_line"]) for f in error["frames"] if f["in_app"]]
    assert in_app == [("daily_revenue", "entry = days[bucket]")]


def test_production_snapshot_reproduces_from_the_log(incident: Path) -> None:
    done = repro(
        "replay", str(incident), "--snapshot", str(SNAPSHOTS / "ledger-prod.json"), "--json"
    )
    report = json_report(done)
    assert (done.returncode, report["verdict"], report["match"]) == (0, "reproduced", "signature")
    sandbox = report["evidence"]["sandbox"]
    assert sandbox["source"] == "log"  # no Sentry SDK: Flask's traceback in the app's log
    main = sandbox["signature"]["exceptions"][-1]
    assert main["type"] == "KeyError" and "seconds=3600" in main["value"]
    # the migrations at start found production's revision: the app came up healthy
    rows = report["sandbox"]["rows"]["tables"]
    assert rows["public.alembic_version"] == 1 and rows["public.invoices"] > 1000
    assert [s["name"] for s in report["stages"]][:5] == [
        "network", "database", "data", "app", "health",
    ]  # fmt: skip
    # wired by its own five variables, as the app's role with production's grants
    sources = {e["name"]: e["source"] for e in report["sandbox"]["env"]}
    assert {name for name, src in sources.items() if src == "sandbox database"} == WIRED
    assert "DATABASE_URL" not in sources and "SENTRY_DSN" not in sources
    assert report["sandbox"]["app_role"].startswith("app (profile database.role)")
    # a sandbox as faithful as the snapshot allows: nothing about the database above low
    # (the memory limit is a production condition applied elsewhere)
    parity = report["parity"]
    assert parity["error"] is None and parity["incomparable"] == []
    assert not [i for i in parity["top"] if i["path"].startswith("database.") and
                i["severity"] in ("critical", "high", "medium")]  # fmt: skip


def test_staging_snapshot_does_not_reproduce(incident: Path) -> None:
    done = repro(
        "replay",
        str(incident),
        "--snapshot",
        str(SNAPSHOTS / "ledger-staging.json"),
        "--json",
        "--no-parity",
    )
    report = json_report(done)
    assert (done.returncode, report["verdict"]) == (1, "not-reproduced"), report["reason"]
    assert report["attempts"][0]["status"] == 200


def test_a_minimal_profile_is_wired_from_the_snapshot(incident: Path, tmp_path: Path) -> None:
    """No database section, no wiring: the variables and the app's role come from
    production's environment in the snapshot (DB_USER=app)."""
    minimal = {
        "name": "ledger-minimal",
        "target": {"kind": "local"},
        "sandbox": {
            "app": {
                "image": "repro/demo-ledger:3.4.1",
                "port": 8000,
                "health": "/health",
                "sentry": False,
            }
        },
    }
    profile = tmp_path / "ledger-minimal.yaml"
    profile.write_text(yaml.safe_dump(minimal))
    done = repro(
        "replay",
        str(incident),
        "--snapshot",
        str(SNAPSHOTS / "ledger-prod.json"),
        "--profile",
        str(profile),
        "--json",
        "--no-parity",
        "--repeat",
        "2",
    )
    report = json_report(done)
    assert (done.returncode, report["verdict"]) == (0, "reproduced"), report["reason"]
    assert report["sandbox"]["database_wiring"] == (
        "DB_HOST, DB_NAME, DB_PASSWORD, DB_PORT, DB_USER (inferred from production's environment)"
    )
    assert report["sandbox"]["app_role"].startswith("app (the user production's app uses)")
    assert [a["source"] for a in report["attempts"]] == ["log", "log"]


def _replay_broken(incident: Path, tmp_path: Path, **changes: Any) -> dict[str, Any]:
    args = ["replay", str(incident), "--json", "--no-parity", "--rows", changes.get("rows", "0")]
    snapshot = SNAPSHOTS / "ledger-prod.json"
    if "snapshot" in changes:
        snapshot = tmp_path / "ledger-prod.json"
        snapshot.write_text(json.dumps(changes["snapshot"]))
    if "profile" in changes:
        profile = tmp_path / "ledger.yaml"
        profile.write_text(yaml.safe_dump(changes["profile"]))
        args += ["--profile", str(profile)]
    done = repro(*args, "--snapshot", str(snapshot))
    report = json_report(done)
    assert (done.returncode, report["verdict"]) == (2, "env-error"), report["reason"]
    assert report["attempts"] == []  # given up while starting, not after the health timeout
    assert "did not become ready within" not in report["env_error"]
    return report


@pytest.mark.parametrize(
    ("estimate", "cause"),
    [
        (1, "the app's migrations failed: alembic cannot locate revision"),
        (None, "the app's migrations failed: relation"),
    ],
    ids=["generated-version", "empty-history"],
)
def test_migration_history_not_productions_is_env_error_naming_it(
    estimate: int | None, cause: str, incident: Path, tmp_path: Path
) -> None:
    """What the sandbox did before it loaded migration tables as captured: a generated
    version_num (when statistics count the row) stops `alembic upgrade head`; an empty table
    makes it re-run the migrations on a schema that is already there."""
    snapshot = json.loads((SNAPSHOTS / "ledger-prod.json").read_text())
    database = snapshot["facets"]["database"]["data"]
    del database["migration_tables"]
    database["tables"]["public.alembic_version"]["rows_estimate"] = estimate
    report = _replay_broken(incident, tmp_path, snapshot=snapshot, rows="100")
    assert cause in report["env_error"], report["env_error"]


def test_a_login_refused_by_the_sandbox_database_is_env_error(
    incident: Path, tmp_path: Path
) -> None:
    """A wiring that leaves DB_PASSWORD out: the app keeps a placeholder for it and the
    sandbox database refuses the login."""
    profile = yaml.safe_load((ROOT / "profiles" / "ledger-prod.yaml").read_text())
    del profile["sandbox"]["database"]["env"]["password"]
    report = _replay_broken(incident, tmp_path, profile=profile)
    assert 'password authentication failed for user "app"' in report["env_error"]
