"""``repro diff LEFT RIGHT``: load (or capture) two snapshots and rank their discrepancies."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from repro.diff import diff_snapshots, exit_code, read_waivers, render
from repro.diff.scope import SchemaScope
from repro.errors import ProfileError, ReproError
from repro.limits import LOAD_FACTOR, ensure_memory, megabytes, resident_memory
from repro.profile.diff_settings import DiffSettings, read_diff_settings
from repro.profile.paths import find_profile_path
from repro.snapshot.file import Snapshot
from repro.snapshot.store import resolve_snapshot, snapshot_path

if TYPE_CHECKING:
    from repro.redaction import Redactor


@dataclass
class DiffOptions:
    output_format: str | None
    min_severity: str | None
    fail_on: str
    waivers: str | None
    show_ignored: bool
    live: bool
    fix_script: bool = False
    schemas: list[str] = field(default_factory=list)  # --schema globs
    exclude_schemas: list[str] = field(default_factory=list)  # --exclude-schema globs


def _load_side(ref: str, live: bool, redactors: list[Redactor]) -> Snapshot:
    if live and not Path(ref).is_file():
        from repro.commands.snapshot import run_snapshot

        outcome = run_snapshot(
            ref, output=None, facets=None, dsn=None, quiet=True, redactors=redactors
        )
        return outcome.snapshot
    return resolve_snapshot(ref)


def _file_size(ref: str, live: bool) -> int:
    """The snapshot file's size (0 for a live capture, or a file that is not there: loading
    it says why)."""
    if live and not Path(ref).is_file():
        return 0
    try:
        return snapshot_path(ref).stat().st_size
    except (OSError, ReproError):
        return 0


def _load_both(
    left_ref: str, right_ref: str, live: bool, redactors: list[Redactor]
) -> tuple[Snapshot, Snapshot]:
    """Both sides, refused with the reason when they would not fit in memory: checked before
    loading with the lower bound of a loaded snapshot's size, then with what the left side
    really took (the ratio depends on the snapshot's shape)."""
    sizes = _file_size(left_ref, live), _file_size(right_ref, live)
    what = f"diffing {left_ref} ({megabytes(sizes[0])}) and {right_ref} ({megabytes(sizes[1])})"
    ensure_memory(int(LOAD_FACTOR * sum(sizes)), what, ReproError)
    before = resident_memory()
    left = _load_side(left_ref, live, redactors)
    after = resident_memory()
    if before is not None and after is not None and sizes[0] > 0 and sizes[1] > 0:
        factor = max(LOAD_FACTOR, (after - before) / sizes[0])
        # The diff itself needs a little on top of the two trees: a quarter of one.
        ensure_memory(int(factor * sizes[1] * 1.25), what, ReproError)
    return left, _load_side(right_ref, live, redactors)


def _profile_settings(snapshot: Snapshot) -> DiffSettings:
    """The ignore globs and schemas of the snapshot's profile, when its file is here. Only
    those two keys are read; a malformed value is said, and not applied."""
    path = find_profile_path(snapshot.profile) if snapshot.profile else None
    if path is None:
        return DiffSettings()
    try:
        return read_diff_settings(path)
    except ProfileError as exc:
        print(f"repro: warning: {exc.one_line()} (not applied to this diff)", file=sys.stderr)
        return DiffSettings()


def run_diff(left_ref: str, right_ref: str, options: DiffOptions, redactors: list[Redactor]) -> int:
    left, right = _load_both(left_ref, right_ref, options.live, redactors)
    waivers = read_waivers(options.waivers) if options.waivers else []
    settings = [_profile_settings(left), _profile_settings(right)]
    ignore = sorted({glob for s in settings for glob in s.ignore})
    scope = SchemaScope.of([s.schemas for s in settings], options.schemas, options.exclude_schemas)
    result = diff_snapshots(
        left, right, ignore=ignore, waivers=waivers, today=date.today(), schemas=scope
    )
    if options.fix_script:
        from repro.diff.fixscript import render_fix_script

        sys.stdout.write(render_fix_script(result))
        return exit_code(result, fail_on=options.fail_on)
    # The format never depends on where stdout goes (README: "Output"): only colour does.
    fmt = options.output_format or "table"
    width = 120
    if fmt == "table":  # rich measures the terminal; other formats need no rich at all
        from repro.console import stdout_console

        width = stdout_console().width
    sys.stdout.write(
        render(
            result,
            fmt,
            options.min_severity,
            options.show_ignored,
            fail_on=options.fail_on,
            width=width,
            color=sys.stdout.isatty(),
        )
    )
    return exit_code(result, fail_on=options.fail_on)
