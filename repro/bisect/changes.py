"""The differences a sandbox can apply, and applying a subset of them.

``repro diff``'s discrepancies (bad = production, good = staging) are turned into *changes*:
units bisect can switch on one at a time. Switching a change on copies one part of the bad
snapshot's facts onto the good snapshot (an environment variable, the database's server facts
= its major version, one setting, one extension, one table's statistics = its data shape and
scale, one config file's mode and owner) or swaps in the bad profile's app image (package
versions). The sandbox then builds itself from that hybrid snapshot exactly as ``repro replay``
does from a real one: nothing here starts a container.

Which facts can be applied is decided per facet by an *applier* in :data:`APPLIERS`; a
discrepancy no applier can apply is *untested*, with the reason, never silently dropped.
Production's resource limits (runtime facet: memory, CPUs, processes, open files) are applied
by the sandbox as ``repro replay`` applies them, so they are changes too; a schedule (a cron
line) is a job that runs at its time, which a replay does not wait for: untested, with the
``repro replay --with-job schedule:NAME`` that tries it.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from repro.diff import Discrepancy
from repro.profile.file import Profile
from repro.replay.sandbox_db import server_settings
from repro.snapshot.file import FacetResult, Snapshot

# What a change needs rebuilt in the sandbox (cheapest first).
REBUILD_APP, REBUILD_DATABASE, REBUILD_DATA = "app", "database", "data"


@dataclass(frozen=True)
class Change:
    key: str  # unique: "env:FEATURE_NEW_CHECKOUT", "database:server", "image"
    kind: str  # "env var", "database major", "database setting", ...
    label: str  # one line for people: "FEATURE_NEW_CHECKOUT=1 (bad) vs unset (good)"
    rebuild: str  # REBUILD_*: what a step that toggles it must rebuild
    facet: str = ""  # where the facts live ("" for the image)
    # Where in the facet's data the bad snapshot's facts are copied from (each a key path).
    subtrees: tuple[tuple[str, ...], ...] = ()
    image: str | None = None  # the bad profile's app image (a package-version change)
    paths: tuple[str, ...] = ()  # the discrepancies it covers

    def to_json(self) -> dict[str, Any]:
        return {
            "key": self.key,
            "kind": self.kind,
            "label": self.label,
            "rebuild": self.rebuild,
            "paths": list(self.paths),
        }


@dataclass(frozen=True)
class Untested:
    path: str
    kind: str
    why: str

    def to_json(self) -> dict[str, Any]:
        return {"path": self.path, "kind": self.kind, "why": self.why}


@dataclass
class Context:
    """What the appliers may read: both snapshots and both profiles."""

    good: Snapshot
    bad: Snapshot
    good_profile: Profile
    bad_profile: Profile

    def data(self, which: str, facet: str) -> dict[str, Any] | None:
        snapshot = self.bad if which == "bad" else self.good
        result = snapshot.facets.get(facet)
        if result is None or result.status not in ("ok", "partial"):
            return None
        return result.data

    def image(self, which: str) -> str | None:
        profile = self.bad_profile if which == "bad" else self.good_profile
        app = profile.sandbox.app if profile.sandbox else None
        return app.image if app else None


Applier = Callable[[Discrepancy, Context], "Change | Untested"]
APPLIERS: dict[str, Applier] = {}
# The runtime facts the sandbox applies (repro/replay/conditions/resources.py reads them).
RUNTIME_LIMITS = {
    ("cgroup", "memory_limit_bytes"): "memory limit",
    ("cgroup", "cpu_limit"): "CPU limit",
    ("cgroup", "pids_limit"): "process limit",
    ("open_files",): "open files limit",
}


def applier(facet: str) -> Callable[[Applier], Applier]:
    def register(function: Applier) -> Applier:
        APPLIERS[facet] = function
        return function

    return register


@dataclass
class Plan:
    changes: list[Change] = field(default_factory=list)
    untested: list[Untested] = field(default_factory=list)


def plan(discrepancies: Sequence[Discrepancy], context: Context) -> Plan:
    """The applicable changes (discrepancies of one unit merged, in the diff's order: most
    severe first) and the untested discrepancies."""
    out = Plan()
    by_key: dict[str, Change] = {}
    for item in discrepancies:
        function = APPLIERS.get(item.facet)
        if item.kind == "incomparable":
            result: Change | Untested = Untested(
                item.path, item.facet, "not captured on both sides: cannot be applied"
            )
        elif function is None:
            result = Untested(item.path, item.facet, f"no applier for the {item.facet} facet")
        else:
            result = function(item, context)
        if isinstance(result, Untested):
            out.untested.append(result)
            continue
        known = by_key.get(result.key)
        if known is None:
            by_key[result.key] = replace(result, paths=(item.path,))
            out.changes.append(by_key[result.key])
        else:
            merged = replace(known, paths=(*known.paths, item.path))
            by_key[result.key] = merged
            out.changes[out.changes.index(known)] = merged
    return out


def apply(
    changes: Sequence[Change], context: Context
) -> tuple[Snapshot, Profile]:
    """The good snapshot and profile with ``changes`` switched on (the bad side's facts)."""
    facets = {name: copy.deepcopy(result) for name, result in context.good.facets.items()}
    profile = context.good_profile
    for change in changes:
        if change.image is not None:
            profile = _with_image(profile, change.image)
            continue
        target = facets.get(change.facet)
        source = context.data("bad", change.facet)
        if target is None or source is None:
            continue  # plan() only makes changes for facets both sides captured
        for keys in change.subtrees:
            _copy_subtree(source, target, keys)
    snapshot = replace(
        context.good,
        facets=facets,
        source=f"{context.good.source or 'good'} + {len(changes)} change(s) from the bad side",
    )
    return snapshot, profile


def _copy_subtree(source: Mapping[str, Any], target: FacetResult, keys: tuple[str, ...]) -> None:
    node = _dig(source, keys)
    parent: Any = target.data
    for depth, key in enumerate(keys[:-1]):
        # A top-level map (vars, paths, settings) is made when missing; a deeper one is the
        # good side's own structure (a table's definition), never invented.
        parent = parent.setdefault(key, {}) if depth == 0 else parent.get(key)
        if not isinstance(parent, dict):
            return
    if node is None:
        parent.pop(keys[-1], None)
    else:
        parent[keys[-1]] = copy.deepcopy(node)


def _with_image(profile: Profile, image: str) -> Profile:
    assert profile.sandbox is not None and profile.sandbox.app is not None
    app = replace(profile.sandbox.app, image=image)
    return replace(profile, sandbox=replace(profile.sandbox, app=app))


def _show(value: Any) -> str:
    if value is None:
        return "unset"
    if isinstance(value, Mapping) and "fingerprint" in value:
        return "(secret)"
    text = str(value.get("value", value)) if isinstance(value, Mapping) else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


# --- the appliers ------------------------------------------------------------------------------


@applier("env")
def _env(item: Discrepancy, context: Context) -> Change | Untested:
    if len(item.keys) < 2 or item.keys[0] != "vars":
        return Untested(item.path, "env", "not an environment variable")
    name = item.keys[1]
    left, right = _value(item.left), _value(item.right)
    secret = isinstance(left, Mapping) and isinstance(right, Mapping)
    if secret and "fingerprint" in left and "fingerprint" in right:
        return Untested(
            item.path,
            "env var",
            "a secret whose value differs: the sandbox gives it a placeholder (or the --secrets "
            "value) on both sides",
        )
    return Change(
        key=f"env:{name}",
        kind="env var",
        label=f"{name} {_show(left)} in bad, {_show(right)} in good",
        rebuild=REBUILD_APP,
        facet="env",
        subtrees=(("vars", name),),
    )


DATABASE_DATA_KEYS = ("statistics",)
TABLE_SIZE_KEYS = ("rows_estimate", "size_bytes")


@applier("database")
def _database(item: Discrepancy, context: Context) -> Change | Untested:
    keys = item.keys
    head = keys[0] if keys else ""
    if head == "server":
        bad = (context.data("bad", "database") or {}).get("server") or {}
        good = (context.data("good", "database") or {}).get("server") or {}
        return Change(
            key="database:server",
            kind="database major",
            label=f"PostgreSQL {bad.get('major')} (bad) vs {good.get('major')} (good)",
            rebuild=REBUILD_DATABASE,
            facet="database",
            subtrees=(("server",),),
        )
    if head == "settings" and len(keys) >= 2:
        name = keys[1]
        applied_bad, _ = server_settings(context.data("bad", "database") or {})
        applied_good, _ = server_settings(context.data("good", "database") or {})
        if name not in applied_bad and name not in applied_good:
            return Untested(
                item.path, "database setting", "the sandbox does not set it (see repro replay)"
            )
        return Change(
            key=f"database:setting:{name}",
            kind="database setting",
            label=f"{name}: {applied_bad.get(name, 'default')} (bad) vs "
            f"{applied_good.get(name, 'default')} (good)",
            rebuild=REBUILD_DATABASE,
            facet="database",
            subtrees=(("settings", name),),
        )
    if head == "extensions" and len(keys) >= 2:
        return Change(
            key=f"database:extension:{keys[1]}",
            kind="extension",
            label=f"extension {keys[1]}: {_show(_version(item.left))} (bad) vs "
            f"{_show(_version(item.right))} (good)",
            rebuild=REBUILD_DATABASE,
            facet="database",
            subtrees=(("extensions", keys[1]),),
        )
    is_count = head == "tables" and len(keys) == 3 and keys[2] in TABLE_SIZE_KEYS
    if (head in DATABASE_DATA_KEYS or is_count) and len(keys) >= 2:
        table = keys[1]
        return Change(
            key=f"database:data:{table}",
            kind="data shape and scale",
            label=f"{table}: the bad side's row count and column statistics",
            rebuild=REBUILD_DATA,
            facet="database",
            # The sandbox sizes a table by tables.<t>.rows_estimate and shapes its columns by
            # statistics.<t>: both come over, the table's definition stays the good side's.
            subtrees=(
                ("statistics", table),
                *(("tables", table, key) for key in TABLE_SIZE_KEYS),
            ),
        )
    return Untested(item.path, f"database {head}", "the sandbox does not apply it")


@applier("files")
def _files(item: Discrepancy, context: Context) -> Change | Untested:
    keys = item.keys
    if len(keys) < 2 or keys[0] != "paths":
        return Untested(item.path, "file", "not a file's facts")
    path = keys[1]
    profile = context.good_profile
    mounted = profile.sandbox.app.files if profile.sandbox and profile.sandbox.app else {}
    if path not in mounted:
        return Untested(
            item.path,
            "file mode/owner",
            "the sandbox does not place this file (not in the profile's sandbox.app.files)",
        )
    bad = _dig(context.data("bad", "files"), ("paths", path)) or {}
    good = _dig(context.data("good", "files"), ("paths", path)) or {}
    return Change(
        key=f"files:{path}",
        kind="file mode/owner",
        label=f"{path}: {_owner(bad)} (bad) vs {_owner(good)} (good)",
        rebuild=REBUILD_APP,
        facet="files",
        subtrees=(("paths", path),),
    )


@applier("packages")
def _packages(item: Discrepancy, context: Context) -> Change | Untested:
    bad, good = context.image("bad"), context.image("good")
    if bad is None or bad == good:
        return Untested(
            item.path,
            "package version",
            "both profiles run the same app image: the sandbox cannot install another version",
        )
    return Change(
        key="image",
        kind="package versions (app image)",
        label=f"app image {bad} (bad) vs {good} (good)",
        rebuild=REBUILD_APP,
        image=bad,
    )


@applier("runtime")
def _runtime(item: Discrepancy, context: Context) -> Change | Untested:
    for keys, kind in RUNTIME_LIMITS.items():
        if tuple(item.keys[: len(keys)]) != keys:
            continue
        bad = _dig(context.data("bad", "runtime"), keys)
        good = _dig(context.data("good", "runtime"), keys)
        return Change(
            key="runtime:" + ".".join(keys),
            kind="resource limit",
            label=f"{kind}: {_limit(bad)} (bad) vs {_limit(good)} (good)",
            rebuild=REBUILD_APP,
            facet="runtime",
            subtrees=(keys,),
        )
    return Untested(
        item.path, "machine fact", "the sandbox runs on this machine's kernel and hardware"
    )


@applier("schedules")
def _schedules(item: Discrepancy, context: Context) -> Untested:
    entry = None
    if len(item.keys) > 1 and item.keys[0] == "jobs":
        entry = _dig(context.data("bad", "schedules"), ("jobs", item.keys[1])) or _dig(
            context.data("good", "schedules"), ("jobs", item.keys[1])
        )
    source = entry.get("unit") or entry.get("source") if isinstance(entry, Mapping) else None
    name = str(source).rstrip("/").rsplit("/", 1)[-1] if source else "NAME"
    return Untested(
        item.path,
        "background job",
        "a schedule runs at its time, which a replay does not wait for: try it with "
        f"`repro replay --with-job schedule:{name}`",
    )


def _value(value: Any) -> Any:
    from repro.diff.model import MISSING

    return None if value is MISSING else value


def _version(value: Any) -> Any:
    value = _value(value)
    return value.get("version", value) if isinstance(value, Mapping) else value


def _owner(entry: Mapping[str, Any]) -> str:
    if not entry:
        return "absent"
    return f"{entry.get('mode', '?')} {entry.get('owner', '?')}:{entry.get('group', '?')}"


def _dig(data: Mapping[str, Any] | None, keys: tuple[str, ...]) -> Any:
    node: Any = data
    for key in keys:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _limit(value: Any) -> str:
    if value is None:
        return "none"
    if isinstance(value, Mapping):  # open files: soft and hard
        return f"{value.get('soft', '?')}/{value.get('hard', '?')}"
    if type(value) is int and value >= 1024 * 1024:
        return f"{value // (1024 * 1024)} MiB"
    return str(value)
