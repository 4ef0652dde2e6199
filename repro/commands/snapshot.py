"""``repro snapshot``: capture a profile's environment and store the redacted snapshot."""

from __future__ import annotations

import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from repro.console import is_interactive, print_json, stderr_console
from repro.outputfile import check_output
from repro.profile.file import Profile, resolve_profile
from repro.redaction import Redactor, load_key
from repro.snapshot.capture import capture_snapshot, select_facets, with_dsn
from repro.snapshot.file import FacetResult, Snapshot, write_snapshot
from repro.snapshot.registry import FACETS
from repro.snapshot.store import save_to_store

if TYPE_CHECKING:
    from rich.progress import Progress

EXIT_OK = 0
EXIT_INCOMPLETE = 3  # written, but some facet is partial or failed


@dataclass
class SnapshotOutcome:
    snapshot: Snapshot
    path: Path | None  # None when written to stdout
    stored: bool = False  # in the store (.repro/snapshots/<profile>/), not an -o file
    latest: bool = False  # and the profile's latest

    @property
    def complete(self) -> bool:
        return self.snapshot.worst_status not in ("partial", "error")

    @property
    def exit_code(self) -> int:
        return EXIT_OK if self.complete else EXIT_INCOMPLETE

    def summary_json(self) -> dict[str, object]:
        return {
            "schema": "repro.snapshot-result/v1",
            "profile": self.snapshot.profile,
            "path": str(self.path) if self.path else None,
            "latest": self.latest,
            "status": self.snapshot.worst_status,
            "facets": {
                name: {"status": f.status, "message": f.message, "duration_ms": f.duration_ms}
                for name, f in sorted(self.snapshot.facets.items())
            },
        }


def make_redactor(profile: Profile) -> Redactor:
    key = load_key(profile.redaction_key_file)
    return Redactor(key=key, extra_secret_names=list(profile.secrets))


@contextmanager
def _progress(enabled: bool, total: int) -> Iterator[Progress | None]:
    if not enabled:
        yield None
        return
    from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

    progress = Progress(
        SpinnerColumn(),
        TextColumn("[bold]{task.description}"),
        TextColumn("{task.completed}/{task.total} facets"),
        TimeElapsedColumn(),
        console=stderr_console(),
        transient=True,
    )
    with progress:
        yield progress


def run_snapshot(
    profile_ref: str,
    *,
    output: str | None,
    facets: Sequence[str] | None,
    dsn: str | None,
    quiet: bool,
    redactors: list[Redactor],
    force: bool = False,
    allow_partial: bool = False,
) -> SnapshotOutcome:
    if output and output != "-":
        check_output(Path(output), force=force)  # before the capture, not after it
    profile = with_dsn(resolve_profile(profile_ref, FACETS), dsn)
    redactor = make_redactor(profile)
    redactors.append(redactor)  # the error handler scrubs with it from now on
    if dsn:
        redactor.redact_url(dsn)
    names = select_facets(profile, facets)
    with _progress(not quiet and is_interactive(), len(names)) as progress:
        task = progress.add_task("capturing", total=len(names)) if progress else None

        def on_facet(name: str, result: FacetResult | None) -> None:
            if progress is None or task is None:
                return
            if result is None:
                progress.update(task, description=f"capturing {name}")
            else:
                progress.advance(task)

        snapshot = capture_snapshot(profile, redactor, facets=names, on_facet=on_facet)
    if output == "-":
        sys.stdout.write(snapshot.dumps())
        return SnapshotOutcome(snapshot, None)
    if output:
        return SnapshotOutcome(snapshot, write_snapshot(snapshot, output, force=force))
    outcome = SnapshotOutcome(snapshot, None, stored=True)
    # A snapshot that lost a facet (a DSN variable unset, a permission denied) is kept for a
    # look but does not become what the profile's name means, unless asked.
    outcome.latest = outcome.complete or allow_partial
    outcome.path = save_to_store(snapshot, latest=outcome.latest)
    return outcome


def print_outcome(outcome: SnapshotOutcome, *, as_json: bool) -> None:
    if as_json:
        print_json(outcome.summary_json())
        return
    # Colours on a terminal; plain lines (and no rich to load) when stderr is piped.
    console = stderr_console() if is_interactive() else None

    def say(text: str, plain: str) -> None:
        if console is not None:
            console.print(text, markup=True, highlight=False)
        else:
            print(plain, file=sys.stderr)

    for name, facet in sorted(outcome.snapshot.facets.items()):
        style = {"ok": "green", "partial": "yellow", "error": "red"}.get(facet.status, "dim")
        detail = f" — {facet.message}" if facet.message else ""
        if facet.problems and not facet.message:
            detail = f" — {facet.problems[0]}"
            if len(facet.problems) > 1:
                detail += f" (+{len(facet.problems) - 1} more)"
        line = f"{name:<10} {facet.duration_ms:>6} ms{detail}"
        say(
            f"  [{style}]{facet.status:<8}[/{style}] {_escape(line)}", f"  {facet.status:<8} {line}"
        )
    if outcome.path is None:
        return
    say(f"snapshot written to [bold]{_escape(str(outcome.path))}[/bold]",
        f"snapshot written to {outcome.path}")  # fmt: skip
    profile = outcome.snapshot.profile
    if not outcome.stored:
        note = (
            f"an -o file is not in the store: `repro diff {profile} ...` by profile name still "
            "means the latest stored snapshot; name this file instead"
        )
        say(f"[dim]{_escape(note)}[/dim]", note)
    elif not outcome.latest:
        note = (
            f"not made latest: a facet is {outcome.snapshot.worst_status}, so `repro diff "
            f"{profile} ...` still uses the previous complete snapshot; pass --allow-partial to "
            "make this one latest, or this file's path"
        )
        say(f"[yellow]{_escape(note)}[/yellow]", note)


def _escape(text: str) -> str:
    """Text shown through rich markup: a facet message may hold "[...]"."""
    return text.replace("[", "\\[")
