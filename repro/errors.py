"""One error hierarchy for every expected failure.

Anything derived from :class:`ReproError` is an *expected* failure (bad input, unreachable
database, Docker not running...). The CLI prints its message on one line and exits with
``exit_code``. Anything else is a bug: the handler logs the traceback to a file and prints where.
"""

from __future__ import annotations

from typing import Any

from repro.text import one_line


class ReproError(Exception):
    """An expected failure that the user can act on."""

    exit_code = 2

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def one_line(self) -> str:
        text = one_line(self.message)
        if self.hint:
            text = f"{text} ({self.hint})"
        return text

    def __reduce__(self) -> tuple[Any, ...]:
        # Raised in a worker process (repro.mask.parallel_copy), it travels back pickled: keep
        # the class, the message and every attribute (the hint), whatever the class's __init__.
        return (_rebuild, (type(self), self.message), self.__dict__)


def _rebuild(cls: type[ReproError], message: str) -> ReproError:
    error = cls.__new__(cls)
    Exception.__init__(error, message)
    return error


class UsageError(ReproError):
    """The command line itself is wrong."""


class ProfileError(ReproError):
    """A profile file is missing, malformed or invalid."""


class SnapshotFormatError(ReproError):
    """A snapshot file is corrupt, of an unknown schema or of a newer major version."""


class TargetError(ReproError):
    """An environment could not be reached (ssh, docker, kubectl...)."""


class CaptureError(ReproError):
    """A facet could not capture what it was asked to; the facet reports it as error/partial."""


class DatabaseError(ReproError):
    """A database could not be reached or queried."""


class DockerUnavailableError(ReproError):
    """No Docker engine answers."""


class DataGenerationError(ReproError):
    """Data cannot be generated or loaded as asked (unsupported type, impossible constraint,
    target not empty...)."""


class IncidentError(ReproError):
    """An incident file, or a Sentry event, HAR, curl command or log line being imported, is
    malformed or unusable."""
