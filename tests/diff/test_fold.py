"""One discrepancy per cause: knock-on changes folded into the difference that causes them."""

from __future__ import annotations

import copy
from typing import Any

from repro.diff.model import DiffResult
from tests.helpers.builders import EMPTY_SECTIONS, Side, diff, pair

TABLE = "public.customers"


def paths(result: DiffResult) -> list[str]:
    return [d.path for d in result.discrepancies]


def folded(result: DiffResult) -> dict[str, str]:
    return {i.discrepancy.path: i.reason for i in result.ignored if i.by == "folded"}


def table(side: Side, key: str) -> dict[str, Any]:
    entry: dict[str, Any] = side.data["database"]["tables"][key]
    return entry


def add_bug_table(side: Side) -> None:
    """public.bug: partitioned, an identity key, two partitions, statistics, an extended
    statistics object and a publication — all of it only on this side."""
    base = copy.deepcopy(table(side, TABLE))
    database = side.data["database"]
    for name, partition_of in (
        ("bug", None),
        ("bug_2024", "public.bug"),
        ("bug_2025", "public.bug"),
    ):
        entry = copy.deepcopy(base)
        entry.update(name=name, partition_of=partition_of)
        entry["columns"]["id"]["identity"] = "always"
        database["tables"][f"public.{name}"] = entry
        database["statistics"][f"public.{name}"] = copy.deepcopy(database["statistics"][TABLE])
    database["sequences"]["public.bug_id_seq"] = {"owned_by": "public.bug.id", "identity": True}
    database["extended_statistics"]["public.bug_stats"] = {"table": "public.bug"}
    database["publications"]["cdc"] = {"tables": {"public.bug": {"columns": None}}}


def test_a_table_only_in_prod_is_one_discrepancy() -> None:
    prod, staging = pair()
    add_bug_table(prod)
    staging.put("database", "publications", "cdc", {"tables": {}})
    result = diff(prod, staging)
    database = [p for p in paths(result) if p.startswith("database.")]
    assert database == ["database.tables.public.bug"]
    (item,) = [d for d in result.discrepancies if d.path == "database.tables.public.bug"]
    assert item.severity == "high"
    assert set(item.folded) == {
        "database.tables.public.bug_2024",
        "database.tables.public.bug_2025",
        "database.statistics.public.bug",
        "database.statistics.public.bug_2024",
        "database.statistics.public.bug_2025",
        "database.sequences.public.bug_id_seq",
        "database.extended_statistics.public.bug_stats",
        "database.publications.cdc.tables.public.bug",
    }
    assert "includes" in item.hint
    assert item.to_json()["includes"] == list(item.folded)
    assert folded(result)["database.sequences.public.bug_id_seq"] == (
        "part of database.tables.public.bug"
    )


def test_a_new_column_repeated_on_partitions_with_its_statistics_and_positions() -> None:
    prod, staging = pair()
    for side in (prod, staging):
        entry = copy.deepcopy(table(side, TABLE))
        entry["partition_of"] = TABLE
        for column in entry["columns"].values():
            column["inherited"] = True
        side.put("database", "tables", "public.customers_eu", entry)
    for key in (TABLE, "public.customers_eu"):
        prod.put("database", "tables", key, "columns", "age", {"position": 2, "type": "integer"})
        prod.put("database", "tables", key, "columns", "email", "position", 3)
    prod.put("database", "statistics", TABLE, "columns", "age", {"analyzed": True})
    prod.put("database", "tables", TABLE, "constraints", "age_positive", {"columns": ["age"]})
    result = diff(prod, staging)
    cause = f"database.tables.{TABLE}.columns.age"
    assert [p for p in paths(result) if p.startswith("database.")] == [cause]
    assert set(folded(result)) == {
        "database.tables.public.customers_eu.columns.age",
        f"database.statistics.{TABLE}.columns.age",
        f"database.tables.{TABLE}.constraints.age_positive",
        f"database.tables.{TABLE}.columns.email.position",
        "database.tables.public.customers_eu.columns.email.position",
    }


def test_a_real_reordering_is_kept() -> None:
    prod, staging = pair()
    prod.put("database", "tables", TABLE, "columns", "email", "position", 1)
    prod.put("database", "tables", TABLE, "columns", "id", "position", 2)
    result = diff(prod, staging)
    assert f"database.tables.{TABLE}.columns.email.position" in paths(result)


def test_a_detached_partition_is_one_discrepancy() -> None:
    prod, staging = pair()
    for side, attached in ((prod, True), (staging, False)):
        entry = copy.deepcopy(table(side, TABLE))
        entry["partition_of"] = TABLE if attached else None
        entry["partition_bound"] = "FOR VALUES IN ('eu')" if attached else None
        for column in entry["columns"].values():
            column["inherited"] = attached
        entry["indexes"]["customers_pkey"]["parent_index"] = (
            "public.customers_pkey" if attached else None
        )
        side.put("database", "tables", "public.customers_eu", entry)
    result = diff(prod, staging)
    cause = "database.tables.public.customers_eu.partition_of"
    assert [p for p in paths(result) if p.startswith("database.")] == [cause]
    assert len(folded(result)) == 4  # bound, two columns' flags, the index's parent


