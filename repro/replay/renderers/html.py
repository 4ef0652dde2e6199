"""The replay report as one self-contained HTML page (``repro replay --html FILE``): the
verdict, production's evidence beside the sandbox's, the stages as a timeline, the memory
curve, the load's latency histogram, lock waits, third-party calls, parity and the other
releases' answers. Inline CSS and SVG only: no script, no font, no fetch (the page's
Content-Security-Policy forbids them), so it opens offline and mails as one file.

Captured data is hostile (an exception message, a path, a header may hold markup): every text
goes through :meth:`Page.t` — scrubbed of known secrets, then HTML-escaped — and nothing else
reaches the markup but this module's own tags and numbers. The outcome holds no secret values
(only their sources); nothing is added here that the other formats do not show.
"""

from __future__ import annotations

import html
import math
from collections.abc import Callable, Iterable, Sequence

from repro.replay.conditions.locks import LockWait
from repro.replay.conditions.report import MAX_SHOWN_CALLS, ConditionsReport
from repro.replay.incident import describe
from repro.replay.outcome import Parity, ReplayOutcome
from repro.replay.renderers.html_charts import latency_histogram, memory_curve, stage_timeline
from repro.replay.renderers.views import (
    SANDBOX_SOURCES,
    Side,
    app_text,
    attempt_rows,
    database_text,
    env_groups,
    match_kind,
    parity_counts,
    production_side,
    provenance_text,
    rate_text,
    release_rows,
    rows_text,
    sandbox_side,
    settings_text,
    shown_attempt,
    unfilled_warning,
    verdict_label,
    wiring_text,
)

MAX_CALLS = 10 * MAX_SHOWN_CALLS  # a page can hold more calls than a terminal

CSS = """
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:#1f2328;
background:#f6f8fa}
main{max-width:1180px;margin:0 auto;padding:16px 24px 48px}
header.verdict{padding:16px 20px;border-radius:8px;color:#fff;background:#57606a}
header.verdict h1{margin:0 0 4px;font-size:26px}
header.verdict p{margin:2px 0}
.v-reproduced{background:#1a7f37!important}.v-env_error{background:#cf222e!important}
.v-not_reproduced,.v-different_failure,.v-unconfirmed{background:#9a6700!important}
section{background:#fff;border:1px solid #d0d7de;border-radius:8px;margin:16px 0;
padding:8px 20px 16px}
h2{font-size:18px;margin:10px 0}
table{border-collapse:collapse;width:100%}
th,td{border-bottom:1px solid #d8dee4;padding:4px 8px;text-align:left;vertical-align:top}
th{background:#f6f8fa}
code,pre{font:12.5px ui-monospace,SFMono-Regular,Menlo,monospace;overflow-wrap:anywhere}
pre{background:#f6f8fa;padding:8px;white-space:pre-wrap}
.sides{display:grid;grid-template-columns:1fr 1fr;gap:16px}
.side{border:1px solid #d8dee4;border-radius:6px;padding:8px 12px}
.side h3{margin:4px 0 8px}
.side dt{font-weight:600;margin-top:6px}.side dd{margin:0 0 0 12px}
.side ol{margin:0;padding-left:20px}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;
background:#eaeef2}
.badge.bad{background:#ffebe9;color:#cf222e}.badge.good{background:#dafbe1;color:#1a7f37}
.warn{color:#9a6700;font-weight:600}
svg.chart{width:100%;height:auto;display:block;margin:8px 0}
svg text{font:12px system-ui,sans-serif;fill:#1f2328;paint-order:stroke;stroke:#fff;
stroke-width:3px}
.stage-bar{fill:#0969da}.axis{stroke:#8c959f}
.memory-line{fill:none;stroke:#0969da;stroke-width:2}
.memory-limit{stroke:#cf222e;stroke-dasharray:6 4;stroke-width:1.5}
.memory-peak{fill:#cf222e}.oom-mark,.limit-label{fill:#cf222e!important;font-weight:700}
.latency-bar{fill:#8250df}.percentile{stroke:#cf222e;stroke-dasharray:3 3}
.lock{display:flex;align-items:center;gap:8px;margin:8px 0;flex-wrap:wrap}
.lock-node{border:1px solid #d0d7de;border-radius:6px;padding:6px 10px;max-width:45%;
background:#fff8c5}
.lock-node.blocker{background:#ffebe9}
.lock-edge{font-weight:700;color:#cf222e;white-space:nowrap}
.sev-critical,.sev-high{color:#cf222e;font-weight:600}.sev-medium{color:#9a6700}
"""

CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"

EXIT_MEANINGS = {
    0: "the failure reproduced",
    1: "not reproduced, a different failure, or unconfirmed",
    2: "the sandbox itself failed (ENV_ERROR) or the input was bad",
}
FIX_EXIT_MEANINGS = {
    0: "the candidate fixes it (FIXED)",
    1: "the candidate fails the same way (NOT_FIXED)",
    3: "the candidate fails another way (REGRESSED)",
    2: "nothing can be said of the candidate (UNVERIFIED)",
}


def exit_meaning(outcome: ReplayOutcome) -> str:
    meanings = FIX_EXIT_MEANINGS if outcome.candidate is not None else EXIT_MEANINGS
    return meanings.get(outcome.exit_code, "")


class Page:
    """Builds the page; :meth:`t` is the one way text enters it."""

    def __init__(self, scrub: Callable[[str], str]) -> None:
        self.scrub = scrub

    def t(self, text: object) -> str:
        # A lone surrogate (from a JSON "\ud800" escape) could not be written as UTF-8: "?" instead.
        clean = str(text).encode("utf-8", "replace").decode("utf-8")
        return html.escape(self.scrub(clean), quote=True)

    def code(self, text: object) -> str:
        return f"<code>{self.t(text)}</code>"

    def table(self, header: Sequence[str], rows: Iterable[Sequence[str]], css: str) -> str:
        """``rows`` are cells already made safe (by :meth:`t` or :meth:`code`)."""
        head = "".join(f"<th>{self.t(h)}</th>" for h in header)
        body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in row) + "</tr>" for row in rows)
        return f'<table class="{css}"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _section(css_id: str, title: str, *parts: str) -> str:
    return f'<section id="{css_id}"><h2>{html.escape(title)}</h2>{"".join(parts)}</section>'


def _header(page: Page, outcome: ReplayOutcome) -> str:
    decision = outcome.decision
    kind = match_kind(decision)
    rows = [
        f'<h1 id="verdict-text">{page.t(verdict_label(decision))}</h1>',
        f'<p id="reason">{page.t(decision.reason)}</p>',
        f'<p>Match: <span id="match-kind">{page.t(kind or "none")}</span> · Reproduced: '
        f"{page.t(rate_text(decision))}</p>",
        f'<p>Exit code <span id="exit-code">{outcome.exit_code}</span>: '
        f"{page.t(exit_meaning(outcome))}</p>",
    ]
    css = f"v-{decision.verdict.name.lower()}"
    facts = [
        ("Incident", page.code(describe(outcome.incident)) + " (" + page.code(
            outcome.incident_file) + ")"),
        ("Captured from", page.t(provenance_text(outcome))),
        ("Sandbox built from", page.code(outcome.snapshot)),
    ]  # fmt: skip
    warnings = "".join(
        f'<p class="warn">⚠ {page.t(unfilled_warning(lost))}</p>' for lost in outcome.unfilled
    )
    return (
        f'<header class="verdict {css}" id="verdict" data-verdict="{decision.verdict.name}">'
        + "".join(rows)
        + "</header>"
        + _section("incident", "Incident", _dl(facts), warnings)
    )


