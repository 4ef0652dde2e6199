"""The default severity rules, in the order they are tried (first match wins).

Adding a rule: write it in the module of its facet, in that module's ``RULES``; a new facet
gets a module and one line below. Specific rules come before general ones of the same facet;
:mod:`.common` brackets them with the incomparable rule and the catch-all.

The policy, in short (the modules say why, rule by rule):

- *critical*: what makes prod fail where staging works — a different PostgreSQL major
  version; a file missing in prod, or one the app user can read/write/execute/reach in
  staging but not in prod.
- *high*: prime suspects — an env var, Python distribution, extension, table, column,
  constraint, index, policy, enum label, schema, collation, cast, operator or used role only
  on one side; column type or nullability; risky settings (TimeZone, DateStyle, isolation,
  timeouts, max_connections, work_mem, search_path, encodings...); a privilege one side lacks
  for a role something uses (:mod:`.db_privileges`), a role attribute prod lacks; a lower
  memory/CPU/process/open-files limit or fewer CPUs in prod; time zone or locale; a package
  major version; a sequence past half its range in prod; NULLs in a column of prod where
  staging has none (code that never met a NULL there).
- *medium*: plausible causes — other settings, values and secrets (by fingerprint) that
  differ, package minor versions, modes and owners, views/functions/triggers, cron jobs only in
  prod, data shape off by an order of magnitude (rows, distinct values, NULL fraction), and
  anything no rule knows that prod has or has differently; incomparable facets and values.
- *low*: rarely the cause — package patch versions, what only staging has (unless prod
  lacking it is known to break: extensions, schema, grants, files), kernel, logging and
  replication settings, HOME/PATH, access that is *more* permissive in prod.
- *info*: known-harmless (service-link variables, OS display names, version strings that follow
  the major version, comments); hidden with a reason: statistics within tolerance, and sizes
  or distinct counts that only follow the row count.
"""

from __future__ import annotations

from repro.diff.rules import (
    common,
    config,
    db_code,
    db_objects,
    db_privileges,
    db_schema,
    db_server,
    db_stats,
    env,
    files,
    packages,
    runtime,
    schedules,
)
from repro.diff.rules.base import Assessment, Context, Rule

DEFAULT_RULES: tuple[Rule, ...] = (
    *common.FIRST,
    *env.RULES,
    *packages.RULES,
    *db_privileges.RULES,
    *db_server.RULES,
    *db_code.RULES,
    *db_objects.RULES,
    *db_schema.RULES,
    *db_stats.RULES,
    *files.RULES,
    *config.RULES,
    *runtime.RULES,
    *schedules.RULES,
    *common.LAST,
)

__all__ = ["DEFAULT_RULES", "Assessment", "Context", "Rule"]
