"""``repro replay`` from start to verdict, by stage, against a bare ``docker run`` of the same
PostgreSQL image until it accepts connections.

Targets (2-core machine, images present): the whole replay <= 30 s with a 100k-row dataset,
and (issue 15) <= 2.5x a bare start of the same PostgreSQL image, measured in the same run
(bare starts and replays interleave, so a busy moment weighs on both).
The incident is the demo's NULL-email bug (fixtures/incidents/null-email/sentry-event.json,
imported once), replayed against the demo's production snapshot (PostgreSQL 13, ~5% NULL
emails) with ``--rows 100000``. Each run is the real command as a subprocess with ``--json``;
the stage timings come from its report. ``--no-parity`` runs are measured too, since the
parity snapshot is optional work after the verdict is known. Replays start their PostgreSQL
from the cached cluster image (repro.replay.sandbox_pg_cache), as a user's second and later
replays do; the first replay (which makes it) and replays without it are timed too.
``python benchmarks/replay_bench.py`` prints the result; ``benchmarks/run.py`` collects it.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import psycopg

from repro.replay.prune import prune

ROOT = Path(__file__).resolve().parent.parent
RUNS = 3
ROWS = 100_000
PG_IMAGE = "postgres:13"
APP_IMAGE = "repro/demo-shop:2.1.0"


def _repro(*args: str, cache: bool = True) -> tuple[float, float, dict[str, Any], int]:
    """The command as a subprocess: seconds until its JSON report is on stdout (the verdict;
    the sandbox is removed after it), seconds until it exits, the report, the exit code.
    ``cache``: the sandbox may start from the cached PostgreSQL image."""
    env = {**os.environ, "REPRO_SANDBOX_CACHE": "1" if cache else "0"}
    with tempfile.TemporaryFile() as errors:  # a file, not a pipe: stderr never blocks
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-m", "repro.cli", *args], stdout=subprocess.PIPE, stderr=errors,
            cwd=ROOT, env=env,
        )  # fmt: skip
        assert proc.stdout is not None
        text, verdict_at = b"", None
        while chunk := os.read(proc.stdout.fileno(), 65536):
            text += chunk
            if verdict_at is None and text.rstrip().endswith(b"}"):
                try:
                    json.loads(text)
                    verdict_at = time.perf_counter() - started
                except ValueError:
                    pass
        proc.stdout.close()
        code = proc.wait(timeout=600)
        seconds = time.perf_counter() - started
        errors.seek(0)
        stderr = errors.read()
    try:
        report = json.loads(text)
    except ValueError:
        raise RuntimeError(
            f"repro replay failed ({code}): {stderr.decode(errors='replace')[-500:]}"
        ) from None
    return verdict_at or seconds, seconds, report, code


def bare_postgres_ready() -> float:
    """``docker run -d`` of the same image, then connect until it answers: the floor under
    any sandbox with a database."""
    name = f"repro-bench-pg-{uuid.uuid4().hex[:8]}"
    started = time.perf_counter()
    subprocess.run(
        [
            "docker",
            "run",
            "-d",
            "--rm",
            "--name",
            name,
            "--label",
            "repro.managed=true",
            "-e",
            "POSTGRES_PASSWORD=bench",
            "-p",
            "127.0.0.1::5432",
            PG_IMAGE,
        ],
        check=True,
        capture_output=True,
    )
    try:
        port = ""
        while not port:
            out = subprocess.run(
                ["docker", "port", name, "5432/tcp"], capture_output=True, text=True, check=False
            ).stdout
            port = out.strip().splitlines()[0].rsplit(":", 1)[-1] if out.strip() else ""
        while True:
            try:
                with psycopg.connect(
                    f"postgresql://postgres:bench@127.0.0.1:{port}/postgres", connect_timeout=2
                ) as conn:
                    conn.execute("SELECT 1")
                break
            except psycopg.OperationalError:
                time.sleep(0.05)
        return time.perf_counter() - started
    finally:
        subprocess.run(["docker", "rm", "-f", name], capture_output=True, check=False)


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="repro-bench-replay-") as tmp:
        incident = Path(tmp) / "incident.yaml"
        subprocess.run(
            [
                sys.executable,
                "-m",
                "repro.cli",
                "import",
                "sentry",
                str(ROOT / "fixtures/incidents/null-email/sentry-event.json"),
                "-o",
                str(incident),
            ],
            check=True,
            capture_output=True,
        )
        args = [
            "replay",
            str(incident),
            "--snapshot",
            str(ROOT / "fixtures/snapshots/prod.json"),
            "--rows",
            str(ROWS),
            "--json",
        ]
        # The first replay on an engine makes the cached PostgreSQL image: timed on its own.
        prune(cache=True)
        first = _repro(*args)[0]
        bare: list[float] = []
        full: list[tuple[float, float, dict[str, Any]]] = []
        no_parity: list[float] = []
        uncached: list[float] = []
        for _ in range(RUNS):
            bare.append(bare_postgres_ready())
            to_verdict, seconds, report, code = _repro(*args)
            if code != 0:
                raise RuntimeError(f"expected REPRODUCED (exit 0), got exit {code}")
            full.append((to_verdict, seconds, report))
            no_parity.append(_repro(*args, "--no-parity")[0])
            uncached.append(_repro(*args, cache=False)[0])
    median_run = sorted(full, key=lambda item: item[0])[len(full) // 2]
    total, whole, report = median_run
    stages = {s["name"]: s["seconds"] for s in report["stages"]}
    accounted = sum(stages.values())
    rows_loaded = report["sandbox"]["rows"]["total"]
    bare_median = statistics.median(bare)
    rows: dict[str, str] = {
        "`repro replay` to verdict (report on stdout; median of 3)": f"{total:.1f} s",
        "same run until the process exits (the sandbox removed)": f"{whole:.1f} s",
        "`--no-parity`, to verdict (median of 3)": f"{statistics.median(no_parity):.1f} s",
        "`REPRO_SANDBOX_CACHE=0` (PostgreSQL from the plain image), to verdict (median of 3)": (
            f"{statistics.median(uncached):.1f} s "
            f"({statistics.median(uncached) / statistics.median(bare):.2f}x bare)"
        ),
        "first replay on this engine (makes the cached image), to verdict": (
            f"{first:.1f} s ({first / statistics.median(bare):.2f}x bare)"
        ),
        f"bare `docker run {PG_IMAGE}` until it accepts connections (median of 3)": (
            f"{bare_median:.1f} s"
        ),
        "rows generated into the sandbox": f"{rows_loaded:,}",
    }
    for name, seconds in stages.items():
        rows[f"stage: {name}"] = f"{seconds:.2f} s"
    rows["process start, incident/snapshot load, report (rest)"] = f"{total - accounted:.2f} s"
    rows["clean-up after the verdict"] = f"{whole - total:.2f} s"
    rows["verdict"] = report["verdict"]
    ratio = total / bare_median
    rows["replay to verdict / bare PostgreSQL start"] = f"{ratio:.2f}x"
    met = total <= 30.0 and ratio <= 2.5
    return {
        "title": "repro replay, demo NULL-email bug, 100k-row dataset",
        "target": (
            "replay to verdict <= 30 s on this machine with images present, and <= 2.5x a "
            "bare PostgreSQL start of the same image (issue 15)"
        ),
        "rows": rows,
        "verdict": (
            f"{'met' if met else 'MISSED'}: {total:.1f} s to verdict, {ratio:.2f}x the bare "
            f"`docker run` of the same image ({bare_median:.1f} s); the database stage is "
            f"{stages.get('database', 0):.1f} s of it"
        ),
        "notes": f"Runs to verdict: {', '.join(f'{run[0]:.1f}' for run in full)} s. "
        f"PostgreSQL image {PG_IMAGE}, app image {APP_IMAGE}, cpu count {os.cpu_count()}.",
    }


if __name__ == "__main__":
    print(json.dumps(run(), indent=2))
