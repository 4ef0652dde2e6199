"""The command line: a thin Typer layer over :mod:`repro.commands`.

Options are parsed here and nothing else happens here; every command is a plain function that
tests can call directly. ``repro diff`` and ``repro snapshot`` are parsed by
:mod:`repro.cli.diff_args` and :mod:`repro.cli.snapshot_args` (see :mod:`repro.cli`); they are
listed here so ``repro --help`` shows them.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from repro import __version__
from repro.cli.diff_args import SUMMARY
from repro.cli.redactors import ACTIVE_REDACTORS
from repro.cli.redactors import scrub as _scrub
from repro.cli.snapshot_args import SUMMARY as SNAPSHOT_SUMMARY
from repro.console import stdout_console
from repro.errorhandler import handle_errors

app = typer.Typer(
    name="repro",
    help="Why does this only happen in production? Snapshot environments, diff them, "
    "and replay failing requests in a sandbox that looks like production.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)


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


@app.command(
    help=SNAPSHOT_SUMMARY + " Run 'repro snapshot --help' for its options.",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def snapshot(ctx: typer.Context) -> None:
    """``repro snapshot`` reaches here only when the app is called directly: the arguments
    go to the one parser of the command (:mod:`repro.cli.snapshot_args`)."""
    from repro.cli.snapshot_args import run

    raise typer.Exit(run(ctx.args))


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


@app.command(
    help=SUMMARY + " Run 'repro diff --help' for its options.",
    context_settings={"allow_extra_args": True, "ignore_unknown_options": True},
    add_help_option=False,
)
def diff(ctx: typer.Context) -> None:
    """``repro diff`` reaches here only when the app is called directly (tests, embedding):
    the arguments go to the one parser of the command."""
    from repro.cli.diff_args import run

    raise typer.Exit(run(ctx.args))


data_app = typer.Typer(
    name="data",
    help="Production-shaped data: synthetic rows from a snapshot's statistics, or a masked "
    "copy of real rows.",
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
    default_rows: Annotated[
        int | None,
        typer.Option(
            "--default-rows",
            metavar="N",
            help="Rows for tables the snapshot estimates at none (schema only): N for a "
            "table nothing above it, x2 per level of foreign keys below (at most x8).",
        ),
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
    append: Annotated[
        bool,
        typer.Option("--append", help="Add to rows already there (keys start past theirs)."),
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the fidelity report as JSON, no progress.")
    ] = False,
) -> None:
    """Fill a database with synthetic rows shaped like the snapshot's statistics.

    Valid by construction (keys, foreign keys, checks), deterministic for a seed, loaded
    with COPY in one transaction; prints how close the result's statistics are.
    """
    from repro.commands.generate import GenerateArgs, run_generate

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
                append=append,
                as_json=as_json,
                default_rows=default_rows,
            ),
            ACTIVE_REDACTORS,
        )
    raise typer.Exit(code)


@data_app.command("scan")
def data_scan(
    dsn: Annotated[str, typer.Argument(metavar="DSN", help="Database to scan (read-only).")],
    schemas: Annotated[
        list[str] | None, typer.Option("--schema", help="Only these schemas (repeatable).")
    ] = None,
    sample: Annotated[
        int, typer.Option("--sample", help="Rows sampled per table (0: names and types only).")
    ] = 1000,
    output: Annotated[
        str | None,
        typer.Option("--output", "-o", help="Write a rules file (repro.anonymize/v1) here."),
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace the -o file.")] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Findings as JSON.")] = False,
) -> None:
    """Find columns holding personal data, by name, type and a small sample of values.

    Sampled values are never printed or written: reasons are counts and patterns.
    """
    from repro.commands.scan import run_scan

    with handle_errors(_scrub):
        code = run_scan(dsn, schemas, sample, output, as_json, ACTIVE_REDACTORS, force=force)
    raise typer.Exit(code)


@data_app.command("anonymize")
def data_anonymize(
    source: Annotated[str, typer.Option("--from", help="Source database (read-only).")],
    target: Annotated[
        str,
        typer.Option("--to", help="Empty target database, or a dump file (*.sql, *.sql.gz)."),
    ],
    rules: Annotated[str, typer.Option("--rules", help="Rules YAML (repro data scan -o).")],
    subset: Annotated[
        list[str] | None,
        typer.Option("--subset", help="'TABLE: CONDITION' rows to take (repeatable)."),
    ] = None,
    include: Annotated[
        list[str] | None,
        typer.Option("--include", help="'TABLE.COLUMN = VALUE' rows to take (repeatable)."),
    ] = None,
    children_limit: Annotated[
        int, typer.Option("--children-limit", help="Child rows taken per table in a subset.")
    ] = 1000,
    allow_unmasked: Annotated[
        list[str] | None,
        typer.Option("--allow-unmasked", help="Copy this personal TABLE.COLUMN unmasked."),
    ] = None,
    schemas: Annotated[
        list[str] | None, typer.Option("--schema", help="Only these schemas (repeatable).")
    ] = None,
    no_verify: Annotated[
        bool, typer.Option("--no-verify", help="Skip the checks after the copy.")
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing --to FILE.")] = False,
    jobs: Annotated[
        int | None,
        typer.Option(
            "--jobs",
            "-j",
            min=1,
            help="Processes masking each large table (default: one per core; 1: this one).",
        ),
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Report as JSON, no progress.")] = False,
) -> None:
    """Copy real rows with personal data masked: joins, NULLs and unique keys intact.

    Exit codes: 0 copied and verified, 1 copied but a verification check failed, 2 error
    (nothing kept).
    """
    from repro.commands.anonymize import run_anonymize
    from repro.mask.anonymize import AnonymizeOptions

    with handle_errors(_scrub):
        code = run_anonymize(
            AnonymizeOptions(
                source=source,
                target=target,
                rules=rules,
                subset=subset or [],
                include=include or [],
                children_limit=children_limit,
                allow_unmasked=allow_unmasked or [],
                schemas=schemas or None,
                verify=not no_verify,
                force=force,
                jobs=jobs,
            ),
            as_json,
            ACTIVE_REDACTORS,
        )
    raise typer.Exit(code)


@data_app.command("verify")
def data_verify(
    source: Annotated[str, typer.Option("--from", help="Source database.")],
    target: Annotated[str, typer.Option("--to", help="The masked copy.")],
    rules: Annotated[str, typer.Option("--rules", help="The rules the copy was made with.")],
    as_json: Annotated[bool, typer.Option("--json", help="Results as JSON.")] = False,
) -> None:
    """Check a masked copy: no identifying source value of a masked column (also inside
    arrays and documents), the keys and unique indexes the source enforces hold, NULLs kept.
    Common values (names, cities) equal to another row's are reported as information.

    Exit codes: 0 every check passed, 1 a check failed, 2 error.
    """
    from repro.commands.anonymize import run_verify

    with handle_errors(_scrub):
        code = run_verify(source, target, rules, as_json, ACTIVE_REDACTORS)
    raise typer.Exit(code)


import_app = typer.Typer(
    name="import",
    help="Turn a failing production request (Sentry event, HAR, curl, access-log line) into an "
    "incident file for replay. Credentials are fingerprinted, never written.",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(import_app, name="import")

_IMPORT_OUTPUT = typer.Option(
    "--output", "-o", help="Write the incident YAML here instead of stdout."
)
_IMPORT_FORCE = typer.Option("--force", help="Replace the -o file.")
_IMPORT_TRACEBACK = typer.Option(
    "--traceback",
    metavar="FILE",
    help="The app's log with production's stack trace (Python, Node.js, Java, Ruby): the last "
    "one becomes the failure signature.",
)


def _run_import(
    kind: str,
    source: str,
    output: str | None,
    force: bool,
    entry: int | None = None,
    match: str | None = None,
    status: int | None = None,
    traceback: str | None = None,
) -> None:
    from repro.commands.importer import ImportArgs, run_import

    with handle_errors(_scrub):
        args = ImportArgs(
            output=output,
            force=force,
            entry=entry,
            match=match,
            status=status,
            traceback=traceback,
        )
        code = run_import(kind, source, args, ACTIVE_REDACTORS)
    raise typer.Exit(code)


@import_app.command("sentry")
def import_sentry(
    file: Annotated[str, typer.Argument(metavar="FILE", help="Sentry event JSON ('-' = stdin).")],
    status: Annotated[
        int | None,
        typer.Option(
            "--status",
            help="The status production returned (needed for an event with no failure in it, "
            "such as a transaction).",
        ),
    ] = None,
    output: Annotated[str | None, _IMPORT_OUTPUT] = None,
    force: Annotated[bool, _IMPORT_FORCE] = False,
) -> None:
    """A Sentry event: SDK/ingest JSON, the event page's JSON or the web API export."""
    _run_import("sentry", file, status=status, output=output, force=force)


