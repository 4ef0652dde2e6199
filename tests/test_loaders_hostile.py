"""Property tests: hostile snapshots, profiles, incidents and waivers (files from other
machines) load, or fail with the loader's own one-line error; never with another exception
(a KeyError, a TypeError, a RecursionError would be "unexpected error" and a crash log).

Inputs are real documents (the demo's snapshots, profile and incidents) with parts replaced by
hostile values, plus arbitrary text and bytes. A snapshot that loads must also survive what
commands do next: a diff against the real one, its renderers and the fix script.
"""

from __future__ import annotations

import contextlib
import copy
import json
import math
from datetime import date
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from repro.diff import FORMATS, diff_snapshots, render, render_fix_script
from repro.diff.noise import load_waivers
from repro.errors import ReproError
from repro.profile.file import load_profile_file
from repro.replay.incident import Incident, load_incident
from repro.snapshot.file import Snapshot, load_snapshot
from repro.snapshot.registry import FACETS

ROOT = Path(__file__).resolve().parents[1]
PROD_JSON = json.loads((ROOT / "fixtures" / "snapshots" / "prod.json").read_text())
PROD = load_snapshot(ROOT / "fixtures" / "snapshots" / "prod.json")
PROFILE = yaml.safe_load((ROOT / "profiles" / "prod.yaml").read_text())
SETTINGS = settings(
    max_examples=50,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)

hostile_text = st.one_of(
    st.text(max_size=20),
    st.sampled_from(["", "\x00", "../../etc/passwd", "$(touch x)", "\u202e", "a" * 300, "-"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=True, allow_infinity=True),
    hostile_text,
)
values = st.recursive(
    scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(hostile_text, inner, max_size=4)
    ),
    max_leaves=12,
)


def _paths(tree: Any, prefix: tuple[Any, ...] = (), limit: int = 4000) -> list[tuple[Any, ...]]:
    found: list[tuple[Any, ...]] = []
    stack = [(tree, prefix)]
    while stack and len(found) < limit:
        node, path = stack.pop()
        found.append(path)
        if isinstance(node, dict):
            stack.extend((v, (*path, k)) for k, v in node.items())
        elif isinstance(node, list):
            stack.extend((v, (*path, i)) for i, v in enumerate(node))
    return found


@st.composite
def mutated(draw: st.DrawFn, original: Any) -> Any:
    """The document with 1-4 parts replaced by hostile values (or removed)."""
    tree = copy.deepcopy(original)
    paths = _paths(tree)
    for _ in range(draw(st.integers(1, 4))):
        path = draw(st.sampled_from(paths))
        # Cut at any depth: a whole section replaced by a scalar is as likely as a leaf.
        path = path[: draw(st.integers(0, len(path)))]
        if not path:
            return draw(values)
        parent = tree
        try:
            for key in path[:-1]:
                parent = parent[key]
            if draw(st.booleans()) and isinstance(parent, dict):
                parent.pop(path[-1], None)
            else:
                parent[path[-1]] = draw(values)
        except (KeyError, IndexError, TypeError):
            continue  # an earlier mutation changed the shape: this path is gone
    return tree


def _dump_json(tree: Any) -> str:
    return json.dumps(tree, allow_nan=True)


def _survives_a_diff(snapshot: Snapshot) -> None:
    result = diff_snapshots(PROD, snapshot, today=date(2025, 6, 1))
    for fmt in FORMATS:
        render(result, fmt, None, True, fail_on="low", width=120, color=False)
    render_fix_script(result)


@SETTINGS
@given(tree=mutated(PROD_JSON))
def test_hostile_snapshots(tree: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("snap") / "hostile.json"
    path.write_text(_dump_json(tree))
    try:
        snapshot = load_snapshot(path)
    except ReproError as exc:
        assert "\n" not in exc.one_line()
        return
    _survives_a_diff(snapshot)


@SETTINGS
@given(data=st.one_of(st.binary(max_size=200), st.text(max_size=200).map(str.encode)))
def test_arbitrary_bytes_as_a_snapshot(data: bytes, tmp_path_factory: Any) -> None:
    path = tmp_path_factory.mktemp("snap") / "bytes.json"
    path.write_bytes(data)
    with contextlib.suppress(ReproError):  # anything else fails the test
        load_snapshot(path)


@SETTINGS
@given(tree=mutated(PROFILE))
def test_hostile_profiles(tree: Any, tmp_path_factory: pytest.TempPathFactory) -> None:
    path = tmp_path_factory.mktemp("profile") / "hostile.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True))
    try:
        load_profile_file(path, FACETS)
    except ReproError as exc:
        assert "\n" not in exc.one_line()


def _incident_dicts() -> list[dict[str, Any]]:
    from repro.redaction import RedactionKey, Redactor
    from repro.replay.importers import IMPORTERS, ImportOptions

    redactor = Redactor(RedactionKey.from_bytes(b"hostile-loader-test", "test"))
    made = []
    for folder in sorted((ROOT / "fixtures" / "incidents").iterdir()):
        event = folder / "sentry-event.json"
        if event.exists():
            incident = IMPORTERS["sentry"].parse(
                event.read_bytes(), options=ImportOptions(redactor=redactor)
            )
            made.append(yaml.safe_load(incident.to_yaml()))
    return made


INCIDENTS = _incident_dicts()


@SETTINGS
@given(index=st.integers(0, len(INCIDENTS) - 1), data=st.data())
def test_hostile_incidents(index: int, data: st.DataObject, tmp_path_factory: Any) -> None:
    tree = data.draw(mutated(INCIDENTS[index]))
    path = tmp_path_factory.mktemp("incident") / "hostile.yaml"
    try:
        text = yaml.safe_dump(tree, allow_unicode=True)
    except (yaml.YAMLError, OverflowError):
        return  # not representable as YAML: not a file anyone can hand us
    path.write_text(text)
    try:
        incident = load_incident(path)
    except ReproError as exc:
        assert "\n" not in exc.one_line()
        return
    assert Incident.from_yaml(incident.to_yaml()) == incident  # what loads, round-trips


@SETTINGS
@given(tree=values)
def test_hostile_waivers(tree: Any) -> None:
    if isinstance(tree, float) and not math.isfinite(tree):
        return
    try:
        load_waivers(yaml.safe_dump(tree, allow_unicode=True), "waivers.yaml")
    except ReproError as exc:
        assert "\n" not in exc.one_line()