def test_statistics_never_analyzed_on_one_side_are_one_change() -> None:
    prod, staging = pair()
    columns = staging.data["database"]["statistics"][TABLE]["columns"]
    for name in columns:
        columns[name] = {"analyzed": False, "personal": name == "email"}
    staging.put("database", "statistics", TABLE, "rows_estimate", None)
    result = diff(prod, staging)
    (item,) = [d for d in result.discrepancies if d.path.startswith("database.statistics")]
    assert item.path == f"database.statistics.{TABLE}"
    assert (item.left, item.right, item.severity) == ("analyzed", "not analyzed", "low")
    assert "not analyzed in staging" in item.hint


def test_statistics_analyzed_on_neither_side_are_no_difference() -> None:
    prod, staging = pair()
    for side in (prod, staging):
        columns = side.data["database"]["statistics"][TABLE]["columns"]
        for name in columns:
            columns[name] = {"analyzed": False, "personal": False}
    staging.put("database", "statistics", TABLE, "columns", "id", "readable", False)
    result = diff(prod, staging)
    assert not [p for p in paths(result) if p.startswith("database.statistics")]
    assert any("never analyzed on either side" in i.reason for i in result.ignored)


def test_identity_carries_its_sequence() -> None:
    prod, staging = pair()
    prod.put("database", "tables", TABLE, "columns", "id", "identity", "by_default")
    prod.put("database", "tables", TABLE, "columns", "id", "default", None)
    prod.put("database", "sequences", "public.customers_id_seq1", {"owned_by": f"{TABLE}.id"})
    result = diff(prod, staging)
    cause = f"database.tables.{TABLE}.columns.id.identity"
    assert [p for p in paths(result) if p.startswith("database.")] == [cause]
    assert set(folded(result)) == {
        "database.sequences.public.customers_id_seq1",
        f"database.tables.{TABLE}.columns.id.default",
    }


def test_a_role_only_in_prod_carries_its_grants() -> None:
    prod, staging = pair()
    prod.put("database", "roles", "auditor", {"exists": True, "login": True, "used_by": ["login"]})
    prod.put("database", "tables", TABLE, "privileges", "auditor", ["SELECT"])
    prod.put("database", "schemas", "public", "privileges", "auditor", ["USAGE"])
    prod.put("database", "default_privileges", "app", "public", "tables", "auditor", ["SELECT"])
    prod.put("database", "roles", "readers", "member_of", ["auditor"])
    result = diff(prod, staging)
    (item,) = [d for d in result.discrepancies if d.facet == "database"]
    assert (item.path, item.severity) == ("database.roles.auditor", "high")
    assert len(item.folded) == 4


def test_an_older_snapshot_is_one_incomparable_change() -> None:
    """A snapshot from before per-object privileges (effective grants of two roles, none of
    the newer sections) against a current one: not "only in" a hundred times."""
    prod, staging = pair()
    database = staging.data["database"]
    for section in EMPTY_SECTIONS:
        del database[section]
    del database["default_privileges"]
    del database["tables"][TABLE]["privileges"]
    database["grants"] = {TABLE: {"app": ["SELECT"]}}
    result = diff(prod, staging)
    database_items = [d for d in result.discrepancies if d.facet == "database"]
    assert [(d.path, d.kind) for d in database_items] == [("database.capture", "incomparable")]
    assert "captured by an older repro in staging" in database_items[0].hint


def test_a_section_a_current_capture_could_not_read_is_not_an_older_capture() -> None:
    """Subscriptions unreadable in prod (PostgreSQL 13, not a superuser): the facet is
    partial and says so; the missing section adds nothing of its own."""
    prod, staging = pair()
    del prod.data["database"]["subscriptions"]
    prod.set_status("database", "partial", problems=["subscriptions: may not read"])
    result = diff(prod, staging)
    database = [(d.path, d.kind) for d in result.discrepancies if d.facet == "database"]
    assert database == [("database", "incomparable")]
    assert "subscriptions: may not read" in result.discrepancies[0].hint
    assert "partial" in folded_or_dropped(result)["database.subscriptions"]


def folded_or_dropped(result: DiffResult) -> dict[str, str]:
    return {i.discrepancy.path: i.reason for i in result.ignored if i.by == "folded"}


def test_a_serial_against_a_uuid_key_carries_its_sequence() -> None:
    prod, staging = pair()
    prod.put("database", "tables", TABLE, "columns", "id", "default", "gen_random_uuid()")
    staging.put("database", "sequences", "public.customers_id_seq", {"owned_by": f"{TABLE}.id"})
    result = diff(prod, staging)
    cause = f"database.tables.{TABLE}.columns.id.default"
    assert [p for p in paths(result) if p.startswith("database.")] == [cause]
    assert set(folded(result)) == {"database.sequences.public.customers_id_seq"}
