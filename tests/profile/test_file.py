"""Profiles: valid ones load, invalid ones fail with file, key and problem on one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from repro.errors import ProfileError
from repro.profile.file import load_profile_file, resolve_profile
from repro.snapshot.registry import FACETS

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["local", "prod", "staging"])
def test_shipped_profiles_are_valid(name: str) -> None:
    profile = load_profile_file(ROOT / "profiles" / f"{name}.yaml", FACETS)
    assert profile.name == name
    assert profile.facets


def test_builtin_local_without_any_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("REPRO_PROFILES_DIR", raising=False)
    profile = resolve_profile("local", FACETS)
    assert profile.path is None and profile.target_kind == "local"
    assert "env" in profile.facets


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "p.yaml"
    path.write_text(text)
    return path


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("name: [unclosed", "malformed YAML at line 1"),
        ("- just\n- a list\n", "(top level): expected a mapping"),
        ("facets: [env, envv]", "facets.envv: unknown facet"),
        ("target: {kind: telnet}", "target.kind: unknown target 'telnet'"),
        ("target: {kind: docker}", "target"),
        ("target: {kind: local, colour: red}", "target.colour: unknown option"),
        ("databse: {}", "databse: unknown key"),
        ("database: {dsn: 'postgresql://u:hunter2@h/db'}", "database.dsn: contains a password"),
        ("database: {}", "database: needs one of dsn_env, dsn_file or dsn"),
        ("facets: {files: {paths: 3}}", "facets.files.paths: expected a list"),
        ("facets: {env: {colour: red}}", "facets.env.colour: unknown option"),
        ("app: {user: 5}", "app.user: expected a string"),
    ],
)
def test_invalid_profiles_name_file_key_and_problem(
    tmp_path: Path, text: str, expected: str
) -> None:
    with pytest.raises(ProfileError) as info:
        load_profile_file(write(tmp_path, text), FACETS)
    message = info.value.one_line()
    assert str(tmp_path / "p.yaml") in message or "p.yaml" in message
    assert expected in message
    assert "hunter2" not in message
    assert "\n" not in message


def test_missing_profile_names_where_it_looked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ProfileError, match="no profile named 'nope'"):
        resolve_profile("nope", FACETS)


def test_dsn_from_env_and_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("MY_DSN", "postgresql://u:p@h/db")
    profile = load_profile_file(write(tmp_path, "database: {dsn_env: MY_DSN}"), FACETS)
    assert profile.database is not None
    assert profile.database.resolve_dsn() == "postgresql://u:p@h/db"
    dsn_file = tmp_path / "dsn"
    dsn_file.write_text("postgresql://u:q@h/db\n")
    profile = load_profile_file(write(tmp_path, f"database: {{dsn_file: {dsn_file}}}"), FACETS)
    assert profile.database is not None
    assert profile.database.resolve_dsn() == "postgresql://u:q@h/db"
    monkeypatch.delenv("MY_DSN")
    profile = load_profile_file(write(tmp_path, "database: {dsn_env: MY_DSN}"), FACETS)
    assert profile.database is not None
    with pytest.raises(ProfileError, match="MY_DSN is not set"):
        profile.database.resolve_dsn()
