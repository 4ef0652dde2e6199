"""The replay report as one HTML page, over outcomes built from literal data: each section is
there when its data is and absent otherwise, the page is self-contained (no script, no
fetch), and captured text (hostile by rule) never reaches the markup unescaped."""

from __future__ import annotations

import dataclasses
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro.replay.conditions.locks import LockWait, Session
from repro.replay.conditions.resources import MemoryReport
from repro.replay.conditions.stubs import Call
from repro.replay.incident import ExceptionInfo, Frame, Signature
from repro.replay.outcome import ParityItem, ReleaseAnswer, Stage
from repro.replay.renderers.html import render_html
from tests.helpers.outcomes import (
    FAKE_SECRET,
    OUTCOMES,
    env_error,
    not_reproduced,
    parity_error,
    reproduced,
)
from tests.helpers.outcomes_conditions import conditions_report, everything

# Every element the page is made of: anything else in a parsed page came from the data.
TAGS = {
    "html", "head", "meta", "title", "style", "body", "main", "header", "section", "h1", "h2",
    "h3", "p", "span", "b", "code", "pre", "dl", "dt", "dd", "ol", "ul", "li", "div", "br",
    "table", "thead", "tbody", "tr", "th", "td", "svg", "rect", "line", "polyline", "circle",
    "text",
}  # fmt: skip
CONDITION_SECTIONS = {"limits", "memory", "load", "locks", "third-parties"}


