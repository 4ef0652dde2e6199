"""The snapshot file: the contract between capture, diff, data and replay.

``{"schema": "repro.snapshot/v1", ...}``; keys sorted, facets keyed (maps, never lists), so that
capturing an unchanged environment twice gives the same file apart from times and durations.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from repro import __version__
from repro.errors import SnapshotFormatError
from repro.inputfile import read_text
from repro.limits import load_json
from repro.outputfile import write_output

SCHEMA_NAME = "repro.snapshot"
SCHEMA_MAJOR = 1
SCHEMA = f"{SCHEMA_NAME}/v{SCHEMA_MAJOR}"

Status = Literal["ok", "partial", "error", "skipped"]
STATUSES: tuple[str, ...] = ("ok", "partial", "error", "skipped")


@dataclass
class FacetResult:
    """What one facet captured, and how well."""

    status: Status
    data: dict[str, Any] = field(default_factory=dict)
    message: str | None = None
    problems: list[str] = field(default_factory=list)
    duration_ms: int = 0

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"status": self.status, "duration_ms": self.duration_ms}
        if self.message:
            out["message"] = self.message
        if self.problems:
            out["problems"] = sorted(set(self.problems))
        out["data"] = self.data
        return out

    @classmethod
    def from_json(cls, raw: Any, where: str) -> FacetResult:
        if not isinstance(raw, dict):
            raise SnapshotFormatError(f"{where}: facet is not an object")
        status = raw.get("status")
        if status not in STATUSES:
            raise SnapshotFormatError(f"{where}: unknown facet status {status!r}")
        data = raw.get("data", {})
        if not isinstance(data, dict):
            raise SnapshotFormatError(f"{where}: facet data is not an object")
        problems = raw.get("problems", [])
        message = raw.get("message")
        duration = raw.get("duration_ms")
        return cls(
            status=status,
            data=data,
            message=message if isinstance(message, str) else None,
            problems=[str(p) for p in problems] if isinstance(problems, list) else [],
            # Informational only: anything but a count of milliseconds reads as 0.
            duration_ms=duration if type(duration) is int and duration >= 0 else 0,
        )


@dataclass
class Snapshot:
    profile: str
    captured_at: str
    target: dict[str, Any]
    redaction: dict[str, Any]
    facets: dict[str, FacetResult]
    tool_version: str = __version__
    source: str | None = None  # where it was read from; not serialized

    @property
    def worst_status(self) -> Status:
        statuses = {f.status for f in self.facets.values()}
        if "error" in statuses:
            return "error"
        if "partial" in statuses:
            return "partial"
        return "ok"

    def to_json(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "tool": {"name": "repro", "version": self.tool_version},
            "captured_at": self.captured_at,
            "profile": self.profile,
            "target": self.target,
            "redaction": self.redaction,
            "facets": {name: self.facets[name].to_json() for name in sorted(self.facets)},
        }

    def dumps(self) -> str:
        return json.dumps(self.to_json(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"

    @classmethod
    def from_json(cls, raw: Any, where: str = "snapshot") -> Snapshot:
        if not isinstance(raw, dict):
            raise SnapshotFormatError(f"{where}: not a repro snapshot (top level is not an object)")
        schema = raw.get("schema")
        if not isinstance(schema, str) or not schema.startswith(SCHEMA_NAME + "/v"):
            raise SnapshotFormatError(
                f"{where}: not a repro snapshot (schema is {schema!r}, expected {SCHEMA!r})"
            )
        try:
            major = int(schema.rsplit("/v", 1)[1].split(".")[0])
        except ValueError:
            raise SnapshotFormatError(f"{where}: unreadable schema version {schema!r}") from None
        if major > SCHEMA_MAJOR:
            raise SnapshotFormatError(
                f"{where}: written by a newer repro (schema {schema}); this repro reads up to "
                f"{SCHEMA} — upgrade repro"
            )
        facets_raw = raw.get("facets")
        if not isinstance(facets_raw, dict):
            raise SnapshotFormatError(f"{where}: 'facets' is missing or not an object")
        tool = _mapping(raw.get("tool"))
        return cls(
            profile=str(raw.get("profile", "")),
            captured_at=str(raw.get("captured_at", "")),
            target=_mapping(raw.get("target")),
            redaction=_mapping(raw.get("redaction")),
            facets={
                str(name): FacetResult.from_json(value, f"{where}: facets.{name}")
                for name, value in facets_raw.items()
            },
            tool_version=str(tool.get("version", "")),
        )


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def load_snapshot(path: str | Path) -> Snapshot:
    path = Path(path)
    text = read_text(path, SnapshotFormatError, noun="snapshot file")
    try:
        raw = load_json(text, str(path), SnapshotFormatError)
    except json.JSONDecodeError as exc:
        raise SnapshotFormatError(
            f"{path}: corrupt snapshot (invalid JSON at line {exc.lineno} column {exc.colno})"
        ) from None
    del text  # a large snapshot's text is as big as the file: not kept while the diff runs
    snapshot = Snapshot.from_json(raw, str(path))
    snapshot.source = str(path)
    return snapshot


def write_snapshot(snapshot: Snapshot, path: str | Path, *, force: bool = False) -> Path:
    """Write by :mod:`repro.outputfile`'s rules: whole or not at all, an existing file only
    with ``force``, the mode the umask allows (fingerprints, never secrets)."""
    return write_output(Path(path), snapshot.dumps(), force=force)


def database_of(snapshot: Snapshot) -> dict[str, Any]:
    """The snapshot's database facet, which data generation and a sandbox are built from."""
    facet = snapshot.facets.get("database")
    if facet is None or not facet.data:
        raise SnapshotFormatError(
            "the snapshot has no database facet to generate data from",
            hint="snapshot a profile with a database: section",
        )
    if facet.status == "error":
        raise SnapshotFormatError(
            f"the snapshot's database facet failed to capture: {facet.message or 'no details'}"
        )
    return facet.data