@import_app.command("har")
def import_har(
    file: Annotated[str, typer.Argument(metavar="FILE", help="HAR file ('-' = stdin).")],
    entry: Annotated[
        int | None, typer.Option("--entry", help="Use log.entries[N] (0-based).")
    ] = None,
    match: Annotated[
        str | None, typer.Option("--match", help="Use the entry whose URL matches this regex.")
    ] = None,
    traceback: Annotated[str | None, _IMPORT_TRACEBACK] = None,
    output: Annotated[str | None, _IMPORT_OUTPUT] = None,
    force: Annotated[bool, _IMPORT_FORCE] = False,
) -> None:
    """One HAR entry: by default the first with a 5xx status."""
    _run_import(
        "har", file, entry=entry, match=match, traceback=traceback, output=output, force=force
    )


@import_app.command("curl")
def import_curl(
    command: Annotated[
        str, typer.Argument(metavar="CMD", help="The curl command, quoted ('-' = stdin).")
    ],
    status: Annotated[
        int | None, typer.Option("--status", help="The status production returned.")
    ] = None,
    traceback: Annotated[str | None, _IMPORT_TRACEBACK] = None,
    output: Annotated[str | None, _IMPORT_OUTPUT] = None,
    force: Annotated[bool, _IMPORT_FORCE] = False,
) -> None:
    """A curl command (browser 'Copy as cURL': bash, cmd or PowerShell). Parsed, never run."""
    _run_import("curl", command, status=status, traceback=traceback, output=output, force=force)


