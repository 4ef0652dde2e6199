"""``--format json``: the stable, versioned machine format (``repro.diff/v1``).

Discrepancies are sorted by severity (critical first), then facet, then path. ``left`` and
``right`` values are as captured: fingerprint maps for secrets, never anything else. A
discrepancy that other changes only followed from lists their paths in ``includes`` (those
are in ``ignored``, ``ignored_by: folded``). The ``ignored`` list is present with
``--show-ignored``; its count is always in ``summary``.
"""

from __future__ import annotations

import json
from typing import Any

from repro.diff.model import DiffResult
from repro.diff.summary import summary

SCHEMA = "repro.diff/v1"


def to_json(result: DiffResult, *, show_ignored: bool = False) -> dict[str, Any]:
    out: dict[str, Any] = {
        "schema": SCHEMA,
        "left": result.left.to_json(),
        "right": result.right.to_json(),
        "summary": summary(result),
        "discrepancies": [item.to_json() for item in result.discrepancies],
    }
    if show_ignored:
        out["ignored"] = [item.to_json() for item in result.ignored]
    return out


def render_json(
    result: DiffResult, *, min_severity: str = "info", show_ignored: bool = False
) -> str:
    document = to_json(result.filtered(min_severity), show_ignored=show_ignored)
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"
