"""Issue 12, finding 9: click's own usage errors (an unknown command or option, a missing
argument, a malformed value) are one `repro: error:` line and exit 2, for every command;
--help still works everywhere.

Every command is found by walking the real command tree, so a command added later is
covered without editing this file.
"""

from __future__ import annotations

import subprocess
import sys
import typing
from collections.abc import Iterator
from typing import Any

import pytest
import typer

from repro.cli import main
from repro.cli.app import app


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    yield path, command
    for name, sub in sorted(getattr(command, "commands", {}).items()):
        yield from _walk(sub, (*path, name))


TREE = list(_walk(typer.main.get_command(app)))
LEAVES = [(path, cmd) for path, cmd in TREE if not hasattr(cmd, "commands")]
GROUPS = [(path, cmd) for path, cmd in TREE if hasattr(cmd, "commands")]


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(argv)
    out, err = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 0), out, err


def assert_usage_error(code: int, err: str, path: tuple[str, ...], expected: str) -> None:
    lines = err.strip().splitlines()
    assert code == 2, err
    assert len(lines) == 1, err
    where = f"{' '.join(path)}: " if path else ""
    assert lines[0].startswith(f"repro: error: {where}"), lines[0]
    assert expected in lines[0] and f"(see {' '.join(('repro', *path))} --help)" in lines[0]


def ids(items: list[tuple[tuple[str, ...], Any]]) -> list[str]:
    return [" ".join(path) or "repro" for path, _ in items]


@pytest.mark.parametrize(("path", "command"), LEAVES + GROUPS, ids=ids(LEAVES + GROUPS))
def test_unknown_option(path: tuple[str, ...], command: Any, capsys: Any) -> None:
    code, _out, err = run([*path, "--no-such-option"], capsys)
    assert_usage_error(code, err, path, "No such option: --no-such-option")


@pytest.mark.parametrize(("path", "command"), GROUPS, ids=ids(GROUPS))
def test_unknown_subcommand(path: tuple[str, ...], command: Any, capsys: Any) -> None:
    code, _out, err = run([*path, "no-such-command"], capsys)
    assert_usage_error(code, err, path, "No such command 'no-such-command'")


REQUIRED = [(p, c) for p, c in LEAVES if any(x.required for x in c.params)]


@pytest.mark.parametrize(("path", "command"), REQUIRED, ids=ids(REQUIRED))
def test_missing_argument_or_option(path: tuple[str, ...], command: Any, capsys: Any) -> None:
    code, _out, err = run(list(path), capsys)
    assert_usage_error(code, err, path, "Missing")


def _is_int(param: Any) -> bool:
    """Click's parameter type (typer with click), or typer's own descriptor (typer >= 0.22,
    which vendors click): this test must not depend on which."""
    if getattr(getattr(param, "type", None), "name", "") == "integer":
        return True
    annotation = getattr(getattr(param, "type_descriptor", None), "annotation", None)
    return annotation is int or int in typing.get_args(annotation)


def _int_options(command: Any) -> list[str]:
    return [o.opts[0] for o in command.params if o.opts[0].startswith("--") and _is_int(o)]


INTS = [(p, c, o) for p, c in LEAVES for o in _int_options(c)]


@pytest.mark.parametrize(
    ("path", "command", "option"), INTS, ids=[f"{' '.join(p)} {o}" for p, _, o in INTS]
)
def test_malformed_value(path: tuple[str, ...], command: Any, option: str, capsys: Any) -> None:
    code, _out, err = run([*path, option, "abc"], capsys)
    assert_usage_error(code, err, path, f"Invalid value for '{option}'")


@pytest.mark.parametrize(("path", "command"), TREE, ids=ids(TREE))
def test_help_still_works(path: tuple[str, ...], command: Any, capsys: Any) -> None:
    code, out, err = run([*path, "--help"], capsys)
    assert code == 0 and err == ""
    assert out.startswith(f"Usage: {' '.join(('repro', *path))} ")


def test_as_a_user_runs_it() -> None:
    """The issue's own cases, through a real process."""
    for args, expected in (
        (["import", "har", "x.har", "--entry", "first"], "Invalid value for '--entry'"),
        (["replay-all"], "No such command 'replay-all'"),
        (["import", "sentry"], "Missing argument 'FILE'"),
    ):
        done = subprocess.run(
            [sys.executable, "-m", "repro", *args],
            capture_output=True, text=True, timeout=60, check=False,
        )  # fmt: skip
        assert done.returncode == 2 and done.stdout == ""
        assert done.stderr.count("\n") == 1 and done.stderr.startswith("repro: error: ")
        assert expected in done.stderr and "Usage:" not in done.stderr
    bare = subprocess.run(
        [sys.executable, "-m", "repro", "data"], capture_output=True, text=True, check=False
    )
    assert bare.returncode == 2 and bare.stdout.startswith("Usage: repro data ")
