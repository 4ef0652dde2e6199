"""PostgreSQL server: version, database locale, settings, extensions (roles and privileges:
:mod:`.db_privileges`)."""

from __future__ import annotations

import re
from typing import Any

from repro.diff.model import MISSING, Change, Severity
from repro.diff.rules.base import Assessment, Context, Rule, fixed, kinds
from repro.diff.values import show

# Settings that change what queries return or whether they fail: time zone and date output,
# isolation, timeouts, connection and memory limits, name resolution, string literal and
# encoding rules. A difference here is a prime suspect for a production-only bug.
RISKY_SETTINGS = frozenset(
    {
        "TimeZone",
        "DateStyle",
        "IntervalStyle",
        "default_transaction_isolation",
        "default_transaction_read_only",
        "default_transaction_deferrable",
        "statement_timeout",
        "lock_timeout",
        "idle_in_transaction_session_timeout",
        "idle_session_timeout",
        "transaction_timeout",
        "max_connections",
        "work_mem",
        "temp_file_limit",
        "search_path",
        "standard_conforming_strings",
        "client_encoding",
        "server_encoding",
        "lc_collate",
        "lc_ctype",
        "bytea_output",
        "row_security",
        "extra_float_digits",
        "array_nulls",
        "escape_string_warning",
        "backslash_quote",
        "session_replication_role",
        "max_locks_per_transaction",
        "max_pred_locks_per_transaction",
        "default_text_search_config",
        "xmlbinary",
        "xmloption",
        "check_function_bodies",
        "default_with_oids",
        "transform_null_equals",
        "quote_all_identifiers",
        "max_prepared_transactions",
        "plan_cache_mode",
    }
)
# Operations, logging and replication plumbing: they differ between any two installations and
# rarely change what a query returns. (max_stack_depth follows the host's stack ulimit.)
_OPS_SETTINGS = re.compile(
    r"^(log_.*|logging_.*|debug_.*|syslog_.*|wal_.*|max_wal_.*|min_wal_size|checkpoint_.*|"
    r"archive_.*|restore_command|recovery_.*|primary_.*|hot_standby.*|max_wal_senders|"
    r"max_replication_slots|synchronized_standby_slots|autovacuum.*|bgwriter_.*|"
    r"track_.*|stats_.*|compute_query_id|lc_messages|application_name|update_process_title|"
    r"cluster_name|data_checksums|full_page_writes|ssl.*|password_encryption|"
    r"authentication_timeout|tcp_.*|krb_.*|max_stack_depth)$"
)


_SETTING_SEVERITY: dict[str, Severity] = {"risky": "high", "ops": "low", "other": "medium"}


def setting_category(name: str) -> str:
    if name in RISKY_SETTINGS:
        return "risky"
    if _OPS_SETTINGS.match(name):
        return "ops"
    return "other"


def _setting_text(value: Any) -> str:
    """A pg_settings entry ({value, unit, source}) or a bare value, as "30000 ms"."""
    if value is MISSING:
        return "not set (default)"
    if isinstance(value, dict) and "value" in value:
        unit = value.get("unit")
        text = show(value.get("value"))
        return f"{text} {unit}" if unit else text
    return show(value)


def _setting(change: Change, ctx: Context) -> Assessment | None:
    # Paths: settings.NAME (only in one side), settings.NAME.value / .unit (changed);
    # scoped_settings.SCOPE.NAME.
    keys = change.keys
    if keys[0] == "settings":
        name = keys[1]
        if len(keys) == 3 and keys[2] != "value":
            return Assessment(
                "low",
                f"{name}: unit {ctx.left_label} "
                f"{show(change.left)} vs {ctx.right_label} {show(change.right)}",
            )
        left = ctx.value("left", keys[:2])
        right = ctx.value("right", keys[:2])
        where = ""
    else:
        name = keys[2]
        left, right = change.left, change.right
        where = f" ({keys[1]})"
    category = setting_category(name)
    severity = _SETTING_SEVERITY[category]
    prefix = "risky setting " if category == "risky" else "setting "
    return Assessment(
        severity,
        f"{prefix}{name}{where}: {ctx.left_label} {_setting_text(left)} vs "
        f"{ctx.right_label} {_setting_text(right)}",
    )


def _server_major(change: Change, ctx: Context) -> Assessment:
    return Assessment(
        "critical",
        f"PostgreSQL {show(change.left)} in {ctx.left_label} vs {show(change.right)} in "
        f"{ctx.right_label}: major versions differ (planner, defaults, features)",
    )


