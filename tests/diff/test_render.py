"""Every output format, pinned by golden files (UPDATE_GOLDEN=1 rewrites them), plus the
options and exit codes around them."""

from __future__ import annotations

import json
import os
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from repro.diff import exit_code, render, render_fix_script, render_table
from repro.errors import UsageError
from tests.helpers.builders import demo_result, diff, pair

GOLDEN = Path(__file__).parent / "golden"


def check_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN") == "1":
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    assert path.exists(), f"{path} missing: run with UPDATE_GOLDEN=1"
    assert text == path.read_text(encoding="utf-8"), (
        f"{name} changed; if intended, rerun with UPDATE_GOLDEN=1 and review the diff"
    )


@pytest.mark.parametrize(
    ("name", "fmt", "options"),
    [
        ("demo.table.txt", "table", {}),
        ("demo.table-ignored.txt", "table", {"show_ignored": True, "min_severity": "info"}),
        ("demo.json", "json", {}),
        ("demo.md", "markdown", {}),
        ("demo.junit.xml", "junit", {"fail_on": "medium"}),
    ],
)
def test_golden(name: str, fmt: str, options: dict[str, object]) -> None:
    check_golden(name, render(demo_result(), fmt, **options))  # type: ignore[arg-type]


def test_golden_fix_script() -> None:
    check_golden("demo.fix.sh", render_fix_script(demo_result()))


def test_table_is_rendered_by_rich_at_120_columns_without_color() -> None:
    text = render(demo_result(), "table")
    assert max(len(line) for line in text.splitlines()) <= 120
    assert "\x1b[" not in text
    assert "\x1b[" in render(demo_result(), "table", color=True)


def test_table_summary_line() -> None:
    last = render(demo_result(), "table").rstrip().splitlines()[-1]
    assert last == (
        "17 discrepancies: 2 critical, 6 high, 9 medium "
        "(1 incomparable facet, 5 ignored, 2 below min severity)"
    )


def test_table_prints_to_a_given_console() -> None:
    from io import StringIO

    from rich.console import Console

    out = StringIO()
    assert render_table(demo_result(), Console(file=out, width=100)) == ""
    assert "ONLY IN PROD" in out.getvalue()


def test_json_contract() -> None:
    doc = json.loads(render(demo_result(), "json", show_ignored=True))
    assert doc["schema"] == "repro.diff/v1"
    assert doc["left"] == {
        "profile": "prod",
        "label": "prod",
        "captured_at": "2025-06-01T03:00:00Z",
        "source": None,
    }
    items = doc["discrepancies"]
    ranks = ["critical", "high", "medium", "low", "info"]
    keys = [(ranks.index(i["severity"]), i["facet"], i["path"]) for i in items]
    assert keys == sorted(keys)
    assert {i["ignored_by"] for i in doc["ignored"]} == {"builtin", "profile", "waiver", "rule"}
    assert doc["summary"]["ignored"] == len(doc["ignored"])
    assert "ignored" not in json.loads(render(demo_result(), "json"))


def test_json_secrets_are_fingerprint_maps() -> None:
    doc = json.loads(render(demo_result(), "json"))
    item = next(i for i in doc["discrepancies"] if i["path"] == "env.vars.SECRET_KEY")
    for side in (item["left"], item["right"]):
        assert set(side) == {"redacted", "fingerprint"} and side["redacted"] is True


def test_expired_waiver_is_shown_with_its_note() -> None:
    result = demo_result()
    item = next(
        d for d in result.discrepancies if d.path == "database.settings.random_page_cost.value"
    )
    assert item.note == "waiver expired on 2025-05-01: SSD migration in progress (OPS-7)"
    assert "waiver expired on 2025-05-01" in render(result, "table")
    assert "waiver expired on 2025-05-01" in render(result, "markdown")


def test_min_severity_filters_but_keeps_incomparable() -> None:
    result = demo_result()
    doc = json.loads(render(result, "json", min_severity="critical"))
    kinds = {(i["severity"], i["kind"]) for i in doc["discrepancies"]}
    assert {s for s, k in kinds if k != "incomparable"} == {"critical"}
    assert any(k == "incomparable" for _, k in kinds)
    assert doc["summary"]["below_min_severity"] > 0


def test_markdown_escapes_pipes() -> None:
    prod, staging = pair()
    prod.put("env", "vars", "PIPE", "a|b`c")
    text = render(diff(prod, staging), "markdown")
    row = next(line for line in text.splitlines() if "env.vars.PIPE" in line)
    assert "a\\|b`c" in row
    assert row.count(" | ") == 5  # six cells, none split by the value


def test_junit_structure() -> None:
    root = ET.fromstring(render(demo_result(), "junit", fail_on="high"))
    suites = {s.get("name"): s for s in root.iter("testsuite")}
    assert set(suites) == {"config", "database", "env", "files", "packages", "runtime", "schedules"}
    assert suites["config"].get("errors") == "1"
    failures = [
        c.get("name") for c in suites["database"].iter("testcase") if c.find("failure") is not None
    ]
    assert "database.server.major" in failures
    # Clean at this threshold: one passing testcase.
    schedules = list(suites["schedules"].iter("testcase"))
    assert len(schedules) == 1 and schedules[0].find("failure") is None


def test_unknown_format_or_severity_is_a_usage_error() -> None:
    with pytest.raises(UsageError):
        render(demo_result(), "yaml")
    with pytest.raises(UsageError):
        render(demo_result(), "json", min_severity="urgent")
    with pytest.raises(UsageError):
        exit_code(demo_result(), fail_on="urgent")


def test_exit_codes() -> None:
    assert exit_code(demo_result()) == 1
    assert exit_code(demo_result(), fail_on="critical") == 1
    prod, staging = pair()
    assert exit_code(diff(prod, staging)) == 0
    staging.put("runtime", "kernel", "other")  # low
    assert exit_code(diff(prod, staging), fail_on="medium") == 0
    assert exit_code(diff(prod, staging), fail_on="low") == 1
    prod, staging = pair()
    staging.set_status("database", "error", "down")
    assert exit_code(diff(prod, staging)) == 3
