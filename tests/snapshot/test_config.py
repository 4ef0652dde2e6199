"""The config facet: every format parsed from literal files, secrets never in the output."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from repro.errors import ReproError
from repro.profile.facets import validate_options
from repro.profile.file import AppSpec, Profile
from repro.redaction import RedactionKey, Redactor
from repro.snapshot.base import CaptureContext, sorted_tree
from repro.snapshot.config import (
    FACET,
    ParseError,
    flatten,
    parse_config,
    parse_env,
    parse_ini,
    parse_yaml,
    sniff_format,
)
from repro.snapshot.file import FacetResult
from repro.targets.base import Target
from repro.targets.local import LocalTarget

IS_ROOT = os.geteuid() == 0


def redactor() -> Redactor:
    return Redactor(key=RedactionKey.from_bytes(b"test-team-key", "test"))


def capture(target: Target, paths: list[str], *, workdir: str | None = None) -> FacetResult:
    """As repro.snapshot.capture.capture_facet does (its registry imports every facet)."""
    red = redactor()
    ctx = CaptureContext(
        target=target,
        profile=Profile(name="test", path=None, app=AppSpec(workdir=workdir)),
        options=validate_options(FACET, {"paths": paths}, "test"),
        redactor=red,
    )
    try:
        result = FACET.capture(ctx)
    except ReproError as exc:
        result = FacetResult(status="error", message=exc.one_line())
    result.data = sorted_tree(red.redact_tree(result.data))
    result.problems = sorted({red.scrub(p) for p in result.problems})
    return result


def dumps(result: FacetResult) -> str:
    return json.dumps(result.to_json(), sort_keys=True)


@pytest.fixture
def conf_dir() -> Iterator[Path]:
    # World-traversable, so the same tree also serves captures running as nobody.
    base = Path(tempfile.mkdtemp(prefix="repro-config-", dir="/tmp"))
    base.chmod(0o755)
    try:
        yield base
    finally:
        shutil.rmtree(base)


def write(directory: Path, name: str, text: str, mode: int = 0o644) -> str:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    path.chmod(mode)
    return str(path)


# --- parsers with literal text ---------------------------------------------------------------


def test_env_format() -> None:
    text = (
        "# a comment\n"
        "\n"
        "export API_URL=https://api.example.com/v1#frag  # trailing comment\n"
        'QUOTED="hello world"\n'
        "SINGLE='no $expansion \\n here'\n"
        'ESCAPED="line1\\nline2 \\"q\\""\n'
        'MULTI="first\n'
        'second"\n'
        "EMPTY=\n"
        "SPACED = value\n"
        "LAST=1"
    )
    assert parse_env(text) == {
        "API_URL": "https://api.example.com/v1#frag",
        "QUOTED": "hello world",
        "SINGLE": "no $expansion \\n here",
        "ESCAPED": 'line1\nline2 "q"',
        "MULTI": "first\nsecond",
        "EMPTY": "",
        "SPACED": "value",
        "LAST": "1",
    }


def test_env_errors_name_the_line_not_the_text() -> None:
    with pytest.raises(ParseError, match=r"^line 3: expected KEY=VALUE$"):
        parse_env("A=1\n\nnot-a-pair canary-secret\n")
    with pytest.raises(ParseError, match="line 2: unterminated"):
        parse_env('A=1\nB="open\n')


def test_yaml_multi_document_is_indexed() -> None:
    tree = parse_yaml("a: 1\n---\nb: [x, y]\n")
    assert dict(flatten(tree)) == {"[0].a": 1, "[1].b[0]": "x", "[1].b[1]": "y"}
    assert parse_yaml("a: 1\n") == {"a": 1}


def test_flatten_keeps_types_and_quotes_dotted_keys() -> None:
    tree = {
        "database": {"pool": {"size": 10, "ratio": 0.5, "on": True}, "hosts": ["a", "b"]},
        "empty": {},
        "none": None,
        "dotted.key": {"inner.x": 1},
    }
    assert dict(flatten(tree)) == {
        "database.pool.size": 10,
        "database.pool.ratio": 0.5,
        "database.pool.on": True,
        "database.hosts[0]": "a",
        "database.hosts[1]": "b",
        "empty": {},
        "none": None,
        '"dotted.key"["inner.x"]': 1,
    }


def test_every_format_by_extension() -> None:
    assert parse_config("/x/app.json", b'{"a": {"b": [1, null]}}') == (
        "json",
        {"a.b[0]": 1, "a.b[1]": None},
    )
    fmt, keys = parse_config("/x/app.toml", b"[server]\nport = 8080\nwhen = 1979-05-27\n")
    assert (fmt, keys) == ("toml", {"server.port": 8080, "server.when": "1979-05-27"})
    fmt, keys = parse_config("/x/app.yml", b"started: 2024-01-02\nflags: []\n")
    assert (fmt, keys) == ("yaml", {"started": "2024-01-02", "flags": []})
    fmt, keys = parse_config("/x/prod.env", b"A=1\n")
    assert (fmt, keys) == ("env", {"A": "1"})
    fmt, keys = parse_config("/x/.env.production", b"A=1\n")
    assert fmt == "env"


def test_ini_without_interpolation_and_with_defaults() -> None:
    text = "[DEFAULT]\ntz = UTC\n[db]\nHost = db\nfmt = %(tz)s-%d\nflag\n[web]\ntz = CET\n"
    assert parse_ini(text) == {
        "DEFAULT": {"tz": "UTC"},
        "db": {"Host": "db", "fmt": "%(tz)s-%d", "flag": None},
        "web": {"tz": "CET"},
    }
    # postgresql.conf style: no sections at all.
    assert parse_ini("max_connections = 100\nlisten = '*'\n") == {
        "max_connections": "100",
        "listen": "'*'",
    }


def test_ini_errors_do_not_quote_the_line() -> None:
    with pytest.raises(ParseError) as info:
        parse_config("/x/a.ini", b"[s]\na = 1\n= canary-Zx81 here\n")
    assert "canary" not in str(info.value)
    assert "line 3" in str(info.value)


def test_format_by_shape() -> None:
    assert sniff_format('{"a": 1}') == "json"
    assert sniff_format("[s]\na = b\n") == "ini"
    assert sniff_format('[s]\na = "b"\n') == "toml"
    assert sniff_format("# x\nA=1\nexport B=2\n") == "env"
    assert sniff_format("a:\n  b: 1\n") == "yaml"
    assert sniff_format("server { listen 80; }") is None


# --- the facet on real files -----------------------------------------------------------------

YAML = """\
database:
  host: db.internal
  password: {pw}
  pool:
    size: 10
  api_keys: [{pw}-k1, {pw}-k2]
