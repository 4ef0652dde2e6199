"""``--concurrency C --repeat N``: the request sent N times by C clients at once, each keeping
its connection open while the app allows (HTTP/1.1 keep-alive), as a load tester would. What
comes back is one :class:`Shot` per request (status or transport error, latency, when it
started and ended) and a summary: requests per second, latency percentiles and histogram,
status counts, error rate, the first failure.
"""

from __future__ import annotations

import http.client
import itertools
import math
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

from repro.replay.request import PreparedRequest, exchange, transport_error

MAX_REQUESTS = 100_000
PERCENTILES = (50, 90, 95, 99)


@dataclass
class Shot:
    n: int  # 1-based, in the order requests were started
    status: int | None
    error: str | None
    started: float  # seconds since the load began
    seconds: float

    @property
    def failed(self) -> bool:
        return self.error is not None or (self.status or 0) >= 500


@dataclass
class LoadReport:
    concurrency: int
    requests: int
    seconds: float  # wall time of the whole load
    statuses: dict[str, int] = field(default_factory=dict)  # "201" -> 24, "no answer" -> 1
    errors: dict[str, int] = field(default_factory=dict)  # transport error -> count
    latency_ms: dict[str, float] = field(default_factory=dict)  # "p50", "p90"... "max", "mean"
    histogram: list[tuple[float, int]] = field(default_factory=list)  # (upper bound ms, count)
    first_failure: int | None = None  # the Shot.n of the first request that failed
    failed: int = 0  # 5xx or no answer

    @property
    def requests_per_s(self) -> float:
        return self.requests / self.seconds if self.seconds > 0 else 0.0

    @property
    def error_rate(self) -> float:
        return self.failed / self.requests if self.requests else 0.0


def fire(
    host: str, port: int, request: PreparedRequest, *, concurrency: int, total: int,
    timeout: float,
) -> tuple[list[Shot], float]:  # fmt: skip
    """Sends ``request`` ``total`` times from ``concurrency`` threads; the shots in start
    order and the wall time."""
    counter = itertools.count(1)
    shots: list[Shot] = []
    lock = threading.Lock()
    began = time.perf_counter()

    def client() -> None:
        conn: http.client.HTTPConnection | None = None
        mine: list[Shot] = []
        try:
            while (n := next(counter)) <= total:
                if conn is None:
                    conn = http.client.HTTPConnection(host, port, timeout=timeout)
                started = time.perf_counter()
                try:
                    status, reusable = exchange(conn, host, port, request)
                    error = None
                except (OSError, http.client.HTTPException, ValueError) as exc:
                    status, reusable, error = None, False, transport_error(exc, host, port, timeout)
                ended = time.perf_counter()
                mine.append(Shot(n, status, error, started - began, ended - started))
                if not reusable:
                    conn.close()
                    conn = None
        finally:
            if conn is not None:
                conn.close()
            with lock:
                shots.extend(mine)

    threads = [
        threading.Thread(target=client, name=f"load-{i}", daemon=True)
        for i in range(min(concurrency, total))
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    shots.sort(key=lambda shot: shot.n)
    return shots, wall


def summarize(shots: list[Shot], concurrency: int, wall: float) -> LoadReport:
    report = LoadReport(concurrency, len(shots), wall)
    statuses: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    for shot in shots:
        statuses[str(shot.status) if shot.status is not None else "no answer"] += 1
        if shot.error is not None:
            errors[shot.error] += 1
    report.statuses = dict(sorted(statuses.items()))
    report.errors = dict(errors.most_common())
    latencies = sorted(shot.seconds * 1000 for shot in shots)
    if latencies:
        for p in PERCENTILES:
            report.latency_ms[f"p{p}"] = round(_nearest_rank(latencies, p), 2)
        report.latency_ms["max"] = round(latencies[-1], 2)
        report.latency_ms["mean"] = round(sum(latencies) / len(latencies), 2)
        report.histogram = histogram(latencies)
    failed = [shot for shot in shots if shot.failed]
    report.failed = len(failed)
    if failed:
        report.first_failure = min(failed, key=lambda shot: shot.started + shot.seconds).n
    return report


def _nearest_rank(ordered: list[float], percentile: int) -> float:
    rank = max(1, math.ceil(percentile / 100 * len(ordered)))
    return ordered[rank - 1]


def histogram(latencies_ms: list[float], buckets: int = 20) -> list[tuple[float, int]]:
    """Equal-width buckets from 0 to the largest latency: (upper bound ms, count)."""
    top = max(latencies_ms)
    if top <= 0:
        return [(0.0, len(latencies_ms))]
    width = top / buckets
    counts = [0] * buckets
    for value in latencies_ms:
        counts[min(buckets - 1, int(value / width))] += 1
    return [(round(width * (i + 1), 2), count) for i, count in enumerate(counts)]
