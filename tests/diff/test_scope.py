"""Which schemas a diff compares: the profiles' database.schemas, --schema, --exclude-schema."""

from __future__ import annotations

import json
import os
from pathlib import Path

from repro.diff.scope import SchemaScope
from tests.helpers.builders import diff, pair
from tests.helpers.cli import run_repro

AUDIT = {"schema": "audit", "name": "log", "kind": "table", "columns": {}}


def database_paths(**kwargs: object) -> list[str]:
    prod, staging = pair()
    prod.put("database", "tables", "audit.log", AUDIT)
    prod.put("database", "statistics", "audit.log", {"columns": {}})
    prod.put("database", "schemas", "audit", {"owner": "app", "privileges": {}})
    prod.put("database", "sequences", "app_2.counter", {"schema": "app_2", "name": "counter"})
    result = diff(prod, staging, **kwargs)
    return sorted(d.path for d in result.discrepancies if d.facet == "database")


def test_everything_by_default() -> None:
    assert database_paths() == [
        "database.schemas.audit",
        "database.sequences.app_2.counter",
        "database.tables.audit.log",
    ]


def test_exclude_and_include_globs() -> None:
    assert database_paths(schemas=SchemaScope.of([], exclude=["aud*"])) == [
        "database.sequences.app_2.counter"
    ]
    assert database_paths(schemas=SchemaScope.of([], include=["public", "app_*"])) == [
        "database.sequences.app_2.counter"
    ]


def test_a_profile_that_captured_fewer_schemas_limits_the_comparison() -> None:
    """Staging's profile captured only public: audit cannot be compared, it is not "only in
    prod"."""
    assert database_paths(schemas=SchemaScope.of([None, ["public"]])) == []
    assert SchemaScope.of([["public", "audit"], ["audit", "x"]]).keeps("audit")
    assert not SchemaScope.of([["public", "audit"], ["audit", "x"]]).keeps("public")


def test_the_command_line_and_the_profiles(tmp_path: Path) -> None:
    prod, staging = pair()
    prod.put("database", "tables", "audit.log", AUDIT)
    for side, name in ((prod, "scope-prod"), (staging, "scope-staging")):
        snapshot = side.build()
        snapshot.profile = name
        (tmp_path / f"{name}.json").write_text(snapshot.dumps())
    env = {**os.environ, "REPRO_PROFILES_DIR": str(tmp_path / "profiles")}
    files = [str(tmp_path / "scope-prod.json"), str(tmp_path / "scope-staging.json")]

    def paths(*options: str) -> list[str]:
        done = run_repro("diff", *files, "--format", "json", *options, env=env, cwd=tmp_path)
        assert done.returncode in (0, 1), done.stderr
        return [d["path"] for d in json.loads(done.stdout)["discrepancies"]]

    assert "database.tables.audit.log" in paths()
    assert "database.tables.audit.log" not in paths("--exclude-schema", "audit")
    assert "database.tables.audit.log" not in paths("--schema", "public")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "scope-staging.yaml").write_text(
        "database:\n  dsn_env: X\n  schemas: [public]\n"
    )
    assert "database.tables.audit.log" not in paths()
