"""How faithful was the sandbox? Snapshot it with production's own profile (the app container
through the docker target, the sandbox database by its DSN) and run the diff engine on
(production snapshot, sandbox snapshot). The same rules that rank prod-vs-staging rank
prod-vs-sandbox, so "the sandbox lacks FEATURE_NEW_CHECKOUT" reads like any diff finding.

Secrets show up as "fingerprint differs" (the sandbox has its own values) and data statistics
differ by design (fewer rows); both are listed, not hidden: the user judges.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import date

from repro.diff import diff_snapshots
from repro.diff.model import DiffResult, Discrepancy
from repro.errors import ReproError
from repro.profile.file import Profile
from repro.redaction import Redactor
from repro.replay.outcome import Parity, ParityItem
from repro.replay.sandbox_db import USER
from repro.replay.sandbox_env import SENTRY_ENV
from repro.snapshot.capture import capture_snapshot, with_dsn
from repro.snapshot.file import Snapshot
from repro.targets.registry import validate_target_options

TOP_ITEMS = 10
PARITY_WORKERS = 4  # facets captured from the sandbox at once
MAX_SUMMARY = 1000  # characters of a discrepancy's hint kept in a report
# The sandbox's loading role (a superuser that owns the generated tables) is sandbox machinery,
# not a difference from production worth reporting.
def _role_paths(glob_name: str) -> tuple[str, ...]:
    """Where a role shows in a diff (``glob_name``: the role's name as a path glob)."""
    return (
        f"database.roles.{glob_name}",
        f"database.grants.*.{glob_name}",  # snapshots from before per-object privileges
        f"database.*.*.privileges.{glob_name}",
        f"database.*.privileges.{glob_name}",
        f"database.default_privileges.{glob_name}",
    )


SANDBOX_MACHINERY = (
    *_role_paths(USER),
    f"env.vars.{SENTRY_ENV}",  # points at repro's sink by design
)


def sandbox_snapshot(
    profile: Profile,
    redactor: Redactor,
    container: str,
    dsn: str,
    facets: list[str],
    capture_user: str = "0",
) -> Snapshot:
    """The production profile's facets, captured from the sandbox as ``capture_user``."""
    options = validate_target_options(
        "docker", {"container": container, "user": capture_user}, "sandbox"
    )
    sandbox_profile = replace(
        with_dsn(profile, dsn), name="sandbox", target_kind="docker", target_options=options
    )
    # The docker target is safe to share once connected, and each facet mostly waits on an
    # exec in the app container or on the database: four at once take about a third the time.
    return capture_snapshot(sandbox_profile, redactor, facets=facets, workers=PARITY_WORKERS)


def capture_user(production: Snapshot) -> str:
    """Who captures the sandbox: whoever captured production from inside its container (the
    same image has the same users), so both see the same (an app's uid reads its own process's
    environment where root without CAP_SYS_PTRACE may not); root for any other target."""
    user = production.target.get("user") if production.target.get("kind") == "docker" else None
    return user if isinstance(user, str) and user else "0"


def summarize(result: DiffResult) -> Parity:
    parity = Parity()
    for item in result.discrepancies:
        parity.counts[item.severity] = parity.counts.get(item.severity, 0) + 1
    parity.top = [_item(d) for d in result.discrepancies[:TOP_ITEMS]]
    for name, state in sorted(result.facets.items()):
        if state.outcome in ("incomparable", "not_captured"):
            sides = (
                f"prod {state.left_status or 'absent'}, sandbox {state.right_status or 'absent'}"
            )
            parity.incomparable.append(f"{name}: {sides}")
    return parity


def _item(discrepancy: Discrepancy) -> ParityItem:
    path = ".".join((discrepancy.facet, *discrepancy.keys))
    return ParityItem(str(discrepancy.severity), path, _bounded(discrepancy.hint.split("\n")[0]))


def _bounded(text: str, limit: int = MAX_SUMMARY) -> str:
    """The whole hint (renderers wrap it); only a runaway one is shortened, visibly."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def measure_parity(
    production: Snapshot, profile: Profile, redactor: Redactor, container: str, dsn: str
) -> Parity:
    """Never raises for an expected failure: a parity check that could not run is reported
    as such (``error``), and the verdict stands."""
    facets = sorted(production.facets)
    try:
        sandbox = sandbox_snapshot(
            profile, redactor, container, dsn, facets, capture_user(production)
        )
    except ReproError as exc:
        return Parity(error=redactor.scrub(exc.one_line()))
    result = diff_snapshots(
        production,
        sandbox,
        ignore=parity_ignores(production, profile.ignore),
        today=date.today(),
    )
    return summarize(result)


def parity_ignores(production: Snapshot, profile_ignore: Sequence[str]) -> list[str]:
    """What prod-vs-sandbox does not compare: the profile's ignores and the sandbox's own
    machinery, which stands for production's administrators."""
    return [*profile_ignore, *SANDBOX_MACHINERY, *_administrators(production)]


def _administrators(production: Snapshot) -> list[str]:
    """Production's superusers the app does not log in as (the install's ``postgres``): the
    sandbox never makes a superuser, and its own (``repro``) stands for them, so neither side's
    is a difference the app meets. A superuser the app logs in as stays reported."""
    facet = production.facets.get("database")
    roles = facet.data.get("roles") if facet is not None else None
    if not isinstance(roles, dict):
        return []
    out: list[str] = []
    for name, role in roles.items():
        if not isinstance(role, dict) or role.get("superuser") is not True:
            continue
        used_by = role.get("used_by")
        if isinstance(used_by, list) and "app" in used_by:
            continue
        # a captured name is data: its glob characters match only themselves
        out += _role_paths(re.sub(r"([*?\[])", r"[\1]", name))
    return out