@import_app.command("log")
def import_log(
    line: Annotated[
        str,
        typer.Argument(
            metavar="LINES", help="Access-log lines, quoted ('-' = stdin); the first 5xx is used."
        ),
    ],
    traceback: Annotated[str | None, _IMPORT_TRACEBACK] = None,
    output: Annotated[str | None, _IMPORT_OUTPUT] = None,
    force: Annotated[bool, _IMPORT_FORCE] = False,
) -> None:
    """Access-log lines: nginx/Apache combined or common, AWS ALB, Heroku router, JSON lines
    (also as docker compose logs / kubectl logs --prefix print them)."""
    _run_import("log", line, traceback=traceback, output=output, force=force)


# Options `repro replay` and `repro bisect` share, declared once.
IncidentArg = Annotated[
    str, typer.Argument(metavar="INCIDENT", help="The incident file (repro import ... -o).")
]
AuthOpt = Annotated[
    str | None,
    typer.Option("--auth", help="Stand-in Authorization header value (a test credential)."),
]
StandInOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--stand-in",
        help="Stand-in for a lost part: WHERE=VALUE, e.g. cookie:session=abc or "
        "path=/reset/real-token (repeatable).",
    ),
]
SecretsOpt = Annotated[
    str | None,
    typer.Option(
        "--secrets",
        help="NAME=value file: sandbox values for production's secret variables.",
    ),
]
SeedOpt = Annotated[int, typer.Option("--seed", help="Seed of the generated data.")]
TimeoutOpt = Annotated[float, typer.Option("--timeout", help="Seconds to wait for each answer.")]
JsonOpt = Annotated[bool, typer.Option("--json", help="The report as JSON.")]
# Production's conditions, for repro replay and each step of repro bisect.
FaultOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--fault",
        help="How a third party of the profile's sandbox.services behaves: "
        "NAME=down|timeout|slow:2s|status:503|reset|ok (repeatable).",
    ),
]
StubOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--stub",
        help="NAME=FILE: a third party answers what this HAR file recorded (repeatable).",
    ),
]
WithJobOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--with-job",
        help="Runs alongside the request, started first: 'sql:STATEMENTS[;hold=30s]' "
        "(a transaction held open), 'cmd:COMMAND[;after=1s][;user=U]' (in the app "
        "container) or 'schedule:NAME' (production's cron/timer job) (repeatable).",
    ),
]
ConcurrencyOpt = Annotated[
    int,
    typer.Option(
        "--concurrency",
        help="Send the --repeat requests from this many clients at once (a load).",
    ),
]
ExpectOpt = Annotated[
    str | None,
    typer.Option(
        "--expect",
        help="oom: production's process was OOM-killed (its proxy answered 502/503); an "
        "OOM kill in the sandbox is then the same failure.",
    ),
]