def _dl(items: Sequence[tuple[str, str]]) -> str:
    return "<dl>" + "".join(f"<dt>{html.escape(k)}</dt><dd>{v}</dd>" for k, v in items) + "</dl>"


def _side(page: Page, side: Side, css: str) -> str:
    frames = "".join(f"<li>{page.code(f)}</li>" for f in side.frames)
    hidden = f"<p>… {side.hidden_frames} earlier in-app frames</p>" if side.hidden_frames else ""
    items = [
        ("Status", page.t(side.status)),
        ("Exception", page.code(side.chain)),
        ("Message", page.code(side.message) if side.message else "—"),
        ("In-app frames", hidden + (f"<ol>{frames}</ol>" if frames else "—")),
        ("Evidence", page.t(side.source)),
    ]
    return f'<div class="side {css}"><h3>{page.t(side.title)}</h3>{_dl(items)}</div>'


def _evidence(page: Page, outcome: ReplayOutcome) -> str:
    rows = attempt_rows(outcome)
    shown = shown_attempt(outcome, rows)
    sides = (
        '<div class="sides">'
        + _side(page, production_side(outcome), "production")
        + _side(page, sandbox_side(outcome, shown), "sandbox")
        + "</div>"
    )
    attempts = ""
    if rows:
        cells = [
            (
                str(r.n),
                page.t(r.status if r.status is not None else "—"),
                page.code(r.exception) if r.exception else "—",
                '<span class="badge good">yes</span>' if r.matched else "no",
                f"{r.seconds:.2f}",
                page.t(r.reason),
                page.t("; ".join(x for x in (r.error, r.exited) if x) or "—"),
                page.t(SANDBOX_SOURCES.get(r.source or "", "—")),
            )
            for r in rows
        ]
        header = ("#", "Status", "Exception", "Matched", "Seconds", "Comparison", "Error",
                  "Evidence")  # fmt: skip
        attempts = "<h3>Attempts</h3>" + page.table(header, cells, "attempts")
    return _section("evidence", "Evidence: production vs sandbox", sides, attempts)


def _env_error(page: Page, outcome: ReplayOutcome) -> str:
    if not outcome.env_error and not outcome.app_log_tail:
        return ""
    parts = [f"<p>{page.t(outcome.env_error)}</p>"] if outcome.env_error else []
    if outcome.app_log_tail:
        log = "\n".join(page.t(line) for line in outcome.app_log_tail)
        parts.append(f"<p>App log (last lines):</p><pre>{log}</pre>")
    return _section("env-error", "Environment error", *parts)


def _stages(page: Page, outcome: ReplayOutcome) -> str:
    if not outcome.stages:
        return ""
    total = sum(s.seconds for s in outcome.stages if math.isfinite(s.seconds))
    return _section(
        "stages",
        "Stages",
        stage_timeline(outcome.stages, page.t),
        f"<p>{len(outcome.stages)} stages, {total:.2f} s in all.</p>",
    )


def _memory(page: Page, report: ConditionsReport) -> str:
    memory = report.memory
    if memory is None:
        return ""
    oom = ' <span class="badge bad" id="oom-killed">OOMKilled</span>' if memory.oom_killed else ""
    chart = memory_curve(memory, page.t) if memory.samples else ""
    return _section("memory", "Memory", f"<p>{page.t(memory.summary())}{oom}</p>", chart)


def _load(page: Page, report: ConditionsReport) -> str:
    load = report.load
    if load is None:
        return ""
    latency = ", ".join(f"{k} {v:g} ms" for k, v in load.latency_ms.items())
    facts = [
        ("Requests", page.t(f"{load.requests} by {load.concurrency} clients in "
                            f"{load.seconds:.2f} s ({load.requests_per_s:.0f}/s)")),
        ("Statuses", page.t(", ".join(f"{k}: {v}" for k, v in load.statuses.items()) or "—")),
        ("Error rate", page.t(f"{load.error_rate:.0%} ({load.failed} failed)")),
        ("Latency", page.t(latency or "—")),
    ]  # fmt: skip
    if load.errors:
        facts.append(("Errors", page.t(", ".join(f"{k}: {v}" for k, v in load.errors.items()))))
    if load.first_failure is not None:
        facts.append(("First failure", page.t(f"request #{load.first_failure}")))
    chart = latency_histogram(load, page.t) if load.histogram else ""
    return _section("load", "Load: latency", chart, _dl(facts))


