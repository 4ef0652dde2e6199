"""Reading a file the user named (a snapshot, profile, incident, waivers, secrets, a dump):
every way it can fail to read becomes one line, ``<label>: <why>``, raised as the caller's own
error class, so each command keeps its exit code and no traceback ever shows.
"""

from __future__ import annotations

from pathlib import Path

from repro.errors import ReproError


def why_unreadable(exc: OSError | UnicodeDecodeError, noun: str = "file") -> str:
    if isinstance(exc, FileNotFoundError):
        return f"no such {noun}"
    if isinstance(exc, IsADirectoryError):
        return "is a directory"
    if isinstance(exc, PermissionError):
        return "permission denied"
    if isinstance(exc, UnicodeDecodeError):
        return "not UTF-8 text"
    return f"cannot read ({exc.strerror or exc})"


def read_bytes(
    path: Path, error: type[ReproError], *, label: str | None = None, noun: str = "file"
) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise error(f"{label or path}: {why_unreadable(exc, noun)}") from None


def read_text(
    path: Path, error: type[ReproError], *, label: str | None = None, noun: str = "file"
) -> str:
    """The file as UTF-8 text."""
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise error(f"{label or path}: {why_unreadable(exc, noun)}") from None


def check_readable(
    path: Path, error: type[ReproError], *, label: str | None = None, noun: str = "file"
) -> None:
    """Fail now, in one line, rather than half-way through work that reads it later."""
    try:
        with path.open("rb"):
            pass
    except OSError as exc:
        raise error(f"{label or path}: {why_unreadable(exc, noun)}") from None
