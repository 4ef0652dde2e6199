"""Resource parity: the app container gets production's memory, CPU, process and open-file
limits from the snapshot's runtime facet (``--memory`` / ``--cpus`` override, ``--no-limits``
drops them), and its memory is sampled from the engine's stats while the request runs.

Swap is set equal to memory (``memswap_limit``): production's containers rarely swap, and a
sandbox that swapped instead of being OOM-killed would not show production's failure.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from repro.replay.conditions.spec import Conditions
from repro.replay.sandbox_env import facet_data
from repro.snapshot.file import Snapshot

MAX_SAMPLES = 3600  # an hour at the engine's one sample a second: the curve is bounded
STOP_JOIN_S = 0.05


def human_bytes(value: float) -> str:
    for unit, size in (("GiB", 1024**3), ("MiB", 1024**2), ("KiB", 1024)):
        if value >= size:
            number = value / size
            whole = number >= 100 or number == int(number)
            return f"{number:.0f} {unit}" if whole else f"{number:.1f} {unit}"
    return f"{int(value)} B"


@dataclass
class Limits:
    """The limits the app container runs under and where each came from."""

    memory_bytes: int | None = None
    memory_source: str = "none"  # "the snapshot's runtime facet", "--memory", "none"
    cpus: float | None = None
    cpus_source: str = "none"
    pids: int | None = None
    open_files: tuple[int, int] | None = None  # soft, hard

    def create_kwargs(self) -> dict[str, Any]:
        """docker-py ``containers.create`` keyword arguments."""
        import docker

        kwargs: dict[str, Any] = {}
        if self.memory_bytes is not None:
            kwargs["mem_limit"] = self.memory_bytes
            kwargs["memswap_limit"] = self.memory_bytes  # no swap: OOM-killed, as in production
        if self.cpus is not None:
            kwargs["nano_cpus"] = int(self.cpus * 1e9)
        if self.pids is not None:
            kwargs["pids_limit"] = self.pids
        if self.open_files is not None:
            soft, hard = self.open_files
            kwargs["ulimits"] = [docker.types.Ulimit(name="nofile", soft=soft, hard=hard)]
        return kwargs

    def memory_text(self) -> str | None:
        if self.memory_bytes is None:
            return None
        return f"{human_bytes(self.memory_bytes)} ({self.memory_source})"

    def lines(self) -> list[str]:
        out = [f"memory {self.memory_text() or 'unlimited'}"]
        cpus = f"CPUs {self.cpus:g} ({self.cpus_source})" if self.cpus else "CPUs unlimited"
        out.append(cpus)
        if self.pids is not None:
            out.append(f"processes {self.pids}")
        if self.open_files is not None:
            out.append(f"open files {self.open_files[0]}/{self.open_files[1]}")
        return out


def _positive_int(value: Any) -> int | None:
    return value if type(value) is int and value > 0 else None


def resource_limits(snapshot: Snapshot, conditions: Conditions) -> Limits:
    """Production's limits (runtime facet), with the caller's overrides."""
    limits = Limits()
    if not conditions.resource_limits:
        return limits
    runtime = facet_data(snapshot, "runtime") or {}
    cgroup = runtime.get("cgroup") if isinstance(runtime.get("cgroup"), dict) else {}
    assert isinstance(cgroup, dict)
    memory = _positive_int(cgroup.get("memory_limit_bytes"))
    if conditions.memory_bytes is not None:
        limits.memory_bytes, limits.memory_source = conditions.memory_bytes, "--memory"
    elif memory is not None and memory >= 6 * 1024 * 1024:
        limits.memory_bytes, limits.memory_source = memory, "the snapshot's runtime facet"
    cpus = cgroup.get("cpu_limit")
    if conditions.cpus is not None:
        limits.cpus, limits.cpus_source = conditions.cpus, "--cpus"
    elif isinstance(cpus, int | float) and not isinstance(cpus, bool) and 0.01 <= cpus <= 1024:
        limits.cpus, limits.cpus_source = float(cpus), "the snapshot's runtime facet"
    limits.pids = _positive_int(cgroup.get("pids_limit"))
    files = runtime.get("open_files")
    if isinstance(files, dict):
        soft, hard = _positive_int(files.get("soft")), _positive_int(files.get("hard"))
        if soft is not None and hard is not None and soft <= hard <= 1 << 20:
            limits.open_files = (soft, hard)
    return limits


@dataclass
class MemoryReport:
    """The app container's memory while the requests ran, from the engine's stats."""

    samples: list[tuple[float, int]] = field(default_factory=list)  # (seconds in, bytes)
    limit_bytes: int | None = None
    high_water_bytes: int | None = None  # the cgroup's own peak (page cache included), if told
    oom_killed: bool = False
    error: str | None = None  # why there are no samples

    @property
    def peak_bytes(self) -> int | None:
        values = [b for _t, b in self.samples]
        return max(values) if values else None

    def summary(self) -> str:
        if self.peak_bytes is None:
            return f"not sampled ({self.error or 'no sample arrived'})"
        text = f"peak {human_bytes(self.peak_bytes)}"
        if self.limit_bytes:
            share = self.peak_bytes / self.limit_bytes
            text += f" of {human_bytes(self.limit_bytes)} ({share:.0%})"
        text += f", {len(self.samples)} sample{'s' if len(self.samples) != 1 else ''}"
        if self.oom_killed:
            text += "; OOM-killed"
        return text


def _in_use(stats: dict[str, Any]) -> int | None:
    """Memory in use as ``docker stats`` counts it: usage minus inactive page cache."""
    memory = stats.get("memory_stats") or {}
    usage = memory.get("usage")
    if not isinstance(usage, int):
        return None
    detail = memory.get("stats") or {}
    cache = detail.get("total_inactive_file", detail.get("inactive_file", 0))
    return max(0, usage - cache) if isinstance(cache, int) else usage


class MemorySampler:
    """Streams the engine's stats of one container in a thread (about one sample a second,
    the engine's own rate; the first at once) until :meth:`stop`; the container's end ends
    the stream."""

    def __init__(self, client: Any, container_id: str, limit_bytes: int | None) -> None:
        self.client, self.container_id = client, container_id
        self.report = MemoryReport(limit_bytes=limit_bytes)
        self._stop = threading.Event()
        self._lock = threading.Lock()
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="memory-sampler", daemon=True)

    def start(self) -> MemorySampler:
        self._started = time.monotonic()
        self._thread.start()
        return self

    def _run(self) -> None:
        try:
            stream = self.client.api.stats(self.container_id, stream=True, decode=True)
            for stats in stream:
                if self._stop.is_set():
                    break
                self._add(stats)
        except Exception as exc:  # the container went away, the engine hung up: no samples
            with self._lock:
                if not self.report.samples:
                    self.report.error = type(exc).__name__

    def _add(self, stats: dict[str, Any]) -> None:
        used = _in_use(stats)
        if used is None or (used == 0 and not (stats.get("pids_stats") or {}).get("current")):
            return  # the engine's first, empty frame, or a stopped container's
        memory = stats.get("memory_stats") or {}
        with self._lock:
            if len(self.report.samples) < MAX_SAMPLES:
                self.report.samples.append((round(time.monotonic() - self._started, 3), used))
            high = memory.get("max_usage")
            if isinstance(high, int) and high > 0:
                self.report.high_water_bytes = high
            limit = memory.get("limit")
            if self.report.limit_bytes is None and isinstance(limit, int) and limit < 1 << 50:
                self.report.limit_bytes = limit

    def stop(self, *, oom_killed: bool = False) -> MemoryReport:
        self._stop.set()
        # A frame that arrives from now on is dropped, so nothing is gained by waiting up to a
        # second for the next one: only a frame being recorded this instant is let finish.
        # The thread itself ends at the engine's next frame, or when the container goes.
        self._thread.join(timeout=STOP_JOIN_S)
        with self._lock:
            self.report.oom_killed = oom_killed
            return MemoryReport(
                samples=list(self.report.samples),
                limit_bytes=self.report.limit_bytes,
                high_water_bytes=self.report.high_water_bytes,
                oom_killed=oom_killed,
                error=self.report.error,
            )
