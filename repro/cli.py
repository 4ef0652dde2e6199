"""The command line: a thin Typer layer over :mod:`repro.commands`.

Options are parsed here and nothing else happens here; every command is a plain function that
tests can call directly.
"""

from __future__ import annotations

from typing import Annotated

import typer

from repro import __version__
from repro.console import stdout_console
from repro.errorhandler import handle_errors
from repro.redaction import Redactor, scrub_all

app = typer.Typer(
    name="repro",
    help="Why does this only happen in production? Snapshot environments, diff them, "
    "and replay failing requests in a sandbox that looks like production.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

# Every redactor made during this run: the error handler scrubs messages with all of them.
ACTIVE_REDACTORS: list[Redactor] = []


def _scrub(text: str) -> str:
    return scrub_all(text, ACTIVE_REDACTORS)


def _version(value: bool) -> None:
    if value:
        print(f"repro {__version__}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show version.")
    ] = False,
) -> None:
    """repro: snapshot, diff and replay environments."""


@app.command()
def snapshot(
    profile: Annotated[
        str, typer.Argument(help="Profile name (profiles/NAME.yaml; 'local' is built in) or path.")
    ],
    output: Annotated[
        str | None,
        typer.Option(
            "--output", "-o", help="Write here ('-' = stdout) instead of .repro/snapshots/."
        ),
    ] = None,
    facets: Annotated[
        list[str] | None,
        typer.Option("--facets", "-f", help="Only these facets (comma-separated or repeated)."),
    ] = None,
    dsn: Annotated[
        str | None,
        typer.Option("--dsn", help="Capture this PostgreSQL database (adds or overrides)."),
    ] = None,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print a machine-readable result on stdout.")
    ] = False,
) -> None:
    """Capture an environment into a redacted, versioned snapshot.

    Exit codes: 0 every facet ok, 3 written but some facet is partial or failed, 2 error.
    """
    from repro.commands.snapshot import print_outcome, run_snapshot

    with handle_errors(_scrub):
        outcome = run_snapshot(
            profile,
            output=output,
            facets=facets,
            dsn=dsn,
            quiet=as_json or output == "-",
            redactors=ACTIVE_REDACTORS,
        )
        if output != "-":
            print_outcome(outcome, as_json=as_json)
    raise typer.Exit(outcome.exit_code)


@app.command()
def show(
    snapshot_ref: Annotated[
        str, typer.Argument(metavar="SNAPSHOT", help="Snapshot file or profile name (latest).")
    ],
    facet: Annotated[
        str | None, typer.Option("--facet", help="Print this facet's captured data as JSON.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the whole snapshot JSON.")] = False,
) -> None:
    """Show a readable summary of a snapshot."""
    from repro.commands.show import facet_json, render_show
    from repro.snapshot.store import resolve_snapshot

    with handle_errors(_scrub):
        loaded = resolve_snapshot(snapshot_ref)
        if facet:
            print(facet_json(loaded, facet))
        elif as_json:
            print(loaded.dumps(), end="")
        else:
            render_show(loaded, stdout_console())


@app.command()
def diff(
    left: Annotated[str, typer.Argument(help="Reference side ('prod'): snapshot file or profile.")],
    right: Annotated[str, typer.Argument(help="Other side ('staging'): snapshot file or profile.")],
    output_format: Annotated[
        str | None,
        typer.Option(
            "--format",
            help="table (default on a terminal), json (default when piped), markdown, junit.",
        ),
    ] = None,
    min_severity: Annotated[
        str | None,
        typer.Option(
            "--min-severity",
            help="Hide discrepancies below this severity (default: low; info in json).",
        ),
    ] = None,
    fail_on: Annotated[
        str, typer.Option("--fail-on", help="Exit 1 when a discrepancy is at least this severe.")
    ] = "low",
    waivers: Annotated[
        str | None, typer.Option("--waivers", help="YAML waivers file (path, reason, expires).")
    ] = None,
    show_ignored: Annotated[
        bool, typer.Option("--show-ignored", help="Also list what noise rules hid, and why.")
    ] = False,
    live: Annotated[
        bool, typer.Option("--live", help="Capture profile sides now instead of the latest.")
    ] = False,
    fix_script: Annotated[
        bool,
        typer.Option(
            "--fix-script",
            help="Print a script (for review; nothing is run) that brings RIGHT closer to LEFT.",
        ),
    ] = False,
) -> None:
    """Rank what LEFT (production) has that RIGHT (staging) lacks.

    Exit codes: 0 nothing at or above --fail-on, 1 discrepancies, 2 error, 3 only incomparable.
    """
    from repro.commands.diff import DiffOptions, run_diff

    with handle_errors(_scrub):
        code = run_diff(
            left,
            right,
            DiffOptions(
                output_format=output_format,
                min_severity=min_severity,
                fail_on=fail_on,
                waivers=waivers,
                show_ignored=show_ignored,
                live=live,
                fix_script=fix_script,
            ),
            ACTIVE_REDACTORS,
        )
    raise typer.Exit(code)


data_app = typer.Typer(
    name="data",
    help="Production-shaped data: synthetic rows from a snapshot's schema and statistics.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(data_app, name="data")


@data_app.command("generate")
def data_generate(
    snapshot_ref: Annotated[
        str, typer.Argument(metavar="SNAPSHOT", help="Snapshot file or profile name (latest).")
    ],
    dsn: Annotated[
        str, typer.Option("--dsn", help="Target database (postgresql://...), loaded in one go.")
    ],
    scale: Annotated[
        float, typer.Option("--scale", help="Rows per table: the snapshot's estimate x this.")
    ] = 1.0,
    rows: Annotated[
        list[str] | None,
        typer.Option("--rows", help="Exact rows for a table: schema.table=N (repeatable)."),
    ] = None,
    seed: Annotated[
        int, typer.Option("--seed", help="Same snapshot, options and seed: identical data.")
    ] = 0,
    tables: Annotated[
        list[str] | None,
        typer.Option("--tables", help="Only these tables (schema.table, repeatable)."),
    ] = None,
    create_schema: Annotated[
        bool,
        typer.Option(
            "--create-schema", help="Recreate the snapshot's schema first (empty target only)."
        ),
    ] = False,
    truncate: Annotated[
        bool, typer.Option("--truncate", help="Replace rows already in the target's tables.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the fidelity report as JSON, no progress.")
    ] = False,
) -> None:
    """Fill a database with synthetic rows shaped like the snapshot's statistics.

    Valid by construction (keys, foreign keys, checks), deterministic for a seed, loaded
    with COPY in one transaction; prints how close the result's statistics are.
    """
    from repro.commands.data import GenerateArgs, run_generate

    with handle_errors(_scrub):
        code = run_generate(
            GenerateArgs(
                snapshot=snapshot_ref,
                dsn=dsn,
                scale=scale,
                rows=rows or [],
                seed=seed,
                tables=tables or [],
                create_schema=create_schema,
                truncate=truncate,
                as_json=as_json,
            ),
            ACTIVE_REDACTORS,
        )
    raise typer.Exit(code)


def main() -> None:
    app()


if __name__ == "__main__":
    main()
