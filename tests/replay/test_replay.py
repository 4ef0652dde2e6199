"""`repro replay` end to end on the real Docker engine: the demo shop's four planted
production-only bugs, replayed from their captured Sentry events (fixtures/incidents/<bug>/).

With the production snapshot (PostgreSQL 13, ~5% NULL emails, FEATURE_NEW_CHECKOUT=1,
settings.yaml 0600 root:root, demo-pricing 2.1.0 image) each bug is REPRODUCED with the right
exception and in-app frame; with the staging snapshot (PostgreSQL 15, 3 customers, no flag,
settings readable by the app) each is NOT_REPRODUCED. Every run is the real command in a
subprocess, and afterwards no container or network of a sandbox is left: after success,
after a failed sandbox (ENV_ERROR) and after SIGINT mid-replay.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.helpers.cli import json_report, run_repro
from tests.helpers.dockerutil import require_image
from tests.helpers.dockerutil import sandbox_leftovers as leftovers
from tests.helpers.pg import fresh_database
from tests.helpers.procs import popen

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
INCIDENTS = ROOT / "fixtures" / "incidents"
PROD = str(ROOT / "fixtures" / "snapshots" / "prod.json")
STAGING = str(ROOT / "fixtures" / "snapshots" / "staging.json")
SANDBOX_LABEL = "repro.sandbox.id"
IMAGES = ("repro/demo-shop:2.1.0", "repro/demo-shop:1.4.2", "postgres:13", "postgres:15")


@dataclass(frozen=True)
class Bug:
    name: str
    exception: str
    function: str
    context_line: str


BUGS = [
    Bug(
        "null-email",
        "AttributeError",
        "newsletter_report",
        'recipients.append(row["email"].lower())',
    ),
    Bug(
        "feature-flag",
        "KeyError",
        "checkout_preview",
        'country = payload["shipping_address"]["country"]',
    ),
    Bug(
        "pg-version",
        "psycopg.errors.UndefinedFunction",
        "order_stats",
        "rows = conn.execute(ORDER_STATS_SQL, (weeks,)).fetchall()",
    ),
    Bug(
        "unreadable-config",
        "PermissionError",
        "pricing_rules",
        'with open(path, encoding="utf-8") as handle:',
    ),
]


def repro(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess[str]:
    # from the repo root: the profiles' sandbox.app.files are relative to it
    return run_repro(*args, env=env, timeout=timeout)


@pytest.fixture(scope="module")
def incidents(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    for image in IMAGES:
        require_image(docker_client, image)
    folder = tmp_path_factory.mktemp("incidents")
    made: dict[str, Path] = {}
    for bug in BUGS:
        path = folder / f"{bug.name}.yaml"
        done = repro(
            "import", "sentry", str(INCIDENTS / bug.name / "sentry-event.json"), "-o", str(path)
        )
        assert done.returncode == 0, done.stderr
        made[bug.name] = path
    return made


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.name)
def test_production_sandbox_reproduces(
    bug: Bug, incidents: dict[str, Path], docker_client: Any
) -> None:
    done = repro("replay", str(incidents[bug.name]), "--snapshot", PROD, "--json", "--no-parity")
    report = json_report(done)
    assert (done.returncode, report["verdict"]) == (0, "reproduced"), report["reason"]
    sandbox = report["evidence"]["sandbox"]
    assert sandbox["source"] == "sentry"  # the app's own event, through repro's sink
    main = sandbox["signature"]["exceptions"][-1]
    assert main["type"] == bug.exception
    in_app = [(f["function"], f["context_line"]) for f in main["frames"] if f["in_app"]]
    assert (bug.function, bug.context_line) in in_app
    assert report["attempts"][0]["status"] == 500
    assert report["sandbox"]["database"]["major"] == 13
    assert leftovers(docker_client) == []


@pytest.mark.parametrize("bug", BUGS, ids=lambda b: b.name)
def test_staging_sandbox_does_not_reproduce(
    bug: Bug, incidents: dict[str, Path], docker_client: Any
) -> None:
    done = repro("replay", str(incidents[bug.name]), "--snapshot", STAGING, "--json", "--no-parity")
    report = json_report(done)
    assert (done.returncode, report["verdict"]) == (1, "not-reproduced"), report["reason"]
    # The request was served, not refused: staging-shaped data holds what it names.
    assert report["attempts"][0]["status"] == 200
    assert report["sandbox"]["database"]["major"] == 15
    assert leftovers(docker_client) == []


def test_har_capture_reproduces_by_status_and_repeat_gives_a_rate(
    incidents: dict[str, Path], docker_client: Any, tmp_path: Path
) -> None:
    incident = tmp_path / "har.yaml"
    made = repro(
        "import", "har", str(INCIDENTS / "pg-version" / "request.har"), "-o", str(incident)
    )
    assert made.returncode == 0, made.stderr
    done = repro(
        "replay", str(incident), "--snapshot", PROD, "--json", "--no-parity", "--repeat", "3"
    )
    report = json_report(done)
    assert (done.returncode, report["verdict"]) == (0, "reproduced"), report["reason"]
    assert report["rate"]["matched"] == report["rate"]["attempts"] == 3
    assert [a["status"] for a in report["attempts"]] == [500, 500, 500]
    # a HAR records no exception: the match is on the status alone, and says so
    assert (report["weak"], report["match"]) == (True, "status-only")
    assert (
        "weak: status only: production recorded no exception; the sandbox raised "
        in (report["reason"])
    )
    assert leftovers(docker_client) == []


def test_status_only_match_is_weak_in_markdown_and_unconfirmed_on_request(
    docker_client: Any, tmp_path: Path
) -> None:
    incident = tmp_path / "har.yaml"
    made = repro(
        "import", "har", str(INCIDENTS / "pg-version" / "request.har"), "-o", str(incident)
    )
    assert made.returncode == 0, made.stderr
    args = ["replay", str(incident), "--snapshot", PROD, "--no-parity"]
    markdown = repro(*args, "--markdown")
    assert markdown.returncode == 0, markdown.stderr
    assert markdown.stdout.startswith("## repro replay: REPRODUCED (weak: status only)\n")
    assert "UndefinedFunction" in markdown.stdout  # the sandbox's exception, shown
    strict = repro(*args, "--json", "--require-signature")
    report = json_report(strict)
    assert (strict.returncode, report["verdict"]) == (1, "unconfirmed"), report["reason"]
    assert "--traceback FILE" in report["reason"]
    assert leftovers(docker_client) == []


def _wired_wrong(tmp_path: Path, *, health: bool) -> Path:
    """prod.yaml whose sandbox wires a variable the app does not read: the app's own
    DATABASE_URL keeps production's fingerprinted value, i.e. a placeholder."""
    profile = yaml.safe_load((ROOT / "profiles" / "prod.yaml").read_text())
    profile["sandbox"]["database"]["env"] = "SHOP_DATABASE_URL"
    if not health:
        del profile["sandbox"]["app"]["health"]  # ready on any answer, even a 503
    path = tmp_path / f"wired-wrong-{health}.yaml"
    path.write_text(yaml.safe_dump(profile))
    return path


