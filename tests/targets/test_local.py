"""The local target, including running as another user (runuser) to see what it cannot read."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from repro.errors import CaptureError
from repro.targets.base import read_file, which
from repro.targets.local import LocalTarget
from tests.helpers.target_contract import check_contract

needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="runuser needs root")


@pytest.fixture
def private_file() -> Iterator[Path]:
    # Not under tmp_path: pytest's base directory is 0700, which would hide the file from
    # `nobody` for the wrong reason (the directory, not the file's own mode).
    directory = Path(tempfile.mkdtemp(prefix="repro-local-"))
    directory.chmod(0o755)
    path = directory / "secret.txt"
    path.write_text("root only\n")
    path.chmod(0o600)
    try:
        yield path
    finally:
        path.unlink()
        directory.rmdir()


def test_local_target_contract() -> None:
    check_contract(LocalTarget())


def test_timeout_is_exit_124_not_an_exception() -> None:
    result = LocalTarget().run(["sleep", "5"], timeout=0.2)
    assert result.returncode == 124 and "timed out" in result.error_text


@needs_root
def test_runs_as_the_given_user_and_sees_permission_denied(private_file: Path) -> None:
    as_nobody = LocalTarget(user="nobody")
    assert as_nobody.run(["id", "-un"]).text.strip() == "nobody"
    assert as_nobody.describe()["user"] == "nobody"
    denied = as_nobody.run(["cat", str(private_file)])
    assert denied.returncode == 1 and "Permission denied" in denied.error_text
    with pytest.raises(CaptureError, match="permission denied"):
        read_file(as_nobody, str(private_file))
    assert read_file(LocalTarget(), str(private_file)) == b"root only\n"


def test_which_and_missing_file() -> None:
    target = LocalTarget()
    assert which(target, "no-such-tool-xyz", "sh") == "sh"
    assert which(target, "no-such-tool-xyz") is None
    with pytest.raises(CaptureError, match="no such file"):
        read_file(target, "/nonexistent/repro-test")
