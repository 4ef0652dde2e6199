"""``repro show``'s one-line summaries: right words and numbers (issue 16 saw "PostgreSQL
PostgreSQL: 3 tables ... 1 extensions" and "1 problems")."""

from __future__ import annotations

import io
from pathlib import Path

from rich.console import Console

from repro.commands.show import facet_highlights, render_show
from repro.snapshot.file import FacetResult, Snapshot
from repro.snapshot.store import load_snapshot

ROOT = Path(__file__).resolve().parents[1]


def test_database_line_names_the_version_once_and_counts_in_words() -> None:
    prod = load_snapshot(ROOT / "fixtures" / "snapshots" / "prod.json")
    line = facet_highlights("database", prod.facets["database"])
    assert line == "PostgreSQL 13.16: 7 tables, 46 non-default settings, 2 extensions, 2 roles"
    one = FacetResult(
        "ok",
        {
            "server": {"version": "PostgreSQL 17.2 on x86_64-pc-linux-gnu", "major": 17},
            "tables": {"public.t": {}},
            "settings": {"TimeZone": {}},
            "extensions": {"plpgsql": {}},
        },
    )
    assert facet_highlights("database", one) == (
        "PostgreSQL 17.2: 1 table, 1 non-default setting, 1 extension"
    )


def test_one_problem_is_one_problem_and_markup_is_shown_as_text() -> None:
    facet = FacetResult(
        "partial", {"vars": {"A": "1"}}, problems=["[bold]/proc/1/environ[/bold]: denied"]
    )
    snapshot = Snapshot("p", "2026-12-01T00:00:00Z", {"kind": "local"}, {}, {"env": facet})
    buffer = io.StringIO()
    render_show(snapshot, Console(file=buffer, width=200))
    text = buffer.getvalue()
    assert "1 variable from ?" in text
    assert "(1 problem: [bold]/proc/1/environ[/bold]: denied)" in text
