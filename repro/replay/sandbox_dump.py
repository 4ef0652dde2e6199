"""Load a masked copy into the sandbox database: the ``psql`` script ``repro data anonymize
--to copy.sql[.gz]`` writes (schema, COPY blocks, constraints, sequences in one transaction).

The script runs with the ``psql`` of the sandbox's own PostgreSQL container, so no client
needs to be installed here and COPY ... FROM stdin blocks work as written. A failure names the
first error line psql printed (the script's data never reaches a message: psql quotes
statements, not rows, and the line is scrubbed by the caller's redactor anyway).
"""

from __future__ import annotations

import io
import tarfile
import time
from pathlib import Path
from typing import Any

from repro.errors import ReproError, UsageError
from repro.inputfile import check_readable

DUMP_DIR = "/tmp/repro-dump"


def check_dump(path: str) -> Path:
    """The dump file, checked before any container starts: readable, and a .sql or .sql.gz."""
    file = Path(path).expanduser()
    if not file.name.endswith((".sql", ".sql.gz")):
        raise UsageError(
            f"--data {path}: expected a .sql or .sql.gz file (repro data anonymize --to)"
        )
    check_readable(file, UsageError, label=f"--data {path}")
    return file


def conninfo(**params: str) -> str:
    """A libpq keyword/value connection string, every value single-quoted (libpq's rules:
    backslash escapes a quote or a backslash)."""
    return " ".join(
        f"{key}='" + value.replace("\\", "\\\\").replace("'", "\\'") + "'"
        for key, value in params.items()
    )


def load_dump(container: Any, dump: Path, user: str, dbname: str) -> float:
    """Copy ``dump`` into the running database container and run it with psql; returns the
    seconds it took. Raises ReproError with psql's first error line."""
    started = time.perf_counter()
    # A fixed name inside the container: the user's file name never reaches a command line.
    inside = f"{DUMP_DIR}/dump.sql.gz" if dump.name.endswith(".gz") else f"{DUMP_DIR}/dump.sql"
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(str(dump), arcname=inside.rsplit("/", 1)[1])
    container.exec_run(["mkdir", "-p", "--", DUMP_DIR])
    if not container.put_archive(DUMP_DIR, buffer.getvalue()):
        raise ReproError(f"could not copy {dump.name} into the sandbox database")
    # Values arrive as "$1".. (never pasted into the script); the database name (from the
    # snapshot) goes inside a conninfo string, so "x host=elsewhere" stays one name.
    reader = "gunzip -c --" if inside.endswith(".gz") else "cat --"
    script = f'{reader} "$1" | psql -X -q -v ON_ERROR_STOP=1 -d "$2" && rm -f -- "$1"'
    result = container.exec_run(
        ["sh", "-c", script, "sh", inside, conninfo(dbname=dbname, user=user)]
    )
    if result.exit_code != 0:
        output = result.output.decode("utf-8", "replace") if result.output else ""
        errors = [line for line in output.splitlines() if "ERROR" in line or "FATAL" in line]
        first = " ".join((errors[0] if errors else output.strip()[-300:]).split())
        raise ReproError(f"loading {dump.name} into the sandbox failed: {first}")
    return time.perf_counter() - started
