"""Python distributions, OS packages and runtime library versions."""

from __future__ import annotations

from repro.diff.model import Change, Severity
from repro.diff.rules.base import Assessment, Context, Rule, fixed, kinds
from repro.diff.values import show
from repro.diff.versions import classify

_BY_CHANGE: dict[str, Severity] = {
    "major": "high",
    "minor": "medium",
    "patch": "low",
    "other": "medium",
}


def _version_hint(change: Change, ctx: Context, step: str) -> str:
    return (
        f"{change.name} {show(change.left)} in {ctx.left_label} vs {show(change.right)} in "
        f"{ctx.right_label} ({step})"
    )


def _package_version(change: Change, ctx: Context) -> Assessment:
    step = classify(change.left, change.right) or "patch"
    return Assessment(_BY_CHANGE[step], _version_hint(change, ctx, step))


def _interpreter(change: Change, ctx: Context) -> Assessment:
    # A Python minor release changes the language and the stdlib: as serious as a major.
    step = classify(change.left, change.right) or "patch"
    severity: Severity = "low" if step == "patch" else "high"
    return Assessment(
        severity, _version_hint(change, ctx, step).replace(f"{change.name} ", "Python ", 1)
    )


def _library(change: Change, ctx: Context) -> Assessment:
    step = classify(change.left, change.right) or "patch"
    return Assessment(
        _BY_CHANGE[step],
        f"{change.name}: {ctx.left_label} {show(change.left)} "
        f"vs {ctx.right_label} {show(change.right)} ({step})",
    )


RULES: list[Rule] = [
    Rule(
        "packages.python.distribution",
        "packages.python.distributions.*",
        _package_version,
        kinds("changed"),
    ),
    Rule(
        "packages.python.only-in-prod",
        "packages.python.distributions.*",
        fixed("high", "installed only in {L}: {name} {left}"),
        kinds("only_in_prod"),
    ),
    Rule(
        "packages.python.only-in-staging",
        "packages.python.distributions.*",
        fixed("low", "installed only in {R}: {name} {right}"),
        kinds("only_in_staging"),
    ),
    Rule("packages.os.package", "packages.os.packages.*", _package_version, kinds("changed")),
    Rule(
        "packages.os.only-in-prod",
        "packages.os.packages.*",
        fixed("medium", "OS package only in {L}: {name} {left}"),
        kinds("only_in_prod"),
    ),
    Rule(
        "packages.os.only-in-staging",
        "packages.os.packages.*",
        fixed("low", "OS package only in {R}: {name} {right}"),
        kinds("only_in_staging"),
    ),
    Rule("packages.interpreter", "packages.python.version", _interpreter, kinds("changed")),
    Rule("packages.interpreter", "packages.runtime.python", _interpreter, kinds("changed")),
    Rule("packages.runtime-library", "packages.runtime.*", _library, kinds("changed")),
    Rule(
        "packages.interpreter-path",
        "packages.python.interpreter",
        fixed("low", "interpreter {L} {left} vs {R} {right}"),
    ),
    Rule(
        "packages.os.manager",
        "packages.os.manager",
        fixed("medium", "package manager {L} {left} vs {R} {right}: different distributions"),
    ),
]
