"""The report's conditions and other releases in every format (JSON, Markdown, rich): the
numbers a reader needs (memory peak against the limit, the stub's calls, the lock wait and its
blocker, the load's counts) and each release's answer, with the candidate's exit code."""

from __future__ import annotations

import io
import json

from rich.console import Console

from repro.replay.conditions.load import LoadReport
from repro.replay.conditions.resources import MemoryReport
from repro.replay.outcome import ReleaseAnswer, ReplayOutcome
from repro.replay.renderers.json_format import render_json
from repro.replay.renderers.markdown import render_markdown
from repro.replay.renderers.terminal import render_rich
from tests.helpers.outcomes_conditions import everything

MIB = 1024 * 1024


def _outcome() -> ReplayOutcome:
    """The helper's outcome with a short memory curve and a small load, so the numbers
    asserted below read at a glance."""
    outcome = everything()
    assert outcome.conditions is not None
    outcome.conditions.memory = MemoryReport(
        samples=[(0.5, 60 * MIB), (1.5, 127 * MIB)], limit_bytes=128 * MIB, oom_killed=True
    )
    outcome.conditions.load = LoadReport(20, 40, 0.6, statuses={"201": 7, "500": 33},
                                         latency_ms={"p50": 272.5, "p99": 568.6},
                                         first_failure=3, failed=33)  # fmt: skip
    return outcome


def test_json_carries_the_conditions_and_the_releases() -> None:
    report = json.loads(render_json(_outcome()))
    conditions = report["conditions"]
    assert conditions["memory"]["peak_bytes"] == 127 * MIB
    assert conditions["memory"]["samples"] == [[0.5, 60 * MIB], [1.5, 127 * MIB]]
    assert conditions["third_parties"]["calls"][0]["path"] == "/v1/charges"
    assert conditions["lock_waits"][0]["blockers"][0]["application"] == "repro-job-1"
    assert conditions["load"]["statuses"] == {"201": 7, "500": 33}
    assert [r["answer"] for r in report["releases"]] == ["fixed", "rollback-helps"]
    assert report["exit_code"] == 0  # the candidate's answer decides


def test_markdown_and_rich_show_them() -> None:
    outcome = _outcome()
    buffer = io.StringIO()
    render_rich(outcome, Console(file=buffer, width=200, force_terminal=False))
    for text in (render_markdown(outcome), buffer.getvalue()):
        assert "peak 127 MiB of 128 MiB (99%)" in text and "OOM-killed" in text
        assert "POST /v1/charges" in text and "held 3.0 s: the app gave up" in text
        assert "blocked by pid 9 repro-job-1 (ShareLock): LOCK TABLE users IN SHARE MODE" in text
        assert "201: 7, 500: 33" in text and "first failure" in text
        assert "FIXED" in text and "ROLLBACK HELPS" in text


def test_not_fixed_regressed_and_unverified_exit_codes() -> None:
    outcome = _outcome()
    candidate = outcome.releases[0]
    for answer, code in ((ReleaseAnswer.NOT_FIXED, 1), (ReleaseAnswer.REGRESSED, 3),
                         (ReleaseAnswer.UNVERIFIED, 2)):  # fmt: skip
        candidate.answer = answer
        assert outcome.exit_code == code
