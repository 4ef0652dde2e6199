"""Writing a file the user named (``-o``, ``--to FILE``): the same rules for every command.

* Only a regular file is ever replaced: a device, a FIFO, a directory or a socket at the path
  is refused, ``--force`` or not (``-o /dev/sda`` must not write a disk).
* An existing file is replaced only with ``--force``; a symlink counts as an existing file and
  is itself replaced (never written through).
* The file appears whole or not at all: written to a temporary file in the same directory,
  flushed to disk, then renamed over the name (without ``--force``, linked to it, which fails
  if something appeared there meanwhile).
* Mode: ``private`` files (real or production-derived rows and requests) are 0600; others
  get what the umask allows (0666 & ~umask): a snapshot under umask 077 stays 0600.

:func:`check_output` says no before the work starts (a 10-minute capture must not end in
"exists"); :func:`atomic_output` checks again when it writes.
"""

from __future__ import annotations

import contextlib
import os
import stat
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from repro.errors import ReproError, UsageError
from repro.inputfile import not_regular

PRIVATE_MODE = 0o600


def current_umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def check_output(
    path: Path, *, force: bool, label: str | None = None, error: type[ReproError] = UsageError
) -> None:
    """Refuse an output path that must not be written: a non-regular file always, an
    existing file without ``force``."""
    where = label or str(path)
    try:
        info = path.lstat()
    except FileNotFoundError:
        return
    except OSError as exc:
        raise error(f"{where}: cannot write ({exc.strerror or exc})") from None
    if stat.S_ISLNK(info.st_mode):
        try:
            target = path.stat()
        except OSError:
            target = None  # a dangling link: replacing the link is fine with --force
        if target is not None and not stat.S_ISREG(target.st_mode):
            raise error(f"{where}: {not_regular(target.st_mode)}; refusing to replace it")
    elif not stat.S_ISREG(info.st_mode):
        raise error(f"{where}: {not_regular(info.st_mode)}; refusing to replace it")
    if not force:
        raise error(f"{where} exists", hint="add --force to replace it")


@contextlib.contextmanager
def atomic_output(
    path: Path,
    *,
    force: bool,
    private: bool = False,
    binary: bool = False,
    label: str | None = None,
    error: type[ReproError] = UsageError,
) -> Iterator[IO[Any]]:
    """A handle to write the file's content into; on a clean exit the content becomes the
    file in one step, on any exception nothing is left behind."""
    where = label or str(path)
    check_output(path, force=force, label=label, error=error)
    directory = path.parent if str(path.parent) else Path(".")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".partial", dir=directory)
    except OSError as exc:
        raise error(f"{where}: cannot write ({exc.strerror or exc})") from None
    tmp = Path(tmp_name)
    try:
        # mkstemp made it 0600; a non-private file gets what the user's umask allows.
        os.fchmod(fd, PRIVATE_MODE if private else 0o666 & ~current_umask())
        handle: IO[Any] = (
            os.fdopen(fd, "wb") if binary else os.fdopen(fd, "w", encoding="utf-8")
        )
        with handle:
            yield handle
            handle.flush()
            os.fsync(handle.fileno())
        _commit(tmp, path, force=force, where=where, error=error)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise error(f"{where}: cannot write ({exc.strerror or exc})") from None
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def _commit(tmp: Path, path: Path, *, force: bool, where: str, error: type[ReproError]) -> None:
    if force:
        check_output(path, force=True, label=where, error=error)  # nothing odd appeared
        os.replace(tmp, path)
        return
    try:
        os.link(tmp, path)  # atomic "create if absent": never clobbers a file made meanwhile
    except FileExistsError:
        raise error(f"{where} exists", hint="add --force to replace it") from None
    except OSError:
        # A file system without hard links: check, then rename (a narrow race, still atomic).
        check_output(path, force=False, label=where, error=error)
        os.replace(tmp, path)
        return
    tmp.unlink()


def write_output(
    path: Path,
    content: str | bytes,
    *,
    force: bool,
    private: bool = False,
    label: str | None = None,
    error: type[ReproError] = UsageError,
) -> Path:
    """Write ``content`` to ``path`` by the rules above."""
    binary = isinstance(content, bytes)
    with atomic_output(
        path, force=force, private=private, binary=binary, label=label, error=error
    ) as handle:
        handle.write(content)
    return path
