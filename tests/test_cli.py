"""The CLI end to end, as a user runs it: real processes, real files, real exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers.cli import assert_one_line_error, repro_at

CANARY = "canary-cli-Hq7Lm3Pz9Xw"


def test_snapshot_local_on_a_fresh_machine(tmp_path: Path) -> None:
    result = repro_at("snapshot", "local", "--json", cwd=tmp_path, env={"API_TOKEN": CANARY})
    assert result.returncode == 0, result.stdout + result.stderr
    summary = json.loads(result.stdout)
    assert summary["status"] == "ok"
    path = Path(summary["path"])
    assert path.parent == tmp_path / ".repro" / "snapshots" / "local"
    assert (path.parent / "latest").read_text().strip() == path.name
    text = path.read_text()
    assert CANARY not in text
    snapshot = json.loads(text)
    assert snapshot["schema"] == "repro.snapshot/v1"
    assert snapshot["facets"]["env"]["data"]["vars"]["API_TOKEN"]["redacted"] is True
    assert snapshot["facets"]["database"]["status"] == "skipped"

    shown = repro_at("show", "local", cwd=tmp_path)
    assert shown.returncode == 0, shown.stderr
    assert "env" in shown.stdout and "packages" in shown.stdout
    assert CANARY not in shown.stdout + shown.stderr


def test_snapshot_to_stdout_and_facet_selection(tmp_path: Path) -> None:
    result = repro_at("snapshot", "local", "-o", "-", "--facets", "env,runtime", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert sorted(json.loads(result.stdout)["facets"]) == ["env", "runtime"]


def test_unreachable_database_is_an_error_facet_and_exit_3(tmp_path: Path) -> None:
    dsn = f"postgresql://app:{CANARY}@127.0.0.1:9/app?connect_timeout=2"
    out = tmp_path / "snap.json"
    result = repro_at(
        "snapshot", "local", "--dsn", dsn, "-o", str(out), "--facets", "database", cwd=tmp_path
    )
    assert result.returncode == 3, result.stderr
    facet = json.loads(out.read_text())["facets"]["database"]
    assert facet["status"] == "error"
    assert facet["message"]
    assert CANARY not in out.read_text() + result.stdout + result.stderr
    for log in (tmp_path / "logs").glob("*") if (tmp_path / "logs").exists() else []:
        assert CANARY not in log.read_text()


@pytest.mark.parametrize(
    ("profile_text", "expected"),
    [
        ("name: [oops", "malformed YAML"),
        ("facets: [env, nonsense]", "facets.nonsense: unknown facet"),
        ("database: {dsn: 'postgresql://u:" + CANARY + "@h/db'}", "contains a password"),
    ],
)
def test_bad_profiles_give_one_line_and_exit_2(
    tmp_path: Path, profile_text: str, expected: str
) -> None:
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "bad.yaml").write_text(profile_text)
    result = repro_at("snapshot", "bad", cwd=tmp_path)
    assert_one_line_error(result, expected)
    assert CANARY not in result.stderr


def test_unknown_facet_on_the_command_line(tmp_path: Path) -> None:
    assert_one_line_error(
        repro_at("snapshot", "local", "--facets", "envv", cwd=tmp_path), "unknown facet 'envv'"
    )


def test_corrupt_and_newer_snapshots(tmp_path: Path) -> None:
    (tmp_path / "corrupt.json").write_text('{"schema": "repro.snapshot/v1", "facets": ')
    assert_one_line_error(repro_at("show", "corrupt.json", cwd=tmp_path), "corrupt snapshot")
    (tmp_path / "newer.json").write_text('{"schema": "repro.snapshot/v9", "facets": {}}')
    assert_one_line_error(repro_at("show", "newer.json", cwd=tmp_path), "newer repro")
    assert_one_line_error(repro_at("show", "nothing-here", cwd=tmp_path), "no stored snapshot")


def test_version_and_help(tmp_path: Path) -> None:
    assert repro_at("--version", cwd=tmp_path).stdout.startswith("repro ")
    helptext = repro_at("snapshot", "--help", cwd=tmp_path).stdout
    assert "--dsn" in helptext and "--facets" in helptext


def test_latest_moves_only_to_a_complete_snapshot(tmp_path: Path) -> None:
    """A profile declares a database whose DSN variable is unset: the snapshot is kept, says
    why, exits 3 and does not become latest (what `repro diff NAME` uses) unless asked."""
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "p.yaml").write_text(
        "name: p\ntarget: {kind: local}\ndatabase: {dsn_env: REPRO_TEST_UNSET_DSN}\n"
        "facets:\n  env: {}\n  database: {}\n"
    )
    first = repro_at("snapshot", "p", "--json", cwd=tmp_path)
    assert first.returncode == 3, first.stderr
    summary = json.loads(first.stdout)
    assert (summary["status"], summary["latest"]) == ("error", False)
    assert "REPRO_TEST_UNSET_DSN is not set" in summary["facets"]["database"]["message"]
    store = tmp_path / ".repro" / "snapshots" / "p"
    assert Path(summary["path"]).parent == store and not (store / "latest").exists()
    # by name: one line saying why and what to do
    assert_one_line_error(repro_at("show", "p", cwd=tmp_path), "no latest: none had every facet")
    said = repro_at("snapshot", "p", cwd=tmp_path)
    assert "not made latest: a facet is error" in said.stderr and "--allow-partial" in said.stderr
    forced = repro_at("snapshot", "p", "--json", "--allow-partial", cwd=tmp_path)
    assert forced.returncode == 3 and json.loads(forced.stdout)["latest"] is True
    assert (store / "latest").read_text().strip() == Path(json.loads(forced.stdout)["path"]).name
    assert repro_at("show", "p", cwd=tmp_path).returncode == 0


def test_an_o_file_is_not_in_the_store_and_says_so(tmp_path: Path) -> None:
    done = repro_at("snapshot", "local", "--facets", "env", "-o", "mine.json", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert "an -o file is not in the store" in " ".join(done.stderr.split())
    assert_one_line_error(
        repro_at("diff", "local", "mine.json", cwd=tmp_path), "a snapshot written with -o FILE"
    )