class Parsed(HTMLParser):
    """Tags (with their attributes) and texts of one page, in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append((tag, dict(attrs)))

    def handle_data(self, data: str) -> None:
        self.texts.append(data)

    @property
    def ids(self) -> set[str]:
        return {a["id"] or "" for _t, a in self.tags if "id" in a}

    def having(self, css: str) -> list[dict[str, str | None]]:
        return [a for _t, a in self.tags if css in (a.get("class") or "").split()]


def parse(page: str) -> Parsed:
    parsed = Parsed()
    parsed.feed(page)
    parsed.close()
    return parsed


def assert_self_contained(parsed: Parsed) -> None:
    assert {tag for tag, _a in parsed.tags} <= TAGS
    for _tag, attrs in parsed.tags:
        assert not {"src", "href", "srcset", "action"} & set(attrs), attrs
        assert not any(name.startswith("on") for name in attrs), attrs


@pytest.mark.parametrize("name", OUTCOMES)
def test_every_outcome_renders_a_self_contained_page(name: str) -> None:
    outcome = OUTCOMES[name]()
    page = render_html(outcome)
    assert page.startswith("<!DOCTYPE html>")
    parsed = parse(page)
    assert_self_contained(parsed)
    assert "Content-Security-Policy" in page and "default-src 'none'" in page
    assert {"verdict", "incident", "evidence", "sandbox"} <= parsed.ids
    assert parsed.tags[0][0] == "html"
    verdict = next(a for _t, a in parsed.tags if a.get("id") == "verdict")
    assert verdict["data-verdict"] == outcome.decision.verdict.name
    assert f'<span id="exit-code">{outcome.exit_code}</span>' in page


def test_every_section_when_its_data_is_there() -> None:
    outcome = everything()
    page = render_html(outcome)
    parsed = parse(page)
    assert {"stages", "releases", "parity", *CONDITION_SECTIONS} <= parsed.ids
    assert "REPRODUCED" in page and "signature" in page
    assert "Exit code <span id=\"exit-code\">0</span>: the candidate fixes it (FIXED)" in page
    # Evidence side by side: production's column and the matching attempt's.
    assert [a["class"] for a in parsed.having("side")] == ["side production", "side sandbox"]
    assert "sandbox (attempt 2)" in parsed.texts
    assert "shop.pricing.rate_for — return RATES[currency]" in page
    # The timeline: one bar per stage, each starting where the one before ended.
    bars = parsed.having("stage-bar")
    assert [b["data-stage"] for b in bars] == ["database", "data", "app", "replay"]
    starts = [float(b["x"] or 0) for b in bars]
    assert starts == sorted(starts) and starts[0] < starts[-1]
    # Memory: the curve has every sample, the limit is drawn, the peak marked, OOM flagged.
    memory = outcome.conditions.memory
    (line,) = parsed.having("memory-line")
    assert len((line["points"] or "").split()) == len(memory.samples)
    assert parsed.having("memory-limit") and parsed.having("memory-peak")
    assert "oom-killed" in parsed.ids and "limit 128 MiB" in page and "peak 124 MiB" in page
    # Latency: a bar per bucket, the percentile lines.
    load = outcome.conditions.load
    assert len(parsed.having("latency-bar")) == len(load.histogram) == 20
    assert [a["data-percentile"] for a in parsed.having("percentile")] == ["p50", "p90", "p99"]
    assert "p50 272.5 ms" in page
    # Lock waits: the waiting statement, then what blocks it.
    (waiter,) = parsed.having("waiter")
    (blocker,) = parsed.having("blocker")
    assert parsed.tags.index(("div", waiter)) < parsed.tags.index(("div", blocker))
    assert "UPDATE users SET n = n + 1" in parsed.texts
    assert "LOCK TABLE users IN SHARE MODE" in parsed.texts
    # Third parties, parity and the other releases.
    assert "/v1/charges" in parsed.texts and "held 3.0 s: the app gave up" in parsed.texts
    assert "env.vars.FEATURE_NEW_CHECKOUT" in parsed.texts
    assert "FIXED" in parsed.texts and "ROLLBACK HELPS" in parsed.texts


def test_sections_without_data_are_left_out() -> None:
    outcome = not_reproduced()
    outcome.parity = None
    outcome.stages = []
    parsed = parse(render_html(outcome))
    absent = {"stages", "releases", "parity", "env-error", *CONDITION_SECTIONS}
    assert not absent & parsed.ids
    assert not parsed.having("stage-bar") and not parsed.having("memory-line")


def test_each_condition_alone() -> None:
    full = conditions_report()
    for part in ("memory", "load", "third_parties"):
        outcome = reproduced()
        outcome.conditions = type(full)(**{part: getattr(full, part)})
        ids = parse(render_html(outcome)).ids
        shown = {"third_parties": "third-parties"}.get(part, part)
        assert shown in ids and not (CONDITION_SECTIONS - {shown}) & ids, part


def test_memory_without_samples_and_without_an_oom_kill() -> None:
    outcome = reproduced()
    outcome.conditions = conditions_report()
    outcome.conditions.memory = MemoryReport(limit_bytes=1 << 27, error="NotFound")
    page = render_html(outcome)
    parsed = parse(page)
    assert "memory" in parsed.ids and "oom-killed" not in parsed.ids
    assert not parsed.having("memory-line") and "not sampled (NotFound)" in page


def test_env_error_parity_error_and_zero_seconds() -> None:
    outcome = env_error()
    outcome.stages = [Stage("database", 0.0), Stage("app", float("nan"))]
    page = render_html(outcome)
    parsed = parse(page)
    assert "env-error" in parsed.ids and "ENV_ERROR" in page
    assert "  [bold]not markup[/bold] | a pipe" in page
    assert "the sandbox itself failed (ENV_ERROR)" in page
    assert len(parsed.having("stage-bar")) == 2 and "nan" not in page
    assert "The parity check failed: cannot snapshot the sandbox" in render_html(parity_error())


def test_the_answer_of_each_release() -> None:
    outcome = everything()
    outcome.releases[0].answer = ReleaseAnswer.REGRESSED
    page = render_html(outcome)
    assert "Exit code <span id=\"exit-code\">3</span>: the candidate fails another way" in page


def test_the_scrubber_sees_every_text() -> None:
    outcome = everything()
    assert FAKE_SECRET in render_html(outcome)  # in a frame's source line, as elsewhere
    scrubbed = render_html(outcome, scrub=lambda text: text.replace(FAKE_SECRET, "[MASK]"))
    assert FAKE_SECRET not in scrubbed and "[MASK]" in scrubbed


HOSTILE = [
    "<script>alert(1)</script>",
    '"><img src=x onerror=alert(1)>',
    "</svg><script>alert(2)</script>",
    "' onmouseover='alert(3)",
    "</title><script>x</script>",
    "</style><b>bold</b>",
    "</code></pre></section><!--",
    "&lt;script&gt;",
    "]]></text><svg onload=alert(4)>",
]
HOSTILE_TEXT = st.builds(
    lambda before, core, after: before + core + after,
    st.text(max_size=12),
    st.sampled_from(HOSTILE),
    st.text(max_size=12),
)


@settings(
    max_examples=60, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow]
)
@given(
    value=HOSTILE_TEXT,
    path=HOSTILE_TEXT,
    header=HOSTILE_TEXT,
    frame=HOSTILE_TEXT,
    query=HOSTILE_TEXT,
    other=HOSTILE_TEXT,
)
def test_hostile_text_never_reaches_the_markup(
    value: str, path: str, header: str, frame: str, query: str, other: str
) -> None:
    outcome = everything()
    outcome.incident.request.path = path
    outcome.incident.request.headers.append((header, header))
    hostile_frame = Frame(frame, frame, frame, frame, 1)
    signature = Signature(500, (ExceptionInfo(other, value, (hostile_frame,)),))
    outcome.incident.signature = signature
    shown = outcome.evidence[1]
    shown.attempt = dataclasses.replace(shown.attempt, signature=signature)
    outcome.stages.append(Stage(other, 1.0, other))
    outcome.app_log_tail = [value]
    outcome.env_error = value
    report = outcome.conditions
    report.limits.append(other)
    report.lock_waits.append(LockWait(Session(1, other, query), other, other, 1.0, 0.0, 1.0,
                                      [Session(2, other, query, other, other)]))  # fmt: skip
    report.third_parties.calls.append(Call(other, other, path, 0.0, 0.1, other))
    report.load.statuses[other] = 1
    assert outcome.parity is not None
    outcome.parity.top.append(ParityItem(other, other, value))
    outcome.releases[0].image = other
    outcome.sandbox.warnings.append(value)

    page = render_html(outcome)
    parsed = parse(page)
    assert_self_contained(parsed)
    for text in (value, path, header, frame, query, other):
        core = next(h for h in HOSTILE if h in text)
        # Markup as captured never appears; an entity appears escaped again (&amp;lt;).
        assert core not in page or core.startswith("&")
    assert "<script" not in page.lower()
    # Escaped, not dropped: the lock's statement reads as it was captured.
    assert query in parsed.texts
    # The structure holds: one header, the sections in their order, every chart closed.
    assert page.count("<svg") == page.count("</svg>") == 3
    assert [a.get("id") for t, a in parsed.tags if t == "header"] == ["verdict"]
