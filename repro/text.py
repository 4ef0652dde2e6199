"""Text for one line of output: error messages, table cells, report lines."""

from __future__ import annotations


def one_line(text: str) -> str:
    """``text`` with every run of whitespace (newlines, tabs) as one space, trimmed: what a
    server's or a tool's multi-line message becomes in a one-line error or a table cell."""
    return " ".join(text.split())


def plural(count: int, noun: str, plural_form: str | None = None) -> str:
    """``1 table``, ``3 tables``, ``0 tables`` (``plural_form`` for irregular nouns)."""
    return f"{count:,} {noun if count == 1 else plural_form or noun + 's'}"
