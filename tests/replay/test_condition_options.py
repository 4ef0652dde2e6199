"""`repro replay`'s condition options refuse bad input with one `repro: error:` line (exit 2)
before any container starts; the parsers' edge cases (repro.replay.conditions.spec)."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.errors import UsageError
from repro.replay.conditions.spec import (
    Fault,
    FaultKind,
    JobKind,
    parse_fault,
    parse_job,
    parse_size,
)
from tests.helpers.cli import assert_one_line_error, run_repro

ROOT = Path(__file__).resolve().parents[2]
PROD = str(ROOT / "fixtures" / "snapshots" / "prod.json")
INCIDENT = str(ROOT / "fixtures" / "incidents" / "payments-timeout" / "sentry-event.json")


@pytest.fixture(scope="module")
def incident(tmp_path_factory: pytest.TempPathFactory) -> str:
    path = tmp_path_factory.mktemp("incident") / "payments.yaml"
    done = run_repro("import", "sentry", INCIDENT, "-o", str(path))
    assert done.returncode == 0, done.stderr
    return str(path)


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["--fault", "payments=sometimes"], "expected NAME=down|timeout"),
        (["--fault", "payments=slow"], "slow:2s"),
        (["--fault", "payments=status:99"], "100..599"),
        (["--fault", "bank=timeout"], "sandbox.services names no such service"),
        (["--stub", "payments"], "NAME=FILE"),
        (["--stub", "payments=/nonexistent/recorded.har"], "recorded.har"),
        (["--memory", "lots"], "is not a size"),
        (["--memory", "1m"], "at least 6m"),
        (["--cpus", "0"], "between 0.01 and 1024"),
        (["--no-limits", "--memory", "128m"], "--no-limits"),
        (["--with-job", "bash:rm -rf /"], "--with-job: expected"),
        (["--with-job", "sql:SELECT 1;hold=forever"], "is not a duration"),
        (["--with-job", "schedule:no-such-job"], "matches no job"),
        (["--concurrency", "0"], "--concurrency"),
        (["--concurrency", "20", "--repeat", "5"], "N must be at least C"),
        (["--expect", "segfault"], "--expect: oom"),
    ],
)
def test_bad_condition_options_are_one_line_errors(
    incident: str, args: list[str], expected: str
) -> None:
    done = run_repro("replay", incident, "--snapshot", PROD, "--json", *args)
    assert_one_line_error(done, expected)


def test_parsers() -> None:
    assert parse_fault("payments=slow:1.5s") == ("payments", Fault(FaultKind.SLOW, seconds=1.5))
    assert parse_fault("payments=status:503")[1].status == 503
    assert parse_size("128m", "--memory") == 128 * 1024 * 1024
    assert parse_size("1GiB", "--memory") == 1024**3
    job = parse_job("sql:UPDATE t SET a = ';hold=1s'; SELECT 1;hold=30s")
    assert job.kind is JobKind.SQL and job.hold_s == 30.0
    assert job.text == "UPDATE t SET a = ';hold=1s'; SELECT 1"
    with pytest.raises(UsageError):
        parse_job("sql:SELECT 1;hold=1s;hold=2s")
    with pytest.raises(UsageError):
        parse_job("cmd:true;hold=1s")
