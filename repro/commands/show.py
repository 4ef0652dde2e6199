"""``repro show``: a readable summary of a snapshot."""

from __future__ import annotations

import json
from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from repro.errors import UsageError
from repro.snapshot.file import FacetResult, Snapshot
from repro.text import plural

STATUS_STYLE = {"ok": "green", "partial": "yellow", "error": "red", "skipped": "dim"}


def _count(data: dict[str, Any], *keys: str) -> int:
    node: Any = data
    for key in keys:
        if not isinstance(node, dict):
            return 0
        node = node.get(key, {})
    return len(node) if isinstance(node, dict) else 0


def facet_highlights(name: str, facet: FacetResult) -> str:
    """One line of what matters most in each facet."""
    data = facet.data
    if name == "env":
        return f"{plural(_count(data, 'vars'), 'variable')} from {data.get('source', '?')}"
    if name == "packages":
        parts = []
        if "python" in data:
            parts.append(plural(_count(data, "python", "distributions"), "Python distribution"))
        if "os" in data:
            manager = data["os"].get("manager") if isinstance(data["os"], dict) else None
            parts.append(plural(_count(data, "os", "packages"), f"{manager or 'OS'} package"))
        return ", ".join(parts)
    if name == "database":
        server = data.get("server", {}) if isinstance(data.get("server"), dict) else {}
        counts = [
            plural(_count(data, "tables"), "table"),
            plural(_count(data, "settings"), "non-default setting"),
            plural(_count(data, "extensions"), "extension"),
        ]
        if "roles" in data:  # an older snapshot did not read roles: not "0 roles"
            counts.append(plural(_count(data, "roles"), "role"))
        return f"PostgreSQL {_pg_version(server)}: {', '.join(counts)}"
    if name == "files":
        paths = data.get("paths", {}) if isinstance(data.get("paths"), dict) else {}
        unreadable = sum(
            1
            for entry in paths.values()
            if isinstance(entry, dict)
            and isinstance(entry.get("access"), dict)
            and entry["access"].get("read") is False
        )
        return f"{plural(len(paths), 'path')}, {unreadable} not readable by the app user"
    if name == "config":
        files = data.get("files", {}) if isinstance(data.get("files"), dict) else {}
        keys = sum(len(f.get("keys", {})) for f in files.values() if isinstance(f, dict))
        return f"{plural(len(files), 'file')}, {plural(keys, 'key')}"
    if name == "runtime":
        os_info = data.get("os", {}) if isinstance(data.get("os"), dict) else {}
        return " · ".join(
            str(v)
            for v in (
                os_info.get("pretty_name") or os_info.get("id"),
                data.get("arch"),
                f"{data.get('cpu_count')} CPUs" if data.get("cpu_count") else None,
                data.get("timezone"),
            )
            if v
        )
    if name == "schedules":
        return plural(_count(data, "jobs"), "scheduled job")
    return plural(len(data), "entry", "entries")


def _pg_version(server: dict[str, Any]) -> str:
    """``13.16`` from ``PostgreSQL 13.16 (Debian ...) on x86_64...`` (or the major)."""
    words = str(server.get("version") or "").split()
    if len(words) >= 2 and words[0] == "PostgreSQL":
        return words[1]
    return str(server.get("major") or "?")


def render_show(snapshot: Snapshot, console: Console) -> None:
    target = snapshot.target
    console.print(
        f"[bold]{snapshot.profile}[/bold] captured {snapshot.captured_at} "
        f"from {target.get('kind', '?')}:{target.get('identity', '?')} "
        f"as {target.get('user', '?')}  (repro {snapshot.tool_version}, "
        f"key {snapshot.redaction.get('key_id', '?')})"
    )
    table = Table(show_header=True, header_style="bold")
    table.add_column("facet")
    table.add_column("status")
    table.add_column("ms", justify="right")
    table.add_column("summary")
    for name, facet in sorted(snapshot.facets.items()):
        style = STATUS_STYLE.get(facet.status, "")
        summary = escape(facet.message or facet_highlights(name, facet))
        if facet.problems:
            first = escape(facet.problems[0])
            summary += f" [yellow]({plural(len(facet.problems), 'problem')}: {first})[/yellow]"
        table.add_row(name, f"[{style}]{facet.status}[/{style}]", str(facet.duration_ms), summary)
    console.print(table)


def facet_json(snapshot: Snapshot, facet: str) -> str:
    if facet not in snapshot.facets:
        known = ", ".join(sorted(snapshot.facets)) or "none"
        raise UsageError(f"snapshot has no facet {facet!r} (it has: {known})")
    return json.dumps(snapshot.facets[facet].to_json(), indent=2, sort_keys=True)
