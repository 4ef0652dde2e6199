"""The replay report in JSON, Markdown and rich, over ReplayOutcome objects built by hand."""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterator
from typing import Any

import pytest
from rich.console import Console

from repro.replay.incident import STANDIN, Lost
from repro.replay.outcome import REPORT_SCHEMA, ParityItem, ReplayOutcome
from repro.replay.renderers.json_format import render_json, to_json
from repro.replay.renderers.markdown import render_markdown
from repro.replay.renderers.terminal import render_rich
from repro.replay.renderers.views import MAX_VALUE, unfilled_warning, verdict_label
from tests.helpers.outcomes import (
    AUTH,
    FAKE_SECRET,
    OUTCOMES,
    broken_sandbox,
    different_failure,
    env_error,
    not_reproduced,
    parity_error,
    reproduced,
    unconfirmed,
    unfilled,
    weak,
)


def rich_text(outcome: ReplayOutcome, width: int, **options: Any) -> str:
    buffer = io.StringIO()
    render_rich(outcome, Console(file=buffer, width=width, **options))
    return buffer.getvalue()


def strings(node: Any, key: str = "") -> Iterator[tuple[str, str]]:
    """Every (key, string) in a JSON tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield from strings(v, k)
    elif isinstance(node, list):
        for item in node:
            yield from strings(item, key)
    elif isinstance(node, str):
        yield key, node


@pytest.mark.parametrize("name", OUTCOMES)
def test_every_format_renders(name: str) -> None:
    outcome = OUTCOMES[name]()
    data = json.loads(render_json(outcome))
    assert data == json.loads(json.dumps(to_json(outcome)))
    assert data["schema"] == REPORT_SCHEMA
    assert data["exit_code"] == outcome.exit_code
    assert data["verdict"] == outcome.decision.verdict.value
    markdown = render_markdown(outcome)
    label = verdict_label(outcome.decision)
    assert markdown.startswith(f"## repro replay: {label}\n")
    for width in (80, 200):
        text = rich_text(outcome, width)
        assert label in text
        assert max(len(line) for line in text.splitlines()) <= width
    # The marker is in the incident's request, which the report never shows.
    for rendered in (render_json(outcome), rich_text(outcome, 200)):
        assert STANDIN not in rendered
    assert "stand-in needed" not in markdown


def test_reproduced_json() -> None:
    data = to_json(reproduced())
    assert data["verdict"] == "reproduced"
    assert data["exit_code"] == 0
    assert data["rate"] == {
        "matched": 2,
        "attempts": 3,
        "rate": 0.6667,
        "text": "2/3 attempts (67%)",
    }
    assert data["reason"].startswith("reproduced in 2/3 attempts")
    assert [a["matched"] for a in data["attempts"]] == [False, True, True]
    assert data["attempts"][0]["reason"] == "status 200 vs 500 in production"
    assert [a["source"] for a in data["attempts"]] == [None, "sentry", "log"]
    assert data["attempts"][1]["seconds"] == 0.31
    sandbox = data["evidence"]["sandbox"]
    assert sandbox["attempt"] == 2
    assert sandbox["source_text"] == "Sentry event via repro's sink"
    production = data["evidence"]["production"]
    assert production["source_text"] == "Sentry event"
    exc = production["signature"]["exceptions"][0]
    assert production["signature"]["status"] == 500
    assert exc["type"] == "KeyError"
    assert len(exc["value"]) == MAX_VALUE
    assert exc["value"].startswith("'XTS' | ")
    assert exc["frames"][0] == {
        "module": "flask.app",
        "function": "dispatch_request",
        "context_line": "return view(**args)",
        "lineno": None,
        "in_app": False,
    }
    assert [s["name"] for s in data["stages"]] == ["database", "data", "app", "replay"]
    assert data["total_seconds"] == 7.3
    box = data["sandbox"]
    assert box["database"] == {
        "image": "postgres:15",
        "major": 15,
        "settings_applied": {"work_mem": "4MB", "timezone": "UTC"},
        "settings_skipped": ["shared_preload_libraries"],
    }
    assert box["rows"]["total"] == 52810
    assert box["env_by_source"] == {
        "sandbox database": ["DATABASE_URL"],
        "placeholder": ["SECRET_KEY", "DEMO_SIGNING_SALT"],
        "snapshot": ["FEATURE_NEW_CHECKOUT"],
    }
    assert box["files"] == [
        {"path": "/etc/shop/settings.yaml", "mode": "0600", "owner": "0:0", "origin": "snapshot"}
    ]
    assert data["stand_ins"] == [{"where": "header:Authorization", "source": "--auth"}]
    assert data["unfilled"] == []
    assert data["parity"]["counts"] == {"high": 1, "low": 3}
    assert data["parity"]["incomparable"] == ["packages: not captured in sandbox"]
    assert data["incident"]["provenance"]["release"] == "shop@1.4.2"
    assert data["incident"]["summary"].startswith("POST /checkout -> 500 KeyError")


def test_reproduced_markdown() -> None:
    md = render_markdown(reproduced())
    assert "**REPRODUCED**: reproduced in 2/3 attempts" in md
    assert "- Reproduced: 2/3 attempts (67%)" in md
    assert "| Status | 500 | 500 |" in md
    assert "|  | Production | sandbox (attempt 2) |" in md
    assert "`shop.pricing.rate_for — return RATES[currency]" in md
    assert "| 1 | 200 | — | no |" in md
    assert "| 2 | 500 | `KeyError` | yes |" in md
    assert "| **total** | **7.30** |" in md
    assert "placeholder: SECRET_KEY, DEMO_SIGNING_SALT" in md
    rows = "52,810 generated in 7 tables: items 40,000, orders 12,000, users 800, d 4, c 3"
    assert f"{rows} and 2 more" in md
    assert "| `/etc/shop/settings.yaml` | 0600 | 0:0 | snapshot |" in md
    assert "stand-in for `header:Authorization` from --auth" in md
    assert "Discrepancies: high 1, low 3" in md
    assert "1.4.2 \\| 2.1.0" in md  # a pipe in a cell is escaped
    assert "- packages: not captured in sandbox" in md
    assert_tables_well_formed(md)


def assert_tables_well_formed(md: str) -> None:
    """Every row of a pipe table has as many (unescaped) cell separators as its header."""
    width = None
    for line in md.splitlines():
        if not line.startswith("|"):
            width = None
            continue
        cells = len(re.findall(r"(?<!\\)\|", line))
        if width is None:
            width = cells
        assert cells == width, line


def test_reproduced_rich_is_green() -> None:
    text = rich_text(reproduced(), 200, force_terminal=True, color_system="standard")
    assert "\x1b[1;32mREPRODUCED" in text
    plain = rich_text(reproduced(), 200)
    assert "2/3 attempts (67%)" in plain
    assert "shop.pricing.rate_for — return RATES[currency]" in plain
    assert "Sentry event via repro's sink" in plain
    assert "placeholder: SECRET_KEY, DEMO_SIGNING_SALT" in plain
    assert "header:Authorization from --auth" in plain


def test_not_reproduced() -> None:
    outcome = not_reproduced()
    data = to_json(outcome)
    assert data["verdict"] == "not-reproduced"
    assert data["exit_code"] == 1
    assert data["rate"]["text"] == "0/2 attempts (0%)"
    assert data["evidence"]["sandbox"]["attempt"] == 1
    assert data["evidence"]["sandbox"]["signature"] == {"status": 200, "exceptions": []}
    md = render_markdown(outcome)
    assert "**NOT_REPRODUCED**: did not fail in 2/2 attempts" in md
    assert "| Exception | `KeyError` | `none seen` |" in md
    assert "no exception evidence" in md
    text = rich_text(outcome, 80, force_terminal=True, color_system="standard")
    assert "\x1b[1;33mNOT_REPRODUCED" in text


def test_env_error_shows_the_log_tail() -> None:
    outcome = env_error()
    data = to_json(outcome)
    assert data["verdict"] == "env-error"
    assert data["exit_code"] == 2
    assert data["env_error"] == "the app did not answer /health within 60 s"
    assert data["app_log_tail"][-1] == "RuntimeError: DATABASE_URL refused"
    assert data["attempts"] == []
    assert data["evidence"]["sandbox"] is None
    assert data["rate"]["text"] == "no attempt made"
    md = render_markdown(outcome)
    assert "### Environment error" in md
    # A fence longer than any backtick run in the log keeps the log inside it.
    assert "````\nTraceback (most recent call last):" in md
    assert "RuntimeError: DATABASE_URL refused\n````" in md
    text = rich_text(outcome, 80, force_terminal=True, color_system="standard")
    assert "\x1b[1;31mENV_ERROR" in text
    plain = rich_text(outcome, 200)
    assert "[bold]not markup[/bold] | a pipe" in plain  # data is never read as markup
    assert "RuntimeError: DATABASE_URL refused" in plain


def test_unfilled_parts_are_warned_about() -> None:
    outcome = unfilled()
    warning = "replayed without header:Authorization (no stand-in given: use --auth or --stand-in)"
    assert unfilled_warning(AUTH) == warning
    assert unfilled_warning(Lost("cookie:session", "x")) == (
        "replayed without cookie:session (no stand-in given: use --stand-in)"
    )
    data = to_json(outcome)
    assert [u["warning"] for u in data["unfilled"]] == [
        warning,
        "replayed without headers (not logged; no stand-in can replace it)",
    ]
    assert data["verdict"] == "env-error"  # every attempt failed at transport level
    assert data["attempts"][0]["error"] == "connection refused by 127.0.0.1:8000"
    assert data["attempts"][0]["matched"] is False
    md = render_markdown(outcome)
    assert f"> **⚠ {warning}**" in md
    assert "connection refused by 127.0.0.1:8000" in md
    assert warning in rich_text(outcome, 200)
    assert "replayed without header:Authorization" in rich_text(outcome, 80)


def test_parity_error_is_reported() -> None:
    outcome = parity_error()
    data = to_json(outcome)
    assert data["parity"] == {
        "counts": {},
        "top": [],
        "incomparable": [],
        "error": "cannot snapshot the sandbox: docker exec failed",
    }
    md = render_markdown(outcome)
    assert "The parity check failed: cannot snapshot the sandbox: docker exec failed" in md
    assert "the parity check failed: cannot snapshot the sandbox" in rich_text(outcome, 200)


def test_a_secret_in_a_frame_is_shown_only_in_its_frame() -> None:
    outcome = reproduced()
    for key, value in strings(to_json(outcome)):
        if FAKE_SECRET in value:
            assert key == "context_line"
    for line in render_markdown(outcome).splitlines():
        if FAKE_SECRET in line:
            assert line.startswith("| In-app frames |")
    for line in rich_text(outcome, 200).splitlines():
        if FAKE_SECRET in line:
            assert "shop.pricing.rate_for — return RATES[currency]" in line
    assert FAKE_SECRET in render_markdown(outcome)


@pytest.mark.parametrize(
    ("name", "ansi"),
    [
        ("reproduced", "\x1b[1;32mREPRODUCED"),
        ("different-failure", "\x1b[1;33mDIFFERENT_FAILURE"),
        ("not-reproduced", "\x1b[1;33mNOT_REPRODUCED"),
        ("env-error", "\x1b[1;31mENV_ERROR"),
    ],
)
def test_verdict_colour(name: str, ansi: str) -> None:
    outcome = OUTCOMES[name]()
    assert ansi in rich_text(outcome, 80, force_terminal=True, color_system="standard")


def test_different_failure() -> None:
    outcome = different_failure()
    data = to_json(outcome)
    assert data["verdict"] == "different-failure"
    assert data["exit_code"] == 1
    assert data["attempts"][0]["reason"] == "exception ValueError vs KeyError in production"
    assert data["attempts"][0]["exited"] == "exited with code 1"
    md = render_markdown(outcome)
    assert "| Exception | `KeyError` | `ValueError` |" in md
    assert "Sentry event via repro's sink; the app exited with code 1" in md


def test_a_status_only_match_says_weak_in_every_format() -> None:
    outcome = weak()
    data = to_json(outcome)
    assert (data["verdict"], data["weak"], data["match"], data["exit_code"]) == (
        "reproduced",
        True,
        "status-only",
        0,
    )
    assert "weak: status only: production recorded no exception" in data["reason"]
    # the sandbox's exception is shown beside production's (none recorded)
    assert data["evidence"]["sandbox"]["signature"]["exceptions"][-1]["type"] == "KeyError"
    markdown = render_markdown(outcome)
    assert markdown.startswith("## repro replay: REPRODUCED (weak: status only)\n")
    assert "the sandbox raised KeyError" in markdown
    assert "none recorded (a log import)" in markdown
    text = rich_text(outcome, 120)
    assert "REPRODUCED (weak: status only)" in text and "the sandbox raised KeyError" in text
    full = to_json(reproduced())
    assert (full["weak"], full["match"]) == (False, "signature")


def test_unconfirmed_and_broken_sandbox() -> None:
    data = to_json(unconfirmed())
    assert (data["verdict"], data["exit_code"], data["match"]) == ("unconfirmed", 1, "status-only")
    assert "UNCONFIRMED" in render_markdown(unconfirmed())
    broken = to_json(broken_sandbox())
    assert (broken["verdict"], broken["exit_code"]) == ("env-error", 2)
    assert broken["reason"].startswith("the sandbox is broken, no verdict on the bug: the app")
    markdown = render_markdown(broken_sandbox())
    assert "### Environment error" in markdown and "password authentication failed" in markdown


def test_markdown_cells_wrap_and_keep_every_word() -> None:
    long = (
        "database.statistics.public.customers.columns.email.null_frac: 5.0% NULL in prod vs "
        "none in staging: NULLs only in prod, and the rest of a long hint that used to be cut"
    )
    outcome = reproduced()
    assert outcome.parity is not None
    outcome.parity.top[0] = ParityItem("high", "database." + "x" * 150, long)
    markdown = render_markdown(outcome)
    row = next(line for line in markdown.splitlines() if line.startswith("| high |"))
    assert "<br>" in row
    assert long.split()[-1] in row and "used to be cut" in row.replace("<br>", " ")
    # a code span never holds a line break: one span per wrapped line
    assert "`<br>`" in row
    assert all(len(part) <= 80 for part in re.split(r"<br>|\| ", row))
