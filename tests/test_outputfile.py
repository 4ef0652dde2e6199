"""Issue 12, finding 6: `-o` means the same for every command (repro/outputfile.py).

Real processes and files: a non-regular file is never replaced (--force or not), an existing
file only with --force, the file appears whole or not at all, and its mode is 0600 for
production-derived content (incidents, masked dumps) or what the umask allows otherwise (a
snapshot under umask 077 is 0600, not 0644). `data scan -o` and `data anonymize --to` are
covered with their databases in tests/data.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from repro.errors import UsageError
from repro.outputfile import atomic_output, check_output, write_output
from tests.helpers.cli import assert_one_line_error
from tests.helpers.cli import repro_at as repro

LOG_LINE = '10.0.0.1 - - [10/Oct/2026:13:55:36 +0000] "GET /orders HTTP/1.1" 500 12'


def run_with_umask(umask: int, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "repro", *args],
        cwd=cwd,
        env={**os.environ, "REPRO_HOME": str(cwd / ".repro")},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        preexec_fn=lambda: os.umask(umask),
    )


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


COMMANDS = {
    "snapshot": ["snapshot", "local", "--facets", "runtime"],
    "import": ["import", "log", LOG_LINE],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_existing_file_needs_force(tmp_path: Path, command: str) -> None:
    out = tmp_path / "out.file"
    out.write_text("precious")
    result = repro(*COMMANDS[command], "-o", str(out), cwd=tmp_path)
    assert_one_line_error(result, f"{out} exists (add --force to replace it)")
    assert out.read_text() == "precious"
    forced = repro(*COMMANDS[command], "-o", str(out), "--force", cwd=tmp_path)
    assert forced.returncode == 0, forced.stderr
    assert out.read_text() != "precious"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name != ".repro") == ["out.file"]


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_non_regular_files_are_never_replaced(tmp_path: Path, command: str) -> None:
    fifo = tmp_path / "pipe"
    os.mkfifo(fifo)
    (tmp_path / "dir").mkdir()
    os.symlink("/dev/null", tmp_path / "link-to-device")
    for target, why in (
        ("/dev/null", "is a character device, not a regular file; refusing to replace it"),
        (str(fifo), "is a FIFO (named pipe), not a regular file; refusing to replace it"),
        (str(tmp_path / "dir"), "is a directory; refusing to replace it"),
        (str(tmp_path / "link-to-device"), "is a character device"),
    ):
        result = repro(*COMMANDS[command], "-o", target, "--force", cwd=tmp_path)
        assert_one_line_error(result, f"{target}: {why}")
    assert stat.S_ISFIFO(fifo.lstat().st_mode) and stat.S_ISCHR(os.stat("/dev/null").st_mode)


@pytest.mark.parametrize(("umask", "expected"), [(0o077, 0o600), (0o022, 0o644), (0o002, 0o664)])
def test_snapshot_mode_follows_the_umask(tmp_path: Path, umask: int, expected: int) -> None:
    out = tmp_path / "snap.json"
    done = run_with_umask(umask, *COMMANDS["snapshot"], "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert mode(out) == expected
    stored = run_with_umask(umask, *COMMANDS["snapshot"], cwd=tmp_path)
    assert stored.returncode == 0, stored.stderr
    (latest,) = (tmp_path / ".repro" / "snapshots" / "local").glob("*.json")
    assert mode(latest) == expected


def test_incident_is_private_whatever_the_umask(tmp_path: Path) -> None:
    out = tmp_path / "incident.yaml"
    done = run_with_umask(0o000, *COMMANDS["import"], "-o", str(out), cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert mode(out) == 0o600


def test_a_symlink_is_replaced_not_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_text("keep me")
    link = tmp_path / "out.yaml"
    link.symlink_to(victim)
    assert_one_line_error(repro(*COMMANDS["import"], "-o", str(link), cwd=tmp_path), "exists")
    done = repro(*COMMANDS["import"], "-o", str(link), "--force", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert victim.read_text() == "keep me"
    assert not link.is_symlink() and "schema: repro.incident/v1" in link.read_text()


def test_whole_or_nothing(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"

    class Boom(Exception):
        pass

    with pytest.raises(Boom), atomic_output(out, force=False) as handle:
        handle.write("half")
        raise Boom
    assert list(tmp_path.iterdir()) == []
    out.write_text("old")
    with pytest.raises(Boom), atomic_output(out, force=True) as handle:
        handle.write("half")
        raise Boom
    assert out.read_text() == "old" and list(tmp_path.iterdir()) == [out]
    write_output(out, b"new", force=True)
    assert out.read_bytes() == b"new"


def test_a_file_appearing_meanwhile_is_not_clobbered(tmp_path: Path) -> None:
    out = tmp_path / "out.txt"
    with pytest.raises(UsageError, match="exists"), atomic_output(out, force=False) as handle:
        handle.write("mine")
        out.write_text("someone else's")  # between the check and the rename
    assert out.read_text() == "someone else's"
    assert list(tmp_path.iterdir()) == [out]
    check_output(tmp_path / "new", force=False)  # an absent name is fine