@pytest.mark.parametrize("health", [False, True], ids=["at-the-request", "at-start"])
def test_a_sandbox_that_cannot_use_its_database_is_env_error_not_reproduced(
    health: bool, docker_client: Any, tmp_path: Path
) -> None:
    """Issue 16's false REPRODUCED: a status-only incident (a HAR) and an app that cannot use
    the sandbox database fail with production's status 500, for the sandbox's own reason."""
    incident = tmp_path / "har.yaml"
    made = repro(
        "import", "har", str(INCIDENTS / "null-email" / "request.har"), "-o", str(incident)
    )
    assert made.returncode == 0, made.stderr
    done = repro(
        "replay",
        str(incident),
        "--snapshot",
        STAGING,
        "--profile",
        str(_wired_wrong(tmp_path, health=health)),
        "--json",
        "--no-parity",
    )
    report = json_report(done)
    assert (done.returncode, report["verdict"]) == (2, "env-error"), report["reason"]
    assert (
        "the app failed on a placeholder: DATABASE_URL held production's secret"
        in (report["env_error"])
    )
    assert "repro-placeholder" in "\n".join(report["app_log_tail"])
    if health:  # found while waiting for /health, not after its 60 s timeout
        assert "did not become ready within" not in report["env_error"]
        assert report["attempts"] == []
    else:
        assert report["attempts"][0]["status"] == 500
        assert report["reason"].startswith("the sandbox is broken, no verdict on the bug")
    assert leftovers(docker_client) == []


