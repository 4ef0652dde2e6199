"""`repro bisect` end to end on the real Docker engine: the demo shop's planted production-only
bugs, bisected between the staging (good) and production (bad) snapshots, each step a real
sandbox replay. Each names its planted difference as the 1-minimal cause; a bug production's
sandbox does not reproduce (ticket-race needs concurrent requests; bisect sends one per step)
stops at the endpoints; Ctrl-C and SIGTERM mid-bisect leave no container or network behind.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import json_report, run_repro
from tests.helpers.dockerutil import require_image
from tests.helpers.dockerutil import sandbox_leftovers as leftovers
from tests.helpers.procs import popen
from tests.helpers.socket_relay import relayed_engine

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
INCIDENTS = ROOT / "fixtures" / "incidents"
PROD = str(ROOT / "fixtures" / "snapshots" / "prod.json")
STAGING = str(ROOT / "fixtures" / "snapshots" / "staging.json")
IMAGES = ("repro/demo-shop:2.1.0", "repro/demo-shop:1.4.2", "postgres:13", "postgres:15")
SANDBOX_LABEL = "repro.sandbox.id"

# bug -> the change keys bisect must name (the planted difference).
EXPECTED = {
    "feature-flag": ["env:FEATURE_NEW_CHECKOUT"],
    "pg-version": ["database:server"],
    "null-email": ["database:data:public.customers"],
    "unreadable-config": ["files:/etc/demo-app/settings.yaml"],
}


@pytest.fixture(scope="module")
def incidents(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    for image in IMAGES:
        require_image(docker_client, image)
    folder = tmp_path_factory.mktemp("incidents")
    made: dict[str, Path] = {}
    for name in [*EXPECTED, "ticket-race", "login-lock"]:
        path = folder / f"{name}.yaml"
        done = run_repro(
            "import", "sentry", str(INCIDENTS / name / "sentry-event.json"), "-o", str(path)
        )
        assert done.returncode == 0, done.stderr
        made[name] = path
    # export-oom: production's process was killed; what is left is nginx's 502 line
    path = folder / "export-oom.yaml"
    access = (INCIDENTS / "export-oom" / "access.log").read_text()
    done = run_repro("import", "log", "-", "-o", str(path), stdin=access)
    assert done.returncode == 0, done.stderr
    made["export-oom"] = path
    return made


def bisect(incident: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return run_repro(
        "bisect", str(incident), "--good", STAGING, "--bad", PROD, "--json", *extra, timeout=900
    )


@pytest.mark.parametrize("bug", sorted(EXPECTED))
def test_bisect_names_the_planted_difference(
    bug: str, incidents: dict[str, Path], docker_client: Any
) -> None:
    done = bisect(incidents[bug])
    report = json_report(done)
    assert (done.returncode, report["status"]) == (0, "cause"), report["message"]
    assert report["minimal"] is True
    assert [c["key"] for c in report["cause"]] == EXPECTED[bug]
    steps = report["steps"]
    assert [s["role"] for s in steps[:3]] == ["bad", "good", "all"]
    assert [s["verdict"] for s in steps[:3]] == ["reproduced", "not-reproduced", "reproduced"]
    # The proof: a replay with exactly the cause applied reproduced it...
    assert any(s["changes"] == EXPECTED[bug] and s["outcome"] == "fail" for s in steps)
    assert report["evidence"].startswith("reproduced")
    # ...and every subset was replayed once (the verdict cache).
    subsets = [tuple(s["changes"]) for s in steps if s["role"] in ("all", "step")]
    assert len(subsets) == len(set(subsets))
    assert report["replays"] == len(steps)
    # Production's memory limit is a change like the others (and not the cause here);
    # what the sandbox cannot apply is listed with the reason, not pretended.
    assert "runtime:cgroup.memory_limit_bytes" in [c["key"] for c in report["changes"]]
    untested = {u["path"]: u["why"] for u in report["untested"]}
    assert all(why for why in untested.values())
    # The fix script covers the cause only.
    if bug == "feature-flag":
        assert "export FEATURE_NEW_CHECKOUT=1" in report["fix_script"]
        assert "PAYMENTS_API_URL" not in report["fix_script"]
    assert "Traceback" not in done.stderr
    assert leftovers(docker_client) == []


def test_a_bug_production_sandbox_does_not_reproduce_stops_at_the_endpoints(
    incidents: dict[str, Path], docker_client: Any
) -> None:
    # ticket-race is a race under concurrent requests: one replay of production does not show it
    done = bisect(incidents["ticket-race"])
    report = json_report(done)
    assert (done.returncode, report["status"]) == (3, "endpoints"), report["message"]
    assert report["message"].startswith("the bad side does not reproduce the incident")
    assert report["replays"] == 1
    assert done.stderr.strip().splitlines()[-1].startswith("repro: ENDPOINTS: ")
    assert leftovers(docker_client) == []


def test_an_oom_under_production_limit_and_scale_is_bisected_to_both(
    incidents: dict[str, Path], docker_client: Any
) -> None:
    # Killed at 128 MiB with production's orders, fine at staging's 512 MiB or with its 4
    # orders: the cause is the limit and the scale together, each needed.
    done = bisect(incidents["export-oom"], "--expect", "oom")
    report = json_report(done)
    assert (done.returncode, report["status"]) == (0, "cause"), report["message"]
    assert report["minimal"] is True
    assert sorted(c["key"] for c in report["cause"]) == [
        "database:data:public.order_items",
        "database:data:public.orders",
        "runtime:cgroup.memory_limit_bytes",
    ]
    assert "OOMKilled" in report["evidence"]
    assert leftovers(docker_client) == []


def test_a_failure_both_sides_show_under_the_condition_has_no_environment_cause(
    incidents: dict[str, Path], docker_client: Any
) -> None:
    # The nightly job's lock, held on both sides: logins fail on staging's sandbox too.
    lock = "sql:LOCK TABLE users IN SHARE MODE;hold=30s"
    done = bisect(incidents["login-lock"], "--with-job", lock)
    report = json_report(done)
    assert (done.returncode, report["status"]) == (1, "no-cause"), report["message"]
    assert report["message"].startswith("not caused by an environment difference: the good side")
    assert [s["role"] for s in report["steps"]] == ["bad", "good"]
    assert report["cause"] == []
    assert leftovers(docker_client) == []


def test_max_replays_stops_with_what_it_has(incidents: dict[str, Path], docker_client: Any) -> None:
    done = bisect(incidents["feature-flag"], "--max-replays", "5")
    report = json_report(done)
    assert (done.returncode, report["status"]) == (4, "budget"), report["message"]
    assert report["replays"] == 5 and report["minimal"] is False
    assert "env:FEATURE_NEW_CHECKOUT" in [c["key"] for c in report["cause"]]
    assert leftovers(docker_client) == []


def test_bad_arguments_are_one_line_errors(incidents: dict[str, Path]) -> None:
    done = bisect(incidents["feature-flag"], "--max-replays", "2")
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == (
        "repro: error: --max-replays must be at least 3 (the two endpoints and all changes)"
    )
    missing = run_repro("bisect", str(incidents["feature-flag"]), "--good", "/nonexistent.json",
                        "--bad", PROD)  # fmt: skip
    assert missing.returncode == 2 and "Traceback" not in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1


@pytest.mark.parametrize("jobs", ["1", "2"], ids=["jobs1", "jobs2"])
@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["sigint", "sigterm"])
def test_interrupt_mid_bisect_leaves_nothing(
    signum: int, jobs: str, incidents: dict[str, Path], docker_client: Any
) -> None:
    # With --jobs 2 two sandboxes are up at once in worker threads: both are removed.
    proc = popen(
        [sys.executable, "-m", "repro.cli", "bisect", str(incidents["pg-version"]),
         "--good", STAGING, "--bad", PROD, "--json", "--jobs", jobs],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ},
    )  # fmt: skip
    try:
        # Wait until a step's sandbox app is up (past the first step's database and data).
        deadline = time.monotonic() + 120
        seen = 0
        while time.monotonic() < deadline and proc.poll() is None:
            apps = docker_client.api.containers(
                filters={"label": ["repro.sandbox.role=app", SANDBOX_LABEL]}
            )
            seen = seen + 1 if apps else seen
            if seen >= 3:
                break
            time.sleep(0.1)
        assert proc.poll() is None, "bisect ended before it could be interrupted"
        proc.send_signal(signum)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, err
    assert "Traceback" not in err
    assert leftovers(docker_client) == []


# A second Docker engine on its own socket and data root, when one runs (REPRO_SECOND_ENGINE:
# its address; .ci/run starts one with images/start-second-docker.sh). Otherwise the one
# engine gets a second address through a socket relay (tests/helpers/socket_relay.py): the
# steps are still spread over two addresses, each cleaned up and counted on its own, on real
# sandboxes.
SECOND_ENGINE = os.environ.get("REPRO_SECOND_ENGINE")


@pytest.fixture
def two_engines(docker_client: Any, tmp_path: Path) -> Iterator[tuple[str, str, Any]]:
    """Two engine addresses and a client of the second."""
    import docker

    first = os.environ.get("DOCKER_HOST", "unix:///var/run/docker.sock")
    if SECOND_ENGINE:
        yield first, SECOND_ENGINE, docker.DockerClient(base_url=SECOND_ENGINE)
        return
    if not first.startswith("unix://"):
        pytest.fail(f"a relay needs the engine on a unix socket, not {first}")
    with relayed_engine(first.removeprefix("unix://"), tmp_path) as second:
        yield first, second, docker.DockerClient(base_url=second)


def test_jobs_spread_steps_over_two_engines(
    incidents: dict[str, Path], docker_client: Any, two_engines: tuple[str, str, Any]
) -> None:
    first, second_address, second = two_engines
    for image in IMAGES:
        require_image(second, image)
    done = bisect(incidents["feature-flag"], "--jobs", "2", "--engine", first,
                  "--engine", second_address)  # fmt: skip
    report = json_report(done)
    assert (done.returncode, report["status"]) == (0, "cause"), report["message"]
    assert [c["key"] for c in report["cause"]] == EXPECTED["feature-flag"]
    # Both engines ran steps (the endpoints already go one to each).
    assert set(report["engines"]) == {first, second_address}
    assert all(count >= 1 for count in report["engines"].values())
    assert leftovers(docker_client) == [] and leftovers(second) == []
