"""Reading a file the user named (a snapshot, profile, incident, waivers, secrets, a dump):
every way it can fail to read becomes one line, ``<label>: <why>``, raised as the caller's own
error class, so each command keeps its exit code and no traceback ever shows.

Only regular files are read, and only up to the input limit (:mod:`repro.limits`): a FIFO,
``/dev/zero`` or a terminal is refused before a byte is read (a FIFO is opened without
waiting for a writer), and a file larger than the limit is refused by its size.
"""

from __future__ import annotations

import os
import stat
import sys
from pathlib import Path
from typing import BinaryIO

from repro.errors import ReproError
from repro.limits import max_input_bytes, too_large

_KINDS = {
    stat.S_IFIFO: "a FIFO (named pipe)",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
    stat.S_IFSOCK: "a socket",
    stat.S_IFDIR: "a directory",
}


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


def not_regular(mode: int) -> str | None:
    """Why a file of this mode is not read, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    kind = _KINDS.get(stat.S_IFMT(mode), "not a regular file")
    return "is a directory" if kind == "a directory" else f"is {kind}, not a regular file"


def _open_regular(path: Path) -> tuple[int, os.stat_result]:
    """An fd on a regular file; OSError otherwise (ours carry the reason as strerror)."""
    # O_NONBLOCK: opening a FIFO must not wait for a writer; regular files ignore it.
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    try:
        info = os.fstat(fd)
        why = not_regular(info.st_mode)
        if why is not None:
            raise OSError(0, why)
    except BaseException:
        os.close(fd)
        raise
    return fd, info


def _reason(exc: OSError, noun: str) -> str:
    if exc.errno == 0 and exc.strerror:
        return exc.strerror  # ours, from _open_regular
    return why_unreadable(exc, noun)


def read_limited(stream: BinaryIO, limit: int) -> bytes | None:
    """Up to ``limit`` bytes, or None when there is more (never reads more than limit + 1)."""
    data = stream.read(limit + 1)
    return None if len(data) > limit else data


def read_bytes(
    path: Path, error: type[ReproError], *, label: str | None = None, noun: str = "file"
) -> bytes:
    where = label or str(path)
    limit = max_input_bytes()
    try:
        fd, info = _open_regular(path)
        if info.st_size > limit:
            os.close(fd)
            raise error(f"{where}: {too_large(info.st_size, limit)}")
        with os.fdopen(fd, "rb") as handle:
            data = read_limited(handle, limit)  # the file may have grown since fstat
    except OSError as exc:
        raise error(f"{where}: {_reason(exc, noun)}") from None
    if data is None:
        raise error(f"{where}: {too_large(limit + 1, limit)}")
    return data


def read_text(
    path: Path, error: type[ReproError], *, label: str | None = None, noun: str = "file"
) -> str:
    """The file as UTF-8 text."""
    data = read_bytes(path, error, label=label, noun=noun)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"{label or path}: {why_unreadable(exc, noun)}") from None


def read_stdin(error: type[ReproError], *, label: str = "stdin") -> bytes:
    """Standard input, bounded like a file (a pipe from /dev/zero ends with an error)."""
    limit = max_input_bytes()
    data = read_limited(sys.stdin.buffer, limit)
    if data is None:
        raise error(f"{label}: {too_large(limit + 1, limit)}")
    return data


def check_readable(
    path: Path, error: type[ReproError], *, label: str | None = None, noun: str = "file"
) -> None:
    """Fail now, in one line, rather than half-way through work that reads it later: the file
    exists, is a regular file and can be opened (its size is the caller's business: dumps are
    streamed, not read into memory)."""
    try:
        fd, _info = _open_regular(path)
        os.close(fd)
    except OSError as exc:
        raise error(f"{label or path}: {_reason(exc, noun)}") from None
