"""Files planted in a throw-away root for facets that read a target's file system."""

from __future__ import annotations

from pathlib import Path


def put(root: Path, path: str, text: str, mode: int = 0o644) -> Path:
    """Write ``text`` at ``path`` under ``root`` (parents made) with ``mode``."""
    target = root / path.lstrip("/")
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(text)
    target.chmod(mode)
    return target
