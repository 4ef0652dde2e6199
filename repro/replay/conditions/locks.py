"""Lock waits in the sandbox database, watched while the request runs: which session waited,
for which lock on what, how long, and who held it (``pg_stat_activity``, ``pg_locks``,
``pg_blocking_pids``). Polled every :data:`POLL_S` from a connection of repro's own; the last
sight of each wait is its state at the moment it ended, which is the moment a lock timeout or
a statement timeout failed the request.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, field
from typing import Any

from repro.pg.target_db import connect_target
from repro.redaction import Redactor

POLL_S = 0.1
MAX_WAITS = 200
MAX_QUERY = 300

_WAITS = """
SELECT w.pid, w.application_name, left(w.query, %(max)s), w.wait_event,
       extract(epoch FROM clock_timestamp() - w.query_start)::float8,
       wl.mode, coalesce(wl.relation::regclass::text, wl.locktype),
       b.pid, b.application_name, left(b.query, %(max)s), b.state,
       (SELECT string_agg(DISTINCT bl.mode, ', ') FROM pg_locks bl
         WHERE bl.pid = b.pid AND bl.granted AND bl.relation IS NOT DISTINCT FROM wl.relation)
FROM pg_stat_activity w
LEFT JOIN LATERAL (SELECT l.mode, l.relation, l.locktype FROM pg_locks l
                   WHERE l.pid = w.pid AND NOT l.granted LIMIT 1) wl ON true
LEFT JOIN LATERAL unnest(pg_blocking_pids(w.pid)) AS bp(pid) ON true
LEFT JOIN pg_stat_activity b ON b.pid = bp.pid
WHERE w.wait_event_type = 'Lock' AND w.pid <> pg_backend_pid()
"""


@dataclass
class Session:
    pid: int
    application: str
    query: str
    state: str = ""
    holds: str = ""  # lock modes held on the contended relation ("ShareLock")


@dataclass
class LockWait:
    """One session's wait for a lock, as last seen."""

    waiter: Session
    wanted: str  # "RowExclusiveLock"
    on: str  # "users", or the lock type ("transactionid") when not a relation
    seconds: float  # how long the statement had waited when last seen
    first_at: float  # seconds since the watch started
    last_at: float
    blockers: list[Session] = field(default_factory=list)

    def describe(self) -> str:
        blockers = (
            "; ".join(
                f"pid {b.pid} {b.application or '(no name)'} ({b.holds or 'a lock'}): "
                f"{' '.join(b.query.split())}"
                for b in self.blockers
            )
            or "unknown"
        )
        return (
            f"{' '.join(self.waiter.query.split())} waited {self.seconds:.1f} s for "
            f"{self.wanted} on {self.on}, blocked by {blockers}"
        )


class LockWatch:
    """Polls for lock waits in a thread between :meth:`start` and :meth:`stop`."""

    def __init__(self, dsn: str, redactor: Redactor) -> None:
        self.dsn, self.redactor = dsn, redactor
        self._waits: dict[tuple[int, str], LockWait] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._started = 0.0
        self.error: str | None = None

    def start(self) -> LockWatch:
        self._started = time.monotonic()
        self._thread = threading.Thread(target=self._run, name="lock-watch", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> list[LockWait]:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        return sorted(self._waits.values(), key=lambda w: w.first_at)

    def _run(self) -> None:
        try:
            conn = connect_target(self.dsn, self.redactor, what="the sandbox database")
        except Exception as exc:
            self.error = type(exc).__name__
            return
        try:
            conn.autocommit = True
            conn.execute("SET application_name = 'repro-lock-watch'")
            while not self._stop.is_set():
                self._poll(conn)
                self._stop.wait(POLL_S)
            self._poll(conn)
        except Exception as exc:  # the database went away mid-watch: what was seen stays
            self.error = type(exc).__name__
        finally:
            conn.close()

    def _poll(self, conn: Any) -> None:
        now = round(time.monotonic() - self._started, 3)
        rows = conn.execute(_WAITS, {"max": MAX_QUERY}).fetchall()
        seen: dict[tuple[int, str], LockWait] = {}
        for row in rows:
            pid, app, query, _event, waited, mode, on = row[:7]
            key = (int(pid), str(query or ""))
            wait = seen.get(key)
            if wait is None:
                known = self._waits.get(key)
                wait = LockWait(
                    Session(int(pid), str(app or ""), str(query or "")),
                    wanted=str(mode or "a lock"),
                    on=str(on or "unknown"),
                    seconds=float(waited or 0.0),
                    first_at=known.first_at if known is not None else now,
                    last_at=now,
                )
                seen[key] = wait
            if row[7] is not None:
                wait.blockers.append(
                    Session(
                        int(row[7]),
                        str(row[8] or ""),
                        str(row[9] or ""),
                        str(row[10] or ""),
                        str(row[11] or ""),
                    )
                )
        for key, wait in seen.items():
            if key in self._waits or len(self._waits) < MAX_WAITS:
                self._waits[key] = wait
