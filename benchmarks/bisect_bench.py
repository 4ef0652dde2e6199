"""`repro bisect` on the demo's feature-flag bug (staging good, production bad) against the
anchor of the same run: one `repro replay` of that incident. Reported: the discrepancies, the
applicable changes, the replays bisect used beside Zeller's bound for one cause (about
2·log2(n) + the 3 endpoint replays) and beside one replay per applicable change, and the wall
times as ratios to one replay.

BISECT_ENGINES (space-separated DOCKER_HOST values) adds a `--jobs N` run spread over them.

The sweep (BISECT_SWEEP=0 leaves it out): a bad snapshot made from staging's with 10, 25 and 50
planted differences, of which one causes the feature-flag failure (FEATURE_NEW_CHECKOUT) or
three cause the export-oom one together (production's memory limit and its orders and
order_items scale); the others are environment variables the app never reads. Reported beside
Zeller's bounds: about 2·c·log2(n) replays for c causes, and one replay per difference.
Needs Docker and the demo images (`make images`).
"""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PROD = ROOT / "fixtures" / "snapshots" / "prod.json"
STAGING = ROOT / "fixtures" / "snapshots" / "staging.json"
EVENT = ROOT / "fixtures" / "incidents" / "feature-flag" / "sentry-event.json"
OOM_LOG = ROOT / "fixtures" / "incidents" / "export-oom" / "access.log"
SWEEP = (10, 25, 50)
OOM_TABLES = ("public.orders", "public.order_items")


def _repro(*args: str) -> tuple[float, subprocess.CompletedProcess[str]]:
    env = {**os.environ, "REPRO_REDACTION_KEY": os.environ.get("REPRO_REDACTION_KEY",
                                                               "repro-demo-team-key")}  # fmt: skip
    started = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "repro", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=False, timeout=1800)  # fmt: skip
    return time.perf_counter() - started, done


def _planted(folder: str, differences: int, oom: bool) -> str:
    """Staging's snapshot with ``differences`` planted differences: the cause(s), and unread
    environment variables for the rest."""
    snapshot = json.loads(STAGING.read_text())
    prod = json.loads(PROD.read_text())
    facets = snapshot["facets"]
    env = facets["env"]["data"]["vars"]
    if oom:
        facets["runtime"]["data"]["cgroup"]["memory_limit_bytes"] = 128 * 1024 * 1024
        database, source = facets["database"]["data"], prod["facets"]["database"]["data"]
        for table in OOM_TABLES:
            database["statistics"][table] = source["statistics"][table]
            for key in ("rows_estimate", "size_bytes"):
                database["tables"][table][key] = source["tables"][table][key]
        causes = 1 + len(OOM_TABLES)
    else:
        env["FEATURE_NEW_CHECKOUT"] = "1"
        causes = 1
    for index in range(differences - causes):
        env[f"REPRO_BENCH_UNREAD_{index:02d}"] = str(index)
    path = Path(folder) / f"bad-{'oom' if oom else 'flag'}-{differences}.json"
    path.write_text(json.dumps(snapshot))
    return str(path)


def _sweep(folder: str, incidents: dict[str, str], one: dict[str, float]) -> dict[str, str]:
    rows: dict[str, str] = {}
    for oom in (False, True):
        name, causes = ("export-oom", 3) if oom else ("feature-flag", 1)
        extra = ("--expect", "oom") if oom else ()
        for differences in SWEEP:
            bad = _planted(folder, differences, oom)
            seconds, done = _repro("bisect", incidents[name], "--good", str(STAGING),
                                   "--bad", bad, "--json", *extra)  # fmt: skip
            report = json.loads(done.stdout)
            found = len(report["cause"]) if report["status"] == "cause" else report["status"]
            changes = len(report["changes"])
            bound = 2 * causes * math.ceil(math.log2(changes)) + 3
            label = f"sweep {name}, {differences} planted ({changes} applicable), {causes} cause(s)"
            rows[label] = (
                f"{report['replays']} replays (2·{causes}·⌈log2 {changes}⌉ + 3 = {bound}; one "
                f"per difference: {changes + 2}), {seconds:.0f} s = "
                f"{seconds / one[name]:.1f} × one replay; cause found: {found}"
            )
    return rows


