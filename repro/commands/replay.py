"""``repro replay INCIDENT``: options in, the sandbox's verdict out (rich, JSON or Markdown).

Which production: ``--snapshot`` (a file, or a profile name: its latest stored snapshot) and
the profile (``--profile``, default: the snapshot's own) whose ``sandbox:`` section says how to
run the app. Every stand-in and secret value is registered with the redactor first, so no
output, log line or error message can carry one.
"""

from __future__ import annotations

import io
import sys
from pathlib import Path

from rich.console import Console

from repro.commands.replay_html import check_html, write_html
from repro.console import is_interactive, log, stderr_console, stdout_console
from repro.errors import ProfileError, UsageError
from repro.interrupts import sigterm_unwinds
from repro.profile.file import Profile, resolve_profile
from repro.progress import RichProgress
from repro.redaction import Redactor, load_key
from repro.replay.conditions.recorded import read_recorded
from repro.replay.conditions.services import check_service_names
from repro.replay.incident import load_incident
from repro.replay.options import ReplayInputs, ReplayOptions
from repro.replay.outcome import ReplayOutcome
from repro.replay.regression import check_emit_path, emit_module
from repro.replay.renderers.json_format import render_json
from repro.replay.renderers.markdown import render_markdown
from repro.replay.renderers.terminal import render_rich
from repro.replay.request import parse_stand_in
from repro.replay.runner import replay
from repro.replay.sandbox_dump import check_dump
from repro.replay.sandbox_env import load_secrets_file
from repro.snapshot.file import Snapshot
from repro.snapshot.registry import FACETS
from repro.snapshot.store import resolve_snapshot

AUTH_WHERE = "header:Authorization"


def _production(args: ReplayOptions) -> tuple[Snapshot, str, Profile]:
    if args.snapshot is None and args.profile is None:
        raise UsageError("say which production to copy: --snapshot FILE and/or --profile NAME")
    snapshot_ref = args.snapshot or str(args.profile)
    snapshot = resolve_snapshot(snapshot_ref)
    profile_ref = args.profile or snapshot.profile
    if not profile_ref:
        raise UsageError("the snapshot names no profile: pass --profile")
    profile = resolve_profile(profile_ref, FACETS)
    if profile.sandbox is None or profile.sandbox.app is None:
        raise ProfileError(
            f"{profile.where}: sandbox.app: missing; replay needs the app's image and port",
            hint="see profiles/prod.yaml for an example",
        )
    return snapshot, snapshot_ref, profile


def _stand_ins(args: ReplayOptions, profile: Profile) -> dict[str, tuple[str, str]]:
    stand_ins: dict[str, tuple[str, str]] = {}
    assert profile.sandbox is not None
    for where, source in profile.sandbox.stand_ins.items():
        stand_ins[where] = (source.resolve(where), "profile sandbox.stand_ins")
    if args.auth is not None:
        stand_ins[AUTH_WHERE] = (args.auth, "--auth")
    for text in args.stand_ins:
        where, value = parse_stand_in(text)
        stand_ins[where] = (value, "--stand-in")
    return stand_ins


