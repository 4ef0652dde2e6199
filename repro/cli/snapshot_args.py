"""``repro snapshot``'s command line, parsed without Typer (see :mod:`repro.cli.diff_args`
for why): a snapshot of one facet of a small database takes tens of milliseconds, which
Typer's start alone would multiply."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

from repro.cli.args import CommandParser
from repro.errorhandler import handle_errors

SUMMARY = "Capture an environment into a redacted, versioned snapshot."
EPILOG = (
    "Without -o it goes to .repro/snapshots/PROFILE/ and becomes the profile's latest (what "
    "`repro diff PROFILE ...` uses) when every facet was captured. With -o FILE it is written "
    "there only, not to the store: name the file to diff it. Exit codes: 0 every facet ok, 3 "
    "written but some facet is partial or failed, 2 error."
)


def parser() -> argparse.ArgumentParser:
    p = CommandParser("snapshot", "PROFILE", SUMMARY, EPILOG)
    p.add_argument(
        "profile",
        metavar="PROFILE",
        help="Profile name (profiles/NAME.yaml; 'local' is built in) or path.",
    )
    p.add_argument(
        "-o",
        "--output",
        metavar="FILE",
        help="Write here ('-' = stdout) instead of .repro/snapshots/.",
    )
    p.add_argument("--force", action="store_true", help="Replace the -o file.")
    p.add_argument(
        "-f",
        "--facets",
        metavar="NAMES",
        action="append",
        help="Only these facets (comma-separated or repeated).",
    )
    p.add_argument(
        "--dsn", metavar="DSN", help="Capture this PostgreSQL database (adds or overrides)."
    )
    p.add_argument(
        "--json",
        dest="as_json",
        action="store_true",
        help="Print a machine-readable result on stdout.",
    )
    p.add_argument(
        "--allow-partial",
        action="store_true",
        help="Make the snapshot the profile's latest even when a facet is partial or failed.",
    )
    return p


def run(argv: Sequence[str]) -> int:
    """Parse ``repro snapshot``'s arguments (without the ``snapshot``) and run it."""
    args = parser().parse_args(list(argv))
    from repro.cli.redactors import ACTIVE_REDACTORS, scrub
    from repro.commands.snapshot import print_outcome, run_snapshot

    with handle_errors(scrub):
        outcome = run_snapshot(
            args.profile,
            output=args.output,
            facets=args.facets,
            dsn=args.dsn,
            quiet=args.as_json or args.output == "-",
            redactors=ACTIVE_REDACTORS,
            force=args.force,
            allow_partial=args.allow_partial,
        )
        if args.output != "-":
            print_outcome(outcome, as_json=args.as_json)
        return outcome.exit_code
    raise AssertionError("unreachable")  # handle_errors re-raises as SystemExit
