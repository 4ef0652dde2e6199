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


def load_dump(container: Any, dump: Path, user: str, dbname: str) -> float:
    """Copy ``dump`` into the running database container and run it with psql; returns the
    seconds it took. Raises ReproError with psql's first error line."""
    started = time.perf_counter()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        tar.add(str(dump), arcname=dump.name)
    container.exec_run(["mkdir", "-p", DUMP_DIR])
    if not container.put_archive(DUMP_DIR, buffer.getvalue()):
        raise ReproError(f"could not copy {dump.name} into the sandbox database")
    inside = f"{DUMP_DIR}/{dump.name}"
    psql = f"psql -X -q -v ON_ERROR_STOP=1 -U {user} -d {dbname}"
    reader = f"gunzip -c {inside}" if dump.name.endswith(".gz") else f"cat {inside}"
    result = container.exec_run(["sh", "-c", f"{reader} | {psql} && rm -f {inside}"])
    if result.exit_code != 0:
        output = result.output.decode("utf-8", "replace") if result.output else ""
        errors = [line for line in output.splitlines() if "ERROR" in line or "FATAL" in line]
        first = " ".join((errors[0] if errors else output.strip()[-300:]).split())
        raise ReproError(f"loading {dump.name} into the sandbox failed: {first}")
    return time.perf_counter() - started
