"""``repro replay ... --html FILE``: the path is checked before any sandbox is built (one
``repro: error:`` line, exit 2), and the page is written by the rules of every output file:
whole, 0600, replaced only with ``--force``, scrubbed of the secrets the redactor knows.
No Docker here: a bad path stops the command first, and the writer is given an outcome."""

from __future__ import annotations

import stat
from pathlib import Path
from typing import Any

import pytest

from repro.cli import main
from repro.commands.replay_html import write_html
from repro.errors import UsageError
from repro.redaction import RedactionKey, Redactor
from repro.replay.options import ReplayOptions
from tests.helpers.outcomes import FAKE_SECRET
from tests.helpers.outcomes_conditions import everything


def run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as done:
        main(argv)
    out, err = capsys.readouterr()
    code = done.value.code
    return (code if isinstance(code, int) else 0), out, err


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("dir", "is a directory; refusing to replace it"),
        ("exists.html", "exists (add --force to replace it)"),
        ("/dev/null", "not a regular file; refusing to replace it"),
        ("", "--html needs a file name"),
    ],
)
def test_a_bad_html_path_is_one_error_line_before_any_sandbox(
    tmp_path: Path, target: str, expected: str, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "exists.html").write_text("kept")
    path = str(tmp_path / target) if target and not target.startswith("/") else target
    # Neither the incident nor the snapshot exists: the --html check comes first.
    argv = ["replay", str(tmp_path / "none.yaml"), "--snapshot", "none.json", "--html", path]
    code, out, err = run(argv, capsys)
    assert code == 2 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("repro: error: "), err
    assert expected in lines[0] and "Traceback" not in err
    assert (tmp_path / "exists.html").read_text() == "kept"


def test_help_names_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run(["replay", "--help"], capsys)
    assert code == 0 and "--html FILE" in out and "--force" in out


def _redactor() -> Redactor:
    redactor = Redactor(key=RedactionKey.from_bytes(b"k" * 32, "test"))
    redactor.remember(FAKE_SECRET)
    return redactor


def test_the_page_is_written_private_and_replaced_only_with_force(tmp_path: Path) -> None:
    target = tmp_path / "reports" / "checkout.html"
    options = ReplayOptions(incident="i.yaml", html=str(target))
    write_html(everything(), options, _redactor())
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and 'id="verdict-text">REPRODUCED<' in page
    assert FAKE_SECRET not in page  # the frame's source line held it; the redactor knew it
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert [p.name for p in target.parent.iterdir()] == ["checkout.html"]  # no temporary left

    with pytest.raises(UsageError, match="exists"):
        write_html(everything(), options, _redactor())
    options.force = True
    outcome = everything()
    outcome.releases = []
    write_html(outcome, options, _redactor())
    assert 'id="releases"' not in target.read_text(encoding="utf-8")


def test_no_html_option_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    write_html(everything(), ReplayOptions(incident="i.yaml"), _redactor())
    assert list(tmp_path.iterdir()) == []


def test_the_command_writes_the_page_beside_its_report(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    """The CLI's --html reaches the writer and stdout's report is unchanged. The sandbox is
    replaced by a literal outcome: building one needs the Docker engine (tests/replay's
    end-to-end tests cover that part)."""
    import repro.commands.replay as command

    def inputs(options: ReplayOptions, redactors: list[Redactor]) -> tuple[object, Redactor]:
        command.check_html(options)
        return object(), _redactor()

    monkeypatch.setattr(command, "load_inputs", inputs)
    def replay(options: ReplayOptions, inputs: object, redactor: Redactor, **hooks: Any) -> Any:
        outcome = everything()
        hooks["on_verdict"](outcome)  # as the runner does, before the sandbox is removed
        return outcome

    monkeypatch.setattr(command, "replay", replay)
    target = tmp_path / "report.html"
    argv = ["replay", "i.yaml", "--snapshot", "s.json", "--markdown", "--html", str(target)]
    code, out, _err = run(argv, capsys)
    assert code == 0 and out.startswith("## repro replay: REPRODUCED")
    assert 'id="verdict-text">REPRODUCED<' in target.read_text(encoding="utf-8")

    code, _out, err = run(argv, capsys)
    assert code == 2 and "exists (add --force to replace it)" in err
    code, _out, _err = run([*argv, "--force"], capsys)
    assert code == 0
