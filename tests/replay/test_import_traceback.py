"""``repro import curl|har|log ... --traceback FILE``: production's logged stack trace becomes
the incident's failure signature (the CLI as users run it; files of the demo apps' incidents,
captured from the real services)."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.helpers.cli import run_repro

ROOT = Path(__file__).resolve().parents[2]
INCIDENTS = ROOT / "fixtures" / "incidents"
NODE_LOG = INCIDENTS / "null-profile" / "app.log"


def _signature(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    assert done.returncode == 0, done.stderr
    signature: dict[str, Any] = yaml.safe_load(done.stdout)["signature"]
    return signature


def test_every_capture_without_an_exception_takes_one(tmp_path: Path) -> None:
    curl = (INCIDENTS / "null-profile" / "curl.sh").read_text()
    for args in (
        ["curl", curl, "--status", "500"],
        ["har", str(INCIDENTS / "null-profile" / "request.har")],
        ["log", (INCIDENTS / "null-profile" / "access.log").read_text()],
    ):
        signature = _signature(run_repro("import", *args, "--traceback", str(NODE_LOG)))
        (error,) = signature["exceptions"]
        assert error["type"] == "TypeError"
        assert error["value"] == "Cannot read properties of null (reading 'email')"
        functions = [f["function"] for f in error["frames"] if f["in_app"]]
        assert functions == [None, "toPrincipal"]


def test_the_last_of_several_traces_is_used_and_said(tmp_path: Path) -> None:
    log = tmp_path / "app.log"
    log.write_text(
        "Traceback (most recent call last):\n"
        '  File "/app/shop/a.py", line 1, in first\n'
        "ValueError: an earlier failure\n" + NODE_LOG.read_text()
    )
    access = (INCIDENTS / "null-profile" / "access.log").read_text()
    done = run_repro("import", "log", access, "--traceback", str(log))
    assert _signature(done)["exceptions"][-1]["type"] == "TypeError"
    assert "the last of the 2 stack traces" in done.stderr


def test_mistakes_are_one_line_errors(tmp_path: Path) -> None:
    access = (INCIDENTS / "null-profile" / "access.log").read_text()
    empty = tmp_path / "empty.log"
    empty.write_text("nothing failed today\n")
    sentry = str(INCIDENTS / "null-email" / "sentry-event.json")
    for args, message in (
        (["log", access, "--traceback", str(empty)], "no stack trace found"),
        (["log", access, "--traceback", str(tmp_path / "none.log")], "no such file"),
        (["log", access, "--traceback", str(tmp_path)], "not a regular file"),
        (["sentry", sentry, "--traceback", str(NODE_LOG)], "--traceback"),  # not for events
    ):
        done = run_repro("import", *args)
        assert done.returncode == 2, (args, done.stderr)
        assert "Traceback" not in done.stderr and message in done.stderr, done.stderr
