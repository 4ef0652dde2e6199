"""Issue 12, finding 5: `repro diff` of snapshots that would not fit in memory is refused
before it starts, with the reason (a 200 MB snapshot diff once took 5.9 GB and the machine).

Real snapshot files and the real loader; only the machine's free memory is set by the test
(it cannot be made small here without starving everything else on the machine).
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

import repro.limits
from repro.commands.diff import DiffOptions, run_diff
from repro.errors import ReproError

PROD = Path(__file__).resolve().parents[2] / "fixtures" / "snapshots" / "prod.json"
OPTIONS = DiffOptions(
    output_format="json",
    min_severity=None,
    fail_on="critical",
    waivers=None,
    show_ignored=False,
    live=False,
)


def big_snapshot(path: Path, tables: int) -> int:
    raw: dict[str, Any] = json.loads(PROD.read_text())
    database = raw["facets"]["database"]["data"]
    table = next(iter(database["tables"].values()))
    for i in range(tables):
        database["tables"][f"bulk.t{i}"] = copy.deepcopy(table)
    path.write_text(json.dumps(raw))
    return path.stat().st_size


def with_memory(monkeypatch: pytest.MonkeyPatch, *answers: int) -> list[int]:
    """The machine's free memory, one answer per question (the last one repeats)."""
    asked: list[int] = []

    def available() -> int:
        asked.append(1)
        return answers[min(len(asked), len(answers)) - 1]

    monkeypatch.setattr(repro.limits, "available_memory", available)
    return asked


def test_refused_before_loading_when_it_cannot_fit(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    left, right = tmp_path / "prod.json", tmp_path / "staging.json"
    size = big_snapshot(left, 2000) + big_snapshot(right, 2000)
    with_memory(monkeypatch, size)  # less than the trees of both will take
    with pytest.raises(ReproError) as info:
        run_diff(str(left), str(right), OPTIONS, [])
    message = info.value.one_line()
    assert message.startswith(f"diffing {left} (")
    assert "needs about" in message and "of memory" in message and "is available" in message


def test_refused_after_the_left_side_shows_what_a_side_takes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    left, right = tmp_path / "prod.json", tmp_path / "staging.json"
    size = big_snapshot(left, 2000)
    big_snapshot(right, 2000)
    # Enough for the first, optimistic estimate; then less than the right side will take.
    asked = with_memory(monkeypatch, 100 * size, size)
    with pytest.raises(ReproError, match="needs about"):
        run_diff(str(left), str(right), OPTIONS, [])
    assert len(asked) == 2
    # With the memory there, the same diff runs.
    with_memory(monkeypatch, 100 * size)
    assert run_diff(str(left), str(right), OPTIONS, []) == 0
    assert json.loads(capsys.readouterr().out)["schema"] == "repro.diff/v1"
