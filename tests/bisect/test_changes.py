"""The appliers on the bundled demo snapshots (pure, no Docker): which of `repro diff prod
staging`'s discrepancies become changes, which stay untested and why, and that applying a
subset copies exactly the bad side's facts onto the good snapshot (nothing else moves)."""

from __future__ import annotations

import copy
from datetime import date
from pathlib import Path

import pytest

from repro.bisect.changes import Context, Plan, apply, plan
from repro.diff import diff_snapshots
from repro.profile.file import resolve_profile
from repro.snapshot.file import Snapshot
from repro.snapshot.registry import FACETS
from repro.snapshot.store import resolve_snapshot

ROOT = Path(__file__).resolve().parents[2]
SNAPSHOTS = ROOT / "fixtures" / "snapshots"


@pytest.fixture(scope="module")
def context() -> Context:
    bad = resolve_snapshot(str(SNAPSHOTS / "prod.json"))
    good = resolve_snapshot(str(SNAPSHOTS / "staging.json"))
    return Context(
        good, bad, resolve_profile(str(ROOT / "profiles" / "staging.yaml"), FACETS),
        resolve_profile(str(ROOT / "profiles" / "prod.yaml"), FACETS),
    )  # fmt: skip


def _plan(context: Context) -> Plan:
    found = diff_snapshots(context.bad, context.good, today=date(2026, 1, 1))
    return plan(found.discrepancies, context)


def test_the_demo_differences_become_changes_and_untested_ones(context: Context) -> None:
    planned = _plan(context)
    keys = {c.key for c in planned.changes}
    assert {
        "env:FEATURE_NEW_CHECKOUT",
        "database:server",
        "database:setting:TimeZone",
        "database:extension:hstore",
        "database:data:public.customers",
        "files:/etc/demo-app/settings.yaml",
        "image",
    } <= keys
    assert len(keys) == len(planned.changes)  # one change per unit
    files = next(c for c in planned.changes if c.key == "files:/etc/demo-app/settings.yaml")
    assert len(files.paths) >= 3  # mode, group, gid, access merged into one change
    untested = {u.path: u for u in planned.untested}
    # Production's memory limit is applied as replay applies it (128 MiB vs 512 MiB).
    memory = next(c for c in planned.changes if c.key == "runtime:cgroup.memory_limit_bytes")
    assert memory.label == "memory limit: 128 MiB (bad) vs 512 MiB (good)"
    jobs = [u for u in untested.values() if u.kind == "background job"]
    assert jobs and all("--with-job schedule:" in u.why for u in jobs)
    assert any("schedule:demo-nightly-backup`" in u.why for u in jobs)
    assert "placeholder" in untested["env.vars.SECRET_KEY"].why
    assert not any(p.startswith("env.vars.FEATURE") for p in untested)


def test_applying_copies_only_the_chosen_facts(context: Context) -> None:
    planned = _plan(context)
    before = copy.deepcopy(context.good.facets["env"].data)
    wanted = ("env:FEATURE_NEW_CHECKOUT", "database:server")
    chosen = [c for c in planned.changes if c.key in wanted]
    snapshot, profile = apply(chosen, context)
    assert snapshot.facets["env"].data["vars"]["FEATURE_NEW_CHECKOUT"] == "1"
    assert snapshot.facets["database"].data["server"]["major"] == 13
    assert snapshot.facets["database"].data["settings"] == context.good.facets[
        "database"
    ].data["settings"]
    assert profile is context.good_profile  # the image was not chosen
    assert context.good.facets["env"].data == before  # the good snapshot itself is untouched
    image = [c for c in planned.changes if c.key == "image"]
    _snapshot, profile = apply(image, context)
    assert profile.sandbox and profile.sandbox.app and profile.sandbox.app.image.endswith("2.1.0")


def test_a_variable_only_in_good_is_removed(context: Context) -> None:
    # The other direction: swap the sides, so a variable only in the good side is unset.
    swapped = Context(context.bad, context.good, context.bad_profile, context.good_profile)
    planned = _plan(swapped)
    flag = [c for c in planned.changes if c.key == "env:FEATURE_NEW_CHECKOUT"]
    snapshot, _ = apply(flag, swapped)
    assert "FEATURE_NEW_CHECKOUT" not in snapshot.facets["env"].data["vars"]


def test_snapshot_type_kept(context: Context) -> None:
    snapshot, _ = apply([], context)
    assert isinstance(snapshot, Snapshot) and snapshot.facets.keys() == context.good.facets.keys()


def test_a_resource_limit_applied_is_the_one_replay_uses(context: Context) -> None:
    from repro.replay.conditions.resources import resource_limits
    from repro.replay.conditions.spec import Conditions

    planned = _plan(context)
    memory = [c for c in planned.changes if c.key == "runtime:cgroup.memory_limit_bytes"]
    good = resource_limits(context.good, Conditions())
    hybrid, _ = apply(memory, context)
    limits = resource_limits(hybrid, Conditions())
    assert (good.memory_bytes, limits.memory_bytes) == (512 * 1024 * 1024, 128 * 1024 * 1024)
    assert limits.open_files == good.open_files  # only the chosen limit came over
