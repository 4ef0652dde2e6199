"""Where snapshots live: ``.repro/snapshots/<profile>/<time>.json`` plus a ``latest`` pointer."""

from __future__ import annotations

import os
import re
from pathlib import Path

from repro.errors import SnapshotFormatError
from repro.snapshot.file import Snapshot, load_snapshot, write_snapshot

HOME_ENV = "REPRO_HOME"
LATEST = "latest"


def store_root() -> Path:
    return Path(os.environ.get(HOME_ENV) or ".repro") / "snapshots"


def _safe(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name) or "unnamed"


def save_to_store(snapshot: Snapshot, *, latest: bool = True) -> Path:
    """Write the snapshot into the store; with ``latest`` it also becomes what the profile's
    name stands for (``repro diff prod staging``). A snapshot that lost a facet is stored
    without moving ``latest`` (the caller decides: ``--allow-partial``)."""
    directory = store_root() / _safe(snapshot.profile)
    stamp = snapshot.captured_at.replace(":", "").replace("-", "")
    path = directory / f"{stamp}.json"
    counter = 1
    while path.exists():
        counter += 1
        path = directory / f"{stamp}-{counter}.json"
    write_snapshot(snapshot, path)
    if not latest:
        return path
    pointer = directory / LATEST
    tmp = directory / f".{LATEST}.tmp"
    tmp.write_text(path.name + "\n", encoding="utf-8")
    os.replace(tmp, pointer)
    return path


def latest_path(profile: str) -> Path | None:
    directory = store_root() / _safe(profile)
    pointer = directory / LATEST
    try:
        name = pointer.read_text(encoding="utf-8").strip()
    except OSError:
        return None
    path = directory / name
    return path if path.is_file() else None


def snapshot_path(ref: str) -> Path:
    """The file a snapshot reference names: a path, or a profile's latest stored snapshot."""
    path = Path(ref)
    if path.is_file() or ref.endswith(".json") or os.sep in ref:
        return path
    stored = latest_path(ref)
    if stored is None:
        directory = store_root() / _safe(ref)
        kept = sorted(directory.glob("*.json")) if directory.is_dir() else []
        if kept:
            raise SnapshotFormatError(
                f"profile {ref!r} has {len(kept)} stored snapshot(s) but no latest: none had "
                "every facet captured",
                hint=f"name one by its path ({kept[-1]}), or run: repro snapshot {ref} "
                "--allow-partial",
            )
        raise SnapshotFormatError(
            f"no snapshot file {ref!r} and no stored snapshot of profile {ref!r} "
            f"(run: repro snapshot {ref}; a snapshot written with -o FILE is not in the store: "
            "name the file)"
        )
    return stored


def resolve_snapshot(ref: str) -> Snapshot:
    """A snapshot by file path, or the latest stored snapshot of a profile name."""
    return load_snapshot(snapshot_path(ref))
