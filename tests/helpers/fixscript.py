"""Generated fix scripts run for real against argv-logging stub commands, after ShellCheck."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from tests.helpers.stubs import StubRun, run_with_stubs

DSN = "postgresql://staging-db/shop"
REVIEWED = {"REPRO_FIX_REVIEWED": "1", "STAGING_DSN": DSN}


def shellcheck(text: str) -> None:
    """ShellCheck finds nothing (CI installs it: a missing one is a failure there)."""
    from tests.helpers import require_real_resources, skip_or_fail

    if shutil.which("shellcheck") is None:
        if require_real_resources():
            skip_or_fail("shellcheck is not installed (images/provision.sh installs it)")
        return
    done = subprocess.run(
        ["shellcheck", "--shell=bash", "-"], input=text, text=True, capture_output=True,
        check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stdout


def run(text: str, tmp_path: Path, **env: str) -> StubRun:
    shellcheck(text)
    done = run_with_stubs(text, tmp_path, env={**REVIEWED, **env})
    assert done.returncode == 0, done.stderr
    assert not [c for c in done.calls if c[0] == "!notfound"], done.calls
    assert done.new_files == []
    return done


def psql_statements(done: StubRun) -> list[str]:
    (call,) = done.of("psql")
    assert call[:5] == ["-X", "-v", "ON_ERROR_STOP=1", "-d", DSN]
    rest = call[5:]
    assert rest[0::2] == ["-c"] * (len(rest) // 2)
    return rest[1::2]
