"""The engine's walk: kinds, keyed identity, secrets, facet statuses, labels and order."""

from __future__ import annotations

import math

import pytest

from repro.diff.engine import KEY_MISMATCH, list_delta
from repro.diff.model import MISSING, SEVERITIES, rank
from tests.helpers.builders import diff, find, pair, paths, secret


def test_identical_snapshots_have_no_discrepancies() -> None:
    prod, staging = pair()
    result = diff(prod, staging)
    assert result.discrepancies == []
    assert {s.outcome for s in result.facets.values()} == {"equal"}


def test_every_kind() -> None:
    prod, staging = pair()
    prod.put("env", "vars", "FEATURE_NEW_CHECKOUT", "1")
    staging.put("env", "vars", "DEBUG", "1")
    staging.put("env", "vars", "WORKERS", "8")
    result = diff(prod, staging)
    only_prod = find(result, "env.vars.FEATURE_NEW_CHECKOUT")
    assert (only_prod.kind, only_prod.left, only_prod.right) == ("only_in_prod", "1", MISSING)
    only_staging = find(result, "env.vars.DEBUG")
    assert (only_staging.kind, only_staging.left) == ("only_in_staging", MISSING)
    changed = find(result, "env.vars.WORKERS")
    assert (changed.kind, changed.left, changed.right) == ("changed", "4", "8")
    assert only_prod.to_json()["right"] is None
    assert only_prod.to_json()["keys"] == ["vars", "FEATURE_NEW_CHECKOUT"]


def test_only_in_reported_once_at_the_highest_missing_key() -> None:
    prod, staging = pair()
    table = prod.data["database"]["tables"]["public.customers"]
    prod.put("database", "tables", "public.audit_log", table)
    result = diff(prod, staging)
    item = find(result, "database.tables.public.audit_log")
    assert item.kind == "only_in_prod"
    assert not [p for p in paths(result) if p.startswith("database.tables.public.audit_log.")]


def test_keyed_identity_not_position() -> None:
    # A column added in the middle changes nothing for the others (they are keyed by name).
    prod, staging = pair()
    prod.put("database", "tables", "public.customers", "columns", "a_first", {"type": "int"})
    result = diff(prod, staging)
    assert paths(result) == ["database.tables.public.customers.columns.a_first"]


def test_lists_are_values_never_positions() -> None:
    prod, staging = pair()
    staging.put("database", "enums", "public.order_status", "labels", ["new", "shipped"])
    result = diff(prod, staging)
    item = find(result, "database.enums.public.order_status.labels")
    assert item.left == ["new", "paid", "shipped"] and item.right == ["new", "shipped"]
    assert not any("[" in p for p in paths(result))


def test_type_difference_is_a_change_even_when_python_calls_it_equal() -> None:
    prod, staging = pair()
    prod.put("runtime", "cpu_count", 1)
    staging.put("runtime", "cpu_count", True)
    assert find(diff(prod, staging), "runtime.cpu_count").kind == "changed"


def test_nan_equals_nan() -> None:
    prod, staging = pair()
    for side in (prod, staging):
        side.put(
            "database", "statistics", "public.customers", "columns", "id", "avg_width", math.nan
        )
    assert diff(prod, staging).discrepancies == []


def test_same_secret_is_equal_and_a_different_one_shows_fingerprints_only() -> None:
    prod, staging = pair()
    staging.put("env", "vars", "SECRET_KEY", secret("another"))
    result = diff(prod, staging)
    item = find(result, "env.vars.SECRET_KEY")
    assert item.kind == "changed"
    assert item.left == secret("secret-key") and item.right == secret("another")
    assert "compared by fingerprint" in item.hint


def test_url_secret_compares_masked_part_too() -> None:
    prod, staging = pair()
    # Same password, other host: the masked URL tells them apart.
    staging.put(
        "env",
        "vars",
        "DATABASE_URL",
        secret("db-url", masked="postgresql://app:***@staging-db:5432/shop"),
    )
    item = find(diff(prod, staging), "env.vars.DATABASE_URL")
    assert item.kind == "changed"
    assert "postgresql://app:***@db:5432/shop" in item.hint
    assert "postgresql://app:***@staging-db:5432/shop" in item.hint


def test_fingerprints_with_different_key_ids_are_incomparable() -> None:
    prod, staging = pair()
    staging.put("env", "vars", "SECRET_KEY", secret("secret-key", key_id="ffffffffffff"))
    item = find(diff(prod, staging), "env.vars.SECRET_KEY")
    assert item.kind == "incomparable"
    assert KEY_MISMATCH in item.hint
    assert "REPRO_REDACTION_KEY" in item.hint


def test_fingerprint_against_empty_value_is_a_change() -> None:
    prod, staging = pair()
    staging.put("env", "vars", "SECRET_KEY", "")
    item = find(diff(prod, staging), "env.vars.SECRET_KEY")
    assert item.kind == "changed" and item.right == ""


def test_plain_value_against_a_fingerprint_is_withheld() -> None:
    # One side fingerprinted it: the other side's plain value is probably a missed secret.
    prod, staging = pair()
    prod.put("env", "vars", "API_PASSPHRASE_V2", "hunter2-but-longer")
    staging.put("env", "vars", "API_PASSPHRASE_V2", secret("x"))
    item = find(diff(prod, staging), "env.vars.API_PASSPHRASE_V2")
    assert item.kind == "incomparable"
    assert item.left == {"withheld": True} and item.right == secret("x")
    assert "prod's value is withheld" in item.hint
    assert "hunter2" not in repr(item)


