"""``repro`` run as its users run it: ``python -m repro`` in a subprocess, from the repo root
(profiles name files relative to it) unless told otherwise, output captured as text."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

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
    )


def json_report(done: subprocess.CompletedProcess[str]) -> dict[str, Any]:
    """The ``--json`` report of a finished command, which must not have crashed."""
    assert "Traceback" not in done.stderr, done.stderr
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        pytest.fail(f"no JSON report (exit {done.returncode}): {done.stderr[-2000:]}")
    return report
