"""``repro bisect INCIDENT --good STAGING --bad PROD``: which differences between the two
environments make the incident's failure happen (delta debugging over ``repro diff``'s
discrepancies, each step a sandbox replay; :mod:`repro.bisect`).

A rich progress bar over the replays on a terminal (stderr), the report on stdout: readable,
or ``--json``.
"""

from __future__ import annotations

import json
import sys
from dataclasses import dataclass, field, replace
from datetime import date

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from repro.bisect.changes import Context, plan
from repro.bisect.markdown import render_bisect_markdown
from repro.bisect.runner import Bisector, BisectResult, Step
from repro.commands.replay import load_inputs
from repro.console import is_interactive, log, stderr_console
from repro.diff import DiffResult, diff_snapshots
from repro.errors import UsageError
from repro.interrupts import sigterm_unwinds
from repro.redaction import Redactor
from repro.replay.options import ReplayOptions

# Engines on this machine: repro reaches each sandbox on its bridge (README "Bisect").
ENGINE_SCHEMES = ("unix://", "tcp://")
MIN_REPLAYS = 3  # the two endpoints and the good side with every change applied


@dataclass
class BisectOptions:
    replay: ReplayOptions  # the incident and per-step settings; its snapshot is the bad side
    good: str  # --good: a snapshot file or profile name
    good_profile: str | None = None  # --good-profile (default: the good snapshot's)
    max_replays: int | None = None  # --max-replays
    jobs: int = 1  # --jobs
    engines: list[str] = field(default_factory=list)  # --engine, repeated
    as_json: bool = False  # --json
    markdown: bool = False  # --markdown


def run_bisect(options: BisectOptions, redactors: list[Redactor]) -> int:
    if options.max_replays is not None and options.max_replays < MIN_REPLAYS:
        raise UsageError(
            f"--max-replays must be at least {MIN_REPLAYS} (the two endpoints and all changes)"
        )
    if options.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    for engine in options.engines:
        if not engine.startswith(ENGINE_SCHEMES):
            raise UsageError(
                f"--engine {engine!r}: not a Docker engine address ({', '.join(ENGINE_SCHEMES)})"
            )
    bad, redactor = load_inputs(options.replay, redactors)
    good_options = replace(options.replay, snapshot=options.good, profile=options.good_profile)
    good, _good_redactor = load_inputs(good_options, redactors)
    context = Context(good.snapshot, bad.snapshot, good.profile, bad.profile)
    found = diff_snapshots(bad.snapshot, good.snapshot, ignore=bad.profile.ignore,
                           today=date.today())  # fmt: skip
    bisector = Bisector(
        options.replay, good, bad, context, plan(found.discrepancies, context), redactor,
        max_replays=options.max_replays, jobs=options.jobs,
        engines=list(options.engines) or [None],
    )  # fmt: skip
    interactive = is_interactive() and not options.as_json
    with sigterm_unwinds():
        result = _with_progress(bisector, stderr_console()) if interactive else bisector.run()
    fix = _fix_script(found, result) if result.cause else ""
    if options.as_json:
        text = json.dumps({**result.to_json(), "fix_script": fix or None}, indent=2) + "\n"
    elif options.markdown:
        text = render_bisect_markdown(result, fix)
    else:
        text = _text(result, fix)
    for each in redactors:
        text = each.scrub(text)
    sys.stdout.write(text)  # plain text: long labels and paths are never wrapped or cut
    log(redactor.scrub(f"{result.status.upper()}: {result.message}"))
    return result.exit_code


def _with_progress(bisector: Bisector, console: Console) -> BisectResult:
    bar = Progress(
        TextColumn("bisect"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.description}"),
        console=console,
        transient=False,
    )
    with bar:
        task = bar.add_task("endpoints", total=bisector.max_replays)

        def started(what: str) -> None:
            bar.update(task, description=what[:100])

        def finished(step: Step, total: int | None) -> None:
            bar.update(task, completed=step.number)

        bisector.on_start, bisector.on_step = started, finished
        return bisector.run()


def _fix_script(found: DiffResult, result: BisectResult) -> str:
    """``repro diff --fix-script``'s lines for the cause's discrepancies only: what would add
    the cause to the good side (to see the failure there), read backwards: what to remove from
    the bad side."""
    from repro.diff import render_fix_script

    paths = {path for change in result.cause for path in change.paths}
    return str(
        render_fix_script(replace(found, discrepancies=[
            d for d in found.discrepancies if d.path in paths
        ]))
    )  # fmt: skip


def _text(result: BisectResult, fix: str = "") -> str:
    lines = [f"{result.status.upper()}: {result.message}", ""]
    if result.cause:
        lines.append("Minimal cause" + ("" if result.minimal else " (not proven minimal)") + ":")
        lines += [f"  - [{c.kind}] {c.label}" for c in result.cause]
        if result.evidence:
            lines.append(f"  evidence: {result.evidence}")
        lines.append("")
        if fix:
            lines.append("Fix script for the cause (repro diff --fix-script, review it):")
            lines += [f"  {line}" if line else "" for line in fix.rstrip("\n").splitlines()]
            lines.append("")
    lines.append(f"Steps ({result.replays} replays, {result.cached} answered from the cache, "
                 f"{result.seconds:.1f} s):")  # fmt: skip
    engines = len({step.engine for step in result.steps})
    for step in result.steps:
        applied = ", ".join(step.changes) if step.changes else "as captured"
        lines.append(
            f"  {step.number:>3}. {step.role:<5} {step.outcome.value:<10} {step.verdict:<17} "
            f"{step.seconds:5.1f} s  {applied}" + (f"  [{step.engine}]" if engines > 1 else "")
        )
    lines.append("")
    lines.append(f"Applicable differences ({len(result.changes)}):")
    lines += [f"  - [{c.kind}] {c.label}" for c in result.changes]
    if result.untested:
        lines.append("")
        lines.append(f"Untested differences ({len(result.untested)}):")
        for item in result.untested:
            lines.append(f"  - {item.path} [{item.kind}]: {item.why}")
    return "\n".join(lines) + "\n"
