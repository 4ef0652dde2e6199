"""Key patterns (rules, built-in ignores) and path globs (profiles, waivers)."""

from __future__ import annotations

import pytest

from repro.diff.paths import KeyPattern, PathGlob


@pytest.mark.parametrize(
    ("pattern", "facet", "keys", "expected"),
    [
        (
            "database.tables.*.columns.*.type",
            "database",
            ("tables", "public.users", "columns", "email", "type"),
            True,
        ),
        # "*" is exactly one key: a table-level pattern never matches inside columns.
        (
            "database.tables.*.size_bytes",
            "database",
            ("tables", "public.t", "columns", "size_bytes"),
            False,
        ),
        ("database.tables.*.size_bytes", "database", ("tables", "public.t", "size_bytes"), True),
        ("database.settings.data_directory.**", "database", ("settings", "data_directory"), True),
        (
            "database.settings.data_directory.**",
            "database",
            ("settings", "data_directory", "value"),
            True,
        ),
        ("env.vars.SSH_*", "env", ("vars", "SSH_TTY"), True),
        ("env.vars.SSH_*", "env", ("vars", "XSSH_TTY"), False),
        ("**.comment", "database", ("views", "v", "comment"), True),
        ("**", "anything", (), True),
        ("env.vars", "files", ("vars",), False),
    ],
)
def test_key_pattern(pattern: str, facet: str, keys: tuple[str, ...], expected: bool) -> None:
    assert KeyPattern(pattern).matches(facet, keys) is expected


def test_key_pattern_facet_index() -> None:
    assert KeyPattern("env.vars.*").facet == "env"
    assert KeyPattern("**.comment").facet is None


@pytest.mark.parametrize(
    ("glob", "path", "expected"),
    [
        ("env.vars.DEMO_INSTANCE_ID", "env.vars.DEMO_INSTANCE_ID", True),
        ("env.vars.DEMO_INSTANCE_ID", "env.vars.DEMO_INSTANCE_ID2", False),
        # Everything below a matched path is matched too.
        ("database.extensions.hstore", "database.extensions.hstore.version", True),
        (
            "files.paths./etc/app/settings.yaml.mode",
            "files.paths./etc/app/settings.yaml.mode",
            True,
        ),
        ("files.paths./etc/app/*.mode", "files.paths./etc/app/settings.yaml.mode", True),
        ("database.tables.public.tmp_*", "database.tables.public.tmp_x.columns.a.type", True),
        ("config.files.*.keys.items[[]0]", "config.files./a.keys.items[0]", True),
        ("env.vars.[!A]*", "env.vars.B", True),
        ("env.vars.[!A]*", "env.vars.A", False),
        ("env.vars.?", "env.vars.AB", False),
    ],
)
def test_path_glob(glob: str, path: str, expected: bool) -> None:
    assert PathGlob(glob).matches(path) is expected