"""
ENV = "# app env\nexport API_TOKEN={tok}\nDEBUG=false\n"
INI = "[database]\nurl = postgresql://app:{pw}@db:5432/app\nport = 5432\n"


def secrets_tree(directory: Path, canary: str) -> list[str]:
    return [
        write(directory, "app.yaml", YAML.format(pw=f"yaml-{canary}")),
        write(directory, ".env", ENV.format(tok=f"tok-{canary}")),
        write(directory, "conf.d/db.ini", INI.format(pw=f"ini-{canary}")),
    ]


def test_secrets_are_fingerprinted_by_leaf_key_name(conf_dir: Path) -> None:
    # name_is_secret judges the last component of the flattened key path.
    assert redactor().name_is_secret("database.password")
    assert not redactor().name_is_secret("database.host")
    secrets_tree(conf_dir, "canary-Qw7Lp2Xz9")
    result = capture(
        LocalTarget(), [f"{conf_dir}/app.yaml", f"{conf_dir}/.env", f"{conf_dir}/conf.d/*.ini"]
    )
    assert result.status == "ok", result.problems
    assert "canary-Qw7Lp2Xz9" not in dumps(result)
    files = result.data["files"]
    yaml_keys = files[f"{conf_dir}/app.yaml"]["keys"]
    assert files[f"{conf_dir}/app.yaml"]["format"] == "yaml"
    assert yaml_keys["database.host"] == "db.internal"
    assert yaml_keys["database.pool.size"] == 10
    assert yaml_keys["database.password"]["redacted"] is True
    assert yaml_keys["database.api_keys[0]"]["redacted"] is True  # by its list's name
    env_keys = files[f"{conf_dir}/.env"]["keys"]
    assert env_keys["API_TOKEN"]["redacted"] is True
    assert env_keys["DEBUG"] == "false"
    url = files[f"{conf_dir}/conf.d/db.ini"]["keys"]["database.url"]
    assert url["masked"] == "postgresql://app:***@db:5432/app"
    assert files[f"{conf_dir}/conf.d/db.ini"]["keys"]["database.port"] == "5432"


def test_fingerprints_follow_the_secret(conf_dir: Path) -> None:
    def leaves(canary: str) -> dict[str, Any]:
        paths = secrets_tree(conf_dir, canary)
        files = capture(LocalTarget(), paths).data["files"]
        return {
            "yaml": files[paths[0]]["keys"]["database.password"]["fingerprint"],
            "env": files[paths[1]]["keys"]["API_TOKEN"]["fingerprint"],
            "ini": files[paths[2]]["keys"]["database.url"]["fingerprint"],
        }

    first, same, changed = leaves("canary-one"), leaves("canary-one"), leaves("canary-two")
    assert first == same
    for name in first:
        assert first[name] != changed[name], name


def test_missing_unparsable_and_unmatched_are_partial(conf_dir: Path) -> None:
    good = write(conf_dir, "good.json", '{"a": 1}')
    broken = write(conf_dir, "broken.yaml", "a: [\n  password: canary-broken-77\n")
    binary = conf_dir / "blob.conf"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    result = capture(
        LocalTarget(),
        [
            good,
            broken,
            str(binary),
            f"{conf_dir}/missing.toml",
            f"{conf_dir}/*.nomatch",
            str(conf_dir),
        ],
    )
    assert result.status == "partial"
    files = result.data["files"]
    assert files[good] == {"format": "json", "keys": {"a": 1}}
    assert files[broken]["error"].startswith("cannot parse: line ")
    assert files[str(binary)] == {"error": "cannot parse: not UTF-8 text"}
    assert files[f"{conf_dir}/missing.toml"] == {"error": "no such file"}
    assert files[f"{conf_dir}/*.nomatch"] == {"error": "no file matches"}
    assert files[str(conf_dir)] == {"error": "is a directory"}
    assert len(result.problems) == 5
    assert "canary-broken-77" not in dumps(result)


@pytest.mark.skipif(not IS_ROOT, reason="runs a capture as nobody")
def test_unreadable_file_is_partial(conf_dir: Path) -> None:
    readable = write(conf_dir, "ok.env", "A=1\n")
    hidden = write(conf_dir, "root.env", "TOKEN=canary-root-only\n", mode=0o600)
    result = capture(LocalTarget(user="nobody"), [readable, hidden])
    assert result.status == "partial"
    assert result.problems == [f"{hidden}: permission denied"]
    assert result.data["files"][hidden] == {"error": "permission denied"}
    assert result.data["files"][readable]["keys"] == {"A": "1"}


def test_globs_and_workdir(conf_dir: Path) -> None:
    write(conf_dir, "conf.d/a.yaml", "x: 1\n")
    write(conf_dir, "conf.d/b c.yaml", "y: 2\n")
    result = capture(LocalTarget(), ["conf.d/*.yaml"], workdir=str(conf_dir))
    assert result.status == "ok"
    assert result.data["files"] == {
        f"{conf_dir}/conf.d/a.yaml": {"format": "yaml", "keys": {"x": 1}},
        f"{conf_dir}/conf.d/b c.yaml": {"format": "yaml", "keys": {"y": 2}},
    }


def test_two_captures_are_identical(conf_dir: Path) -> None:
    paths = secrets_tree(conf_dir, "canary-stable")
    assert dumps(capture(LocalTarget(), paths)) == dumps(capture(LocalTarget(), paths))
