"""`repro replay` under production's conditions, end to end on the real Docker engine (issue
18): the demo shop's four bugs that need more than production's data and configuration.

  bug               conditions                               prod      candidate  baseline 2.0.0
  export-oom        128m from the runtime facet, --expect oom OOMKilled FIXED      fails too
  payments-timeout  sandbox.services + --fault payments=timeout 500     FIXED      rollback helps
  login-lock        --with-job 'sql:LOCK TABLE users ...'      500      FIXED (401) fails too
  ticket-race       WEB_CONCURRENCY=8 from the snapshot,       500s     FIXED      rollback helps
                    --concurrency 20 --repeat 40

Each production run also runs the candidate (repro/demo-shop:2.1.1-fix-<bug>) and the previous
release in the SAME sandbox (one build per bug: the data is reset from a template between
releases), so the four production runs cost four sandboxes. On staging's snapshot the same
command (staging has no nightly job: its replay has none) is NOT_REPRODUCED: 512m and 4
orders, no PAYMENTS_API_URL (the stub is not wired: the offline test gateway), one request at
a time.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.cli import json_report, run_repro
from tests.helpers.dockerutil import require_image

pytestmark = [pytest.mark.docker, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
INCIDENTS = ROOT / "fixtures" / "incidents"
PROD = str(ROOT / "fixtures" / "snapshots" / "prod.json")
STAGING = str(ROOT / "fixtures" / "snapshots" / "staging.json")
LOCK_JOB = "sql:LOCK TABLE users IN SHARE MODE;hold=30s"
MIB = 1024 * 1024


@dataclass(frozen=True)
class Case:
    bug: str
    source: tuple[str, ...]  # repro import ... arguments
    conditions: tuple[str, ...]  # on production's snapshot
    staging_conditions: tuple[str, ...]
    baseline: str  # the expected --baseline answer


CASES = [
    Case("export-oom", ("log", "-"), ("--expect", "oom"), ("--expect", "oom"),
         "rollback-will-not-help"),
    Case("payments-timeout", ("sentry", "sentry-event.json"), ("--fault", "payments=timeout"),
         ("--fault", "payments=timeout"), "rollback-helps"),
    Case("login-lock", ("sentry", "sentry-event.json"), ("--with-job", LOCK_JOB), (),
         "rollback-will-not-help"),
    Case("ticket-race", ("sentry", "sentry-event.json"),
         ("--concurrency", "20", "--repeat", "40"), ("--concurrency", "20", "--repeat", "40"),
         "rollback-helps"),
]  # fmt: skip
IMAGES = (
    "repro/demo-shop:2.1.0",
    "repro/demo-shop:1.4.2",
    "repro/demo-shop:2.0.0",
    *(f"repro/demo-shop:2.1.1-fix-{case.bug}" for case in CASES),
)


@pytest.fixture(scope="module")
def incidents(docker_client: Any, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    for image in IMAGES:
        require_image(docker_client, image)
    folder = tmp_path_factory.mktemp("incidents")
    made: dict[str, Path] = {}
    for case in CASES:
        path = folder / f"{case.bug}.yaml"
        kind, name = case.source
        if name == "-":  # an access-log line, on stdin as a user pipes it
            stdin = (INCIDENTS / case.bug / "access.log").read_text()
            done = run_repro("import", kind, "-", "-o", str(path), stdin=stdin)
        else:
            done = run_repro("import", kind, str(INCIDENTS / case.bug / name), "-o", str(path))
        assert done.returncode == 0, done.stderr
        made[case.bug] = path
    return made


def _no_sandbox_left(client: Any) -> None:
    left = client.api.containers(all=True, filters={"label": "repro.sandbox.id"})
    assert left == [], left


@pytest.mark.parametrize("case", CASES, ids=[c.bug for c in CASES])
def test_production_reproduces_and_the_releases_answer(
    case: Case, incidents: dict[str, Path], docker_client: Any
) -> None:
    candidate = f"repro/demo-shop:2.1.1-fix-{case.bug}"
    done = run_repro(
        "replay", str(incidents[case.bug]), "--snapshot", PROD, "--no-parity", "--json",
        *case.conditions, "--candidate", candidate, "--baseline", "repro/demo-shop:2.0.0",
    )  # fmt: skip
    report = json_report(done)
    assert report["verdict"] == "reproduced", report["reason"]
    assert done.returncode == 0 == report["exit_code"]  # the candidate is FIXED
    roles = {run["role"]: run for run in report["releases"]}
    assert roles["candidate"]["answer"] == "fixed", roles["candidate"]["reason"]
    assert roles["candidate"]["image"] == candidate
    assert roles["baseline"]["answer"] == case.baseline, roles["baseline"]["reason"]
    conditions = report["conditions"]
    assert "memory 128 MiB (the snapshot's runtime facet)" in conditions["limits"]
    check = CHECKS[case.bug]
    check(report, conditions)
    _no_sandbox_left(docker_client)


def _oom(report: dict[str, Any], conditions: dict[str, Any]) -> None:
    assert "OOMKilled" in report["reason"]
    assert report["attempts"][0]["source"] == "engine"
    memory = conditions["memory"]
    assert memory["oom_killed"] is True
    assert memory["limit_bytes"] == 128 * MIB
    assert 64 * MIB < memory["peak_bytes"] <= 128 * MIB
    assert len(memory["samples"]) >= 2  # a curve, not a point
    candidate = report["releases"][0]["conditions"]["memory"]
    assert candidate["oom_killed"] is False
    assert candidate["peak_bytes"] < memory["peak_bytes"]


def _payments(report: dict[str, Any], conditions: dict[str, Any]) -> None:
    assert "TimeoutError" in report["reason"]
    parties = conditions["third_parties"]
    (service,) = parties["services"]
    assert service["name"] == "payments" and service["env"] == "PAYMENTS_API_URL"
    assert service["url"].startswith("http://") and service["url"].endswith("/v1")
    (call,) = parties["calls"]
    assert (call["service"], call["method"], call["path"]) == ("payments", "POST", "/v1/charges")
    assert call["seconds"] >= 2.9  # held past the app's 3 s timeout
    # held until the app gave up, or until the attempt ended, whichever the stub saw first
    assert call["outcome"].startswith("held 3.0 s") or call["outcome"].startswith("held 2.9 s")
    # The candidate got the same stub: the call was made, held, and the order left pending.
    assert len(report["releases"][0]["conditions"]["third_parties"]["calls"]) == 1


def _lock(report: dict[str, Any], conditions: dict[str, Any]) -> None:
    assert "QueryCanceled" in report["reason"]
    (job,) = conditions["jobs"]
    assert job["spec"] == LOCK_JOB and job["error"] is None and job["runs"] == 1
    wait = next(w for w in conditions["lock_waits"] if w["on"] == "users")
    assert wait["waiter"]["query"].startswith("UPDATE users")
    assert wait["wanted"] == "RowExclusiveLock"
    (blocker,) = wait["blockers"]
    assert blocker["query"] == "LOCK TABLE users IN SHARE MODE"
    assert blocker["application"] == "repro-job-1"
    # The fixed login skips the bookkeeping under the lock: the unknown user's 401, at once.
    candidate = report["releases"][0]
    assert [a["status"] for a in candidate["attempts"]] == [401]
    assert "4xx" in candidate["reason"]


def _race(report: dict[str, Any], conditions: dict[str, Any]) -> None:
    assert "UniqueViolation" in report["reason"]
    load = conditions["load"]
    assert load["concurrency"] == 20 and load["requests"] == 40
    assert load["statuses"].get("500", 0) > 0 and load["statuses"].get("201", 0) > 0
    assert 0 < load["error_rate"] < 1
    assert set(load["latency_ms"]) >= {"p50", "p90", "p95", "p99", "max", "mean"}
    assert sum(count for _bound, count in load["histogram"]) == 40
    assert load["first_failure"] is not None
    first = report["attempts"][0]  # failures first: the first failure's evidence
    assert first["status"] == 500 and first["signature"]["exceptions"]
    assert report["rate"]["attempts"] == 40
    fixed = report["releases"][0]["conditions"]["load"]
    assert fixed["statuses"] == {"201": 40}


CHECKS = {"export-oom": _oom, "payments-timeout": _payments, "login-lock": _lock,
          "ticket-race": _race}  # fmt: skip


@pytest.mark.parametrize("case", CASES, ids=[c.bug for c in CASES])
def test_staging_does_not_reproduce(
    case: Case, incidents: dict[str, Path], docker_client: Any
) -> None:
    done = run_repro(
        "replay", str(incidents[case.bug]), "--snapshot", STAGING, "--no-parity", "--json",
        *case.staging_conditions,
    )  # fmt: skip
    report = json_report(done)
    assert report["verdict"] == "not-reproduced", report["reason"]
    assert done.returncode == 1
    conditions = report["conditions"]
    assert "memory 512 MiB (the snapshot's runtime facet)" in conditions["limits"]
    if case.bug == "payments-timeout":
        (service,) = conditions["third_parties"]["services"]
        assert service["url"] is None and "not in this environment" in service["note"]
        assert conditions["third_parties"]["calls"] == []
    _no_sandbox_left(docker_client)


OUTSIDE_PROBE = (
    "cmd:python3 -c 'import socket, time\n"
    'for host, port in (("api.github.com", 443), ("1.1.1.1", 443)):\n'
    "    t = time.monotonic()\n"
    "    try:\n"
    '        socket.create_connection((host, port), timeout=3).close(); got = "CONNECTED"\n'
    "    except OSError as exc:\n"
    "        got = type(exc).__name__\n"
    "    print(host, got, round(time.monotonic() - t, 2))'"
    ";after=20s"
)


def test_recorded_answers_and_no_call_leaves_the_sandbox(
    incidents: dict[str, Path], docker_client: Any, tmp_path: Path
) -> None:
    """--stub serves the provider's recorded answer (the checkout then succeeds: the timeout
    was the bug), the report lists the call; a name and an address outside the sandbox, tried
    from inside the app container, fail at once and the name is listed as asked for. One
    sandbox for both."""
    har = {
        "log": {
            "version": "1.2",
            "creator": {"name": "mitmproxy", "version": "10.1.6"},
            "entries": [
                {
                    "startedDateTime": "2026-11-30T03:12:09.120Z",
                    "time": 184.2,
                    "request": {
                        "method": "POST",
                        "url": "http://payments:9000/v1/charges",
                        "httpVersion": "HTTP/1.1",
                        "headers": [{"name": "Content-Type", "value": "application/json"}],
                        "queryString": [],
                        "headersSize": -1,
                        "bodySize": 96,
                    },
                    "response": {
                        "status": 201,
                        "statusText": "Created",
                        "httpVersion": "HTTP/1.1",
                        "headers": [
                            {"name": "Content-Type", "value": "application/json"},
                            {"name": "Set-Cookie\r\nX-Evil", "value": "dropped"},
                        ],
                        "content": {
                            "size": 40,
                            "mimeType": "application/json",
                            "text": '{"id": "ch_3PqRecorded", "status": "succeeded"}',
                        },
                        "redirectURL": "",
                        "headersSize": -1,
                        "bodySize": 40,
                    },
                    "cache": {},
                    "timings": {"send": 0.1, "wait": 183.9, "receive": 0.2},
                }
            ],
        }
    }
    recorded = tmp_path / "payments.har"
    recorded.write_text(json.dumps(har))
    done = run_repro(
        "replay", str(incidents["payments-timeout"]), "--snapshot", PROD, "--no-parity",
        "--json", "--stub", f"payments={recorded}", "--with-job", OUTSIDE_PROBE,
    )  # fmt: skip
    report = json_report(done)
    assert report["verdict"] == "not-reproduced", report["reason"]
    parties = report["conditions"]["third_parties"]
    (service,) = parties["services"]
    assert "1 recorded answers from payments.har" in service["behaviour"]
    (call,) = parties["calls"]
    assert (call["method"], call["path"], call["status"]) == ("POST", "/v1/charges", 201)
    assert call["outcome"] == "answered 201 (recorded)"
    assert report["attempts"][0]["status"] == 201
    (job,) = report["conditions"]["jobs"]
    assert job["error"] is None and "exited with code 0" in job["status"], job
    probes = {line.split()[0]: line.split()[1:] for line in job["output"] if line.strip()}
    assert set(probes) == {"api.github.com", "1.1.1.1"}, job["output"]
    for host, (outcome, _seconds) in probes.items():
        assert outcome != "CONNECTED", host
    # A name fails at once (repro's resolver: no such host); a literal address is dropped by
    # the internal network (the app's own timeout ends it), never connected.
    assert probes["api.github.com"][0] == "gaierror"
    assert float(probes["api.github.com"][1]) < 1.0
    asked = {name["name"] for name in parties["outside_names"]}
    assert "api.github.com" in asked
    _no_sandbox_left(docker_client)