def run() -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        incident = str(Path(folder) / "incident.yaml")
        _seconds, done = _repro("import", "sentry", str(EVENT), "-o", incident)
        assert done.returncode == 0, done.stderr
        replays = []
        for _ in range(3):
            seconds, done = _repro("replay", incident, "--snapshot", str(PROD), "--no-parity",
                                   "--json")  # fmt: skip
            assert done.returncode == 0, done.stderr
            replays.append(seconds)
        one = sorted(replays)[1]
        oom_incident = str(Path(folder) / "export-oom.yaml")
        done = subprocess.run([sys.executable, "-m", "repro", "import", "log", "-", "-o",
                               oom_incident], cwd=ROOT, input=OOM_LOG.read_text(),
                              capture_output=True, text=True, check=False)  # fmt: skip
        assert done.returncode == 0, done.stderr
        oom_one, _done = _repro("replay", oom_incident, "--snapshot", str(PROD), "--no-parity",
                                "--json", "--expect", "oom")  # fmt: skip
        seconds, done = _repro("bisect", incident, "--good", str(STAGING), "--bad", str(PROD),
                               "--json")  # fmt: skip
        report = json.loads(done.stdout)
        assert report["status"] == "cause", report["message"]
        changes = len(report["changes"])
        discrepancies = changes + len(report["untested"])
        bound = 3 + 2 * math.ceil(math.log2(changes))
        rows = {
            "one replay (anchor, median of 3)": f"{one:.1f} s",
            "discrepancies / applicable changes / untested": (
                f"{discrepancies} / {changes} / {len(report['untested'])}"
            ),
            "bisect --jobs 1: cause": ", ".join(c["key"] for c in report["cause"]),
            "bisect --jobs 1: replays used": f"{report['replays']} (bound for one cause: "
            f"3 + 2·⌈log2 {changes}⌉ = {bound}; one replay per change: {changes + 2})",
            "bisect --jobs 1: wall time": f"{seconds:.1f} s = {seconds / one:.1f} × one replay",
            "one replay per applicable change (+2 endpoints), estimated": (
                f"{(changes + 2) * one:.1f} s = {changes + 2} × one replay"
            ),
        }
        engines = os.environ.get("BISECT_ENGINES", "").split()
        if engines:
            args = [a for engine in engines for a in ("--engine", engine)]
            jobs = ("--jobs", str(len(engines)))
            seconds, done = _repro("bisect", incident, "--good", str(STAGING), "--bad",
                                   str(PROD), "--json", *jobs, *args)  # fmt: skip
            parallel = json.loads(done.stdout)
            assert parallel["status"] == "cause", parallel["message"]
            rows[f"bisect --jobs {len(engines)} on {len(engines)} engines: replays"] = (
                f"{parallel['replays']} (per engine: {parallel['engines']})"
            )
            rows[f"bisect --jobs {len(engines)}: wall time"] = (
                f"{seconds:.1f} s = {seconds / one:.1f} × one replay"
            )
        if os.environ.get("BISECT_SWEEP", "1") != "0":
            rows["one replay of export-oom (anchor of its sweep)"] = f"{oom_one:.1f} s"
            rows.update(_sweep(folder, {"feature-flag": incident, "export-oom": oom_incident},
                               {"feature-flag": one, "export-oom": oom_one}))  # fmt: skip
    return {
        "title": "repro bisect, demo feature-flag bug, staging vs production",
        "target": "replays within the ddmin bound; wall time well under one replay per "
        "difference",
        "rows": rows,
        "notes": "--jobs N tries up to N subsets of a round at once, so it may run more "
        "replays than --jobs 1 (the ones after the first failing subset are speculative); it "
        "saves wall time only where the engines have idle cores: each sandbox's PostgreSQL "
        "start and data load are CPU-bound. The sweep's bad snapshots are staging's with the "
        "planted differences (the causes, and environment variables the app never reads); the "
        "ddmin bound is also checked on synthetic predicates in tests/bisect/test_ddmin.py.",
    }
