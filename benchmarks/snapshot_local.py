"""Whole `repro snapshot local` as a user runs it (a fresh process each time)."""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
import time
from typing import Any

TARGET_S = 2.0
RUNS = 5


def run() -> dict[str, Any]:
    timings = []
    with tempfile.TemporaryDirectory() as tmp:
        env = {**os.environ, "REPRO_HOME": tmp}
        env.pop("DATABASE_URL", None)
        for _ in range(RUNS):
            started = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "repro", "snapshot", "local", "-o", f"{tmp}/s.json"],
                env=env,
                check=False,
                capture_output=True,
            )
            timings.append(time.perf_counter() - started)
    median = statistics.median(timings)
    return {
        "title": "repro snapshot local (whole process)",
        "target": f"under {TARGET_S:g} s",
        "rows": {
            "runs": RUNS,
            "median": f"{median:.2f} s",
            "best": f"{min(timings):.2f} s",
            "worst": f"{max(timings):.2f} s",
        },
        "verdict": ("met" if median < TARGET_S else "MISSED") + f" ({median:.2f} s median)",
    }
