"""Progress of long data jobs: a bar per table on a terminal, nothing otherwise.

The jobs (generate, anonymize, the sandbox's data) take a :class:`Progress`; the commands give
them :class:`RichProgress` on a terminal and :class:`QuietProgress` when piped or ``--json``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager, nullcontext
from typing import Protocol

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    ProgressColumn,
    Task,
    TextColumn,
    TimeElapsedColumn,
)
from rich.progress import Progress as RichBars
from rich.text import Text


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


class _RowsPerSecond(ProgressColumn):
    def render(self, task: Task) -> Text:
        speed = task.finished_speed or task.speed
        return Text(f"{speed:,.0f} rows/s" if speed else "", style="cyan")


class RichProgress:
    """A bar per table with rows/s on a terminal (stderr). A stage ends the bars before it:
    they stay on screen as they finished and are not redrawn while later stages run."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self._bars: RichBars | None = None

    def __enter__(self) -> RichProgress:
        return self

    def __exit__(self, *exc: object) -> None:
        self._end_bars()

    def _live_bars(self) -> RichBars:
        if self._bars is None:
            self._bars = RichBars(
                TextColumn("{task.description}"),
                BarColumn(),
                MofNCompleteColumn(),
                _RowsPerSecond(),
                TimeElapsedColumn(),
                console=self.console,
                transient=False,
            )
            self._bars.start()
        return self._bars

    def _end_bars(self) -> None:
        if self._bars is not None:
            self._bars.stop()  # the last frame stays, static
            self._bars = None

    def table(self, key: str, total: int) -> AbstractContextManager[Callable[[int], None]]:
        return self._table(key, total)

    @contextmanager
    def _table(self, key: str, total: int) -> Iterator[Callable[[int], None]]:
        bars = self._live_bars()
        # total 0: unknown (a copy), the bar pulses and the count and speed still show
        task = bars.add_task(key, total=total or None)

        def advance(rows: int) -> None:
            bars.advance(task, rows)

        yield advance
        done = bars.tasks[task].completed
        bars.update(task, total=total or done or 1, completed=total or done or 1)

    def stage(self, name: str) -> None:
        self._end_bars()
        self.console.print(f"[dim]repro: {name}…[/dim]")
