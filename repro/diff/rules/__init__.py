"""The default severity rules, in the order they are tried (first match wins).

Adding a rule: write it in the module of its facet and it is picked up by that module's list;
a new facet gets a module and one line below. Specific rules come before general ones of
the same facet; :mod:`.common` brackets them with the incomparable rule and the catch-all.
"""

from __future__ import annotations

from repro.diff.rules import (
    common,
    config,
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
    *db_server.RULES,
    *db_schema.RULES,
    *db_stats.RULES,
    *files.RULES,
    *config.RULES,
    *runtime.RULES,
    *schedules.RULES,
    *common.LAST,
)

__all__ = ["DEFAULT_RULES", "Assessment", "Context", "Rule"]
