"""`repro replay` of the Node.js demo service's incident (fixtures/incidents/null-profile),
end to end on the real engine, twice: from its real @sentry/node event, and from nginx's access
line with the Node.js stack trace the service logged (``repro import log ACCESS --traceback
app.log``). With the production snapshot (fixtures/snapshots/accounts-prod.json: ~6% of users
without a profile) the sandboxed service sends its own Node SDK event to repro's sink and the
failure is REPRODUCED through the same in-app frames (auth.js `toPrincipal`) — a signature
parsed from a Node.js log matches one from the Node SDK; with staging's snapshot it is
NOT_REPRODUCED (200).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.dockerutil import require_image

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
INCIDENTS = ROOT / "fixtures" / "incidents" / "null-profile"
INCIDENT = INCIDENTS / "sentry-event.json"
SNAPSHOTS = ROOT / "fixtures" / "snapshots"


def repro(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "repro.cli", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT,
        check=False,
    )


@pytest.fixture(scope="module")
def incident(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    for image in ("repro/demo-accounts:1.8.0", "postgres:15"):
        require_image(docker_client, image)
    path = tmp_path_factory.mktemp("incident") / "null-profile.yaml"
    made = repro("import", "sentry", str(INCIDENT), "-o", str(path))
    assert made.returncode == 0, made.stderr
    return path


def replay(incident: Path, snapshot: str) -> tuple[int, dict[str, Any]]:
    done = repro(
        "replay", str(incident), "--snapshot", str(SNAPSHOTS / snapshot), "--json", "--no-parity"
    )
    assert "Traceback" not in done.stderr, done.stderr
    try:
        return done.returncode, json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"no JSON report (exit {done.returncode}): {done.stderr[-2000:]}")


def test_production_snapshot_reproduces_from_the_node_event(incident: Path) -> None:
    code, report = replay(incident, "accounts-prod.json")
    assert (code, report["verdict"]) == (0, "reproduced"), report["reason"]
    sandbox = report["evidence"]["sandbox"]
    assert sandbox["source"] == "sentry"  # the sandboxed service's own @sentry/node event
    main = sandbox["signature"]["exceptions"][-1]
    assert main["type"] == "TypeError"
    assert main["value"] == "Cannot read properties of null (reading 'email')"
    in_app = [(f["function"], f["context_line"]) for f in main["frames"] if f["in_app"]]
    assert ("toPrincipal", "email: profile.email.toLowerCase(),") in in_app
    assert report["attempts"][0]["status"] == 500


def test_staging_snapshot_does_not_reproduce(incident: Path) -> None:
    code, report = replay(incident, "accounts-staging.json")
    assert (code, report["verdict"]) == (1, "not-reproduced"), report["reason"]
    assert report["attempts"][0]["status"] == 200


@pytest.fixture(scope="module")
def from_log(incident: Path) -> Path:
    path = incident.parent / "null-profile-log.yaml"
    access = (INCIDENTS / "access.log").read_text()
    made = repro(
        "import", "log", access, "--traceback", str(INCIDENTS / "app.log"), "-o", str(path)
    )
    assert made.returncode == 0, made.stderr
    return path


def test_production_snapshot_reproduces_from_the_node_log(from_log: Path) -> None:
    code, report = replay(from_log, "accounts-prod.json")
    assert (code, report["verdict"], report["match"]) == (0, "reproduced", "signature")
    production = report["evidence"]["production"]["signature"]["exceptions"][-1]
    assert production["type"] == "TypeError"
    assert [f["function"] for f in production["frames"] if f["in_app"]] == [None, "toPrincipal"]
    main = report["evidence"]["sandbox"]["signature"]["exceptions"][-1]
    assert main["type"] == "TypeError"
    assert report["attempts"][0]["status"] == 500


def test_staging_snapshot_does_not_reproduce_from_the_node_log(from_log: Path) -> None:
    code, report = replay(from_log, "accounts-staging.json")
    assert (code, report["verdict"]) == (1, "not-reproduced"), report["reason"]
    assert report["attempts"][0]["status"] == 200