def test_parity_secrets_and_stand_ins_never_leak(
    incidents: dict[str, Path], docker_client: Any, tmp_path: Path
) -> None:
    canary_secret = "canary-secret-5f1c2a9e7b"
    canary_token = "canary-token-81d0c3f4aa"
    secrets = tmp_path / "sandbox.env"
    secrets.write_text(f"SECRET_KEY={canary_secret}\n")
    args = [
        "replay",
        str(incidents["null-email"]),
        "--snapshot",
        PROD,
        "--secrets",
        str(secrets),
        "--auth",
        f"Bearer {canary_token}",
    ]
    done = repro(*args, "--json")
    report = json_report(done)
    assert done.returncode == 0, report["reason"]
    sources = {e["name"]: e["source"] for e in report["sandbox"]["env"]}
    assert sources["SECRET_KEY"] == "secrets file"
    assert sources["DEMO_SIGNING_SALT"] == "placeholder"
    assert sources["DATABASE_URL"] == "sandbox database"
    assert {"where": "header:Authorization", "source": "--auth"} in report["stand_ins"]
    files = {f["path"]: f for f in report["sandbox"]["files"]}
    assert files["/etc/demo-app/settings.yaml"]["mode"] == "0600"
    assert report["sandbox"]["app"]["user"] == "10001:10001"
    parity = report["parity"]
    assert parity["error"] is None
    # The facets the sandbox could capture compare with production's: nothing incomparable
    # (the app's uid cannot read settings.yaml, the capture runs as root as in production).
    assert parity["incomparable"] == []
    paths = [item["path"] for item in parity["top"]]
    assert "database.server.major" not in " ".join(paths)  # same major: not a discrepancy
    markdown = repro(*args, "--markdown")
    assert markdown.returncode == 0 and "## repro replay: REPRODUCED" in markdown.stdout
    for output in (done.stdout, done.stderr, markdown.stdout, markdown.stderr):
        assert canary_secret not in output and canary_token not in output
    assert leftovers(docker_client) == []


def test_masked_copy_brings_productions_data_to_a_staging_sandbox(
    incidents: dict[str, Path], docker_client: Any, postgres_13: Any, tmp_path: Path
) -> None:
    """Staging's sandbox does not fail on the NULL-email request with its own data; loaded
    with a masked copy of production's rows (`repro data anonymize --to copy.sql.gz`) it does."""
    rules = yaml.safe_load((ROOT / "profiles" / "anonymize.yaml").read_text())
    # The newsletter flag lives in the hstore attributes: a copy that blanks them (the example
    # rules do, to be safe) loses the subscribers whose NULL email crashes the report.
    rules["tables"]["public.customers"]["columns"]["attributes"] = "keep"
    rules_file = tmp_path / "rules.yaml"
    rules_file.write_text(yaml.safe_dump(rules))
    dump = tmp_path / "prod-copy.sql.gz"
    env_key = {"REPRO_ANON_KEY": "test-anonymization-key"}
    with fresh_database(postgres_13.dsn) as source:
        made = repro("data", "generate", PROD, "--dsn", source, "--create-schema", "--json")
        assert made.returncode == 0, made.stderr
        copied = repro(
            "data",
            "anonymize",
            "--from",
            source,
            "--to",
            str(dump),
            "--rules",
            str(rules_file),
            "--json",
            env={**os.environ, **env_key},
        )
        assert copied.returncode == 0, copied.stderr
    args = ["replay", str(incidents["null-email"]), "--snapshot", STAGING, "--json", "--no-parity"]
    report = json_report(repro(*args, "--data", str(dump)))
    assert report["verdict"] == "reproduced", report["reason"]
    assert report["sandbox"]["database"]["major"] == 15
    assert report["sandbox"]["rows"]["source"] == "from prod-copy.sql.gz"
    assert report["sandbox"]["rows"]["tables"]["public.customers"] == 20_000
    assert leftovers(docker_client) == []


def test_failing_app_is_env_error_and_cleaned_up(
    incidents: dict[str, Path], docker_client: Any, tmp_path: Path
) -> None:
    profile = yaml.safe_load((ROOT / "profiles" / "prod.yaml").read_text())
    profile["sandbox"]["app"]["command"] = ["python3", "-c", "import sys; sys.exit(3)"]
    path = tmp_path / "broken.yaml"
    path.write_text(yaml.safe_dump(profile))
    done = repro(
        "replay",
        str(incidents["null-email"]),
        "--snapshot",
        PROD,
        "--profile",
        str(path),
        "--json",
        "--rows",
        "0",
    )
    report = json_report(done)
    assert (done.returncode, report["verdict"]) == (2, "env-error")
    assert "exited with code 3" in report["env_error"]
    assert report["attempts"] == []
    # What was timed before the sandbox failed is still reported.
    assert [s["name"] for s in report["stages"]] == ["network", "database", "data", "app"]
    assert leftovers(docker_client) == []


