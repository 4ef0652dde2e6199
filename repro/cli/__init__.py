"""The command line: ``repro`` (the ``repro`` script, ``python -m repro``).

:mod:`repro.cli.app` is a thin Typer layer over :mod:`repro.commands`. ``repro diff`` and
``repro snapshot`` are parsed by :mod:`repro.cli.diff_args` and :mod:`repro.cli.snapshot_args`
before Typer is even imported: starting Typer costs more than a whole diff of two snapshots,
or a snapshot of a small database.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> None:
    args = sys.argv[1:] if argv is None else argv
    if args[:1] in (["diff"], ["snapshot"]):
        # Both allocate many small objects (a snapshot of a large schema: millions) and
        # keep them until the process ends, with no cycles worth collecting: the cyclic
        # collector would only walk them again and again. These processes are short.
        import gc

        gc.disable()
    if args[:1] == ["diff"]:
        from repro.cli.diff_args import run

        raise SystemExit(run(args[1:]))
    if args[:1] == ["snapshot"]:
        from repro.cli.snapshot_args import run as run_snapshot

        raise SystemExit(run_snapshot(args[1:]))
    from repro.cli.app import run_app

    run_app(args)
