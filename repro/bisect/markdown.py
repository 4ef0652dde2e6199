"""`repro bisect --markdown`: the answer for a ticket. The cause with the evidence of the
replay that showed it, the fix script's lines for it, every step's subset and verdict, and the
applicable and untested differences. Every text from the snapshots (labels, paths, reasons) is
escaped for Markdown: a snapshot is a file from another machine."""

from __future__ import annotations

from repro.bisect.runner import BisectResult
from repro.replay.renderers.markdown import md_cell, md_code, md_table, md_text

TITLES = {
    "cause": "cause found",
    "no-cause": "not caused by an environment difference",
    "endpoints": "endpoints not confirmed",
    "budget": "replay budget spent",
    "error": "error",
}


def _fenced(text: str) -> list[str]:
    longest = max((len(line) - len(line.lstrip("`")) for line in text.splitlines()), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{fence}sh", *text.rstrip("\n").splitlines(), fence, ""]


def render_bisect_markdown(result: BisectResult, fix: str = "") -> str:
    lines = [
        f"## repro bisect: {TITLES.get(result.status, md_text(result.status))}",
        "",
        md_text(result.message),
        "",
        f"{result.replays} replays ({result.cached} subsets answered from the cache), "
        f"{result.seconds:.1f} s; exit code {result.exit_code}.",
        "",
    ]
    if result.cause:
        proven = "1-minimal" if result.minimal else "not proven minimal"
        lines += [f"### Cause ({proven})", ""]
        lines += md_table(
            ("kind", "difference", "key"),
            ((md_cell(c.kind), md_cell(c.label), md_code(c.key)) for c in result.cause),
        )
        if result.evidence:
            lines += [f"Evidence: {md_text(result.evidence)}", ""]
        if fix:
            lines += ["Fix script for the cause (`repro diff --fix-script`; review it):", ""]
            lines += _fenced(fix)
    engines = len({step.engine for step in result.steps})
    header = ["#", "role", "outcome", "verdict", "seconds", "changes applied"]
    lines += ["### Steps", ""]
    lines += md_table(
        [*header, "engine"] if engines > 1 else header,
        (
            [
                str(step.number),
                step.role,
                step.outcome.value,
                md_cell(step.verdict),
                f"{step.seconds:.1f}",
                md_code(", ".join(step.changes)) if step.changes else "as captured",
                *([md_code(step.engine)] if engines > 1 else []),
            ]
            for step in result.steps
        ),
    )
    lines += [f"### Applicable differences ({len(result.changes)})", ""]
    lines += md_table(
        ("kind", "difference", "key"),
        ((md_cell(c.kind), md_cell(c.label), md_code(c.key)) for c in result.changes),
    )
    if result.untested:
        lines += [f"### Untested differences ({len(result.untested)})", ""]
        lines += md_table(
            ("path", "kind", "why"),
            ((md_code(u.path), md_cell(u.kind), md_cell(u.why)) for u in result.untested),
        )
    return "\n".join(lines).rstrip("\n") + "\n"
