"""What ``repro diff`` reads of a profile: its ``ignore`` globs and ``database.schemas``.

A diff needs nothing else of a profile, so it does not validate (nor import the machinery
for) targets, facets and sandboxes: a profile without either key is not even parsed, and
one that has them is read for those two keys only. A malformed value is reported, never a
reason to fail the diff.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from repro.errors import ProfileError
from repro.fields import expect, string_list
from repro.inputfile import read_text

# Either key anywhere in the text (block or flow style): without it, nothing to read.
_MENTIONS = re.compile(r"\b(ignore|schemas)\b")


@dataclass(frozen=True)
class DiffSettings:
    ignore: list[str] = field(default_factory=list)
    schemas: list[str] | None = None  # None: every schema was captured


def read_diff_settings(path: Path) -> DiffSettings:
    """Raises ProfileError (naming the file and key) for a file or value that is wrong."""
    text = read_text(path, ProfileError, noun="profile file")
    if not _MENTIONS.search(text):
        return DiffSettings()
    import yaml  # only profiles that have something for the diff

    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    where = str(path)
    try:
        raw = yaml.load(text, Loader=loader)  # a safe loader (C when available)
    except yaml.YAMLError:
        raise ProfileError(f"{where}: malformed YAML") from None
    if not isinstance(raw, dict):
        return DiffSettings()
    ignore = string_list(where, "ignore", raw.get("ignore") or [])
    database = raw.get("database")
    schemas = None
    if database is not None:
        expect(where, "database", database, dict, "a mapping")
        if database.get("schemas") is not None:
            schemas = string_list(where, "database.schemas", database["schemas"])
    return DiffSettings(ignore, schemas)
