"""``repro diff LEFT RIGHT``: load (or capture) two snapshots and rank their discrepancies."""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

from repro.diff import diff_snapshots, exit_code, read_waivers, render
from repro.diff.scope import SchemaScope
from repro.errors import ProfileError
from repro.profile.diff_settings import DiffSettings, read_diff_settings
from repro.profile.paths import find_profile_path
from repro.snapshot.file import Snapshot
from repro.snapshot.store import resolve_snapshot

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
    left = _load_side(left_ref, options.live, redactors)
    right = _load_side(right_ref, options.live, redactors)
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
    fmt = options.output_format or ("table" if sys.stdout.isatty() else "json")
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
