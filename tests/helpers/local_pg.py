"""A throw-away PostgreSQL from the machine's own binaries: no Docker needed."""

from __future__ import annotations

import os
import pwd
import re
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tests.helpers.pg import PgServer
from tests.helpers.wait import free_port

LOCAL_USER = "repro"
LOCAL_PASSWORD = "repro-local-pw"
LOCAL_DB = "repro"


def find_pg_bindir() -> Path | None:
    """Directory holding initdb, pg_ctl and postgres, or None.

    /usr/local/bin/initdb is a symlink into /usr/lib/postgresql/N/bin here; resolving it
    matters because pg_ctl looks for `postgres` next to its own real path.
    """
    initdb = shutil.which("initdb")
    if initdb:
        bindir = Path(os.path.realpath(initdb)).parent
        if (bindir / "pg_ctl").exists() and (bindir / "postgres").exists():
            return bindir
    candidates = [
        p.parent
        for p in Path("/usr/lib/postgresql").glob("*/bin/initdb")
        if p.parent.parent.name.isdigit() and (p.parent / "pg_ctl").exists()
    ]
    if not candidates:
        return None
    return max(candidates, key=lambda p: int(p.parent.name))


def _os_user() -> pwd.struct_passwd | None:
    """Unprivileged account to run the server as when we are root (initdb refuses root)."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise RuntimeError("running as root and neither 'postgres' nor 'nobody' exists")


class _Runner:
    """Runs the PostgreSQL tools as the unprivileged user, in a minimal environment."""

    def __init__(self, bindir: Path, home: Path, user: pwd.struct_passwd | None) -> None:
        self.bindir = bindir
        self.home = home
        self.user = user
        self.env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "HOME": str(home), "LANG": "C"}

    def run(self, tool: str, *args: str, timeout: float = 120) -> str:
        kwargs: dict[str, Any] = {}
        if self.user is not None:
            kwargs = {"user": self.user.pw_uid, "group": self.user.pw_gid, "extra_groups": []}
        proc = subprocess.run(
            [str(self.bindir / tool), *args],
            cwd=self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
            **kwargs,
        )
        if proc.returncode != 0:
            raise RuntimeError(
                f"{tool} {' '.join(args)} failed ({proc.returncode}):\n{proc.stdout}{proc.stderr}"
            )
        return str(proc.stdout)


@contextmanager
def local_postgres_server(bindir: Path) -> Iterator[PgServer]:
    """initdb + pg_ctl start on 127.0.0.1:<free port> with SCRAM password auth; stop + delete."""
    user = _os_user()
    base = Path(tempfile.mkdtemp(prefix="repro-localpg-"))
    if user is not None:
        os.chown(base, user.pw_uid, user.pw_gid)
    os.chmod(base, 0o700)
    runner = _Runner(bindir, base, user)
    data = base / "data"
    pwfile = base / "pwfile"
    pwfile.write_text(LOCAL_PASSWORD + "\n")
    if user is not None:
        os.chown(pwfile, user.pw_uid, user.pw_gid)
    started = False
    try:
        # -N: no fsync, the cluster is thrown away; C locale exists on every machine.
        runner.run(
            "initdb",
            "-D",
            str(data),
            "-U",
            LOCAL_USER,
            f"--pwfile={pwfile}",
            "--auth-host=scram-sha-256",
            "--auth-local=trust",
            "-E",
            "UTF8",
            "--locale=C",
            "-N",
        )
        version = runner.run("postgres", "--version")
        match = re.search(r"\) (\d+)", version)
        major = int(match.group(1)) if match else 0

        # The port is only known free a moment ago; retry if another process grabs it.
        port = 0
        for attempt in range(3):
            port = free_port()
            try:
                # -w: pg_ctl itself polls until the server accepts connections.
                runner.run(
                    "pg_ctl",
                    "-D",
                    str(data),
                    "-l",
                    str(base / "server.log"),
                    "-w",
                    "-t",
                    "60",
                    "-o",
                    # autovacuum off: tests ANALYZE when they mean to; a background
                    # analyze between two captures of one database makes them differ
                    f"-h 127.0.0.1 -p {port} -k {base} -F -c autovacuum=off",
                    "start",
                )
                started = True
                break
            except RuntimeError:
                if attempt == 2:
                    log = (base / "server.log").read_text(errors="replace")[-3000:]
                    raise RuntimeError(f"local PostgreSQL did not start:\n{log}") from None

        admin_dsn = f"postgresql://{LOCAL_USER}:{LOCAL_PASSWORD}@127.0.0.1:{port}/postgres"
        import psycopg

        with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=10) as conn:
            conn.execute(f"CREATE DATABASE {LOCAL_DB}")
        yield PgServer(
            dsn=f"postgresql://{LOCAL_USER}:{LOCAL_PASSWORD}@127.0.0.1:{port}/{LOCAL_DB}",
            major=major,
            host="127.0.0.1",
            port=port,
            user=LOCAL_USER,
            password=LOCAL_PASSWORD,
            dbname=LOCAL_DB,
        )
    finally:
        if started:
            # immediate: nothing to keep, and it does not wait for clients to disconnect.
            runner.run("pg_ctl", "-D", str(data), "-m", "immediate", "-w", "stop", timeout=60)
        shutil.rmtree(base, ignore_errors=True)
