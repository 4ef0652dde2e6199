"""Exception chains found in a log, whatever language printed them: Python tracebacks
(:mod:`repro.replay.tracebacks`), Node.js stacks (:mod:`.node`), JVM stack traces with
``Caused by:`` (:mod:`.java`) and Ruby backtraces (:mod:`.ruby`).

Every parser gives the same :class:`~repro.replay.incident.ExceptionInfo` chains in Sentry's
order (outermost LAST, frames caller -> callee, in-app marked), so a signature read from a log
compares with one from a Sentry event of any SDK. A JSON log line (pino, ECS, logstash, structlog)
that carries a stack in a field is read as the lines of that field.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from typing import Any

from repro.replay.tracebacks import DEFAULT_ROOTS, Chain, Located, python_chains
from repro.replay.traces.java import java_chains
from repro.replay.traces.node import node_chains
from repro.replay.traces.ruby import ruby_chains

# Fields of a JSON log line that hold a stack trace as text.
STACK_FIELDS = frozenset(
    {"stack", "stack_trace", "stacktrace", "stackTrace", "exc_info", "exception", "traceback"}
)
MAX_JSON_LINE = 256 * 1024
_MAX_DEPTH = 4


def parse_log_traces(log: str, roots: Sequence[str] = DEFAULT_ROOTS) -> list[Chain]:
    """Every exception chain printed in ``log``, in order of appearance."""
    lines = list(_expanded(log.splitlines()))
    found: list[Located] = [
        *python_chains(lines, roots),
        *node_chains(lines, roots),
        *java_chains(lines),
        *ruby_chains(lines, roots),
    ]
    return [chain for _start, chain in sorted(found, key=lambda item: item[0])]


def _expanded(lines: Sequence[str]) -> Iterator[str]:
    for line in lines:
        stripped = line.strip()
        if stripped.startswith("{") and stripped.endswith("}") and len(stripped) <= MAX_JSON_LINE:
            try:
                record = json.loads(stripped)
            except (ValueError, RecursionError):
                record = None
            stacks = list(_stacks(record, 0)) if isinstance(record, dict) else []
            if stacks:
                for stack in stacks:
                    yield from stack.splitlines()
                continue
        yield line


def _stacks(node: Any, depth: int) -> Iterator[str]:
    if depth > _MAX_DEPTH or not isinstance(node, dict):
        return
    for key, value in node.items():
        # ECS writes dotted names flat: "error.stack_trace"
        if key.rsplit(".", 1)[-1] in STACK_FIELDS and isinstance(value, str) and "\n" in value:
            yield value
        elif isinstance(value, dict):
            yield from _stacks(value, depth + 1)
