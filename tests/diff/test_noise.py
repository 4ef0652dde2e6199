"""Noise control: built-in ignores, profile ignore globs, waivers (active and expired), and
waiver file errors. Everything hidden stays in result.ignored with why."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from repro.diff.noise import BUILTIN_IGNORES, Waiver, WaiverFileError, load_waivers, read_waivers
from repro.errors import ReproError
from tests.helpers.builders import diff, find, pair, paths


def ignored(result: object, path: str) -> tuple[str, str]:
    hits = [i for i in result.ignored if i.discrepancy.path == path]  # type: ignore[attr-defined]
    assert len(hits) == 1, [i.discrepancy.path for i in result.ignored]  # type: ignore[attr-defined]
    return hits[0].by, hits[0].reason


@pytest.mark.parametrize(
    ("facet", "keys", "left", "right"),
    [
        ("env", ("vars", "HOSTNAME"), "a", "b"),
        ("env", ("vars", "SSH_CONNECTION"), "1.2.3.4 22", None),
        ("database", ("connection", "host"), "prod-db", "staging-db"),
        ("database", ("settings", "data_directory", "value"), "/a", "/b"),
        ("database", ("settings", "TimeZone", "source"), "configuration file", "default"),
        ("database", ("database", "name"), "shop", "shop_staging"),
        ("database", ("tables", "public.customers", "size_bytes"), 1, 10**9),
        ("database", ("statistics", "public.customers", "columns", "id", "correlation"), 1.0, -1.0),
        (
            "database",
            ("statistics", "public.customers", "columns", "id", "histogram"),
            None,
            {"buckets": 3},
        ),
    ],
)
def test_builtin_ignores(facet: str, keys: tuple[str, ...], left: object, right: object) -> None:
    prod, staging = pair()
    prod.put(facet, *keys, left)
    if right is not None:
        staging.put(facet, *keys, right)
    result = diff(prod, staging)
    path = ".".join((facet, *keys))
    assert path not in paths(result)
    by, reason = ignored(result, path)
    assert by == "builtin" and reason


def test_builtin_ignores_keep_what_matters() -> None:
    # lc_collate is server configuration that changes sorting: never built-in ignored.
    prod, staging = pair()
    prod.put("database", "settings", "lc_collate", {"value": "C", "unit": None, "source": "x"})
    assert find(diff(prod, staging), "database.settings.lc_collate").severity == "high"
    # HOME and PATH stay visible (low): they can explain "command not found" in prod.
    prod, staging = pair()
    staging.put("env", "vars", "HOME", "/root")
    assert find(diff(prod, staging), "env.vars.HOME").severity == "low"


def test_builtin_never_hides_an_incomparable_facet() -> None:
    prod, staging = pair()
    staging.set_status("database", "error", "down")
    result = diff(prod, staging, builtin_ignores=[*BUILTIN_IGNORES])
    assert find(result, "database").kind == "incomparable"


def test_profile_ignore_globs() -> None:
    prod, staging = pair()
    prod.put("env", "vars", "DEMO_INSTANCE_ID", "a")
    prod.put("database", "extensions", "hstore", "version", "1.4")
    prod.put("env", "vars", "KEEP", "1")
    result = diff(prod, staging, ignore=["env.vars.DEMO_*", "database.extensions.hstore"])
    assert paths(result) == ["env.vars.KEEP"]
    assert ignored(result, "env.vars.DEMO_INSTANCE_ID") == (
        "profile",
        "profile ignore 'env.vars.DEMO_*'",
    )
    assert ignored(result, "database.extensions.hstore.version")[0] == "profile"


def test_waivers_active_and_expired() -> None:
    prod, staging = pair()
    prod.put("database", "settings", "work_mem", "value", "65536")
    prod.put("runtime", "kernel", "5.10")
    waivers = [
        Waiver("database.settings.work_mem.*", "tuned (OPS-12)", date(2025, 6, 1)),
        Waiver("runtime.kernel", "host upgrade pending", date(2025, 5, 31)),
    ]
    result = diff(prod, staging, waivers=waivers, today=date(2025, 6, 1))
    by, reason = ignored(result, "database.settings.work_mem.value")
    assert by == "waiver"  # valid through its expiry day
    assert reason == "waiver 'database.settings.work_mem.*' until 2025-06-01: tuned (OPS-12)"
    kernel = find(result, "runtime.kernel")
    assert kernel.note == "waiver expired on 2025-05-31: host upgrade pending"
    assert kernel.to_json()["note"] == kernel.note
    # The next day the first one expires too.
    later = diff(prod, staging, waivers=waivers, today=date(2025, 6, 2))
    assert find(later, "database.settings.work_mem.value").note.startswith(  # type: ignore[union-attr]
        "waiver expired on 2025-06-01"
    )


def test_an_active_waiver_wins_over_an_expired_one() -> None:
    prod, staging = pair()
    prod.put("runtime", "kernel", "5.10")
    waivers = [
        Waiver("runtime.kernel", "old", date(2020, 1, 1)),
        Waiver("runtime.*", "renewed", date(2030, 1, 1)),
    ]
    result = diff(prod, staging, waivers=waivers)
    assert ignored(result, "runtime.kernel")[0] == "waiver"


def test_load_waivers() -> None:
    text = """
waivers:
  - path: env.vars.X
    reason: >
      known,
      accepted
    expires: 2025-12-31
  - {path: "files.paths./etc/*.mode", reason: r, expires: "2026-01-01"}
"""
    first, second = load_waivers(text, "w.yaml")
    assert (first.path, first.reason, first.expires) == (
        "env.vars.X",
        "known, accepted",
        date(2025, 12, 31),
    )
    assert (first.index, first.source) == (1, "w.yaml")
    assert second.expires == date(2026, 1, 1)
    assert load_waivers("", "empty.yaml") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("- [unclosed", "w.yaml: invalid YAML at line 1"),
        ("path: x", "w.yaml: expected a list of waivers"),
        ("- just a string", "w.yaml: entry 1: expected a mapping with path, reason and expires"),
        (
            "- {path: a, reason: b, expires: 2025-01-01}\n- {path: '', reason: b, expires: "
            "2025-01-01}",
            "w.yaml: entry 2: 'path' must be a non-empty glob",
        ),
        ("- {path: a, expires: 2025-01-01}", "w.yaml: entry 1: 'reason' must say why"),
        ("- {path: a, reason: b}", "w.yaml: entry 1: 'expires' is required (YYYY-MM-DD)"),
        ("- {path: a, reason: b, expires: soon}", "w.yaml: entry 1: 'expires' is not a date"),
        ("- {path: a, reason: b, expires: 2025-13-01}", "w.yaml: invalid value"),
        (
            "- {path: a, reason: b, expires: 2025-01-01, owner: me}",
            "w.yaml: entry 1: unknown field 'owner'",
        ),
    ],
)
def test_waiver_file_errors_are_one_line(text: str, message: str) -> None:
    with pytest.raises(WaiverFileError) as caught:
        load_waivers(text, "w.yaml")
    assert isinstance(caught.value, ReproError)
    line = caught.value.one_line()
    assert line.startswith(message), line
    assert "\n" not in line


def test_read_waivers(tmp_path: Path) -> None:
    path = tmp_path / "waivers.yaml"
    path.write_text("- {path: a, reason: b, expires: 2025-01-01}\n")
    assert read_waivers(path)[0].path == "a"
    with pytest.raises(WaiverFileError, match="no such waivers file"):
        read_waivers(tmp_path / "missing.yaml")