def load_inputs(options: ReplayOptions, redactors: list[Redactor]) -> tuple[ReplayInputs, Redactor]:
    """Check the options and read what they name (``repro bisect`` reads each side so too);
    every secret and stand-in value is registered with the returned redactor first."""
    if options.repeat < 1:
        raise UsageError("--repeat must be at least 1")
    if options.conditions.load and options.repeat < options.conditions.concurrency:
        raise UsageError("--concurrency C sends the --repeat N requests: N must be at least C")
    if options.timeout_s <= 0:
        raise UsageError("--timeout must be greater than 0")
    if options.rows is not None and options.rows < 0:
        raise UsageError("--rows must be 0 (schema only) or more")
    if options.data_dump is not None and options.rows is not None:
        raise UsageError("--data loads a masked copy; --rows sizes generated data: pick one")
    check_html(options)  # --html FILE: refused now, not after the replay
    dump = check_dump(options.data_dump) if options.data_dump is not None else None
    incident = load_incident(options.incident)
    snapshot, snapshot_ref, profile = _production(options)
    redactor = Redactor(load_key(profile.redaction_key_file))
    redactors.append(redactor)
    secrets = load_secrets_file(options.secrets_file) if options.secrets_file else {}
    for value in secrets.values():
        redactor.remember(value)
    assert profile.sandbox is not None
    check_service_names(profile.sandbox.services, options.conditions)
    recordings = {
        name: read_recorded(path, name) for name, path in options.conditions.stubs.items()
    }
    stand_ins = _stand_ins(options, profile)
    for value, _source in stand_ins.values():
        redactor.remember(value)
        for part in value.split():
            redactor.remember(part)
    inputs = ReplayInputs(
        incident=incident,
        snapshot=snapshot,
        snapshot_ref=snapshot_ref,
        profile=profile,
        stand_ins=stand_ins,
        secrets=secrets,
        data_dump=dump,
        base_dir=Path.cwd(),
        recordings=recordings,
    )
    return inputs, redactor


def run_replay(options: ReplayOptions, redactors: list[Redactor]) -> int:
    check_emit_path(options)  # before a long replay, not after it
    inputs, redactor = load_inputs(options, redactors)
    interactive = is_interactive() and options.output_format is None
    reported = False

    def report(outcome: ReplayOutcome) -> None:
        """Once, as soon as the verdict is known: the sandbox is removed after it."""
        nonlocal reported
        if reported:
            return
        reported = True
        write_html(outcome, options, redactor)
        _render(outcome, options.output_format, redactor)
        if options.emit_pytest is not None:
            emit_module(options, outcome, redactor)
        sys.stdout.flush()  # a pipe holds it otherwise until the clean-up is over

    with sigterm_unwinds():
        if interactive:
            with RichProgress(stderr_console()) as progress:
                outcome = replay(
                    options,
                    inputs,
                    redactor,
                    progress=progress,
                    on_stage=lambda name: progress.stage(_STAGE_NAMES.get(name, name)),
                    on_verdict=report,
                )
        else:
            outcome = replay(options, inputs, redactor, on_verdict=report)
    report(outcome)  # the sandbox failed: no verdict was reported before its removal
    return outcome.exit_code


def _render_rich(outcome: ReplayOutcome, console: Console, redactor: Redactor) -> None:
    """The rich report, drawn off-screen first so it is scrubbed like the other formats (the
    sandbox's answers and log lines may hold a stand-in or a secret)."""
    buffer = io.StringIO()
    draft = Console(
        file=buffer,
        width=console.width,
        force_terminal=console.is_terminal,
        color_system=console.color_system,  # type: ignore[arg-type]
        no_color=console.no_color,
    )
    render_rich(outcome, draft)
    console.file.write(redactor.scrub(buffer.getvalue()))
    console.file.flush()


_STAGE_NAMES = {
    "sandbox": "building the sandbox (database, data, app)",
    "replay": "replaying the request",
    "parity": "snapshotting the sandbox for parity",
    "candidate": "running the candidate release in the same sandbox",
    "baseline": "running the previous release in the same sandbox",
    "cleanup": "removing the sandbox",
}


def _render(outcome: ReplayOutcome, output_format: str | None, redactor: Redactor) -> None:
    if output_format == "json":
        sys.stdout.write(redactor.scrub(render_json(outcome)))
    elif output_format == "markdown":
        sys.stdout.write(redactor.scrub(render_markdown(outcome)))
    else:
        # The same report on a terminal and in a pipe (README: "Output"), colour only on a
        # terminal; --json and --markdown are asked for.
        _render_rich(outcome, stdout_console(), redactor)
    log(f"{outcome.decision.verdict.name}: {redactor.scrub(outcome.decision.reason)}")
