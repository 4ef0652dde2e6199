"""``repro`` run as its users run it: ``python -m repro`` in a subprocess, from the repo root
(profiles name files relative to it) unless told otherwise, output captured as text."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.helpers.procs import default_signals

ROOT = Path(__file__).resolve().parents[2]


def run_repro(
    *args: str,
    cwd: Path = ROOT,
    env: Mapping[str, str] | None = None,
    stdin: str | None = None,
    timeout: float = 300,
) -> subprocess.CompletedProcess[str]:
    """Run ``repro ARGS`` to its end; ``env`` is the whole environment (None: this one's)."""
    return subprocess.run(
        [sys.executable, "-m", "repro", *args],
        cwd=cwd,
        env=None if env is None else dict(env),
        input=stdin,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        preexec_fn=default_signals,  # whatever signal dispositions the test run got
    )


def repro_at(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``repro ARGS`` in ``cwd`` with its own home and log folder (nothing of this machine's
    ``.repro`` or ``DATABASE_URL`` leaks in)."""
    full_env = {**os.environ, "REPRO_HOME": str(cwd / ".repro"), "REPRO_LOG_DIR": str(cwd / "logs")}
    full_env.pop("DATABASE_URL", None)
    full_env.update(env or {})
    return run_repro(*args, cwd=cwd, env=full_env, timeout=120)


def assert_one_line_error(result: subprocess.CompletedProcess[str], expected: str) -> None:
    """Exit 2 and exactly one ``repro: error:`` line holding ``expected``; no traceback."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("repro: error: ")
    assert expected in lines[0]


def json_report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The ``--json`` report of a finished command, which must not have crashed."""
    assert "Traceback" not in done.stderr, done.stderr
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"no JSON report (exit {done.returncode}): {done.stderr[-2000:]}")
    return report
