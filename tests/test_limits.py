"""Issue 12, finding 5: every input is bounded, and a bound is one `repro: error:` line, exit 2.

Real processes on real files: a FIFO and /dev/zero are refused before a byte is read (the
subprocess timeout would catch a hang), a file over REPRO_MAX_INPUT_MB by its size, a
100,000-deep JSON snapshot by its nesting, a YAML alias bomb in a captured config file and
in an incident by its expansion, a config file with too many keys by its count. The Sentry
sink's bombs are in tests/replay/test_sentry_sink.py, diff's memory in
tests/diff/test_memory.py.
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

import pytest
import yaml

from repro.errors import IncidentError, ProfileError, UsageError
from repro.limits import MAX_DEPTH, load_json, load_yaml, too_deep
from repro.replay.incident import load_incident
from repro.snapshot.config import MAX_CONFIG_KEYS, ParseError, parse_config
from tests.helpers.cli import assert_one_line_error
from tests.helpers.cli import repro_at as repro

PROD = Path(__file__).resolve().parents[1] / "fixtures" / "snapshots" / "prod.json"


def billion_laughs(levels: int = 9) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels + 1):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    return "\n".join(lines) + "\n"


def test_a_fifo_is_refused_at_once(tmp_path: Path) -> None:
    fifo = tmp_path / "snap.json"
    os.mkfifo(fifo)  # nobody ever writes: reading it would wait forever
    started = time.monotonic()
    result = repro("diff", str(fifo), str(PROD), cwd=tmp_path)
    assert_one_line_error(result, "is a FIFO (named pipe), not a regular file")
    assert time.monotonic() - started < 60


@pytest.mark.parametrize(
    "args",
    [
        ["show", "/dev/zero"],
        ["import", "sentry", "/dev/zero"],
        ["diff", "/dev/zero", str(PROD)],
    ],
)
def test_a_device_is_refused_before_reading(tmp_path: Path, args: list[str]) -> None:
    result = repro(*args, cwd=tmp_path)
    assert_one_line_error(result, "/dev/zero: is a character device, not a regular file")


def test_input_size_limit_and_its_knob(tmp_path: Path) -> None:
    big = tmp_path / "big.json"
    big.write_bytes(PROD.read_bytes() + b" " * (2 * 1024 * 1024))
    result = repro("show", str(big), cwd=tmp_path, env={"REPRO_MAX_INPUT_MB": "1"})
    assert_one_line_error(result, "big.json: 2.1 MB is more than the 1.0 MB input limit")
    assert "REPRO_MAX_INPUT_MB" in result.stderr
    assert repro("show", str(big), cwd=tmp_path, env={"REPRO_MAX_INPUT_MB": "3"}).returncode == 0
    bad = repro("show", str(big), cwd=tmp_path, env={"REPRO_MAX_INPUT_MB": "lots"})
    assert_one_line_error(bad, "REPRO_MAX_INPUT_MB=lots: expected a positive number")


def test_stdin_is_bounded_too(tmp_path: Path) -> None:
    import subprocess
    import sys

    with open("/dev/zero", "rb") as zero:
        done = subprocess.run(
            [sys.executable, "-m", "repro", "import", "curl", "-"],
            stdin=zero,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "REPRO_MAX_INPUT_MB": "1", "REPRO_HOME": str(tmp_path)},
            cwd=tmp_path,
            check=False,
        )
    assert_one_line_error(done, "stdin: ")
    assert "input limit" in done.stderr


def test_deep_json_snapshot_is_one_line(tmp_path: Path) -> None:
    deep = tmp_path / "deep.json"
    deep.write_text('{"schema": "repro.snapshot/v1", "facets": ' + "[" * 100_000 + "]" * 100_000)
    for args in (["show", str(deep)], ["diff", str(deep), str(PROD)]):
        result = repro(*args, cwd=tmp_path)
        assert_one_line_error(result, f"deep.json: nested deeper than {MAX_DEPTH} levels")
        assert "unexpected error" not in result.stderr
    # Below the interpreter's recursion limit but above ours: refused the same way.
    medium = tmp_path / "medium.json"
    medium.write_text('{"facets": {"env": {"data": ' + "[" * 500 + "]" * 500 + "}}}")
    assert_one_line_error(repro("show", str(medium), cwd=tmp_path), "nested deeper than")


def test_deep_or_bombed_incident_is_one_line(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text(billion_laughs())
    with pytest.raises(IncidentError, match="values once aliases are expanded"):
        load_incident(bomb)
    deep = tmp_path / "deep.yaml"
    deep.write_text("x: " + "[" * 50_000 + "]" * 50_000 + "\n")
    with pytest.raises(IncidentError, match="nested deeper than"):
        load_incident(deep)
    result = repro("replay", str(bomb), "--snapshot", str(PROD), cwd=tmp_path)
    assert_one_line_error(result, "bomb.yaml: more than 1,000,000 values once aliases")


def test_yaml_bounds_everywhere() -> None:
    with pytest.raises(ProfileError, match=r"p\.yaml: more than"):
        load_yaml(billion_laughs(), "p.yaml", ProfileError)
    with pytest.raises(UsageError, match="a recursive alias"):
        load_yaml("a: &a [*a]\n", "r.yaml", UsageError)
    small = load_yaml("base: &b {x: 1}\nuse: *b\n", "ok.yaml", UsageError)
    assert small == {"base": {"x": 1}, "use": {"x": 1}}  # ordinary aliases still work
    assert load_json("[[1]]", "j", UsageError) == [[1]]
    assert too_deep([[[]]], 2) and not too_deep([[[]]], 3)
    with pytest.raises(yaml.YAMLError):
        load_yaml("a: [", "bad.yaml", UsageError)  # syntax stays the caller's to word


def test_config_facet_refuses_bombs_and_floods_as_a_problem(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(ParseError, match="values once aliases are expanded"):
        parse_config("bomb.yaml", billion_laughs().encode())
    assert time.monotonic() - started < 10  # was 64 s and 2.3 GB
    flood = json.dumps({f"k{i}": i for i in range(MAX_CONFIG_KEYS + 1)}).encode()
    with pytest.raises(ParseError, match="more than 10,000 keys"):
        parse_config("flood.json", flood)
    with pytest.raises(ParseError, match="nested deeper"):
        parse_config("deep.toml", b"a = " + b"[" * 5000 + b"]" * 5000)

    # The same through `repro snapshot`: the facet is partial with the reason; the rest of
    # the snapshot is written.
    (tmp_path / "bomb.yaml").write_text(billion_laughs())
    (tmp_path / "app.yaml").write_text("port: 8000\n")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "bombed.yaml").write_text(
        "name: bombed\ntarget: {kind: local}\nfacets:\n  config:\n    paths:\n"
        f"      - {tmp_path}/bomb.yaml\n      - {tmp_path}/app.yaml\n"
    )
    result = repro("snapshot", "bombed", "-o", "-", cwd=tmp_path)
    assert result.returncode == 3, result.stderr
    files = json.loads(result.stdout)["facets"]["config"]["data"]["files"]
    assert "values once aliases are expanded" in files[f"{tmp_path}/bomb.yaml"]["error"]
    assert files[f"{tmp_path}/app.yaml"]["keys"] == {"port": 8000}


def test_config_facet_never_reads_a_fifo(tmp_path: Path) -> None:
    os.mkfifo(tmp_path / "pipe.yaml")
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "piped.yaml").write_text(
        "name: piped\ntarget: {kind: local}\nfacets:\n  config:\n    paths:\n"
        f"      - {tmp_path}/pipe.yaml\n"
    )
    started = time.monotonic()
    result = repro("snapshot", "piped", "-o", "-", cwd=tmp_path)
    assert time.monotonic() - started < 30
    files = json.loads(result.stdout)["facets"]["config"]["data"]["files"]
    assert files[f"{tmp_path}/pipe.yaml"]["error"] == "not a regular file"