def _lock(page: Page, wait: LockWait) -> str:
    waiter = (
        f'<div class="lock-node waiter"><b>waiting: pid {wait.waiter.pid}</b> '
        f"{page.t(wait.waiter.application or '(no name)')}<br>{page.code(wait.waiter.query)}"
        f"<br>wants {page.t(wait.wanted)} on {page.code(wait.on)}, "
        f"{wait.seconds:.1f} s</div>"
    )
    blockers = "".join(
        f'<div class="lock-node blocker"><b>blocking: pid {b.pid}</b> '
        f"{page.t(b.application or '(no name)')} ({page.t(b.holds or 'a lock')}"
        f"{', ' + page.t(b.state) if b.state else ''})<br>{page.code(b.query)}</div>"
        for b in wait.blockers
    ) or '<div class="lock-node blocker">unknown</div>'
    return f'<div class="lock">{waiter}<span class="lock-edge">blocked by →</span>{blockers}</div>'


def _locks(page: Page, report: ConditionsReport) -> str:
    if not report.lock_waits and not report.lock_watch_error and not report.jobs:
        return ""
    parts = [_lock(page, wait) for wait in report.lock_waits]
    if report.lock_watch_error:
        parts.append(f"<p>Lock waits not watched: {page.t(report.lock_watch_error)}</p>")
    if report.jobs:
        rows = [
            (page.code(j.spec), str(j.runs), page.t(j.error or j.status or "started"))
            for j in report.jobs
        ]
        parts.append("<h3>Jobs</h3>" + page.table(("Job", "Runs", "Status"), rows, "jobs"))
    return _section("locks", "Lock waits and jobs", *parts)


def _third_parties(page: Page, report: ConditionsReport) -> str:
    parties = report.third_parties
    if parties is None:
        return ""
    parts = []
    if parties.services:
        rows = [
            (page.t(s.name), page.code(s.env), page.t(s.behaviour),
             page.code(s.url) if s.url else "—", page.t(s.note or ""))
            for s in parties.services
        ]  # fmt: skip
        columns = ("Service", "Variable", "Behaviour", "Sandbox URL", "Note")
        parts.append(page.table(columns, rows, "services"))
    calls = [
        (page.t(c.service), page.t(c.method), page.code(c.path), f"{c.at:.2f}",
         f"{c.seconds:.2f}", page.t(c.outcome))
        for c in parties.calls[:MAX_CALLS]
    ]  # fmt: skip
    more = len(parties.calls) - len(calls) + parties.dropped_calls
    header = ("Service", "Method", "Path", "At (s)", "Seconds", "Outcome")
    parts.append("<h3>Calls the app made</h3>")
    parts.append(page.table(header, calls, "calls") if calls else "<p>None.</p>")
    if more > 0:
        parts.append(f"<p>… and {more} more calls.</p>")
    if parties.lookups:
        names = ", ".join(f"{page.code(n.name)} ({n.count}×)" for n in parties.lookups)
        parts.append(f"<p>Outside names asked for: {names}; {page.t(parties.dns)}</p>")
    elif parties.dns:
        parts.append(f"<p>Outside names: none asked ({page.t(parties.dns)})</p>")
    return _section("third-parties", "Third-party calls", *parts)


