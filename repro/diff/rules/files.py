"""Files the app needs, and what the app's user may do with them.

"Works in staging, EACCES in prod" is among the commonest production-only bugs: any access
the app user has in staging but not in prod is critical.
"""

from __future__ import annotations

from repro.diff.model import Change
from repro.diff.rules.base import Assessment, Context, Rule, differs, fixed, kinds

_VERBS = {
    "read": "read",
    "write": "write",
    "execute": "execute",
    "path_traversable": "reach (a parent directory is not searchable)",
}


def _path(keys: tuple[str, ...]) -> str:
    return keys[1]


def _app_user(ctx: Context) -> str:
    name = ctx.value("left", ("app_user", "name"))
    return name if isinstance(name, str) else "the app user"


def _exists(change: Change, ctx: Context) -> Assessment | None:
    path = _path(change.keys)
    if change.left is False and change.right is True:
        return Assessment(
            "critical", f"{path} is missing in {ctx.left_label} (exists in {ctx.right_label})"
        )
    if change.left is True and change.right is False:
        return Assessment("high", f"{path} exists only in {ctx.left_label}")
    return None


def _access(change: Change, ctx: Context) -> Assessment | None:
    verb = _VERBS.get(change.name, change.name)
    path = _path(change.keys)
    if change.left is False and change.right is True:
        return Assessment(
            "critical",
            f"{_app_user(ctx)} cannot {verb} {path} in {ctx.left_label} (can in {ctx.right_label})",
        )
    if change.left is True and change.right is False:
        return Assessment(
            "low",
            f"{_app_user(ctx)} can {verb} {path} in {ctx.left_label} only "
            f"(more permissive than {ctx.right_label})",
        )
    return None


P = "files.paths.*"
RULES: list[Rule] = [
    Rule("files.exists", f"{P}.exists", _exists, kinds("changed")),
    Rule(
        "files.listed",
        P,
        fixed(
            "low",
            {
                "only_in_prod": "{name} is checked only by {L}'s profile",
                "only_in_staging": "{name} is checked only by {R}'s profile",
            },
        ),
        kinds("only_in_prod", "only_in_staging"),
    ),
    Rule("files.less-accessible", f"{P}.access.*", _access, kinds("changed")),
    Rule("files.access", f"{P}.access.**", differs("low", _path, "access")),
    Rule("files.type", f"{P}.type", differs("high", _path)),
    Rule("files.mode", f"{P}.mode", differs("medium", _path)),
    Rule("files.owner", f"{P}.owner", differs("medium", _path)),
    Rule("files.owner", f"{P}.group", differs("medium", _path)),
    Rule("files.owner", f"{P}.uid", differs("medium", _path)),
    Rule("files.owner", f"{P}.gid", differs("medium", _path)),
    Rule("files.content", f"{P}.sha256", differs("medium", _path, "content (sha256)")),
    Rule("files.content", f"{P}.size", differs("low", _path, "size")),
    Rule("files.symlink", f"{P}.target", differs("medium", _path, "symlink target")),
    Rule("files.symlink", f"{P}.resolved.**", differs("medium", _path, "resolved target")),
    Rule("files.glob", f"{P}.matched", differs("low", _path, "matches")),
    Rule("files.app-user", "files.app_user.**", differs("medium", lambda k: "app user", None)),
]
