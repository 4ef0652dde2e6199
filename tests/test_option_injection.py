"""Issue 12, finding 2 beyond the fix script: wherever repro builds a command line or a
connection string from captured (or shared) text, that text stays one operand.

The fix script's own cases are in tests/diff/test_fixscript*.py; the sandbox database with a
hostile database name in tests/replay/test_sandbox_db.py.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from psycopg.conninfo import conninfo_to_dict

from repro.errors import ProfileError
from repro.replay.sandbox_db import database_url, server_settings
from repro.replay.sandbox_dump import conninfo
from repro.targets import kubectl, ssh
from repro.targets.base import CommandResult
from repro.targets.local import LocalTarget
from tests.helpers.capture import run_facet
from tests.helpers.files import put


@pytest.mark.parametrize(
    "dbname", ["shop", "x host=evil.invalid", "a'b\\c", "shop?host=evil.invalid", " spaced "]
)
def test_database_names_stay_names(dbname: str) -> None:
    assert conninfo_to_dict(conninfo(dbname=dbname, user="repro")) == {
        "dbname": dbname,
        "user": "repro",
    }
    parsed = conninfo_to_dict(database_url("repro", "p@ss:/?", "db", 5432, dbname))
    assert parsed["dbname"] == dbname and parsed["host"] == "db"
    assert parsed["password"] == "p@ss:/?" and "evil.invalid" not in parsed.get("host", "")


def test_captured_settings_never_become_other_server_options() -> None:
    settings = {
        "work_mem": {"value": "64MB", "source": "configuration file"},
        "x=y -c ssl": {"value": "on", "source": "configuration file"},
        "app.note": {"value": "line one\nline two", "source": "configuration file"},
    }
    applied, skipped = server_settings({"settings": settings})
    assert applied == {"work_mem": "64MB"}
    assert "'x=y -c ssl' (not a setting name)" in skipped
    assert "app.note (its value holds a NUL or a newline)" in skipped


@pytest.mark.parametrize(
    ("build", "options"),
    [
        (ssh.spec_from_options, {"host": "-oProxyCommand=touch /tmp/pwned"}),
        (ssh.spec_from_options, {"host": "db.example", "user": "-oProxyCommand=x"}),
        (kubectl.spec_from_options, {"pod": "--kubeconfig=/tmp/evil"}),
        (kubectl.spec_from_options, {"pod": "app", "namespace": "--as=admin"}),
    ],
)
def test_target_names_are_not_options(build: object, options: dict[str, str]) -> None:
    with pytest.raises(ProfileError, match="must not start with '-'"):
        build(options)  # type: ignore[operator]


class Recording(LocalTarget):
    """This machine, keeping what every command printed: what left the target."""

    def __init__(self) -> None:
        super().__init__()
        self.outputs: list[bytes] = []

    def run(self, argv: Sequence[str], **kwargs: Any) -> CommandResult:
        result = super().run(argv, **kwargs)
        self.outputs.append(result.stdout)
        return result


@pytest.fixture
def root() -> Iterator[Path]:
    base = Path(tempfile.mkdtemp(prefix="repro-units-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base)


def test_a_timers_unit_name_cannot_walk_out_of_the_unit_directories(root: Path) -> None:
    """`Unit=` is text from the target; the scan expands it as a file name pattern."""
    put(root, "/etc/secret.service", "[Service]\nExecStart=/usr/bin/leak-me\n")
    put(root, "/etc/systemd/system/a.timer", "[Timer]\nOnBootSec=1\nUnit=../../secret.service\n")
    put(root, "/etc/systemd/system/b.timer", "[Timer]\nOnBootSec=1\nUnit=*\n")
    put(root, "/etc/systemd/system/c.timer", "[Timer]\nOnBootSec=1\nUnit=ok.service\n")
    put(root, "/etc/systemd/system/ok.service", "[Service]\nExecStart=/usr/bin/fine\n")
    target = Recording()
    result, _ = run_facet("schedules", target, options={"root": str(root)})
    assert not [out for out in target.outputs if b"leak-me" in out]  # never even read
    assert "/usr/bin/fine" in str(result.to_json())  # an ordinary unit name still is
