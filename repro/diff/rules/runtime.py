"""Machine and limits: what prod has *less* of is what fails there (OOM kills, EMFILE,
throttling), so a lower limit in prod ranks high and a higher one low."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from repro.diff.model import Change, Severity
from repro.diff.rules.base import AssessFn, Assessment, Context, Rule, differs, fixed
from repro.diff.values import as_number, human_bytes, human_count, show


def _limit(value: Any) -> float | None:
    """A limit as a number; null means unlimited."""
    if value is None:
        return float("inf")
    return as_number(value)


def lower_in_prod(
    what: str, render: Callable[[Any], str], *, lower: Severity = "high", higher: Severity = "low"
) -> AssessFn:
    def assess(change: Change, ctx: Context) -> Assessment:
        left, right = _limit(change.left), _limit(change.right)
        text = (
            f"{what}: {render(change.left)} in {ctx.left_label} vs "
            f"{render(change.right)} in {ctx.right_label}"
        )
        if left is None or right is None:
            return Assessment("medium", text)
        if left < right:
            return Assessment(lower, f"{text} (less in {ctx.left_label})")
        return Assessment(higher, text)

    return assess


def _cpus(value: Any) -> str:
    return "unlimited" if value is None else f"{show(value)} CPUs"


def _count(value: Any) -> str:
    return "unlimited" if value is None else human_count(value)


RULES: list[Rule] = [
    Rule(
        "runtime.memory-limit",
        "runtime.cgroup.memory_limit_bytes",
        lower_in_prod("memory limit", human_bytes),
    ),
    Rule("runtime.cpu-limit", "runtime.cgroup.cpu_limit", lower_in_prod("CPU limit", _cpus)),
    Rule("runtime.pids-limit", "runtime.cgroup.pids_limit", lower_in_prod("process limit", _count)),
    Rule("runtime.cpus", "runtime.cpu_count", lower_in_prod("CPUs", _count)),
    Rule(
        "runtime.memory",
        "runtime.memory_total_bytes",
        lower_in_prod("host memory", human_bytes, lower="medium"),
    ),
    Rule("runtime.open-files", "runtime.open_files.*", lower_in_prod("open files limit", _count)),
    Rule(
        "runtime.timezone",
        "runtime.timezone",
        fixed("high", "time zone: {L} {left} vs {R} {right}"),
    ),
    Rule(
        "runtime.locale",
        "runtime.locale.**",
        fixed("high", "locale {name}: {L} {left} vs {R} {right}"),
    ),
    Rule("runtime.kernel", "runtime.kernel", fixed("low", "kernel {L} {left} vs {R} {right}")),
    Rule("runtime.os", "runtime.os.pretty_name", fixed("info", "OS {L} {left} vs {R} {right}")),
    Rule("runtime.os", "runtime.os.**", differs("medium", lambda k: "OS")),
    Rule("runtime.arch", "runtime.arch", fixed("medium", "architecture {L} {left} vs {R} {right}")),
    Rule(
        "runtime.cgroup",
        "runtime.cgroup.version",
        fixed("low", "cgroup {L} v{left} vs {R} v{right}"),
    ),
    Rule("runtime.user", "runtime.user.**", differs("medium", lambda k: "app user")),
]