@app.command("replay")
def replay_command(
    incident: IncidentArg,
    snapshot: Annotated[
        str | None,
        typer.Option(
            "--snapshot",
            help="Production's snapshot: a file, or a profile name (its latest stored one).",
        ),
    ] = None,
    profile: Annotated[
        str | None,
        typer.Option(
            "--profile", help="Profile with the sandbox section (default: the snapshot's)."
        ),
    ] = None,
    repeat: Annotated[
        int, typer.Option("--repeat", help="Send the request N times: a reproduction rate.")
    ] = 1,
    auth: AuthOpt = None,
    stand_in: StandInOpt = None,
    secrets_file: SecretsOpt = None,
    rows: Annotated[
        int | None,
        typer.Option(
            "--rows", help="At most N generated rows in all (0: schema only; default: profile)."
        ),
    ] = None,
    data: Annotated[
        str | None,
        typer.Option(
            "--data",
            help="Load this masked copy (repro data anonymize --to FILE.sql[.gz]) instead of "
            "generating rows.",
        ),
    ] = None,
    seed: SeedOpt = 0,
    timeout: TimeoutOpt = 30.0,
    no_parity: Annotated[
        bool, typer.Option("--no-parity", help="Skip snapshotting the sandbox for parity.")
    ] = False,
    require_signature: Annotated[
        bool,
        typer.Option(
            "--require-signature",
            help="A match on the status alone (production recorded no exception) is "
            "UNCONFIRMED, exit 1, not REPRODUCED.",
        ),
    ] = False,
    memory: Annotated[
        str | None,
        typer.Option(
            "--memory",
            help="The app's memory limit (128m, 1g; swap none): default production's, from "
            "the snapshot's runtime facet.",
        ),
    ] = None,
    cpus: Annotated[
        str | None,
        typer.Option("--cpus", help="The app's CPU limit (0.5, 2): default production's."),
    ] = None,
    no_limits: Annotated[
        bool, typer.Option("--no-limits", help="None of production's resource limits.")
    ] = False,
    fault: FaultOpt = None,
    stub: StubOpt = None,
    with_job: WithJobOpt = None,
    concurrency: ConcurrencyOpt = 1,
    expect: ExpectOpt = None,
    candidate: Annotated[
        str | None,
        typer.Option(
            "--candidate",
            help="A fixed release's image, run in the same sandbox: FIXED, NOT_FIXED or "
            "REGRESSED (and the exit code says which).",
        ),
    ] = None,
    baseline: Annotated[
        str | None,
        typer.Option(
            "--baseline",
            help="The previous release's image, run in the same sandbox: would a rollback "
            "help?",
        ),
    ] = None,
    as_json: JsonOpt = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="The report as Markdown (for the ticket).")
    ] = False,
    html: Annotated[
        str | None,
        typer.Option(
            "--html",
            help="Also write the report as one self-contained HTML page (charts, no script) "
            "to FILE.",
            metavar="FILE",
        ),
    ] = None,
    emit_pytest: Annotated[
        str | None,
        typer.Option(
            "--emit-pytest",
            metavar="PATH",
            help="Also write a pytest module that replays the incident again (through "
            "repro's API) and fails while it still reproduces: the fix stays fixed.",
        ),
    ] = None,
    force: Annotated[
        bool, typer.Option("--force", help="Replace the --html / --emit-pytest files.")
    ] = False,
) -> None:
    """Replay a failing request in a sandbox built from production's snapshot; say whether
    the same failure happened.

    Verdicts: REPRODUCED (weak when only the status matched: production recorded no
    exception), UNCONFIRMED (that, with --require-signature), DIFFERENT_FAILURE,
    NOT_REPRODUCED, ENV_ERROR (the sandbox itself failed or its evidence shows it broken: the
    database unreachable, a placeholder in a connection, failed migrations). Exit codes: 0
    reproduced, 1 unconfirmed, not reproduced or a different failure, 2 error.
    With --candidate the fix's answer decides: 0 FIXED, 1 NOT_FIXED, 3 REGRESSED, 2 when it
    cannot be told (production's release did not reproduce, or a sandbox failed).

    Production's conditions: its memory/CPU limits (runtime facet), its third parties as stubs
    (sandbox.services, --fault, --stub; every other outside name fails at once), jobs beside
    the request (--with-job) and load (--concurrency with --repeat).
    Every container and network is labelled and removed afterwards, also on Ctrl-C.
    """
    from repro.commands.replay import run_replay
    from repro.replay.options import ReplayOptions

    with handle_errors(_scrub):
        if as_json and markdown:
            from repro.errors import UsageError

            raise UsageError("--json and --markdown: pick one")
        from repro.replay.conditions.spec import parse_conditions

        conditions = parse_conditions(
            memory=memory,
            cpus=cpus,
            limits=not no_limits,
            faults=fault or [],
            stubs=stub or [],
            jobs=with_job or [],
            concurrency=concurrency,
            expect=expect,
        )
        code = run_replay(
            ReplayOptions(
                incident=incident,
                snapshot=snapshot,
                profile=profile,
                repeat=repeat,
                auth=auth,
                stand_ins=stand_in or [],
                secrets_file=secrets_file,
                rows=rows,
                data_dump=data,
                seed=seed,
                timeout_s=timeout,
                parity=not no_parity,
                require_signature=require_signature,
                output_format="json" if as_json else "markdown" if markdown else None,
                conditions=conditions,
                candidate=candidate,
                baseline=baseline,
                html=html,
                emit_pytest=emit_pytest,
                force=force,
            ),
            ACTIVE_REDACTORS,
        )
    raise typer.Exit(code)


