"""Where profiles are found by name: ``$REPRO_PROFILES_DIR``, ``profiles/``,
``.repro/profiles/`` (apart from :mod:`.file`, so that finding one costs no YAML parser)."""

from __future__ import annotations

import os
from pathlib import Path

PROFILE_DIR_ENV = "REPRO_PROFILES_DIR"


def profile_dirs() -> list[Path]:
    dirs = []
    if os.environ.get(PROFILE_DIR_ENV):
        dirs.append(Path(os.environ[PROFILE_DIR_ENV]))
    dirs += [Path("profiles"), Path(".repro") / "profiles"]
    return dirs


def find_profile_path(name: str) -> Path | None:
    for directory in profile_dirs():
        for suffix in (".yaml", ".yml"):
            candidate = directory / f"{name}{suffix}"
            if candidate.is_file():
                return candidate
    return None
