"""`repro diff` as a user runs it: real snapshots of this machine, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.helpers.cli import run_repro

CANARY = "canary-diff-Rt5Wq8Nm"


def repro(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    full = {**os.environ, "REPRO_HOME": str(cwd / ".repro"), "REPRO_REDACTION_KEY": "k"}
    full.pop("DATABASE_URL", None)
    full.update(env or {})
    return run_repro(*args, cwd=cwd, env=full, timeout=120)


def snap(tmp_path: Path, name: str, env: dict[str, str]) -> Path:
    out = tmp_path / f"{name}.json"
    result = repro(
        "snapshot", "local", "-o", str(out), "--facets", "env,runtime", cwd=tmp_path, env=env
    )
    assert result.returncode == 0, result.stderr
    return out


def test_diff_finds_prod_only_flag_and_secret_change(tmp_path: Path) -> None:
    prod = snap(tmp_path, "prod", {"FEATURE_NEW_CHECKOUT": "1", "API_TOKEN": CANARY})
    staging = snap(tmp_path, "staging", {"API_TOKEN": CANARY + "x"})
    result = repro("diff", str(prod), str(staging), "--format", "json", cwd=tmp_path)
    assert result.returncode == 1, result.stderr
    assert CANARY not in result.stdout + result.stderr
    report = json.loads(result.stdout)
    assert report["schema"] == "repro.diff/v1"
    found = {d["path"]: d for d in report["discrepancies"]}
    assert found["env.vars.FEATURE_NEW_CHECKOUT"]["kind"] == "only_in_prod"
    assert found["env.vars.FEATURE_NEW_CHECKOUT"]["severity"] == "high"
    assert found["env.vars.API_TOKEN"]["kind"] == "changed"
    for fmt in ("table", "markdown", "junit"):
        out = repro("diff", str(prod), str(staging), "--format", fmt, cwd=tmp_path)
        assert out.returncode == 1 and "FEATURE_NEW_CHECKOUT" in out.stdout
        assert CANARY not in out.stdout
    script = repro("diff", str(prod), str(staging), "--fix-script", cwd=tmp_path)
    assert "FEATURE_NEW_CHECKOUT" in script.stdout and CANARY not in script.stdout


def test_same_snapshot_is_clean_and_garbage_is_exit_2(tmp_path: Path) -> None:
    prod = snap(tmp_path, "prod", {})
    assert repro("diff", str(prod), str(prod), cwd=tmp_path).returncode == 0
    (tmp_path / "bad.json").write_text("{")
    bad = repro("diff", str(prod), "bad.json", cwd=tmp_path)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr
    assert bad.stderr.startswith("repro: error: ")
    wrong = repro("diff", str(prod), str(prod), "--format", "yaml", cwd=tmp_path)
    assert wrong.returncode == 2 and "Traceback" not in wrong.stderr


def test_failed_facet_is_incomparable_never_equal(tmp_path: Path) -> None:
    prod = snap(tmp_path, "prod", {})
    broken = json.loads(prod.read_text())
    broken["facets"]["runtime"] = {
        "status": "error",
        "message": "cannot reach",
        "data": {},
        "duration_ms": 0,
    }
    staging = tmp_path / "staging.json"
    staging.write_text(json.dumps(broken))
    result = repro("diff", str(prod), str(staging), "--format", "json", cwd=tmp_path)
    assert result.returncode == 3, result.stdout
    kinds = {d["facet"]: d["kind"] for d in json.loads(result.stdout)["discrepancies"]}
    assert kinds["runtime"] == "incomparable"


# --- start-up: what a diff loads -----------------------------------------------------------

HEAVY = ("psycopg", "docker", "numpy", "faker", "deepdiff", "typer", "pydantic", "rich")


def imported_modules(*args: str, cwd: Path) -> set[str]:
    """The modules a ``repro`` run imports, from ``python -X importtime``."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-m", "repro", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return {
        line.rsplit("|", 1)[1].strip()
        for line in done.stderr.splitlines()
        if line.startswith("import time:") and "|" in line
    }


def test_a_diff_loads_no_capture_machinery(tmp_path: Path) -> None:
    """psycopg, docker, numpy, faker, deepdiff, Typer and rich are for other commands (and
    deepdiff for lists of maps only); the facet registry imports every facet."""
    root = Path(__file__).resolve().parents[1]
    snapshots = root / "fixtures" / "snapshots"
    modules = imported_modules(
        "diff", str(snapshots / "prod.json"), str(snapshots / "staging.json"), "--format", "json",
        cwd=root,
    )  # fmt: skip
    assert "repro.diff.engine" in modules
    loaded = sorted(m for m in modules if m.split(".")[0] in HEAVY)
    assert loaded == []
    assert not {"repro.snapshot.registry", "repro.profile.file", "repro.redaction"} & modules


def test_a_diff_reads_only_the_profiles_ignore_and_schemas(tmp_path: Path) -> None:
    """Nothing else of a profile matters to a diff: an invalid target or facet section does
    not stop it, a malformed ignore list is said and not applied."""
    prod = snap(tmp_path, "prod", {"FEATURE_X": "1"})
    staging = snap(tmp_path, "staging", {})
    profiles = tmp_path / "profiles"
    profiles.mkdir()
    (profiles / "local.yaml").write_text(
        "target: {kind: nowhere}\nfacets: {nonsense: 1}\nignore: ['env.vars.FEATURE_X']\n"
    )
    result = repro(
        "diff", str(prod), str(staging), "--format", "json", "--show-ignored", cwd=tmp_path
    )
    report = json.loads(result.stdout)
    assert "env.vars.FEATURE_X" not in [d["path"] for d in report["discrepancies"]]
    ignored = {i["path"]: i["ignored_because"] for i in report["ignored"]}
    assert "profile ignore" in ignored["env.vars.FEATURE_X"]
    (profiles / "local.yaml").write_text("ignore: {not: a list}\n")
    result = repro("diff", str(prod), str(staging), "--format", "json", cwd=tmp_path)
    assert result.returncode == 1
    assert "repro: warning: " in result.stderr and "ignore: expected a list" in result.stderr
    assert "env.vars.FEATURE_X" in result.stdout


def test_diff_usage_errors_are_one_line(tmp_path: Path) -> None:
    for args in (("diff", "only-one"), ("diff", "a", "b", "--min-severity", "huge")):
        result = repro(*args, cwd=tmp_path)
        assert result.returncode == 2, args
        assert result.stderr.startswith("repro: error: diff: ") and "Traceback" not in result.stderr
        assert result.stderr.count("\n") == 1
    helped = repro("diff", "--help", cwd=tmp_path)
    assert helped.returncode == 0 and "--exclude-schema" in helped.stdout
    listed = repro("--help", cwd=tmp_path)
    assert "diff" in listed.stdout and "Rank what LEFT" in listed.stdout