def _server_version(change: Change, ctx: Context) -> Assessment:
    majors_differ = ctx.value("left", ("server", "major")) != ctx.value(
        "right", ("server", "major")
    )
    if majors_differ:
        return Assessment("info", "follows the major version difference (database.server.major)")
    if change.name == "version_num":
        return Assessment(
            "medium",
            f"PostgreSQL minor release: {ctx.left_label} "
            f"{show(change.left)} vs {ctx.right_label} {show(change.right)}",
        )
    num_differs = ctx.value("left", ("server", "version_num")) != ctx.value(
        "right", ("server", "version_num")
    )
    return Assessment(
        "info" if num_differs else "low",
        f"build: {ctx.left_label} "
        f"{show(change.left, 80)} vs {ctx.right_label} {show(change.right, 80)}",
    )


def _extension(change: Change, ctx: Context) -> Assessment:
    name = change.keys[1]
    if change.kind == "only_in_prod":
        return Assessment(
            "high",
            f"extension {name} only in {ctx.left_label} "
            f"({show(ctx.value('left', ('extensions', name, 'version')))})",
        )
    if change.kind == "only_in_staging":
        return Assessment(
            "high",
            f"extension {name} missing in {ctx.left_label} (installed in "
            f"{ctx.right_label}: {show(ctx.value('right', ('extensions', name, 'version')))})",
        )
    if change.name == "version":
        return Assessment(
            "high",
            f"extension {name} {show(change.left)} in {ctx.left_label} "
            f"vs {show(change.right)} in {ctx.right_label}",
        )
    return Assessment(
        "medium",
        f"extension {name} {change.name}: {ctx.left_label} "
        f"{show(change.left)} vs {ctx.right_label} {show(change.right)}",
    )


def _privileges(change: Change, ctx: Context) -> Assessment:
    """grants.OBJECT.ROLE of snapshots from before privileges were captured per object
    (:mod:`.db_privileges`): the effective privileges of the app's roles. Prod lacking one
    that staging has is the "permission denied only in prod" bug."""
    if change.kind == "only_in_staging":
        return Assessment(
            "high",
            f"{ctx.left_label} grants nothing where {ctx.right_label} "
            f"grants {show(change.right)}: {'.'.join(change.keys[1:])}",
        )
    if change.kind == "only_in_prod":
        return Assessment(
            "medium",
            f"only {ctx.left_label} grants {show(change.left)}: {'.'.join(change.keys[1:])}",
        )
    only_left, only_right = ctx.list_delta(change.left, change.right)
    role, target = (
        change.keys[-1],
        change.keys[-2] if change.keys[0] == "grants" else change.keys[1],
    )
    if only_right:
        return Assessment(
            "high",
            f"role {role} lacks {', '.join(map(str, only_right))} on "
            f"{target} in {ctx.left_label} (has it in {ctx.right_label})",
        )
    return Assessment(
        "medium",
        f"role {role} has {', '.join(map(str, only_left))} on {target} only in {ctx.left_label}",
    )


def _grants_object(change: Change, ctx: Context) -> Assessment:
    # grants.OBJECT present on one side only (its role entries come with it).
    return _privileges(change, ctx)


RULES: list[Rule] = [
    Rule("database.major-version", "database.server.major", _server_major, kinds("changed")),
    Rule("database.minor-version", "database.server.version_num", _server_version),
    Rule("database.minor-version", "database.server.version", _server_version),
    Rule(
        "database.in-recovery",
        "database.server.in_recovery",
        fixed("medium", "read-only replica: {L} {left} vs {R} {right}"),
    ),
    Rule(
        "database.locale",
        "database.database.collation_version",
        fixed("low", "collation library version: {L} {left} vs {R} {right}"),
    ),
    Rule(
        "database.locale",
        "database.database.collation_actual_version",
        fixed("low", "collation library version: {L} {left} vs {R} {right}"),
    ),
    Rule(
        "database.locale",
        "database.database.*",
        fixed("high", "database {name}: {L} {left} vs {R} {right} (sorting, encoding, casing)"),
    ),
    Rule("database.setting", "database.settings.*", _setting),
    Rule("database.setting", "database.settings.*.*", _setting),
    Rule("database.setting", "database.scoped_settings.*.*", _setting),
    Rule(
        "database.scoped-settings",
        "database.scoped_settings.*",
        fixed("medium", "ALTER ROLE/DATABASE ... SET for {name}: {default}"),
    ),
    Rule("database.extension", "database.extensions.*.**", _extension),
    Rule("database.grant", "database.grants.*.*", _privileges),
    Rule("database.grant", "database.grants.*", _grants_object),
    Rule(
        "database.schema",
        "database.schemas.*",
        fixed(
            "high",
            {
                "only_in_prod": "schema {name} only in {L}",
                "only_in_staging": "schema {name} missing in {L}",
            },
        ),
    ),
    Rule("database.schema", "database.schemas.*.owner", fixed("medium")),
]
