"""``--format junit``: for CI dashboards. One testsuite per facet; a failing testcase per
discrepancy at or above ``fail_on``; an error per incomparable one; one passing testcase for a
facet with nothing at or above ``fail_on``; a skipped one for a facet neither side captured.
No timestamps or durations, so the output is reproducible."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from itertools import groupby

from repro.diff.model import DiffResult, Discrepancy, rank
from repro.diff.summary import kind_text
from repro.diff.values import show


def _details(item: Discrepancy, result: DiffResult) -> str:
    lines = [
        f"path: {item.path}",
        f"kind: {kind_text(item, result)}",
        f"{result.left.label}: {show(item.left, 200)}",
        f"{result.right.label}: {show(item.right, 200)}",
        f"rule: {item.rule}",
    ]
    if item.note:
        lines.append(f"note: {item.note}")
    if item.detail:
        lines.append(item.detail)
    return "\n".join(lines)


def render_junit(result: DiffResult, *, fail_on: str = "low", min_severity: str = "info") -> str:
    result = result.filtered(min_severity)
    floor = rank(fail_on)
    root = ET.Element("testsuites", name=f"repro diff {result.left.label} vs {result.right.label}")
    ordered = sorted(result.discrepancies, key=lambda d: (d.facet, d.sort_key))
    by_facet = {facet: list(items) for facet, items in groupby(ordered, key=lambda d: d.facet)}
    totals = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
    for facet in sorted(set(result.facets) | set(by_facet)):
        counts = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0}
        suite = ET.SubElement(root, "testsuite", name=facet)
        items = sorted(by_facet.get(facet, []), key=lambda d: d.sort_key)
        failing = [i for i in items if i.kind == "incomparable" or rank(i.severity) >= floor]
        for item in failing:
            case = ET.SubElement(suite, "testcase", classname=f"repro.diff.{facet}", name=item.path)
            tag = "error" if item.kind == "incomparable" else "failure"
            node = ET.SubElement(case, tag, type=item.severity, message=item.hint)
            node.text = _details(item, result)
            counts["tests"] += 1
            counts["errors" if tag == "error" else "failures"] += 1
        state = result.facets.get(facet)
        if not failing:
            case = ET.SubElement(suite, "testcase", classname=f"repro.diff.{facet}", name=facet)
            counts["tests"] += 1
            if state is not None and state.outcome == "not_captured":
                ET.SubElement(case, "skipped", message="not captured on either side")
                counts["skipped"] += 1
            elif items:
                out = ET.SubElement(case, "system-out")
                out.text = f"{len(items)} discrepancies below {fail_on}"
        for key, value in counts.items():
            suite.set(key, str(value))
            totals[key] += value
    for key, value in totals.items():
        root.set(key, str(value))
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