def test_missing_image_and_bad_input_are_one_line_errors(
    incidents: dict[str, Path], docker_client: Any, tmp_path: Path
) -> None:
    profile = yaml.safe_load((ROOT / "profiles" / "prod.yaml").read_text())
    profile["sandbox"]["app"]["image"] = "repro/no-such-image:1"
    path = tmp_path / "noimage.yaml"
    path.write_text(yaml.safe_dump(profile))
    done = repro(
        "replay", str(incidents["null-email"]), "--snapshot", PROD, "--profile", str(path), "--json"
    )
    report = json_report(done)
    assert done.returncode == 2 and "no image repro/no-such-image:1" in report["env_error"]
    garbage = tmp_path / "garbage.yaml"
    garbage.write_text("schema: repro.incident/v1\nrequest: 3\n")
    for args in (
        [str(garbage), "--snapshot", PROD],
        [str(tmp_path / "missing.yaml"), "--snapshot", PROD],
        [str(incidents["null-email"])],
        [str(incidents["null-email"]), "--snapshot", PROD, "--repeat", "0"],
        [str(incidents["null-email"]), "--snapshot", PROD, "--stand-in", "nowhere"],
        [str(incidents["null-email"]), "--snapshot", PROD, "--data", str(tmp_path / "no.sql")],
        [str(incidents["null-email"]), "--snapshot", PROD, "--data", str(garbage)],
    ):
        done = repro("replay", *args)
        assert done.returncode == 2, (args, done.stderr)
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("repro: error:"), done.stderr
    assert leftovers(docker_client) == []


def _wait_for(client: Any, role: str, proc: subprocess.Popen[str], timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = client.api.containers(
            all=True, filters={"label": [SANDBOX_LABEL, f"repro.sandbox.role={role}"]}
        )
        if found:
            return
        if proc.poll() is not None:
            pytest.fail(f"repro replay ended before its {role} container started")
        time.sleep(0.05)
    pytest.fail(f"no {role} container within {timeout} s")


@pytest.mark.parametrize("stage", ["database", "app"])
def test_sigint_mid_replay_leaves_nothing(
    stage: str, incidents: dict[str, Path], docker_client: Any
) -> None:
    # Many attempts keep the replay busy long enough to be interrupted in the middle. The
    # child gets default signal handlers even when this test run ignores SIGINT (nohup &).
    proc = popen(
        [
            sys.executable,
            "-m",
            "repro.cli",
            "replay",
            str(incidents["pg-version"]),
            "--snapshot",
            PROD,
            "--json",
            "--repeat",
            "500",
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ},
    )
    try:
        _wait_for(docker_client, stage, proc)
        proc.send_signal(signal.SIGINT)
        _out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 130, (err, _out)
    assert "interrupted" in err and "Traceback" not in err
    assert leftovers(docker_client) == []


def test_the_verdict_is_handed_over_before_the_sandbox_is_removed(
    incidents: dict[str, Path], docker_client: Any
) -> None:
    # The report does not wait for the clean-up: the runner gives the finished outcome to
    # on_verdict while the sandbox still stands, and removes it afterwards.
    from repro.commands.replay import load_inputs
    from repro.replay.options import ReplayOptions
    from repro.replay.outcome import ReplayOutcome
    from repro.replay.runner import replay

    options = ReplayOptions(
        incident=str(incidents["pg-version"]), snapshot=PROD, parity=False, rows=2000
    )
    inputs, redactor = load_inputs(options, [])
    seen: list[tuple[str, int]] = []

    def on_verdict(outcome: ReplayOutcome) -> None:
        seen.append((outcome.decision.verdict.name, len(leftovers(docker_client))))

    outcome = replay(options, inputs, redactor, on_verdict=on_verdict)
    assert outcome.decision.verdict.name == "REPRODUCED"
    ((verdict, standing),) = seen
    assert verdict == "REPRODUCED" and standing >= 2  # its database and app, at least
    assert "cleanup" not in [stage.name for stage in outcome.stages]
    assert leftovers(docker_client) == []
