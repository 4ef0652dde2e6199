"""`repro snapshot` end to end with planted canaries and planted failures.

Canary secrets go into the app's environment, a config file, the database DSN and a database
setting; none may appear in the snapshot, in `repro show`, on stdout/stderr or in a log, while
changing one canary changes its fingerprint. A permission-denied file, an unreachable database
and a missing package manager each yield a partial/error facet and exit 3, snapshot written.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

import psycopg

from tests.helpers.cli import run_repro
from tests.helpers.pg import fresh_database

ENV_CANARY = "canary-env-Mx4Kp9Qz"
CONFIG_CANARY = "canary-config-Wt7Rb2Ld"
DSN_CANARY = "canary-dsn-Hj3Vn8Pc"
GUC_CANARY = "canary-guc-Ys5Fq1Ze"
CANARIES = (ENV_CANARY, CONFIG_CANARY, DSN_CANARY, GUC_CANARY)


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return run_repro(*args, cwd=cwd, env=env, timeout=120)


def base_env(tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "REPRO_HOME": str(tmp_path / ".repro"),
        "REPRO_LOG_DIR": str(tmp_path / "logs"),
        "REPRO_REDACTION_KEY": "team-key",
    }
    env.pop("DATABASE_URL", None)
    return env


def write_profile(tmp_path: Path, config_canary: str) -> None:
    app_dir = tmp_path / "app"
    app_dir.mkdir(exist_ok=True)
    (app_dir / "settings.yaml").write_text(
        f"database:\n  pool: 5\n  password: {config_canary}\nfeature:\n  new_checkout: true\n"
    )
    (app_dir / "private.yaml").write_text("x: 1\n")
    (app_dir / "private.yaml").chmod(0o600)
    (tmp_path / "profiles").mkdir(exist_ok=True)
    (tmp_path / "profiles" / "canary.yaml").write_text(
        "target: {kind: local}\n"
        "database: {dsn_env: CANARY_DSN}\n"
        "app: {user: nobody}\n"
        "facets:\n"
        "  env: {}\n  runtime: {}\n  database: {}\n"
        f"  config: {{paths: ['{app_dir}/settings.yaml']}}\n"
        f"  files: {{paths: ['{app_dir}/*.yaml']}}\n"
    )


def capture(
    tmp_path: Path, server: Any, dbname: str, env_canary: str
) -> tuple[dict[str, Any], str]:
    env = base_env(tmp_path)
    env["API_TOKEN"] = env_canary
    dsn = server.dsn_for(dbname).replace(
        f"{server.user}:{server.password}@", f"canary_app:{DSN_CANARY}@"
    )
    env["CANARY_DSN"] = dsn
    result = run(["snapshot", "canary", "--json"], tmp_path, env)
    assert result.returncode == 0, result.stdout + result.stderr
    path = json.loads(result.stdout)["path"]
    shown = run(["show", path], tmp_path, env)
    assert shown.returncode == 0, shown.stderr
    outputs = result.stdout + result.stderr + shown.stdout + shown.stderr + Path(path).read_text()
    for log in (tmp_path / "logs").glob("*"):
        outputs += log.read_text()
    return json.loads(Path(path).read_text()), outputs


def test_canaries_never_appear_and_fingerprints_follow_them(
    tmp_path: Path, local_postgres: Any
) -> None:
    with fresh_database(local_postgres.dsn) as db_dsn:
        dbname = db_dsn.rsplit("/", 1)[1].split("?")[0]
        with psycopg.connect(db_dsn, autocommit=True) as conn:
            # The app's role logs in with the canary password; a custom setting holds a token.
            conn.execute("DROP ROLE IF EXISTS canary_app")
            conn.execute(f"CREATE ROLE canary_app LOGIN SUPERUSER PASSWORD '{DSN_CANARY}'")
            conn.execute(f"ALTER DATABASE {dbname} SET app.api_token = '{GUC_CANARY}'")
            conn.execute("CREATE TABLE t (id int primary key, email text)")
        try:
            write_profile(tmp_path, CONFIG_CANARY)
            first, outputs = capture(tmp_path, local_postgres, dbname, ENV_CANARY)
            for canary in CANARIES:
                assert canary not in outputs, canary
            assert first["facets"]["database"]["status"] == "ok"
            assert "public.t" in first["facets"]["database"]["data"]["tables"]
            files = first["facets"]["files"]["data"]["paths"]
            assert files[str(tmp_path / "app" / "private.yaml")]["access"]["read"] is False

            write_profile(tmp_path, CONFIG_CANARY + "x")
            second, outputs = capture(tmp_path, local_postgres, dbname, ENV_CANARY + "x")
            assert ENV_CANARY + "x" not in outputs and CONFIG_CANARY + "x" not in outputs
            env1 = first["facets"]["env"]["data"]["vars"]["API_TOKEN"]["fingerprint"]
            env2 = second["facets"]["env"]["data"]["vars"]["API_TOKEN"]["fingerprint"]
            assert env1 != env2
            cfg = str(tmp_path / "app" / "settings.yaml")
            key1 = first["facets"]["config"]["data"]["files"][cfg]["keys"]["database.password"]
            key2 = second["facets"]["config"]["data"]["files"][cfg]["keys"]["database.password"]
            assert key1["fingerprint"] != key2["fingerprint"]
            assert first["facets"]["config"]["data"]["files"][cfg]["keys"]["database.pool"] == 5
        finally:
            with psycopg.connect(local_postgres.dsn, autocommit=True) as conn:
                conn.execute("DROP ROLE IF EXISTS canary_app")


def test_partial_capture_still_writes_and_exits_3(tmp_path: Path) -> None:
    # A PATH with a shell and coreutils but no dpkg/apk/rpm and no python: the packages facet
    # must say so (partial), not report an empty, "equal-looking" package list.
    # The app user (nobody) must be able to reach the tools: pytest's tmp root is 0700.
    bin_dir = Path(tempfile.mkdtemp(prefix="repro-bin-"))
    bin_dir.chmod(0o755)
    for tool in (
        "sh",
        "cat",
        "head",
        "uname",
        "nproc",
        "grep",
        "id",
        "readlink",
        "getconf",
        "ldd",
        "stat",
        "env",
    ):
        found = shutil.which(tool)
        if found:
            (bin_dir / tool).symlink_to(found)
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o700)
    (locked / "secret.conf").write_text("a=1\n")
    tmp_path.chmod(0o755)
    (tmp_path / "profiles").mkdir()
    (tmp_path / "profiles" / "broken.yaml").write_text(
        "target: {kind: local, user: nobody}\n"
        "facets:\n  packages: {}\n"
        f"  config: {{paths: ['{locked}/secret.conf']}}\n"
    )
    env = base_env(tmp_path)
    env["PATH"] = f"{bin_dir}:/usr/sbin:/sbin"  # runuser lives in /usr/sbin
    out = tmp_path / "snap.json"
    result = run(["snapshot", "broken", "-o", str(out)], tmp_path, env)
    assert result.returncode == 3, result.stdout + result.stderr
    assert "Traceback" not in result.stderr
    facets = json.loads(out.read_text())["facets"]
    # Nothing at all could be listed (no interpreter, no manager): error or partial, with why.
    packages = facets["packages"]
    assert packages["status"] in ("partial", "error")
    reasons = [*packages.get("problems", []), packages.get("message") or ""]
    assert any("no OS package manager" in reason for reason in reasons), packages
    assert facets["config"]["status"] == "partial"
    assert any("permission denied" in p for p in facets["config"]["problems"])
    shutil.rmtree(bin_dir)
