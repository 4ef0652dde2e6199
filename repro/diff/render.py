"""One entry point for every output format, and the exit code of ``repro diff``."""

from __future__ import annotations

from repro.diff.model import SEVERITIES, DiffResult, rank
from repro.errors import UsageError

FORMATS: tuple[str, ...] = ("table", "json", "markdown", "junit")
# People read table and markdown: info-level items (known-harmless) would bury the rest.
# Machines get everything unless asked otherwise.
DEFAULT_MIN_SEVERITY = {"table": "low", "markdown": "low", "json": "info", "junit": "info"}

EXIT_CLEAN = 0
EXIT_DISCREPANCIES = 1
EXIT_INCOMPARABLE = 3  # 2 is reserved for errors


def check_severity(name: str, option: str) -> str:
    if name not in SEVERITIES:
        raise UsageError(f"{option}: unknown severity {name!r} (one of {', '.join(SEVERITIES)})")
    return name


def render(
    result: DiffResult,
    format: str = "table",
    min_severity: str | None = None,
    show_ignored: bool = False,
    *,
    fail_on: str = "low",
    width: int = 120,
    color: bool = False,
) -> str:
    """Render ``result``; ``min_severity`` defaults per format (see DEFAULT_MIN_SEVERITY).
    Incomparable discrepancies are shown whatever the minimum."""
    if format not in FORMATS:
        raise UsageError(f"--format: unknown format {format!r} (one of {', '.join(FORMATS)})")
    floor = check_severity(min_severity or DEFAULT_MIN_SEVERITY[format], "--min-severity")
    check_severity(fail_on, "--fail-on")
    # Each renderer is imported when used: `--format json` never loads rich tables or XML.
    if format == "json":
        from repro.diff.renderers.json_format import render_json

        return render_json(result, min_severity=floor, show_ignored=show_ignored)
    if format == "markdown":
        from repro.diff.renderers.markdown import render_markdown

        return render_markdown(result, min_severity=floor, show_ignored=show_ignored)
    if format == "junit":
        from repro.diff.renderers.junit import render_junit

        return render_junit(result, fail_on=fail_on, min_severity=floor)
    from repro.diff.renderers.table import render_table

    return render_table(
        result, min_severity=floor, show_ignored=show_ignored, width=width, color=color
    )


def exit_code(result: DiffResult, fail_on: str = "low") -> int:
    """0: nothing at or above ``fail_on``; 1: discrepancies; 3: only incomparable facets
    (or values) — the diff could not say "equal" for everything it was asked about."""
    floor = rank(check_severity(fail_on, "--fail-on"))
    if any(d.kind != "incomparable" and rank(d.severity) >= floor for d in result.discrepancies):
        return EXIT_DISCREPANCIES
    if any(d.kind == "incomparable" for d in result.discrepancies):
        return EXIT_INCOMPARABLE
    return EXIT_CLEAN