@app.command("bisect")
def bisect_command(
    incident: IncidentArg,
    good: Annotated[
        str,
        typer.Option("--good", help="The snapshot where it does not fail (staging): a file "
                     "or a profile name."),
    ],
    bad: Annotated[
        str,
        typer.Option("--bad", help="The snapshot where it fails (production): a file or a "
                     "profile name."),
    ],
    good_profile: Annotated[
        str | None, typer.Option("--good-profile", help="Default: the good snapshot's.")
    ] = None,
    bad_profile: Annotated[
        str | None, typer.Option("--bad-profile", help="Default: the bad snapshot's.")
    ] = None,
    max_replays: Annotated[
        int | None,
        typer.Option("--max-replays", help="Stop after N replays in all (at least 3)."),
    ] = None,
    jobs: Annotated[
        int, typer.Option("--jobs", "-j", help="Run N steps (sandboxes) at once.")
    ] = 1,
    engine: Annotated[
        list[str] | None,
        typer.Option(
            "--engine",
            help="A Docker engine on this machine for the sandboxes (unix:// or tcp://; "
            "repeatable: steps are spread over them). Default: DOCKER_HOST's.",
        ),
    ] = None,
    repeat: Annotated[
        int, typer.Option("--repeat", help="Send the request N times per step.")
    ] = 1,
    fault: FaultOpt = None,
    stub: StubOpt = None,
    with_job: WithJobOpt = None,
    concurrency: ConcurrencyOpt = 1,
    expect: ExpectOpt = None,
    auth: AuthOpt = None,
    stand_in: StandInOpt = None,
    secrets_file: SecretsOpt = None,
    rows: Annotated[
        int | None, typer.Option("--rows", help="At most N generated rows per sandbox.")
    ] = None,
    seed: SeedOpt = 0,
    timeout: TimeoutOpt = 30.0,
    as_json: JsonOpt = False,
    markdown: Annotated[
        bool, typer.Option("--markdown", help="The answer as Markdown (for the ticket).")
    ] = False,
) -> None:
    """Find which differences between a good and a bad environment cause the incident:
    delta debugging (ddmin) over repro diff's discrepancies, each step a sandbox replay of
    the good snapshot with some of the bad snapshot's facts applied.

    First the endpoints: the bad side must reproduce it and the good side must not (when it
    does too, the failure is not caused by an environment difference). Then the good side
    with every applicable difference, then ddmin to a 1-minimal set. Differences the sandbox
    cannot apply are listed as untested. Exit codes: 0 a minimal cause found, 1 not caused by
    an (applicable) environment difference, 2 error, 3 endpoints not confirmed (bad does not
    reproduce, or good gives no verdict), 4 --max-replays spent before the set was proven
    minimal. Every sandbox is removed afterwards, also on Ctrl-C and SIGTERM.

    Every step replays under the same conditions: --fault, --stub, --with-job, --concurrency
    and --expect as repro replay takes them; production's resource limits are differences
    like the others (the good side's limits unless the step applies the bad side's).
    """
    from repro.commands.bisect import BisectOptions, run_bisect
    from repro.replay.conditions.spec import parse_conditions
    from repro.replay.options import ReplayOptions

    with handle_errors(_scrub):
        if as_json and markdown:
            from repro.errors import UsageError

            raise UsageError("--json and --markdown: pick one")
        conditions = parse_conditions(
            faults=fault or [],
            stubs=stub or [],
            jobs=with_job or [],
            concurrency=concurrency,
            expect=expect,
        )
        code = run_bisect(
            BisectOptions(
                replay=ReplayOptions(
                    incident=incident,
                    snapshot=bad,
                    profile=bad_profile,
                    repeat=repeat,
                    auth=auth,
                    stand_ins=stand_in or [],
                    secrets_file=secrets_file,
                    rows=rows,
                    seed=seed,
                    timeout_s=timeout,
                    conditions=conditions,
                    parity=False,
                    output_format="json" if as_json else None,
                ),
                good=good,
                good_profile=good_profile,
                max_replays=max_replays,
                jobs=jobs,
                engines=engine or [],
                as_json=as_json,
                markdown=markdown,
            ),
            ACTIVE_REDACTORS,
        )
    raise typer.Exit(code)


