"""The snapshot file format: versioned, stable, and strict about garbage."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from repro.errors import SnapshotFormatError
from repro.snapshot.file import SCHEMA, FacetResult, Snapshot, load_snapshot, write_snapshot


def sample() -> Snapshot:
    return Snapshot(
        profile="p",
        captured_at="2026-01-01T00:00:00Z",
        target={"kind": "local", "identity": "h", "user": "u"},
        redaction={"algorithm": "hmac-sha256", "key_id": "abc"},
        facets={
            "env": FacetResult(status="ok", data={"vars": {"B": "2", "A": "1"}}),
            "files": FacetResult(status="partial", problems=["/x: permission denied"]),
        },
    )


def test_round_trip_and_sorted_keys(tmp_path: Path) -> None:
    path = write_snapshot(sample(), tmp_path / "s.json")
    text = path.read_text()
    raw = json.loads(text)
    assert raw["schema"] == SCHEMA == "repro.snapshot/v1"
    assert list(raw["facets"]) == ["env", "files"]
    assert text.index('"A"') < text.index('"B"')
    loaded = load_snapshot(path)
    assert loaded.facets["files"].status == "partial"
    assert loaded.worst_status == "partial"
    assert loaded.dumps() == sample().dumps()


@pytest.mark.parametrize(
    ("content", "expected"),
    [
        ("{not json", "corrupt snapshot (invalid JSON"),
        ("[]", "not a repro snapshot"),
        ('{"schema": "other/v1", "facets": {}}', "not a repro snapshot"),
        ('{"schema": "repro.snapshot/v2", "facets": {}}', "newer repro"),
        ('{"schema": "repro.snapshot/v1"}', "'facets' is missing"),
        (
            '{"schema": "repro.snapshot/v1", "facets": {"env": {"status": "meh"}}}',
            "unknown facet status",
        ),
    ],
)
def test_garbage_snapshots_fail_clearly(tmp_path: Path, content: str, expected: str) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    with pytest.raises(SnapshotFormatError, match=expected.replace("(", r"\(").replace(")", r"\)")):
        load_snapshot(path)


def test_binary_and_missing_files(tmp_path: Path) -> None:
    path = tmp_path / "bin.json"
    path.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(SnapshotFormatError, match="not UTF-8"):
        load_snapshot(path)
    with pytest.raises(SnapshotFormatError, match="no such snapshot file"):
        load_snapshot(tmp_path / "missing.json")