def _conditions(page: Page, outcome: ReplayOutcome) -> str:
    report = outcome.conditions
    if not isinstance(report, ConditionsReport):
        return ""
    limits = (
        _section("limits", "Limits", "<ul>" + "".join(
            f"<li>{page.t(limit)}</li>" for limit in report.limits) + "</ul>")
        if report.limits else ""
    )  # fmt: skip
    return (
        limits
        + _memory(page, report)
        + _load(page, report)
        + _locks(page, report)
        + _third_parties(page, report)
    )


def _parity(page: Page, parity: Parity | None) -> str:
    if parity is None:
        return ""
    if parity.error:
        failed = f"<p>The parity check failed: {page.t(parity.error)}</p>"
        return _section("parity", "Parity: production vs sandbox", failed)
    counts = ", ".join(f"{sev} {n}" for sev, n in parity_counts(parity)) or "no discrepancy"
    parts = [f"<p>Discrepancies: {page.t(counts)}</p>"]
    if parity.top:
        rows = [
            (f'<span class="sev-{page.t(i.severity)}">{page.t(i.severity)}</span>',
             page.code(i.path), page.t(i.summary))
            for i in parity.top
        ]  # fmt: skip
        parts.append(page.table(("Severity", "Path", "Summary"), rows, "parity"))
    if parity.incomparable:
        items = "".join(f"<li>{page.t(item)}</li>" for item in parity.incomparable)
        parts.append(f"<p>Not comparable:</p><ul>{items}</ul>")
    return _section("parity", "Parity: production vs sandbox", *parts)


def _releases(page: Page, outcome: ReplayOutcome) -> str:
    rows = release_rows(outcome)
    if not rows:
        return ""
    cells = [
        (page.t(role), page.code(image), f'<b class="answer">{page.t(answer)}</b>', page.t(why))
        for role, image, answer, why in rows
    ]
    table = page.table(("Release", "Image", "Answer", "Why"), cells, "releases")
    return _section("releases", "Other releases, same sandbox", table)


def _sandbox(page: Page, outcome: ReplayOutcome) -> str:
    sandbox = outcome.sandbox
    facts = [
        ("Database", page.t(database_text(sandbox))),
        ("Settings applied", page.t(settings_text(sandbox))),
        ("Rows loaded", page.t(rows_text(sandbox))),
        ("Database wired by", page.t(wiring_text(sandbox))),
        ("App", page.t(app_text(sandbox))),
    ]
    facts += [
        (f"Environment from {source}", page.t(", ".join(names)))
        for source, names in env_groups(sandbox)
    ]
    parts = [_dl(facts)]
    if sandbox.files:
        rows = [
            (page.code(f.path), page.t(f.mode), page.t(f.owner), page.t(f.origin))
            for f in sandbox.files
        ]
        parts.append(page.table(("File", "Mode", "Owner", "Origin"), rows, "files"))
    parts += [f'<p class="warn">Unlike production: {page.t(w)}</p>' for w in sandbox.warnings]
    parts += [
        f"<p>Stand-in for {page.code(s.where)} from {page.t(s.source)}</p>"
        for s in outcome.stand_ins
    ]
    return _section("sandbox", "Sandbox", *parts)


def render_html(outcome: ReplayOutcome, *, scrub: Callable[[str], str] = str) -> str:
    """The whole page. ``scrub`` takes known secrets out of each text before it is escaped
    (the command passes its redactor's; the outcome itself holds none)."""
    page = Page(scrub)
    title = f"repro replay: {verdict_label(outcome.decision)} — {describe(outcome.incident)}"
    body = (
        _header(page, outcome)
        + _env_error(page, outcome)
        + _evidence(page, outcome)
        + _releases(page, outcome)
        + _stages(page, outcome)
        + _conditions(page, outcome)
        + _parity(page, outcome.parity)
        + _sandbox(page, outcome)
    )
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        '<meta name="generator" content="repro">'
        f"<title>{page.t(title)}</title><style>{CSS}</style></head>"
        f"<body><main>{body}</main></body></html>\n"
    )