@pytest.mark.parametrize("status", ["error", "skipped", "partial"])
def test_a_facet_not_fully_captured_on_one_side_is_incomparable_never_equal(status: str) -> None:
    prod, staging = pair()
    # Even with identical data, a failed side must not read as "equal".
    staging.set_status(
        "database", status, message="connection refused", problems=["statistics: permission denied"]
    )
    result = diff(prod, staging)
    item = find(result, "database")
    assert item.kind == "incomparable"
    assert f"{status} in staging" in item.hint
    assert result.facets["database"].outcome == "incomparable"
    assert "database" in result.incomparable_facets


def test_error_facet_is_not_walked() -> None:
    prod, staging = pair()
    staging.set_status("database", "error", message="could not connect")
    staging.data["database"] = {}
    result = diff(prod, staging)
    assert [p for p in paths(result) if p.startswith("database")] == ["database"]


def test_partial_facet_still_compares_what_was_captured() -> None:
    prod, staging = pair()
    staging.set_status("files", "partial", problems=["/etc/x: permission denied"])
    staging.put("files", "paths", "/etc/demo-app/settings.yaml", "mode", "0644")
    prod.put("files", "paths", "/etc/new", {"exists": True, "type": "file"})
    result = diff(prod, staging)
    assert find(result, "files").kind == "incomparable"
    assert find(result, "files.paths./etc/demo-app/settings.yaml.mode").kind == "changed"
    only = find(result, "files.paths./etc/new")
    assert "staging capture was partial" in only.hint


def test_facet_absent_from_one_snapshot_is_incomparable() -> None:
    prod, staging = pair()
    staging.without("schedules")
    item = find(diff(prod, staging), "schedules")
    assert item.kind == "incomparable"
    assert "not captured in staging" in item.hint


def test_facet_skipped_on_both_sides_is_not_captured_not_a_discrepancy() -> None:
    prod, staging = pair()
    for side in (prod, staging):
        side.set_status("database", "skipped", message="no database configured")
    result = diff(prod, staging)
    assert "database" not in {d.facet for d in result.discrepancies}
    assert result.facets["database"].outcome == "not_captured"


def test_unreadable_entry_is_incomparable() -> None:
    prod, staging = pair()
    prod.put("files", "paths", "/etc/demo-app/settings.yaml", {"error": "permission denied"})
    item = find(diff(prod, staging), "files.paths./etc/demo-app/settings.yaml")
    assert item.kind == "incomparable"
    assert item.hint == "could not be read in prod (permission denied)"


def test_an_error_key_elsewhere_is_just_data() -> None:
    # A column called "error" is a column, not a capture failure.
    prod, staging = pair()
    prod.put("database", "tables", "public.customers", "columns", "error", {"type": "text"})
    item = find(diff(prod, staging), "database.tables.public.customers.columns.error")
    assert item.kind == "only_in_prod"


def test_missing_file_is_one_discrepancy() -> None:
    prod, staging = pair()
    prod.put("files", "paths", "/etc/demo-app/settings.yaml", {"exists": False})
    result = diff(prod, staging)
    assert [p for p in paths(result) if p.startswith("files")] == [
        "files.paths./etc/demo-app/settings.yaml.exists"
    ]


def test_labels_come_from_profiles() -> None:
    prod, staging = pair()
    prod.profile, staging.profile = "production", "qa"
    prod.put("env", "vars", "ONLY_HERE", "1")
    result = diff(prod, staging)
    assert (result.left.label, result.right.label) == ("production", "qa")
    assert find(result, "env.vars.ONLY_HERE").hint == "set only in production: ONLY_HERE=1"


def test_same_profile_on_both_sides_gets_distinct_labels() -> None:
    prod, staging = pair()
    staging.profile = "prod"
    result = diff(prod, staging)
    assert (result.left.label, result.right.label) == ("prod (left)", "prod (right)")


def test_order_is_severity_then_facet_then_path() -> None:
    prod, staging = pair()
    prod.put("env", "vars", "B", "1")
    prod.put("env", "vars", "A", "1")
    staging.put("database", "server", "major", 13)
    staging.put("runtime", "kernel", "6.2")
    result = diff(prod, staging)
    keys = [(rank(d.severity), d.facet, d.path) for d in result.discrepancies]
    assert keys == sorted(keys, key=lambda k: (-k[0], k[1], k[2]))
    assert result.discrepancies[0].severity == "critical"


def test_every_discrepancy_has_a_known_severity_rule_and_one_line_hint() -> None:
    prod, staging = pair()
    staging.data = {k: {} for k in staging.data}  # everything differs
    result = diff(prod, staging)
    assert result.discrepancies
    for item in result.discrepancies + [i.discrepancy for i in result.ignored]:
        assert item.severity in SEVERITIES
        assert item.rule and item.hint and "\n" not in item.hint


def test_list_delta_is_a_multiset_difference() -> None:
    assert list_delta(["SELECT", "UPDATE"], ["SELECT", "DELETE"]) == (["UPDATE"], ["DELETE"])
    assert list_delta([1, 1, 2], [2, 1]) == ([1], [])
    # Unhashable items go through deepdiff's content hash.
    only_left, only_right = list_delta([{"a": 1}, {"b": 2}], [{"b": 2}, {"a": 3}])
    assert (only_left, only_right) == ([{"a": 1}], [{"a": 3}])
