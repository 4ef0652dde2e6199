"""Replay: a failing production request as an incident file, importers that make one from a
Sentry event, a HAR, a curl command or an access-log line, and (later) the sandbox and verdict.
"""

from __future__ import annotations

from repro.replay.incident import (
    SCHEMA,
    STANDIN,
    ExceptionInfo,
    Frame,
    Incident,
    Lost,
    Provenance,
    Request,
    Signature,
    describe,
    load_incident,
    write_incident,
)

__all__ = [
    "SCHEMA",
    "STANDIN",
    "ExceptionInfo",
    "Frame",
    "Incident",
    "Lost",
    "Provenance",
    "Request",
    "Signature",
    "describe",
    "load_incident",
    "write_incident",
]
