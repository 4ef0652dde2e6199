"""Progress of long data jobs: a bar per table on a terminal, nothing otherwise."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from typing import Protocol


class Progress(Protocol):
    def table(self, key: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
        """A context for one table (total 0: unknown); calling what it yields adds rows."""
        ...

    def stage(self, name: str) -> None: ...


class QuietProgress:
    def table(self, key: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
        return nullcontext(lambda rows: None)

    def stage(self, name: str) -> None:
        pass
