"""Timing whole processes against an anchor in the same run: interleaved (A B A B ...), so a
machine whose speed drifts (other jobs) slows both alike, and ratios taken pair by pair.

Wall time from a monotonic clock around the child; CPU time (user + system) from the
operating system's accounting of finished children (``RUSAGE_CHILDREN`` before and after).
"""

from __future__ import annotations

import compileall
import os
import resource
import statistics
import subprocess
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Samples:
    wall: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def median_wall(self) -> float:
        return statistics.median(self.wall)

    def median_cpu(self) -> float:
        return statistics.median(self.cpu)


def run_once(argv: Sequence[str], env: Mapping[str, str], cwd: Path) -> tuple[float, float]:
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    done = subprocess.run(list(argv), env=dict(env), cwd=cwd, capture_output=True, check=False)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    if done.returncode not in (0, 1):
        raise RuntimeError(f"{argv[:4]} exited {done.returncode}: {done.stderr.decode()[-500:]}")
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def interleaved(
    commands: Mapping[str, Sequence[str]],
    *,
    runs: int,
    warmup: int = 2,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
) -> dict[str, Samples]:
    env = dict(env or os.environ)
    out = {name: Samples() for name in commands}
    for round_ in range(warmup + runs):
        for name, argv in commands.items():
            wall, cpu = run_once(argv, env, cwd)
            if round_ >= warmup:
                out[name].wall.append(wall)
                out[name].cpu.append(cpu)
    return out


def ratio(a: Samples, b: Samples, what: str = "wall") -> float:
    """The median of the pair-by-pair ratios A/B."""
    pairs = zip(getattr(a, what), getattr(b, what), strict=True)
    return statistics.median(x / y for x, y in pairs)


def compile_bytecode() -> None:
    """What an installation does (pip compiles modules to bytecode): without it, every run
    would compile repro's modules from source (PYTHONDONTWRITEBYTECODE also prevents the
    first run from caching them)."""
    compileall.compile_dir(str(ROOT / "repro"), quiet=1)


def load_average() -> str:
    one, _, _ = os.getloadavg()
    return f"{one:.1f}"
