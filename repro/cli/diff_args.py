"""``repro diff``'s command line, parsed without Typer.

A diff is the command people run most, often in CI loops, and it is fast: loading two
snapshots and comparing them takes a few tens of milliseconds. Typer builds its parameter
machinery (click, pydantic) on every start, which alone costs several times that, so
``repro diff`` is parsed here with the standard library and :func:`repro.cli.main` sends it
here directly. ``repro --help`` still lists it (:mod:`repro.cli.app`).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from repro.cli.args import CommandParser
from repro.errorhandler import handle_errors

SUMMARY = "Rank what LEFT (production) has that RIGHT (staging) lacks."
EPILOG = (
    "Exit codes: 0 nothing at or above --fail-on, 1 discrepancies, 2 error, 3 only incomparable."
)
FORMATS = ("table", "json", "markdown", "junit")
SEVERITIES = ("info", "low", "medium", "high", "critical")


def parser() -> argparse.ArgumentParser:
    p = CommandParser("diff", "LEFT RIGHT", SUMMARY, EPILOG)
    p.add_argument(
        "left", metavar="LEFT", help="Reference side ('prod'): snapshot file or profile."
    )
    p.add_argument(
        "right", metavar="RIGHT", help="Other side ('staging'): snapshot file or profile."
    )
    p.add_argument(
        "--format",
        dest="output_format",
        metavar="FORMAT",
        help="table (default, also when piped: formats never depend on the terminal), json, "
        "markdown, junit.",
    )
    p.add_argument(
        "--min-severity",
        metavar="SEVERITY",
        help="Hide discrepancies below this severity (default: low; info in json).",
    )
    p.add_argument(
        "--fail-on",
        metavar="SEVERITY",
        default="low",
        help="Exit 1 when a discrepancy is at least this severe (default: low).",
    )
    p.add_argument("--waivers", metavar="FILE", help="YAML waivers file (path, reason, expires).")
    p.add_argument(
        "--schema",
        dest="schemas",
        metavar="PATTERN",
        action="append",
        default=[],
        help="Only these database schemas (a name or glob; repeatable). The profiles' "
        "database.schemas apply too.",
    )
    p.add_argument(
        "--exclude-schema",
        dest="exclude_schemas",
        metavar="PATTERN",
        action="append",
        default=[],
        help="Leave these database schemas out (a name or glob; repeatable).",
    )
    p.add_argument(
        "--show-ignored", action="store_true", help="Also list what noise rules hid, and why."
    )
    p.add_argument(
        "--live", action="store_true", help="Capture profile sides now instead of the latest."
    )
    p.add_argument(
        "--fix-script",
        action="store_true",
        help="Print a script (for review; nothing is run) that brings RIGHT closer to LEFT.",
    )
    return p


def run(argv: Sequence[str]) -> int:
    """Parse ``repro diff``'s arguments (without the ``diff``) and run it; the exit code."""
    args = parser().parse_args(list(argv))
    for option, value in (("--min-severity", args.min_severity), ("--fail-on", args.fail_on)):
        if value is not None and value not in SEVERITIES:
            parser().error(f"{option}: unknown severity {value!r} (one of {', '.join(SEVERITIES)})")
    if args.output_format is not None and args.output_format not in FORMATS:
        parser().error(
            f"--format: unknown format {args.output_format!r} (one of {', '.join(FORMATS)})"
        )
    from repro.cli.redactors import ACTIVE_REDACTORS, scrub
    from repro.commands.diff import DiffOptions, run_diff

    options = DiffOptions(
        output_format=args.output_format,
        min_severity=args.min_severity,
        fail_on=args.fail_on,
        waivers=args.waivers,
        show_ignored=args.show_ignored,
        live=args.live,
        fix_script=args.fix_script,
        schemas=list(args.schemas),
        exclude_schemas=list(args.exclude_schemas),
    )
    with handle_errors(scrub):
        return run_diff(args.left, args.right, options, ACTIVE_REDACTORS)
    raise AssertionError("unreachable")  # handle_errors re-raises as SystemExit