sandbox_app = typer.Typer(
    name="sandbox",
    help="Throw-away sandboxes that look like production (containers repro starts).",
    no_args_is_help=True,
    rich_markup_mode=None,
)
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("prune")
def sandbox_prune(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="List what would be removed, remove nothing.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    cache: Annotated[
        bool,
        typer.Option(
            "--cache",
            help="Also remove the PostgreSQL images repro keeps to start sandboxes faster "
            "(labelled repro.cache; the next sandbox makes its image again).",
        ),
    ] = False,
) -> None:
    """Remove every container, network and volume labelled repro.managed=true."""
    import json

    from repro.replay.prune import prune

    with handle_errors(_scrub):
        result = prune(dry_run=dry_run, cache=cache)
        if as_json:
            print(json.dumps(result.to_json(), indent=2))
        else:
            verb = "would remove" if dry_run else "removed"
            print(
                f"{verb} {len(result.containers)} containers, {len(result.networks)} networks, "
                f"{len(result.volumes)} volumes"
                + (f", {len(result.images)} cached images" if cache else "")
            )
            for line in result.failed:
                print(f"could not remove {line}")
    raise typer.Exit(1 if result.failed else 0)


def _click_errors() -> tuple[type[Exception], type[Exception], type[Exception] | None]:
    """(UsageError, ClickException, NoArgsIsHelpError) of the click typer runs on: click's
    own for older typer releases, typer's vendored copy (``typer._click``) since 0.22 — found
    through typer's public BadParameter either way."""
    bases = typer.BadParameter.__mro__
    usage = next(c for c in bases if c.__name__ == "UsageError")
    click_exception = next(c for c in bases if c.__name__ == "ClickException")
    no_args = getattr(sys.modules[usage.__module__], "NoArgsIsHelpError", None)
    return usage, click_exception, no_args


USAGE_EXIT = 2


def run_app(args: list[str]) -> None:
    """Run the Typer app. Click's own usage errors (an unknown command or option, a missing or
    malformed argument) become the same one ``repro: error:`` line and exit 2 as every other
    error, instead of click's three-line usage block; ``--help`` and a bare group's help
    stay as they are."""
    usage_error, click_exception, no_args_is_help = _click_errors()
    try:
        code = app(args=args, prog_name="repro", standalone_mode=False)
    except typer.Abort:
        print("repro: interrupted", file=sys.stderr)
        raise SystemExit(130) from None
    except click_exception as exc:
        ctx = getattr(exc, "ctx", None)
        if no_args_is_help is not None and isinstance(exc, no_args_is_help) and ctx is not None:
            # `repro data` without a subcommand: the group's help, as click shows it.
            print(ctx.get_help())
            raise SystemExit(USAGE_EXIT) from None
        if isinstance(exc, usage_error):
            print(f"repro: error: {usage_error_line(exc)}", file=sys.stderr)
            raise SystemExit(USAGE_EXIT) from None
        message = " ".join(getattr(exc, "format_message", exc.__str__)().split())
        print(f"repro: error: {message}", file=sys.stderr)
        raise SystemExit(getattr(exc, "exit_code", 1)) from None
    raise SystemExit(code if isinstance(code, int) else 0)


def usage_error_line(exc: Exception) -> str:
    """``import har: Missing argument 'FILE' (see repro import har --help)``."""
    format_message = getattr(exc, "format_message", exc.__str__)
    message = " ".join(format_message().split()).rstrip(".")
    ctx = getattr(exc, "ctx", None)
    path = ctx.command_path if ctx is not None else "repro"
    where = path.removeprefix("repro").strip()
    return f"{where + ': ' if where else ''}{message} (see {path} --help)"

