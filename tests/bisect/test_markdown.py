"""`repro bisect --markdown`: the cause, its evidence and fix script, every step and the
untested differences, as a ticket shows them; hostile text from the snapshots stays text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from repro.bisect.changes import REBUILD_APP, Change, Untested
from repro.bisect.ddmin import Outcome
from repro.bisect.markdown import render_bisect_markdown
from repro.bisect.runner import BisectResult, Step
from tests.helpers.cli import run_repro

FLAG = Change("env:FEATURE_NEW_CHECKOUT", "env var", "FEATURE_NEW_CHECKOUT 1 in bad, unset in good",
              REBUILD_APP, facet="env", subtrees=(("vars", "FEATURE_NEW_CHECKOUT"),))  # fmt: skip
IMAGE = Change("image", "package versions (app image)", "app image shop:2.1.0 (bad) vs 1.4.2",
               REBUILD_APP, image="shop:2.1.0")  # fmt: skip


def _result(label: str = FLAG.label) -> BisectResult:
    cause = Change(FLAG.key, FLAG.kind, label, FLAG.rebuild, facet="env")
    steps = [
        Step(1, "bad", [], "reproduced", Outcome.FAIL, "reproduced in 1/1", 6.1, "unix:///a.sock"),
        Step(2, "good", [], "not-reproduced", Outcome.PASS, "did not fail", 5.0, "unix:///b.sock"),
        Step(3, "all", [FLAG.key, "image"], "reproduced", Outcome.FAIL, "reproduced", 6.0,
             "unix:///a.sock"),
        Step(4, "step", [FLAG.key], "reproduced", Outcome.FAIL, "reproduced", 6.2,
             "unix:///b.sock"),
    ]  # fmt: skip
    return BisectResult(
        "cause", f"caused by 1 difference(s): {label}", changes=[cause, IMAGE],
        untested=[Untested("env.vars.SECRET_KEY", "env var", "a secret whose value differs")],
        cause=[cause], minimal=True, steps=steps, cached=2, seconds=24.3,
        evidence="reproduced in 1/1 attempts: status 500, KeyError",
    )  # fmt: skip


def test_the_answer_reads_as_a_ticket() -> None:
    text = render_bisect_markdown(_result(), "export FEATURE_NEW_CHECKOUT=1\n")
    assert text.startswith("## repro bisect: cause found\n")
    assert "4 replays (2 subsets answered from the cache), 24.3 s; exit code 0." in text
    assert "### Cause (1-minimal)" in text
    flag = "`env:FEATURE_NEW_CHECKOUT`"
    assert f"| env var | FEATURE_NEW_CHECKOUT 1 in bad, unset in good | {flag} |" in text
    assert "Evidence: reproduced in 1/1 attempts: status 500, KeyError" in text
    assert "```sh\nexport FEATURE_NEW_CHECKOUT=1\n```" in text
    assert f"| 4 | step | fail | reproduced | 6.2 | {flag} | `unix:///b.sock` |" in text
    assert "### Applicable differences (2)" in text
    assert "### Untested differences (1)" in text and "a secret whose value differs" in text


@given(st.text(min_size=1, max_size=80))
def test_hostile_labels_stay_text(label: str) -> None:
    hostile = f"<script>x</script>|{label}|`"
    text = render_bisect_markdown(_result(hostile), "echo ``` done\n")
    assert "<script>" not in text
    for line in text.splitlines():
        if line.startswith("| env var |"):
            # the row still has its three cells: every pipe of the label is escaped
            assert line.replace("\\|", "").count("|") == 4


def test_json_and_markdown_together_is_a_usage_error() -> None:
    done = run_repro("bisect", "incident.yaml", "--good", "a.json", "--bad", "b.json", "--json",
                     "--markdown")  # fmt: skip
    assert done.returncode == 2 and "Traceback" not in done.stderr
    assert done.stderr.strip() == "repro: error: --json and --markdown: pick one"
