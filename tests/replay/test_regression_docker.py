"""``repro replay --emit-pytest`` end to end on the real Docker engine: the module written for
the demo shop's feature-flag incident is run with ``python -m pytest`` in a subprocess, as a
user's CI would run it. Built from production's snapshot the bug still reproduces (demo-shop
2.1.0 with FEATURE_NEW_CHECKOUT=1), so the regression test fails and shows the evidence; built
from staging's it does not, so the test passes. REPRO_REQUIRE_DOCKER=1 in the subprocess: a
skipped regression test would pass here for the wrong reason.
"""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from repro.replay.regression import CONSTANTS
from tests.helpers.cli import ROOT, json_report, run_repro
from tests.helpers.dockerutil import require_image
from tests.helpers.dockerutil import sandbox_leftovers as leftovers
from tests.helpers.procs import default_signals

pytestmark = [pytest.mark.docker, pytest.mark.slow]

SENTRY_EVENT = ROOT / "fixtures" / "incidents" / "feature-flag" / "sentry-event.json"
IMAGES = ("repro/demo-shop:2.1.0", "repro/demo-shop:1.4.2", "postgres:13", "postgres:15")


def emitted_constants(path: Path) -> dict[str, Any]:
    return {
        node.targets[0].id: ast.literal_eval(node.value)
        for node in ast.parse(path.read_text(encoding="utf-8")).body
        if isinstance(node, ast.Assign) and getattr(node.targets[0], "id", "") in CONSTANTS
    }


def run_pytest(module: Path) -> subprocess.CompletedProcess[str]:
    """The emitted module alone, from the repository root (repro importable from there), with
    its own root directory: none of this suite's configuration or conftest applies."""
    return subprocess.run(
        [
            sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "--rootdir",
            str(module.parent), "-q", str(module),
        ],
        cwd=ROOT,
        env={**os.environ, "REPRO_REQUIRE_DOCKER": "1"},
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        preexec_fn=default_signals,
    )  # fmt: skip


def test_the_emitted_module_fails_while_the_bug_reproduces_and_passes_where_it_does_not(
    docker_client: Any, tmp_path: Path
) -> None:
    for image in IMAGES:
        require_image(docker_client, image)
    incident = tmp_path / "feature-flag.yaml"
    made = run_repro("import", "sentry", str(SENTRY_EVENT), "-o", str(incident))
    assert made.returncode == 0, made.stderr
    modules = {}
    for side, verdict, code in (("prod", "reproduced", 0), ("staging", "not-reproduced", 1)):
        module = tmp_path / f"test_feature_flag_{side}.py"
        snapshot = str(ROOT / "fixtures" / "snapshots" / f"{side}.json")
        done = run_repro(
            "replay", str(incident), "--snapshot", snapshot, "--json", "--no-parity",
            "--emit-pytest", str(module),
        )  # fmt: skip
        report = json_report(done)
        assert (done.returncode, report["verdict"]) == (code, verdict), report["reason"]
        assert f"wrote {module}" in done.stderr
        assert module.is_file()
        modules[side] = module
    constants = emitted_constants(modules["prod"])
    # The snapshot inside the repository is recorded relative to it; the incident and the
    # repository (the module is outside it) are absolute.
    assert constants["SNAPSHOT"] == "fixtures/snapshots/prod.json"
    if not tmp_path.is_relative_to(ROOT):
        assert (constants["WORKDIR"], constants["INCIDENT"]) == (str(ROOT), str(incident))
    assert constants["IMAGE"] is None  # no --candidate: the profile's release

    failing = run_pytest(modules["prod"])
    assert failing.returncode == 1, failing.stdout + failing.stderr
    assert "1 failed" in failing.stdout
    assert "NOT_FIXED (repro/demo-shop:2.1.0): production's failure again" in failing.stdout
    assert "KeyError" in failing.stdout  # the evidence: the sandbox's exception

    passing = run_pytest(modules["staging"])
    assert passing.returncode == 0, passing.stdout + passing.stderr
    assert "1 passed" in passing.stdout
    assert leftovers(docker_client) == []
