"""Configuration files, flattened to key paths (``config.files.<file>.keys.<a.b.c>``)."""

from __future__ import annotations

from repro.diff.model import Change
from repro.diff.rules.base import Assessment, Context, Rule, fixed, kinds
from repro.diff.values import show
from repro.redacted import is_redacted


def _key(change: Change, ctx: Context) -> Assessment:
    file, key = change.keys[1], change.keys[3]
    L, R = ctx.left_label, ctx.right_label
    if change.kind == "only_in_prod":
        return Assessment("medium", f"{file}: {key} set only in {L} ({show(change.left)})")
    if change.kind == "only_in_staging":
        return Assessment(
            "low",
            f"{file}: {key} set only in {R} ({show(change.right)}); {L} uses the app's default",
        )
    secret = "secret " if is_redacted(change.left) or is_redacted(change.right) else ""
    return Assessment(
        "medium", f"{file}: {secret}{key} {L} {show(change.left)} vs {R} {show(change.right)}"
    )


RULES: list[Rule] = [
    Rule("config.key", "config.files.*.keys.*", _key),
    Rule(
        "config.file",
        "config.files.*",
        fixed(
            "low",
            {
                "only_in_prod": "{name} is read only by {L}'s profile",
                "only_in_staging": "{name} is read only by {R}'s profile",
            },
        ),
        kinds("only_in_prod", "only_in_staging"),
    ),
    Rule(
        "config.format",
        "config.files.*.format",
        fixed("low", "{parent} parsed as {L} {left} vs {R} {right}"),
    ),
]
