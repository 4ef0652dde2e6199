"""`repro diff` as a user runs it: real snapshots of this machine, real exit codes."""

from __future__ import annotations

import json
import os
import subprocess
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
